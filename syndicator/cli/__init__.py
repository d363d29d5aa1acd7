# PYTHON_ARGCOMPLETE_OK  (argcomplete looks for this mark: `syndicator completion bash` relies on it)
"""The commands. Thin: parse, call, print. Exit codes: see EXIT below and README ("Using it").

Commands are registered in syndicator/cli/registry.py (`@command`), one module per kind. Heavy libraries are
imported inside the commands that use them, so `syndicator --help` and tab completion stay instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from syndicator.cli.parser import build_parser
from syndicator.cli.registry import COMMANDS, Command, command, group

__all__ = ["COMMANDS", "Command", "build_parser", "command", "group", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    _complete(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, a usage error (argparse printed it): its code, not an exception
        return exc.code if isinstance(exc.code, int) else 2
    from syndicator.cli.run import run  # after parsing: --help and a usage error need none of what it imports

    return run(args)


def _complete(parser: argparse.ArgumentParser) -> None:
    """Answer a shell's tab-completion request (only when the shell asked: $_ARGCOMPLETE is set)."""
    import os

    if "_ARGCOMPLETE" not in os.environ:
        return
    try:
        import argcomplete
    except ImportError:  # pragma: no cover - a dependency; without it completion is simply off
        return
    completer: Any = argcomplete.autocomplete
    completer(parser)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
