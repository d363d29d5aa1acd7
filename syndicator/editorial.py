"""What the newsroom decided for one article: not at all on social media, not on some platforms, or in its own words.

Two ways to say it, both read for every article before its posts are rendered (`plan`):

* **Tags and categories** (any source: the feed, the REST API, a webhook). A term in the feed's `opt_out` list
  (default `no-social`) keeps the article off every target; `social-skip-NAME` keeps it off the targets whose name
  or platform is NAME, or one of the platform's aliases (`PlatformSpec.aliases`). Terms match case-insensitively and
  by their slug form too (`No Social`, `no_social` and `no-social` are one term). These control terms never become
  hashtags.
* **The WordPress plugin's post meta** (deploy/wordpress/syndicator/): `syndicator_no_social` (bool),
  `syndicator_skip_NAME` (bool) and `syndicator_text_NAME` (a custom text for that platform or target). The meta
  arrives in the signed webhook's body and in the REST API's post document; the bot keeps the newest it was told
  in the store (`editorial_choices`, by WordPress post id and by URL), because the feed, which is polled too, does
  not carry it.

An article opted out (or kept off every one of its feed's targets) is still recorded, in state `skipped` with the
reason (`syndicator history`, `status`, the desk show it), and `article.skipped` says why; a target kept off is
named in an `article.skipped` line of its own. When the opt-out goes (the tag removed: the article changes in the
feed; the box unticked: the webhook or the REST API says so), a skipped article is queued then, as a new article
would be, if it is still within the feed's `max_age`; an article already queued that is opted out later has what
has not gone out cancelled, and becomes `skipped` when nothing of it is out.

A custom text replaces the template's title and summary for that target; the platform's renderer still measures it
and cuts it to the platform's limit.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from syndicator.article import Article
from syndicator.events import ArticleNew, ArticleSkipped, emit
from syndicator.logs import get_logger
from syndicator.platforms import registry
from syndicator.sources.clean import SUMMARY_CHARS, clean_text
from syndicator.sources.urls import url_key
from syndicator.store import tables as t
from syndicator.store.articles import queue_skipped, skip_unposted

if TYPE_CHECKING:
    from syndicator.app import App
    from syndicator.config import FeedSettings, TargetSettings
    from syndicator.store.engine import Store

log = get_logger("syndicator.editorial")

SKIP_PREFIX = "social-skip-"
META_NO_SOCIAL = "syndicator_no_social"
META_SKIP = "syndicator_skip_"
META_TEXT = "syndicator_text_"
TEXT_CHARS = SUMMARY_CHARS  # a custom text is capped like a summary; the platform cuts it to its own limit
NAMES = 50  # skips and texts kept per article: more is not an editor's choice
_POST_ID = re.compile(r"[?&]p=(\d+)(?:$|&)")


@dataclass(frozen=True)
class Choices:
    """The plugin's meta for one article, as the bot keeps it. Names are lower-case platform or target names."""

    opt_out: bool = False
    skip: frozenset[str] = frozenset()
    texts: Mapping[str, str] = field(default_factory=dict)
    terms: frozenset[str] = frozenset()  # the post's term slugs as WordPress has them (REST API), matched like tags
    image_alt: str = ""  # the featured image's alt text (REST media `alt_text`): the feed does not carry it

    def to_json(self) -> str:
        return json.dumps(
            {
                "opt_out": self.opt_out,
                "skip": sorted(self.skip),
                "texts": dict(sorted(self.texts.items())),
                "terms": sorted(self.terms),
                "image_alt": self.image_alt,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, raw: str) -> Choices:
        data = json.loads(raw)
        return cls(
            bool(data.get("opt_out")),
            frozenset(data.get("skip") or ()),
            dict(data.get("texts") or {}),
            frozenset(data.get("terms") or ()),
            str(data.get("image_alt") or ""),
        )


def merge_terms(choices: Choices | None, slugs: Iterable[str]) -> Choices:
    """`choices` with the post's term slugs (which of them are control terms depends on the feed's `opt_out`)."""
    terms = [s for s in (slug(x) for x in slugs) if s]
    return replace(choices or Choices(), terms=frozenset(terms[:NAMES]))


def from_meta(meta: Any) -> Choices | None:
    """The plugin's post meta (a REST `meta` object or the webhook's `meta` field) → Choices; None when `meta` is
    not an object (a site without the plugin). Untrusted: names are checked, texts cleaned and capped."""
    if not isinstance(meta, Mapping):
        return None
    skip: set[str] = set()
    texts: dict[str, str] = {}
    for key, value in list(meta.items())[: 4 * NAMES]:
        if not isinstance(key, str):
            continue
        if key.startswith(META_SKIP) and _truthy(value):
            name = _name(key[len(META_SKIP) :])
            if name and len(skip) < NAMES:
                skip.add(name)
        elif key.startswith(META_TEXT) and isinstance(value, str):
            name = _name(key[len(META_TEXT) :])
            text = clean_text(value, TEXT_CHARS, multiline=True).strip()
            if name and text and len(texts) < NAMES:
                texts[name] = text
    return Choices(_truthy(meta.get(META_NO_SOCIAL)), frozenset(skip), texts)


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    return isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on")


def _name(raw: str) -> str:
    name = slug(raw)
    return name if re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,99}", name) else ""


