"""The editors' desk in the store: its users, their sessions, failed logins (rate limiting shared by every worker),
the audit trail, and the texts editors edited for posts that have not gone out.

Session tokens are stored as their SHA-256 only: a copy of the database lets nobody in. Passwords arrive here
already hashed (argon2, syndicator.desk.passwords).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text, delete, func, insert, select
from sqlalchemy import update as sql_update

from syndicator.article import DeliveryState as S
from syndicator.store import tables as t
from syndicator.store.engine import Store

UTC_TIME = t.UTCDateTime

desk_users = Table(
    "desk_users",
    t.metadata,
    Column("name", String(100), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(20), nullable=False),  # editor | viewer
    Column("created_at", UTC_TIME, nullable=False),
    Column("updated_at", UTC_TIME, nullable=False),
)

desk_sessions = Table(
    "desk_sessions",
    t.metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("username", String(100), ForeignKey("desk_users.name", ondelete="CASCADE"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UTC_TIME, nullable=False),
    Column("last_seen_at", UTC_TIME, nullable=False),
    Index("ix_desk_sessions_user", "username"),
)

desk_logins = Table(
    "desk_logins",
    t.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(100), nullable=False),  # as typed: unknown names are limited too
    Column("peer", String(64), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("at", UTC_TIME, nullable=False),
    Index("ix_desk_logins_at", "at"),
)

desk_audit = Table(
    "desk_audit",
    t.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTC_TIME, nullable=False),
    Column("username", String(100), nullable=False),
    Column("action", String(40), nullable=False),  # login | logout | hold | release | resend | retract | edit ...
    Column("article_id", Integer),
    Column("delivery_id", Integer),
    Column("target", String(200)),
    Column("detail", Text, nullable=False, default=""),  # JSON list of lines: what the action did
    Index("ix_desk_audit_article", "article_id"),
    Index("ix_desk_audit_at", "at"),
)

desk_edits = Table(
    "desk_edits",
    t.metadata,
    Column("delivery_id", Integer, ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True),
    Column("text", Text, nullable=False),
    Column("length", Integer, nullable=False),
    Column("username", String(100), nullable=False),
    Column("edited_at", UTC_TIME, nullable=False),
)

EDITABLE_STATES = (S.PENDING, S.RETRY, S.HELD)


@dataclass(frozen=True)
class User:
    name: str
    role: str
    password_hash: str


@dataclass(frozen=True)
class Session:
    user: str
    role: str
    csrf: str
    created_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True)
class Edit:
    delivery_id: int
    text: str
    length: int
    user: str
    edited_at: datetime


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    user: str
    action: str
    article_id: int | None
    delivery_id: int | None
    target: str | None
    lines: list[str]


# ── users ────────────────────────────────────────────────────────────────────────────────────────────────────


def get_user(store: Store, name: str) -> User | None:
    u = desk_users
    with store.engine.connect() as conn:
        row = conn.execute(select(u).where(u.c.name == name)).mappings().first()
    return User(row["name"], row["role"], row["password_hash"]) if row else None


def save_user(store: Store, name: str, *, password_hash: str, role: str, now: datetime) -> bool:
    """Create the user, or set a new password and role; True when it was new. Sessions of a changed user end."""
    u = desk_users
    with store.engine.begin() as conn:
        changed = conn.execute(
            sql_update(u).where(u.c.name == name).values(password_hash=password_hash, role=role, updated_at=now)
        ).rowcount
        if changed:
            conn.execute(delete(desk_sessions).where(desk_sessions.c.username == name))
            return False
        conn.execute(
            insert(u).values(name=name, password_hash=password_hash, role=role, created_at=now, updated_at=now)
        )
        return True


def remove_user(store: Store, name: str) -> bool:
    with store.engine.begin() as conn:
        conn.execute(delete(desk_sessions).where(desk_sessions.c.username == name))
        return bool(conn.execute(delete(desk_users).where(desk_users.c.name == name)).rowcount)


def list_users(store: Store) -> list[dict[str, Any]]:
    u = desk_users
    with store.engine.connect() as conn:
        rows = conn.execute(select(u.c.name, u.c.role, u.c.created_at, u.c.updated_at).order_by(u.c.name)).mappings()
        return [dict(r) for r in rows]


def update_password_hash(store: Store, name: str, password_hash: str) -> None:
    """A rehash at login (argon2 parameters raised since): same password, new hash; sessions stay."""
    with store.engine.begin() as conn:
        conn.execute(sql_update(desk_users).where(desk_users.c.name == name).values(password_hash=password_hash))


# ── sessions ─────────────────────────────────────────────────────────────────────────────────────────────────


def create_session(store: Store, *, token_hash: str, user: str, csrf: str, now: datetime) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            insert(desk_sessions).values(
                token_hash=token_hash, username=user, csrf=csrf, created_at=now, last_seen_at=now
            )
        )


def find_session(store: Store, token_hash: str) -> Session | None:
    s, u = desk_sessions, desk_users
    with store.engine.connect() as conn:
        row = (
            conn.execute(
                select(s.c.username, u.c.role, s.c.csrf, s.c.created_at, s.c.last_seen_at)
                .join(u, u.c.name == s.c.username)
                .where(s.c.token_hash == token_hash)
            )
            .mappings()
            .first()
        )
    return Session(row["username"], row["role"], row["csrf"], row["created_at"], row["last_seen_at"]) if row else None


def touch_session(store: Store, token_hash: str, now: datetime) -> None:
    with store.engine.begin() as conn:
        conn.execute(sql_update(desk_sessions).where(desk_sessions.c.token_hash == token_hash).values(last_seen_at=now))


def end_session(store: Store, token_hash: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(delete(desk_sessions).where(desk_sessions.c.token_hash == token_hash))


def end_stale_sessions(store: Store, *, idle_before: datetime, created_before: datetime) -> int:
    s = desk_sessions
    with store.engine.begin() as conn:
        return int(
            conn.execute(delete(s).where((s.c.last_seen_at < idle_before) | (s.c.created_at < created_before))).rowcount
        )


# ── login attempts ───────────────────────────────────────────────────────────────────────────────────────────


def record_login(store: Store, *, user: str, peer: str, ok: bool, now: datetime) -> None:
    with store.engine.begin() as conn:
        conn.execute(insert(desk_logins).values(username=user[:100], peer=peer[:64], ok=ok, at=now))


def failed_logins(store: Store, *, user: str, peer: str, since: datetime) -> tuple[int, int, datetime | None]:
    """Failures since `since` for this user name and from this address, and the oldest of them."""
    x = desk_logins
    with store.engine.connect() as conn:
        by_user = conn.execute(
            select(func.count()).where(x.c.username == user[:100], x.c.ok.is_(False), x.c.at >= since)
        ).scalar_one()
        by_peer = conn.execute(
            select(func.count()).where(x.c.peer == peer[:64], x.c.ok.is_(False), x.c.at >= since)
        ).scalar_one()
        oldest = conn.execute(
            select(func.min(x.c.at)).where(
                x.c.ok.is_(False), x.c.at >= since, (x.c.username == user[:100]) | (x.c.peer == peer[:64])
            )
        ).scalar_one()
    return int(by_user), int(by_peer), oldest


def forget_logins(store: Store, *, before: datetime) -> None:
    with store.engine.begin() as conn:
        conn.execute(delete(desk_logins).where(desk_logins.c.at < before))


# ── audit ────────────────────────────────────────────────────────────────────────────────────────────────────


def audit(
    store: Store,
    *,
    user: str,
    action: str,
    now: datetime,
    lines: Iterable[str] = (),
    article_id: int | None = None,
    delivery_id: int | None = None,
    target: str | None = None,
) -> int:
    with store.engine.begin() as conn:
        result = conn.execute(
            insert(desk_audit).values(
                at=now, username=user, action=action, article_id=article_id, delivery_id=delivery_id, target=target,
                detail=json.dumps(list(lines), ensure_ascii=False),
            )
        )  # fmt: skip
        assert result.inserted_primary_key is not None
        return int(result.inserted_primary_key[0])


def audit_entries(
    store: Store,
    *,
    article_ids: list[int] | None = None,
    since: datetime | None = None,
    entry_id: int | None = None,
    limit: int = 200,
) -> list[AuditEntry]:
    """Newest first."""
    a = desk_audit
    query = select(a).order_by(a.c.at.desc(), a.c.id.desc()).limit(limit)
    if article_ids is not None:
        query = query.where(a.c.article_id.in_(article_ids))
    if since is not None:
        query = query.where(a.c.at >= since)
    if entry_id is not None:
        query = query.where(a.c.id == entry_id)
    with store.engine.connect() as conn:
        return [
            AuditEntry(
                r["id"], r["at"], r["username"], r["action"], r["article_id"], r["delivery_id"], r["target"],
                json.loads(r["detail"] or "[]"),
            )
            for r in conn.execute(query).mappings()
        ]  # fmt: skip


# ── edits ────────────────────────────────────────────────────────────────────────────────────────────────────


def save_edit(store: Store, delivery_id: int, *, text: str, length: int, user: str, now: datetime) -> bool:
    """Keep an editor's text for a delivery that has not gone out and is not being sent. False when it is too late
    (sent, sending, claimed by a worker): then nothing is saved.

    The delivery row is touched under the same conditions in the same transaction: it takes the row's lock, so a
    worker's claim either came first (the edit is refused) or comes after (the claim reads the edit)."""
    d = t.deliveries
    with store.engine.begin() as conn:
        still_editable = conn.execute(
            sql_update(d)
            .where(
                d.c.id == delivery_id,
                d.c.state.in_(EDITABLE_STATES),
                d.c.lease_until.is_(None) | (d.c.lease_until < now),
            )
            .values(updated_at=now)
        ).rowcount
        if not still_editable:
            return False
        e = desk_edits
        conn.execute(delete(e).where(e.c.delivery_id == delivery_id))
        conn.execute(insert(e).values(delivery_id=delivery_id, text=text, length=length, username=user, edited_at=now))
        return True


def edits_for(store: Store, delivery_ids: Iterable[int]) -> dict[int, Edit]:
    ids = list(delivery_ids)
    if not ids:
        return {}
    e = desk_edits
    with store.engine.connect() as conn:
        rows = conn.execute(select(e).where(e.c.delivery_id.in_(ids))).mappings()
        return {
            r["delivery_id"]: Edit(r["delivery_id"], r["text"], r["length"], r["username"], r["edited_at"])
            for r in rows
        }


__all__ = [
    "EDITABLE_STATES",
    "AuditEntry",
    "Edit",
    "Session",
    "User",
    "audit",
    "audit_entries",
    "create_session",
    "edits_for",
    "end_session",
    "end_stale_sessions",
    "failed_logins",
    "find_session",
    "forget_logins",
    "get_user",
    "list_users",
    "record_login",
    "remove_user",
    "save_edit",
    "save_user",
    "touch_session",
    "update_password_hash",
]
