"""The desk's commands: `syndicator desk-user add|list|remove`, and what `preview --png` and `history` use.

Users are made only here, on the server: the desk has no sign-up and no password reset page. A password is read
twice from the terminal (never an argument: it would be in the shell's history and `ps`), or as one line from
stdin with --password-stdin for provisioning scripts.
"""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syndicator.cli.output import cut, emit_json, table, when
from syndicator.cli.registry import command, group
from syndicator.errors import ConfigError

if TYPE_CHECKING:
    from syndicator.app import App
    from syndicator.article import Article
    from syndicator.config import Config

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")
CLI_USER = "cli"  # who the audit trail names for what is done from the command line

group("desk-user", summary="users of the editors' desk (/desk/): add, list, remove")


def _name(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME", help="the user name they log in with")


def _add_options(p: argparse.ArgumentParser) -> None:
    _name(p)
    p.add_argument("--role", choices=("editor", "viewer"), default="editor",
                   help="editor: acts and edits (default); viewer: sees everything, changes nothing")  # fmt: skip
    p.add_argument("--password-stdin", action="store_true", help="read the password as one line from stdin")


def _store(cfg: Config) -> Any:
    from syndicator.store import Store

    return Store(cfg.store.url)


def _read_password(from_stdin: bool) -> str:
    from syndicator.desk import passwords

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin is not None and sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise ConfigError("the two passwords differ; nothing was changed")
    else:
        raise ConfigError("not a terminal: give the password as one line on stdin with --password-stdin")
    why = passwords.problem(password)
    if why:
        raise ConfigError(f"{why}; nothing was changed")
    return password


@command(
    "desk-user add",
    summary="add a desk user, or give one a new password or role",
    description="Add a user of the editors' desk, or set a new password (and role) for one: their sessions end.\n"
    "The password is asked twice on the terminal (at least 12 characters) and stored as an Argon2id hash.",
    examples=(
        "syndicator desk-user add alice",
        "syndicator desk-user add bob --role viewer",
        "pwgen -s 24 1 | tee /dev/stderr | syndicator desk-user add carol --password-stdin",
    ),
    configure=_add_options,
    secrets=False,
)
def cmd_add(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator.clock import utcnow
    from syndicator.desk import passwords
    from syndicator.store import desk as desk_store

    if not NAME.match(args.name):
        raise ConfigError("a user name is 1-100 letters, digits and _ . @ - (starting with a letter or digit)")
    password = _read_password(args.password_stdin)
    store = _store(cfg)
    now = utcnow()
    new = desk_store.save_user(store, args.name, password_hash=passwords.hash_password(password), role=args.role,
                               now=now)  # fmt: skip
    action = "user-add" if new else "user-change"
    desk_store.audit(store, user=CLI_USER, action=action, now=now, lines=[f"{args.name} ({args.role})"])
    if new:
        print(f"desk user {args.name} ({args.role}) added")
    else:
        print(f"desk user {args.name} ({args.role}): new password; their sessions have ended")
    if cfg.desk is None:
        print("note: the desk is off until the configuration has a [desk] section", file=sys.stderr)
    return 0


@command(
    "desk-user list",
    summary="the desk's users and their roles",
    description="The users of the editors' desk: name, role (editor or viewer), when added and last changed.",
    examples=("syndicator desk-user list", "syndicator desk-user list --json"),
    secrets=False,
)
def cmd_list(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator.store import desk as desk_store

    users = desk_store.list_users(_store(cfg))
    if args.json:
        emit_json({"users": users})
        return 0
    table([[u["name"], u["role"], when(u["created_at"]), when(u["updated_at"])] for u in users],
          ["USER", "ROLE", "ADDED (UTC)", "CHANGED (UTC)"])  # fmt: skip
    return 0


@command(
    "desk-user remove",
    summary="remove a desk user (their sessions end)",
    description="Remove a user of the editors' desk; their sessions end at once. The audit trail keeps their name.",
    examples=("syndicator desk-user remove bob",),
    configure=_name,
    secrets=False,
)
def cmd_remove(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator.clock import utcnow
    from syndicator.store import desk as desk_store

    store = _store(cfg)
    if not desk_store.remove_user(store, args.name):
        raise ConfigError(f"no desk user {args.name!r} (see `syndicator desk-user list`)")
    desk_store.audit(store, user=CLI_USER, action="user-remove", now=utcnow(), lines=[args.name])
    print(f"desk user {args.name} removed")
    return 0


# ── for `preview --png DIR` and `history` ────────────────────────────────────────────────────────────────────


def preview_pngs(app: App, articles: list[Article], targets: list[str] | None, out_dir: Path) -> int:
    """One PNG per post into `out_dir`; without Chromium one line on stderr and exit 1."""
    from syndicator.desk import png

    try:
        chromium = png.find_chromium(app.config.desk.chromium if app.config.desk else "")
    except png.NoChromium as exc:
        print(f"syndicator: {exc}", file=sys.stderr)
        return 1
    for path in png.write_pngs(png.pictures(app, articles, targets), out_dir, chromium):
        print(path)
    return 0


def audit_rows(app: App, *, since: Any, article_ids: list[int] | None, limit: int) -> list[dict[str, Any]]:
    """The desk's audit trail for `history`: who did what, when, to which article and target."""
    from syndicator.store import desk as desk_store

    return [
        {"at": e.at, "user": e.user, "action": e.action, "article_ref": f"a{e.article_id}" if e.article_id else None,
         "delivery_ref": f"d{e.delivery_id}" if e.delivery_id else None, "target": e.target, "lines": e.lines}
        for e in desk_store.audit_entries(app.store, since=since, article_ids=article_ids, limit=limit)
    ]  # fmt: skip


def print_audit(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    print()
    out = [[when(r["at"]), r["user"], r["action"], r["article_ref"] or "-", r["target"] or "-",
            cut("; ".join(r["lines"]), 70)] for r in rows]  # fmt: skip
    table(out, ["WHEN (UTC)", "WHO", "DESK ACTION", "ARTICLE", "TARGET", "WHAT"], title="The editors' desk")


__all__ = ["audit_rows", "cmd_add", "cmd_list", "cmd_remove", "preview_pngs", "print_audit"]
