"""Store URLs: what the store can open, checked when the configuration loads (so `check` and the worker's start
say it in one line, never a driver's traceback), and relative SQLite paths made absolute."""

from __future__ import annotations

import re
from pathlib import Path

STORE_EXAMPLES = "sqlite:///syndicator.db or postgresql://user@host/dbname"


def check_store_url(url: str) -> None:
    """A URL the store can open, or a ValueError with the cause and what to do (never the driver's traceback):
    not a URL at all, a database other than SQLite or PostgreSQL, a driver that is not installed, an SQLite file
    in a directory that does not exist. Whether the server answers is `check`'s and the worker's business."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    shown_url = re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)  # never a password
    try:
        parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    except ArgumentError:
        raise ValueError(f"{shown_url!r} is not a database URL; use e.g. {STORE_EXAMPLES}") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"{backend} is not supported: the store is SQLite or PostgreSQL ({STORE_EXAMPLES})")
    if backend == "postgresql" and parsed.get_driver_name() in ("psycopg2", "default"):
        parsed = parsed.set(drivername="postgresql+psycopg")  # what the store connects with (store/engine.py)
    try:
        parsed.get_dialect().import_dbapi()
    except NoSuchModuleError:
        raise ValueError(f"unknown database driver {parsed.drivername!r}; use e.g. {STORE_EXAMPLES}") from None
    except ImportError as exc:
        module = exc.name or parsed.get_driver_name()
        raise ValueError(
            f"the {module} driver for {parsed.drivername} is not installed (pip install {module})"
        ) from None
    database = parsed.database or ""
    if backend == "sqlite" and database and database != ":memory:" and not database.startswith("file:"):
        folder = Path(database).parent
        if not folder.is_dir():
            raise ValueError(
                f"the SQLite database's directory {folder} does not exist: create it (mkdir -p {folder}) "
                "or point the URL elsewhere"
            )


def resolve_sqlite(url: str, base: Path) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
        rel = url[len(prefix) :]
        # a `file:` URI (`sqlite:///file:/path/db?mode=ro&uri=true`) names its own path
        if rel and not rel.startswith("file:") and not Path(rel).is_absolute():
            # the database lives where the command runs, not inside the package or the config dir
            return prefix + str(Path.cwd() / rel)
    return url
