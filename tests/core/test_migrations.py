"""Alembic migrations: an old database upgrades in place, keeps its rows, and ends exactly at the declared schema."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import text

from syndicator.store import Store
from syndicator.store.tables import metadata


def _cfg(conn: object) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("syndicator") / "migrations"))
    cfg.attributes["connection"] = conn
    return cfg


def test_upgrade_from_first_revision_keeps_rows_and_matches_tables(store_url: str) -> None:
    store = Store(store_url, migrate=False)
    with store.engine.begin() as conn:
        command.upgrade(_cfg(conn), "0001")
        conn.execute(
            text(
                "INSERT INTO articles (feed, key, url_key, guid, url, title, summary, content_html, categories, "
                "language, author, fingerprint, first_seen_at, last_seen_at, state) VALUES ('f', 'k', 'u', 'g', "
                "'https://e.org/a', 't', '', '', '[]', 'en', '', 'fp', '2026-01-01', '2026-01-01', 'queued')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO deliveries (article_id, feed, target, recipient, generation, state, priority, post, "
                "not_before, attempts, created_at, updated_at) SELECT id, 'f', 't', '', 0, 'sent', 0, '{}', "
                "'2026-01-01', 1, '2026-01-01', '2026-01-01' FROM articles"
            )
        )
    store.migrate()  # what every start does
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT kind, state FROM deliveries")).all() == [("post", "sent")]
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    # types may be reported differently by reflection; tables, columns, indexes and constraints must not differ
    structural = [d for d in diffs if not (isinstance(d, list) and d and d[0][0] == "modify_type")]
    assert structural == []


def test_schema_head_constant_matches_the_newest_migration() -> None:
    from alembic.script import ScriptDirectory

    from syndicator.store.engine import SCHEMA_HEAD

    scripts = ScriptDirectory(str(resources.files("syndicator") / "migrations"))
    assert scripts.get_current_head() == SCHEMA_HEAD


def test_upgrade_to_0005_drops_websub_subscriptions_made_without_a_token(store_url: str) -> None:
    """Before 0005 anyone could verify a subscription (a lease until 2058, polling slowed): none is kept."""
    store = Store(store_url, migrate=False)
    with store.engine.begin() as conn:
        command.upgrade(_cfg(conn), "0004")
        conn.execute(
            text(
                "INSERT INTO feeds (name, url, initialized, last_items, hub, topic, sub_state, sub_secret, "
                "sub_requested_at, sub_expires_at) VALUES ('f', 'https://e.org/feed', true, 0, 'https://hub.e.org/', "
                "'https://e.org/feed', 'active', 's', '2026-01-01', '2058-01-01')"
            )
        )
    store.migrate()
    with store.engine.connect() as conn:
        row = conn.execute(text("SELECT hub, sub_state, sub_expires_at, sub_token, sub_pending FROM feeds")).one()
    assert row[0] == "https://hub.e.org/" and row[1:4] == (None, None, None) and not row[4]
