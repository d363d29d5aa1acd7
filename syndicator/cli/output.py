"""What the commands print: one JSON document, or tables (rich on a terminal, plain columns in a pipe), and the
confirmation asked before a public or destructive action."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from syndicator.errors import ConfigError


def emit_json(doc: Any) -> None:
    print(json.dumps(doc, ensure_ascii=False, indent=2, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def cut(text: str | None, width: int) -> str:
    """At most `width` characters, an ellipsis where something was cut."""
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: max(0, width - 1)].rstrip() + "…"


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def table(rows: Sequence[Sequence[str]], header: Sequence[str], *, title: str | None = None) -> None:
    """Rich's table on a terminal; in a pipe or a file plain columns, two spaces apart, one row a line (for grep,
    awk and cut), with no colour and no box characters."""
    if stdout_is_terminal():
        from rich import box
        from rich.console import Console
        from rich.table import Table

        t = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
        for name in header:  # nothing is cut on a narrow terminal: a cell wraps within its column
            t.add_column(name, overflow="fold")
        for row in rows:
            t.add_row(*(str(c) for c in row))
        Console().print(t)
        return
    if title:
        print(title)
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]
    print("  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=False)).rstrip())
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=False)).rstrip())


def confirm(question: str, *, yes: bool, what: str) -> bool:
    """Ask on a terminal; `--yes` answers for the user. Not a terminal and no --yes: refuse (ConfigError, exit 2)
    rather than act unasked — a script must say --yes."""
    if yes:
        return True
    if not stdin_is_terminal():
        raise ConfigError(f"{what} needs a confirmation: not a terminal, so nothing was done; add --yes to go ahead")
    # on stderr, so that stdout stays the command's output (a JSON document, say)
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")
