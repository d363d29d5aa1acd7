"""Where commands are registered: one `@command(...)` per subcommand, in the module of its kind (MODULES).

To add a command, write `configure(parser)` (its options) and a handler `(args, cfg) -> exit code`, decorate the
handler with `@command("name", ...)`, and list its module in MODULES if it is a new one. A name with a space
(`"desk-user add"`) is a subcommand of a group (`syndicator desk-user add`); the group is made on first use.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from syndicator.config import Config

Handler = Callable[[argparse.Namespace, "Config"], int]
Configure = Callable[[argparse.ArgumentParser], None]

# The modules whose import registers their commands, in the order `syndicator --help` lists them.
MODULES = (
    "syndicator.cli.worker_commands",
    "syndicator.cli.views",
    "syndicator.cli.editor",
    "syndicator.cli.check",
    "syndicator.cli.completion",
    "syndicator.desk.commands",  # desk-user add|list|remove
)


@dataclass(frozen=True)
class Command:
    name: str  # "status", or "group sub" for a subcommand of a group
    summary: str  # one line in `syndicator --help`
    description: str  # the command's own --help
    examples: tuple[str, ...]
    configure: Configure | None
    handler: Handler
    # False: the command reads the store only and needs no platform secret (status, history, preview)
    secrets: bool = True
    # False: the command runs without loading a configuration (completion)
    config: bool = True


COMMANDS: dict[str, Command] = {}
GROUPS: dict[str, str] = {}  # group name → its summary


def command(
    name: str,
    *,
    summary: str,
    description: str = "",
    examples: tuple[str, ...] = (),
    configure: Configure | None = None,
    secrets: bool = True,
    config: bool = True,
) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if name in COMMANDS:
            raise RuntimeError(f"command {name!r} is registered twice")
        COMMANDS[name] = Command(name, summary, description or summary, examples, configure, handler, secrets, config)
        return handler

    return register


def group(name: str, *, summary: str) -> None:
    """A command group (`syndicator desk-user …`): its summary in `syndicator --help`."""
    GROUPS[name] = summary
