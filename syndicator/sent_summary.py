"""Many sends, one log line: where a line per send adds nothing, a lane sums its sends up in one
`delivery.sent_batch` line.

Which sends: a dry run's beyond the first DRY_RUN_SHOWN of a lane (a dry run is for reading what would be posted,
so the first ones keep their own line with the post's text — a newcomer's first `syndicator poll` shows every post;
but 300 feeds × 18 dry-run targets made 5,400 lines of full post text, most of a cycle's time) and a fan-out's
messages (one per recipient: a broadcast to 10,000 numbers made 10,000 lines, each with a phone number in it). A
real post to a channel, a page or an account keeps its own `delivery.sent` line with its remote id and URL: "post X
went out at URL" is what operators look for.

Each send is still its own `DeliverySent` event — metrics and alerts count every one — logged at debug, so
`--log-level debug` shows each dry-run post's text (or `syndicator preview`). A lane's line is written when the
lane ends, or sooner once it holds MAX_SENDS sends or its first send is EVERY old (a long paced broadcast still
says how it goes). Only sends are summed: a failure, a retry, an `unknown` keeps its own line.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from syndicator.article import DeliveryKind
from syndicator.config import TargetSettings
from syndicator.events import DeliveriesSent
from syndicator.store.deliveries import Delivery

MAX_SENDS = 1000  # a line's sends at most (a dry run's whole claim)
DRY_RUN_SHOWN = 10  # a dry-run lane's first sends shown each in a line of its own, with the post's text
EVERY = timedelta(seconds=10)  # a line at least this often while a lane sends
MAX_SPANS = 50  # id ranges written in a line; the rest is counted ("… +N more")


def batched(target: TargetSettings, d: Delivery) -> bool:
    """Whether this send is told in its lane's summary line rather than in a line of its own."""
    return d.kind == DeliveryKind.POST and (target.dry_run or bool(d.recipient))


def spans(ids: Iterable[int]) -> str:
    """Ids as sorted ranges: [1, 2, 3, 7, 9, 10] → "1-3,7,9-10" (at most MAX_SPANS ranges, then a count)."""
    out: list[str] = []
    runs = 0
    start = prev = None
    for i in sorted(set(ids)):
        if prev is not None and i == prev + 1:
            prev = i
            continue
        if start is not None:
            runs += 1
            if runs <= MAX_SPANS:
                out.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = i
    if start is not None:
        runs += 1
        if runs <= MAX_SPANS:
            out.append(str(start) if start == prev else f"{start}-{prev}")
    if runs > MAX_SPANS:
        out.append(f"… +{runs - MAX_SPANS} more")
    return ",".join(out)


class SentBatch:
    """The batched sends of one target's lane, until they are written as one line."""

    def __init__(self, target: TargetSettings) -> None:
        self.target = target
        self.shown = 0  # dry-run sends of this lane given a line of their own
        self._clear()

    def shows_alone(self, d: Delivery) -> bool:
        """Whether this dry-run send keeps a line of its own (one of the lane's first DRY_RUN_SHOWN)."""
        if not self.target.dry_run or self.shown >= DRY_RUN_SHOWN:
            return False
        self.shown += 1
        return True

    def _clear(self) -> None:
        self.deliveries: list[int] = []
        self.articles: list[int] = []
        self.recipients: set[str] = set()
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.delay_max: float | None = None

    def __len__(self) -> int:
        return len(self.deliveries)

    def add(self, d: Delivery, done: datetime, delay: float | None) -> None:
        self.deliveries.append(d.id)
        self.articles.append(d.article_id)
        if d.recipient:
            self.recipients.add(d.recipient)
        self.first = done if self.first is None else min(self.first, done)
        self.last = done if self.last is None else max(self.last, done)
        if delay is not None:
            self.delay_max = delay if self.delay_max is None else max(self.delay_max, delay)

    def due(self, now: datetime) -> bool:
        """Whether the line should be written now, before the lane ends."""
        return len(self) >= MAX_SENDS or (self.first is not None and now - self.first >= EVERY)

    def take(self) -> DeliveriesSent | None:
        """The line for the sends so far (None when there are none), and a fresh start."""
        if not self.deliveries:
            return None
        target = self.target
        seconds = (self.last - self.first).total_seconds() if self.first and self.last else 0.0
        line = DeliveriesSent(
            target=target.name,
            platform=target.platform,
            sent=len(self.deliveries),
            deliveries=spans(self.deliveries),
            articles=spans(self.articles),
            recipients=len(self.recipients) or None,
            dry_run=True if target.dry_run else None,
            seconds=round(seconds, 3),
            delay_seconds_max=self.delay_max,
        )
        self._clear()
        return line
