"""Passwords: argon2id hashes (argon2-cffi), generated passwords, the minimum length.

A plain password lives only in the call that hashes or checks it: never stored, never
logged, never in an audit row.
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
_hasher = PasswordHasher()  # argon2id, the library's defaults (RFC 9106 low-memory profile)
# checked when the user does not exist, so a wrong name takes as long as a wrong password
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class WeakPassword(ValueError):
    """The password is too short; the message says how long it must be."""


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters, got {len(password)}")
    if password.strip() != password:
        raise WeakPassword("a password may not start or end with a space")


def hash_password(password: str) -> str:
    """The argon2id hash to store (it carries its own salt and parameters)."""
    check_strength(password)
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; a missing hash still costs one verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


def generate_password() -> str:
    """A fresh random password: 16 URL-safe characters (96 bits)."""
    return secrets.token_urlsafe(12)


def hash_password_unchecked(password: str) -> str:
    """A new hash of a password already accepted once (rehashing at sign-in)."""
    return _hasher.hash(password)