def slug(term: str) -> str:
    """A term as WordPress would slug it, near enough to compare: NFKC, lower-case, runs of spaces, '_' and '-'
    become one '-', no '-' at either end."""
    text = unicodedata.normalize("NFKC", term).casefold().strip()
    return re.sub(r"[\s_\-]+", "-", text).strip("-")


# ── the store: the newest choices the bot was told, by post id and by URL ─────────────────────────────────────


def post_id_of(guid: str) -> int | None:
    """The WordPress post id in a guid (`https://host/?p=123`), else None."""
    match = _POST_ID.search(guid)
    return int(match.group(1)) if match else None


def refs_of(*, post_id: int | None = None, url: str | None = None, guid: str | None = None) -> list[str]:
    """The keys one article's choices are kept and looked up under."""
    refs: list[str] = []
    if post_id is None and guid:
        post_id = post_id_of(guid)
    if post_id:
        refs.append(f"post:{int(post_id)}")
    for value in (url, guid):
        if value and "://" in value:
            try:
                ref = "url:" + url_key(value)
            except ValueError:
                continue
            if ref not in refs and len(ref) <= 500:
                refs.append(ref)
    return refs


def remember(store: Store, feed: str, choices: Choices, refs: Iterable[str], *, now: datetime) -> None:
    """Keep `choices` as the article's newest (an empty set too: an editor who unticks a box means it)."""
    table = t.editorial_choices
    rows = [{"feed": feed, "ref": ref, "choices": choices.to_json(), "updated_at": now} for ref in refs]
    if not rows:
        return
    with store.engine.begin() as conn:
        dialect = conn.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(table).values(rows)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[table.c.feed, table.c.ref],
                set_={"choices": stmt.excluded.choices, "updated_at": stmt.excluded.updated_at},
            )
        )


def recall(store: Store, feed: str, article: Article) -> Choices:
    """The choices kept for `article` (the newest of those under its post id and its URL), else none."""
    refs = refs_of(url=article.url, guid=article.id)
    if not refs:
        return Choices()
    table = t.editorial_choices
    try:
        with store.engine.connect() as conn:
            row = conn.execute(
                select(table.c.choices)
                .where(table.c.feed == feed, table.c.ref.in_(refs))
                .order_by(table.c.updated_at.desc())
                .limit(1)
            ).first()
    except SQLAlchemyError as exc:
        # the article's tags still apply; its plugin choices cannot be read: say so, post by the tags
        log.error("editorial.store_failed", feed=feed, article=article.id, error=exc.__class__.__name__)
        return Choices()
    return Choices.from_json(row[0]) if row else Choices()


# ── deciding, for one article, which targets get what ────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Plan:
    article: Article  # without the control terms, so they never become hashtags
    choices: Choices
    opted_out: str | None  # why it goes nowhere, or None
    kept_off: Mapping[str, str]  # target name → why

    def skipped(self, names: Iterable[str]) -> str | None:
        """Why the article goes to none of `names` (the feed's targets), or None: opted out, or every one kept
        off. The store records such an article as `skipped` with this reason."""
        if self.opted_out:
            return self.opted_out
        names = list(names)
        if names and all(n in self.kept_off for n in names):
            return "kept off every target: " + "; ".join(f"{n}: {self.kept_off[n]}" for n in names)
        return None

    def targets(self, names: Iterable[str]) -> list[str]:
        if self.opted_out:
            return []
        return [n for n in names if n not in self.kept_off]

    def article_for(self, target: TargetSettings) -> Article:
        article = self.article
        if article.image_url and not article.image_alt and self.choices.image_alt:
            article = replace(article, image_alt=self.choices.image_alt)
        text = _lookup(self.choices.texts, target)
        return replace(article, social_text=text) if text else article


