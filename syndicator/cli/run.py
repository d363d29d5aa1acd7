"""Running a parsed command: configuration, logging, the store's errors, exit codes, a closed pipe."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from syndicator.cli.registry import COMMANDS

# Exit codes (README, "Using it"). 0-2 hold for every command; poll adds 3 and 4.
OK = 0
FAILED = 1  # an operational failure: a feed could not be read, the store failed, a platform call failed
USAGE = 2  # bad command line or configuration (also: a confirmation refused or impossible)
NOT_DELIVERED = 3  # poll: some deliveries failed, went to retry or have an unknown outcome
AUTH = 4  # poll: a target's authorization failed; fix it, then `syndicator check`
INTERRUPTED = 130


def run(args: argparse.Namespace) -> int:
    from syndicator.errors import ConfigError, StoreFailure, SyndicatorError
    from syndicator.redaction import error_line  # one line, redacted like the logs, capped

    try:
        return _dispatch(args)
    except BrokenPipeError:
        return _pipe_closed()
    except StoreFailure as exc:  # the cause in plain words (read-only, disk full, locked...), never the SQL
        from syndicator.logs import redactor

        _say(f"syndicator: the store failed: {redactor(str(exc))}")
        return FAILED
    except ConfigError as exc:
        _say(f"syndicator: configuration error: {error_line(str(exc))}")
        return USAGE
    except SyndicatorError as exc:
        _say(f"syndicator: {error_line(str(exc))}")
        return FAILED
    except KeyboardInterrupt:
        return INTERRUPTED
    except Exception as exc:  # a bug: one line, not a traceback
        from syndicator.logs import redactor

        _say(f"syndicator: unexpected error ({type(exc).__name__}): {redactor(str(exc))}")
        return FAILED


def _dispatch(args: argparse.Namespace) -> int:
    from syndicator import config as config_mod
    from syndicator import logs

    cmd = COMMANDS[args.command_name]
    if not cmd.config:
        return cmd.handler(args, None)  # type: ignore[arg-type]
    cfg = config_mod.load(args.config, dry_run=args.dry_run, secrets=cmd.secrets)
    # `run` has no document to print: its --json is its log lines, as JSON
    json_logs = "json" if args.json and cmd.name == "run" else None
    logs.setup(args.log_format or json_logs or cfg.log.format, args.log_level or cfg.log.level)
    from syndicator.store.faults import store_errors

    with store_errors():  # the store went away, a disk filled up...: a StoreFailure saying why
        code = cmd.handler(args, cfg)
    sys.stdout.flush()  # a closed pipe shows here, inside the handler's except, not at interpreter exit
    return code


def _say(line: str) -> None:
    with contextlib.suppress(BrokenPipeError, ValueError):
        print(line, file=sys.stderr)


def _pipe_closed() -> int:
    """`syndicator history | head -1`: the reader has what it wanted. Quiet, and no second error when Python
    flushes stdout at exit (Python's documented way: point stdout at /dev/null)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (captured in tests)
        pass
    return OK
