"""The argument parser, built from the registered commands (registry.py)."""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from syndicator.cli.registry import COMMANDS, GROUPS, MODULES, Command


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("syndicator")
    except PackageNotFoundError:  # run from a source tree that was never installed
        from syndicator import __version__

        return __version__


class _Version(argparse.Action):
    """argparse's "version" action, looking the version up only when asked (importlib.metadata is a third of
    what `--help` would import otherwise)."""

    def __init__(self, option_strings: list[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        import sys

        parser._print_message(f"syndicator {version()}\n", sys.stdout)
        parser.exit()


def _common(suppress: bool) -> argparse.ArgumentParser:
    # Global options work before or after the command; on the command's parser they must not reset what was
    # given before it, hence SUPPRESS there.
    default: Any = argparse.SUPPRESS if suppress else None
    flag: Any = argparse.SUPPRESS if suppress else False
    common = argparse.ArgumentParser(add_help=False)
    options = common.add_argument_group("global options")
    options.add_argument(
        "--config",
        metavar="FILE",
        default=default,
        help="configuration file (default: $SYNDICATOR_CONFIG, config/syndicator.toml, else the embedded defaults)",
    )
    options.add_argument(
        "--log-format",
        choices=("auto", "json", "text"),
        default=default,
        help="log lines on stderr (default: text on a terminal, JSON lines elsewhere)",
    )
    options.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default=default)
    options.add_argument(
        "--dry-run", action="store_true", default=flag, help="render and record, send nothing (all targets)"
    )
    options.add_argument("--json", action="store_true", default=flag, help="one JSON document on stdout")
    return common


def _platform_list() -> str:
    """What the registered platforms post to, by their spec's `title`: 'A, B, C and D'."""
    titles = _spec_titles()
    if titles is None:  # a spec not written as literals: ask the registry (imports every platform's renderer)
        from syndicator.platforms import registry

        titles = [spec.title for spec in registry.specs()]
    return ", ".join(titles[:-1]) + " and " + titles[-1] if len(titles) > 1 else "".join(titles)


def _spec_titles() -> list[str] | None:
    """The platforms' titles in the registry's order (order, then name), read from each package's
    `SPEC = PlatformSpec(name=..., title=..., order=...)` without importing it: importing the specs means
    importing every renderer and its tables (one renderer's emoji list alone is most of `--help`'s time). None when a
    package's spec is not written that way."""
    import ast
    from importlib.util import find_spec
    from pathlib import Path

    found = find_spec("syndicator.platforms")
    if found is None or not found.submodule_search_locations:
        return None
    entries: list[tuple[int, str, str]] = []
    for root in found.submodule_search_locations:
        for init in sorted(Path(root).glob("*/__init__.py")):
            try:
                tree = ast.parse(init.read_text(encoding="utf-8"))
            except (OSError, SyntaxError, ValueError):
                return None
            call = next(
                (
                    node.value
                    for node in tree.body
                    if isinstance(node, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "SPEC" for t in node.targets)
                    and isinstance(node.value, ast.Call)
                ),
                None,
            )
            if call is None:
                if "SPEC" in init.read_text(encoding="utf-8"):
                    return None  # a SPEC made some other way
                continue  # not a platform package
            fields = {k.arg: k.value for k in call.keywords if k.arg in ("name", "title", "order")}
            try:
                name = ast.literal_eval(fields["name"])
                title = ast.literal_eval(fields["title"])
                order = ast.literal_eval(fields["order"]) if "order" in fields else 100
            except (KeyError, ValueError):
                return None
            if not (isinstance(name, str) and isinstance(title, str) and isinstance(order, int)):
                return None
            entries.append((order, name, title))
    return [title for _, _, title in sorted(entries)] or None


def load_commands() -> dict[str, Command]:
    for module in MODULES:
        importlib.import_module(module)
    return COMMANDS


def build_parser() -> argparse.ArgumentParser:
    commands = load_commands()
    top, common = _common(False), _common(True)
    parser = argparse.ArgumentParser(
        prog="syndicator",
        description=f"Posts a publisher's new articles to {_platform_list()} — once each.",
        epilog="Run `syndicator COMMAND --help` for a command's options and examples.",
        parents=[top],
    )
    parser.add_argument("--version", action=_Version, help="show program's version number and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    groups: dict[str, Any] = {}
    for cmd in commands.values():
        head, _, rest = cmd.name.partition(" ")
        where = sub
        if rest:
            if head not in groups:
                g = sub.add_parser(head, help=GROUPS.get(head, ""), description=GROUPS.get(head, ""))
                groups[head] = g.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
            where = groups[head]
        p = where.add_parser(
            rest or head,
            parents=[common],
            help=cmd.summary,
            description=cmd.description,
            epilog=_examples(cmd),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(command_name=cmd.name)
        if cmd.configure is not None:
            cmd.configure(p)
    return parser


def _examples(cmd: Command) -> str | None:
    if not cmd.examples:
        return None
    return "examples:\n" + "\n".join(f"  {line}" for line in cmd.examples)


def positive(text: str) -> int:
    """An argparse type: a whole number ≥ 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value