def decide(article: Article, feed: FeedSettings, targets: Mapping[str, TargetSettings], choices: Choices) -> Plan:
    """Pure: the plan for `article` on the feed's targets, from its terms and the plugin's `choices`."""
    opt_out = {slug(term) for term in feed.opt_out}
    terms = [(category, slug(category)) for category in article.categories]
    terms += [(term, term) for term in sorted(choices.terms)]
    control: set[str] = set()
    opted_out = None
    skips: dict[str, str] = {name: "the editor asked (WordPress)" for name in choices.skip}
    for category, term in terms:
        if term in opt_out:
            control.add(category)
            opted_out = opted_out or f"opted out: tagged {category!r}"
        elif term.startswith(SKIP_PREFIX) and len(term) > len(SKIP_PREFIX):
            control.add(category)
            skips.setdefault(term[len(SKIP_PREFIX) :], f"tagged {category!r}")
    if choices.opt_out and not opted_out:
        opted_out = "opted out: the editor ticked \"don't post this\" (WordPress)"
    kept_off: dict[str, str] = {}
    for name in feed.targets:
        target = targets.get(name)
        if target is None:
            continue
        why = _lookup(skips, target)
        if why is not None:
            kept_off[name] = why
    stripped = tuple(c for c in article.categories if c not in control)
    clean = replace(article, categories=stripped) if control else article
    return Plan(clean, choices, opted_out, kept_off)


def _lookup(values: Mapping[str, str], target: TargetSettings) -> str | None:
    """A value named for the target itself, else for its platform (or the platform's editorial alias)."""
    names = [target.name.lower(), target.platform.lower()]
    spec = registry.find(target.platform)
    names += list(spec.aliases) if spec else []  # what editors also call the platform, from its spec
    for name in names:
        if name in values:
            return values[name]
    return None


def plan(app: App, feed: FeedSettings, article: Article) -> Plan:
    """The plan for one article about to be rendered (new, corrected or republished): its terms and the choices
    kept for it; what it keeps off is logged as `article.skipped` with why."""
    choices = recall(app.store, feed.name, article)
    result = decide(article, feed, app.config.targets, choices)
    if result.opted_out:
        emit(ArticleSkipped(feed=feed.name, article=article.id, url=article.url, reason=result.opted_out))
    else:
        for name, why in result.kept_off.items():
            reason = f"not posted to {name}: {why}"
            emit(ArticleSkipped(feed=feed.name, article=article.id, url=article.url, reason=reason))
    return result


def told(app: App, feed: FeedSettings, choices: Choices, *, url: str | None, post_id: int | None) -> None:
    """The plugin told us its choices for an article (webhook or REST API): keep them, and apply them to what is
    already recorded for it. An opt-out or a skip cancels what is queued and has not gone out (with the reason);
    an article with nothing out becomes `skipped`; a post already out stays (a withdrawal is WordPress's status,
    not a ticked box). An article that was `skipped` and is no longer kept off (the box unticked) is queued now,
    as a new one would be, if it is still within the feed's `max_age`."""
    from syndicator.store import manage

    now = app.clock()
    remember(app.store, feed.name, choices, refs_of(post_id=post_id, url=url), now=now)
    rows = manage.find_wordpress_post(app.store, feed.name, post_id) if post_id else []
    if url:
        rows += [r for r in manage.find_articles(app.store, url, url_key(url)) if r["feed"] == feed.name]
    for row in {r["id"]: r for r in rows}.values():
        article = replace(_row_article(row), feed=feed.name)
        result = decide(article, feed, app.config.targets, choices)
        if row["state"] == "skipped":
            if not result.skipped(feed.targets):  # nothing keeps it off any more
                _lifted(app, feed, row, article)
            continue
        reason = result.opted_out
        targets = None if reason else sorted(result.kept_off)
        if not reason and not targets:
            continue
        cancelled = manage.cancel_unsent(
            app.store, row["id"], now=now, reason=reason or "kept off by the editor", targets=targets
        )
        if cancelled:
            log.info("editorial.cancelled", feed=feed.name, article=row["guid"], cancelled=cancelled,
                     reason=reason or f"kept off {', '.join(targets or [])}")  # fmt: skip
        everywhere = result.skipped(feed.targets)
        if everywhere and row["state"] == "queued" and skip_unposted(app.store, row["id"], reason=everywhere):
            emit(ArticleSkipped(feed=feed.name, article=row["guid"], url=row["url"], reason=everywhere))


def _lifted(app: App, feed: FeedSettings, row: Any, article: Article) -> None:
    """A `skipped` article, told new choices: queued if nothing keeps it off any more (rendered as a new article
    is, by the poll's own rules: `polling.deliveries_for`)."""
    from syndicator.polling import deliveries_for, policy_of

    now = app.clock()
    if feed.max_age and article.published is not None and now - article.published > feed.max_age:
        why = f"its opt-out was lifted, but it is older than max_age ({feed.max_age}) by now"
        emit(ArticleSkipped(feed=feed.name, article=row["guid"], url=row["url"], reason=why))
        return
    deliveries = deliveries_for(app, feed, article)  # logs `article.skipped` again if it is still kept off
    if queue_skipped(app.store, row["id"], policy_of(feed), article, deliveries, now=now):
        emit(ArticleNew(feed=feed.name, article=row["guid"], url=row["url"], title=row["title"], via="editorial"))


def _row_article(row: Any) -> Article:
    from syndicator.store.articles import row_to_article

    return row_to_article(row)
