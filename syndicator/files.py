"""Reading the files a configuration names (the configuration itself, a recipients file a platform reads): only
regular files, never a pseudo-filesystem, never more than a cap, and errors that name the file and the line but
never quote what is in it.

Why so strict: a path in a configuration is read by a process that holds every platform's token. `/proc/self/
environ` stats as a regular file and is that process's environment, secrets included; a FIFO or `/dev/zero`
blocks or never ends; a symlink can point at any of them. The resolved path and the opened file are both
checked (the second closes the gap between the check and the open).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from syndicator.errors import ConfigError

# /proc and /sys files stat as regular files but are the kernel's view of a process; /dev holds devices
PSEUDO_FILESYSTEMS = ("/proc", "/sys", "/dev")
_READ_CHUNK = 64 * 1024


def read_text_file(path: str | Path, *, max_bytes: int, what: str = "file") -> str:
    """The UTF-8 text (a BOM is dropped) of the regular file at `path`, at most `max_bytes` long.

    Raises ConfigError (source = the path) saying what is wrong: missing, unreadable, a directory, a FIFO, a
    device, on a pseudo-filesystem, too large, not UTF-8 or binary (with the line number).
    """
    name = str(path)
    try:
        real = os.path.realpath(path)
    except (OSError, ValueError):  # a NUL in the path ("\u0000" is valid TOML), a loop of symlinks
        raise ConfigError(f"{what} refused: not a usable path", source=name.replace("\x00", "\\0")) from None
    pseudo = _pseudo_root(real)
    if pseudo:
        raise ConfigError(f"{what} refused: {pseudo} is a pseudo-filesystem, not a place for files", source=name)
    try:
        # stat before opening: opening a FIFO or a device can block or act
        _check_stat(os.stat(real), what, name, max_bytes)
        fd = os.open(real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise ConfigError(f"{what} not found", source=name) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the {what}: {exc.strerror or type(exc).__name__}", source=name) from None
    try:
        opened = os.fstat(fd)
        _check_stat(opened, what, name, max_bytes)
        if opened.st_dev in _pseudo_devices():
            raise ConfigError(f"{what} refused: it is on a pseudo-filesystem", source=name)
        data = _read_at_most(fd, max_bytes + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read the {what}: {exc.strerror or type(exc).__name__}", source=name) from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # the file grew, or its size lied
        raise ConfigError(f"{what} is larger than {max_bytes:,} bytes", source=name)
    return _decode(data, what, name)


def _check_stat(st: os.stat_result, what: str, name: str, max_bytes: int) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"{what} is not a regular file (it is {_kind(st.st_mode)})", source=name)
    if st.st_size > max_bytes:
        raise ConfigError(f"{what} is larger than {max_bytes:,} bytes ({st.st_size:,})", source=name)


def _kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((label for test, label in kinds if test(mode)), "not a regular file")


def _pseudo_root(real: str) -> str | None:
    for root in PSEUDO_FILESYSTEMS:
        if real == root or real.startswith(root + "/"):
            return root
    return None


def _pseudo_devices() -> set[int]:
    """The device ids of the pseudo-filesystems, so that a bind mount of /proc elsewhere is refused too. One that
    is only a directory of the root filesystem (a chroot without /dev mounted) is not a device to refuse."""
    devices = set()
    for root in PSEUDO_FILESYSTEMS:
        try:
            devices.add(os.stat(root).st_dev)
        except OSError:
            continue
    with contextlib.suppress(OSError):
        devices.discard(os.stat("/").st_dev)
    return devices


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(fd, min(_READ_CHUNK, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _decode(data: bytes, what: str, name: str) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"line {line}: the {what} is not UTF-8 text", source=name) from None
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise ConfigError(f"line {line}: the {what} contains a NUL byte (a binary file?)", source=name)
    return text
