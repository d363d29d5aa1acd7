"""The schema, as SQLAlchemy Core tables. Alembic migrations in syndicator/migrations create exactly this."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite (no time zones) and PostgreSQL alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        result: datetime = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return result


metadata = MetaData()

feeds = Table(
    "feeds",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("url", Text, nullable=False),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("initialized", Boolean, nullable=False, default=False),
    Column("last_poll_at", UTCDateTime),
    Column("last_ok_at", UTCDateTime),
    Column("last_status", String(40)),  # ok | not_modified | failed
    Column("last_error", Text),
    Column("failing_since", UTCDateTime),
    Column("last_items", Integer, nullable=False, default=0),
    Column("next_poll_at", UTCDateTime),
    Column("lease_owner", String(100)),
    Column("lease_until", UTCDateTime),
    # WebSub: the hub the feed advertises and our subscription to it
    Column("hub", Text),
    Column("topic", Text),
    Column("sub_state", String(20)),  # requested | active | failed
    Column("sub_secret", Text),
    Column("sub_requested_at", UTCDateTime),
    Column("sub_expires_at", UTCDateTime),
    Column("sub_token", Text),  # the secret part of our callback URL: only the hub we asked knows it
    # we asked the hub (a first request or a renewal) and its verification has not come yet
    Column("sub_pending", Boolean, nullable=False, default=False, server_default=false()),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("feed", String(200), nullable=False),
    Column("key", Text, nullable=False),  # identity within the feed: url_key of the guid/url
    Column("url_key", Text, nullable=False),
    Column("guid", Text, nullable=False),  # Article.id as the feed gave it
    Column("url", Text, nullable=False),
    Column("title", Text, nullable=False, default=""),
    Column("summary", Text, nullable=False, default=""),
    Column("content_html", Text, nullable=False, default=""),
    Column("categories", Text, nullable=False, default="[]"),  # JSON list
    Column("language", String(20), nullable=False, default=""),
    Column("author", Text, nullable=False, default=""),
    Column("image_url", Text),
    Column("published_at", UTCDateTime),
    Column("updated_at", UTCDateTime),
    Column("fingerprint", String(64), nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("changed_at", UTCDateTime),
    Column("state", String(20), nullable=False),  # seen | queued | skipped | withdrawn
    Column("reason", Text),  # why it was not queued
    UniqueConstraint("feed", "key", name="uq_articles_feed_key"),
    Index("ix_articles_feed_url_key", "feed", "url_key"),
    Index("ix_articles_url_key", "url_key"),
    Index("ix_articles_first_seen", "first_seen_at"),
    Index("ix_articles_guid", "guid"),
    Index("ix_articles_url", "url"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("feed", String(200), nullable=False),
    Column("target", String(200), nullable=False),
    Column("recipient", String(64), nullable=False, default=""),
    Column("generation", Integer, nullable=False, default=0),  # resend --force makes generation + 1
    Column("kind", String(10), nullable=False, default="post", server_default="post"),  # post | edit | delete
    Column("parent_id", Integer),  # for edit/delete: the delivery whose post is edited or deleted
    Column("manual", Boolean, nullable=False, default=False, server_default=false()),  # queued by an editor
    Column("state", String(20), nullable=False),
    Column("priority", Integer, nullable=False, default=0),
    Column("post", Text, nullable=False),  # Post.to_json()
    Column("published_at", UTCDateTime),  # the article's, for newest-first order and the publish→post delay
    Column("not_before", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("sending_at", UTCDateTime),
    Column("sent_at", UTCDateTime),
    Column("lease_owner", String(100)),
    Column("lease_until", UTCDateTime),
    Column("remote_id", Text),
    Column("remote_url", Text),
    Column("receipt", Text),
    Column("error_class", String(40)),
    Column("last_error", Text),
    Column("wait_reason", Text),  # why it is waiting (governor), shown in status
    UniqueConstraint("article_id", "target", "recipient", "kind", "generation", name="uq_deliveries_once"),
    Index("ix_deliveries_due", "state", "not_before"),
    Index("ix_deliveries_target_state", "target", "state"),
    Index("ix_deliveries_target_sending", "target", "sending_at"),
    Index("ix_deliveries_updated", "updated_at"),
)
# the order claim_due takes due rows in, over the due rows only (migration 0009)
Index(
    "ix_deliveries_claim",
    deliveries.c.priority.desc(),
    deliveries.c.published_at.desc().nulls_last(),
    deliveries.c.id,
    postgresql_where=deliveries.c.state.in_(("pending", "retry")),
    sqlite_where=deliveries.c.state.in_(("pending", "retry")),
)

attempts = Table(
    "attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", Integer, ForeignKey("deliveries.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("worker", String(100), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("outcome", String(20)),  # sent | retry_later | transient | permanent | auth | unknown
    Column("error", Text),
    Index("ix_attempts_delivery", "delivery_id"),
)

target_state = Table(
    "target_state",
    metadata,
    Column("target", String(200), primary_key=True),
    Column("paused_until", UTCDateTime),
    Column("pause_reason", Text),
    Column("auth_failed", Boolean, nullable=False, default=False),  # cleared by a passing `check`
    Column("rate", Text),  # last RateInfo the platform reported, JSON
    Column("updated_at", UTCDateTime),
)

webhook_replays = Table(
    "webhook_replays",
    metadata,
    # sha256 of the call's nonce (or its signature): a second INSERT of the same key is a replay, on any worker
    Column("key", String(64), primary_key=True),
    Column("seen_at", UTCDateTime, nullable=False),
    Index("ix_webhook_replays_seen", "seen_at"),
)

editorial_choices = Table(
    "editorial_choices",
    metadata,
    # what the newsroom decided for one article (syndicator/editorial.py): the WordPress plugin's meta, from the
    # webhook or the REST API; ref is "post:<id>" or "url:<url_key>", so a feed item finds it either way
    Column("feed", String(200), primary_key=True),
    Column("ref", String(500), primary_key=True),
    Column("choices", Text, nullable=False),  # JSON: {"opt_out": bool, "skip": [...], "texts": {...}}
    Column("updated_at", UTCDateTime, nullable=False),
)

feed_gaps = Table(
    "feed_gaps",
    metadata,
    # a poll whose every item was new and whose paging back could not reach a known item (syndicator/gaps.py)
    Column("feed", String(200), primary_key=True),
    Column("open", Boolean, nullable=False),
    Column("detected_at", UTCDateTime, nullable=False),
    Column("reason", Text, nullable=False),
    Column("closed_at", UTCDateTime),
)

cadences = Table(
    "cadences",
    metadata,
    # a periodic job every worker runs, done once per interval between them (syndicator/store/rechecks.py): the
    # worker whose conditional UPDATE takes the due row holds it until `lease_until`; a dead worker's lease ends
    Column("job", String(300), primary_key=True),  # e.g. "recheck:en"
    Column("due_at", UTCDateTime, nullable=False),
    Column("lease_owner", String(100)),
    Column("lease_until", UTCDateTime),
    Column("last_done_at", UTCDateTime),
)
