"""`completion SHELL`: the tab-completion script for bash, zsh or fish (argcomplete)."""

from __future__ import annotations

import argparse

from syndicator.cli.registry import command

SHELLS = ("bash", "zsh", "fish", "tcsh", "powershell")


def _options(p: argparse.ArgumentParser) -> None:
    p.add_argument("shell", choices=SHELLS, help="your shell")


@command(
    "completion",
    summary="print the shell's tab-completion script",
    description="Print the script that makes your shell complete syndicator's commands and options.",
    examples=(
        'eval "$(syndicator completion bash)"     # in ~/.bashrc',
        'eval "$(syndicator completion zsh)"      # in ~/.zshrc',
        "syndicator completion fish > ~/.config/fish/completions/syndicator.fish",
    ),
    configure=_options,
    config=False,
)
def cmd_completion(args: argparse.Namespace, cfg: object) -> int:
    from argcomplete.shell_integration import shellcode

    script = shellcode(["syndicator"], shell=args.shell)
    if args.json:
        from syndicator.cli.output import emit_json

        emit_json({"shell": args.shell, "script": script})
    else:
        print(script)
    return 0
