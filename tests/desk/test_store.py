"""The desk's tables on SQLite and PostgreSQL: users, sessions, failed logins, audit, edits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from syndicator.article import Post
from syndicator.store import Store
from syndicator.store import desk as desk_store
from syndicator.store import tables as t
from syndicator.store.deliveries import claim_due, insert_delivery

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _delivery(store: Store) -> int:
    with store.engine.begin() as conn:
        article = conn.execute(
            t.articles.insert().values(
                feed="f", key="k", url_key="u", guid="g", url="https://e.org/a", title="T", summary="", content_html="",
                categories="[]", language="en", author="", fingerprint="fp", first_seen_at=NOW, last_seen_at=NOW,
                state="queued",
            )
        ).inserted_primary_key[0]  # fmt: skip
        post = Post(platform="twitter", text="hello https://e.org/a", length=29, limit=280)
        return insert_delivery(conn, article_id=article, feed="f", target="x", recipient="", post_json=post.to_json(),
                               published_at=NOW, now=NOW)  # fmt: skip


def test_users_sessions_and_a_password_change(store_url: str) -> None:
    store = Store(store_url)
    assert desk_store.save_user(store, "ed", password_hash="$argon2id$a", role="editor", now=NOW)
    desk_store.create_session(store, token_hash="h" * 64, user="ed", csrf="c", now=NOW)
    session = desk_store.find_session(store, "h" * 64)
    assert session is not None and (session.user, session.role, session.csrf) == ("ed", "editor", "c")
    assert not desk_store.save_user(store, "ed", password_hash="$argon2id$b", role="viewer", now=NOW)
    assert desk_store.find_session(store, "h" * 64) is None  # a new password ends the sessions
    assert [(u["name"], u["role"]) for u in desk_store.list_users(store)] == [("ed", "viewer")]
    desk_store.create_session(store, token_hash="i" * 64, user="ed", csrf="c", now=NOW)
    assert desk_store.end_stale_sessions(store, idle_before=NOW + timedelta(seconds=1), created_before=NOW) == 1
    assert desk_store.remove_user(store, "ed") and not desk_store.remove_user(store, "ed")


def test_failed_logins_count_per_user_and_per_address(store_url: str) -> None:
    store = Store(store_url)
    for i, (user, peer) in enumerate([("ed", "10.0.0.1"), ("ed", "10.0.0.2"), ("al", "10.0.0.1")]):
        desk_store.record_login(store, user=user, peer=peer, ok=False, now=NOW + timedelta(minutes=i))
    desk_store.record_login(store, user="ed", peer="10.0.0.1", ok=True, now=NOW)
    assert desk_store.failed_logins(store, user="ed", peer="10.0.0.1", since=NOW) == (2, 2, NOW)
    assert desk_store.failed_logins(store, user="ed", peer="10.0.0.9", since=NOW + timedelta(seconds=30))[:2] == (1, 0)
    desk_store.forget_logins(store, before=NOW + timedelta(hours=1))
    assert desk_store.failed_logins(store, user="ed", peer="10.0.0.1", since=NOW)[:2] == (0, 0)


def test_an_edit_is_kept_until_a_worker_claims_the_delivery(store_url: str) -> None:
    store = Store(store_url)
    delivery = _delivery(store)
    assert desk_store.save_edit(store, delivery, text="one", length=3, user="ed", now=NOW)
    assert desk_store.save_edit(store, delivery, text="two", length=3, user="al", now=NOW)  # the newest is kept
    edit = desk_store.edits_for(store, [delivery])[delivery]
    assert (edit.text, edit.user) == ("two", "al")
    assert [d.id for d in claim_due(store, worker="w", now=NOW, lease=timedelta(minutes=5))] == [delivery]
    assert not desk_store.save_edit(store, delivery, text="late", length=4, user="ed", now=NOW)
    assert desk_store.edits_for(store, [delivery])[delivery].text == "two"


def test_the_audit_trail_newest_first(store_url: str) -> None:
    store = Store(store_url)
    for i, action in enumerate(("hold", "release")):
        desk_store.audit(store, user="ed", action=action, now=NOW + timedelta(minutes=i), lines=["خبر", "<b>"],
                         article_id=7, target="x")  # fmt: skip
    desk_store.audit(store, user="cli", action="user-add", now=NOW + timedelta(minutes=5))
    assert [e.action for e in desk_store.audit_entries(store, article_ids=[7])] == ["release", "hold"]
    assert desk_store.audit_entries(store, article_ids=[7])[0].lines == ["خبر", "<b>"]
    assert [e.action for e in desk_store.audit_entries(store, since=NOW + timedelta(minutes=1))] == [
        "user-add",
        "release",
    ]
