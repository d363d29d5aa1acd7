"""Desk passwords: Argon2id (argon2-cffi's defaults, RFC 9106's second recommended parameter set)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # hashing a megabyte on every login attempt is a way to burn the CPU
_hasher = PasswordHasher()
# verified when the user name is unknown, so a wrong name takes as long as a wrong password
_DUMMY = _hasher.hash("not a password of anyone")


def problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_LENGTH:
        return f"a desk password has at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a desk password has at most {MAX_LENGTH} characters"
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(stored: str | None, password: str) -> tuple[bool, str | None]:
    """(matches, a new hash when the stored one uses weaker parameters than today's)."""
    if len(password) > MAX_LENGTH:
        return False, None
    try:
        _hasher.verify(stored or _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return False, None
    if stored is None:
        return False, None
    return True, _hasher.hash(password) if _hasher.check_needs_rehash(stored) else None


__all__ = ["MAX_LENGTH", "MIN_LENGTH", "hash_password", "problem", "verify"]
