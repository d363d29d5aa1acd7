"""Connecting to the store and bringing its schema up to date (Alembic, automatically at start)."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError

from syndicator.errors import StoreError

SCHEMA_HEAD = "0005"  # the newest migration in syndicator/migrations/versions (a test keeps them in step)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Store:
    """The database: every durable fact lives here. SQLite (WAL) by default, PostgreSQL for several workers."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_postgres = self.engine.dialect.name == "postgresql"
        if migrate:
            self.migrate()

    def schema_version(self) -> str | None:
        try:
            with self.engine.connect() as conn:
                version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except SQLAlchemyError:
            return None  # a new database
        return str(version) if version is not None else None

    def migrate(self) -> None:
        """Bring the schema to HEAD with Alembic — which is only loaded when there is something to do."""
        try:
            if self.schema_version() == SCHEMA_HEAD:
                return
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot reach the store at {redact_url(self.url)}: {exc.__class__.__name__}") from exc
        from alembic import command
        from alembic.config import Config as AlembicConfig

        try:
            with self.engine.begin() as conn:
                if self.is_postgres:
                    # several workers may start at once: one migrates, the others wait for it
                    conn.execute(text("SELECT pg_advisory_xact_lock(74201)"))
                cfg = AlembicConfig()
                cfg.set_main_option("script_location", str(resources.files("syndicator") / "migrations"))
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot prepare the store at {redact_url(self.url)}: {exc.__class__.__name__}") from exc

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def close(self) -> None:
        self.engine.dispose()


def make_engine(url: str) -> Engine:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]  # Heroku-style URLs
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    else:
        kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=10)
    try:
        engine = create_engine(url, **kwargs)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StoreError(f"bad store URL {redact_url(url)}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def redact_url(url: str) -> str:
    """postgresql://user:secret@host/db → postgresql://user:***@host/db"""
    import re

    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)
