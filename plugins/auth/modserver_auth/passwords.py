"""Passwords: argon2 hashes only, verified off the event loop (argon2 is slow on purpose)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import anyio

if TYPE_CHECKING:
    from argon2 import PasswordHasher


@cache
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``, as stored in settings."""
    return _hasher().hash(password)


def check_password(password: str, password_hash: str) -> bool:
    """True when ``password`` matches ``password_hash`` (blocking: ~50 ms of CPU)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def check_password_async(password: str, password_hash: str) -> bool:
    """``check_password`` in a worker thread, so other requests keep flowing."""
    return await anyio.to_thread.run_sync(check_password, password, password_hash)
