"""Tokens: where the owner's token comes from, and how any token is checked.

The owner's token is the setting ``auth.token``, else env ``MODSERVER_TOKEN``, else the
file ``auth.token_file``, else random per start (none when ``auth.password_hash`` is set).
Users of the users table have a ``token_hash``; only hashes are ever stored.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from modserver_auth.settings import AuthSettings

TOKEN_ENV = "MODSERVER_TOKEN"


class TokenSetupError(Exception):
    """The configured token cannot be used; the message names the setting."""


@dataclass(frozen=True)
class OwnerToken:
    """The owner's token for this start; ``configured`` is False for a random one."""

    value: str | None
    configured: bool


def owner_token(settings: AuthSettings, environ: Mapping[str, str] | None = None) -> OwnerToken:
    """The owner's token for this start (value None: only the password logs the owner in).

    Reads ``auth.token_file`` synchronously: call it once at startup, off the event loop.
    """
    env = os.environ if environ is None else environ
    if settings.token is not None:
        return OwnerToken(settings.token.get_secret_value().strip(), True)
    if env.get(TOKEN_ENV, "").strip():
        return OwnerToken(env[TOKEN_ENV].strip(), True)
    if settings.token_file is not None:
        return OwnerToken(_read_token_file(settings.token_file), True)
    if settings.password_hash is not None:
        return OwnerToken(None, False)
    return OwnerToken(new_token(), False)


def _read_token_file(path: Path) -> str:
    try:
        text = path.expanduser().read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise TokenSetupError(f"auth.token_file {path}: cannot read it ({exc.strerror})") from None
    if not text:
        raise TokenSetupError(f"auth.token_file {path} is empty")
    return text


def new_token() -> str:
    """A fresh random token (192 bits, hex)."""
    return secrets.token_hex(24)


def hash_token(token: str) -> str:
    """The ``token_hash`` stored in the users table for ``token``."""
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    """Compare two secrets in constant time."""
    return hmac.compare_digest(given.encode(), expected.encode())


def token_matches_hash(given: str, token_hash: str) -> bool:
    """True when ``given`` is the token whose hash is ``token_hash`` (constant time)."""
    return same_secret(hash_token(given), token_hash)
