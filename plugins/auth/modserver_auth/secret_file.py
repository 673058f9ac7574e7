"""The cookie signing secret: persisted with mode 0600, rotated when credentials change.

The file records a fingerprint of the configured credentials (owner password hash,
configured token, every user's hashes). When they differ at startup, a new secret is
made, so every login cookie issued under the old password stops working.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path

from modserver import atomic

SECRET_FILE_NAME = "auth-cookie-secret.json"


def credentials_fingerprint(parts: list[str]) -> str:
    """A digest of the configured credentials (hashes and configured tokens)."""
    digest = hashlib.sha256()
    for part in sorted(parts):
        digest.update(hashlib.sha256(part.encode()).digest())
    return digest.hexdigest()


def load_or_rotate(path: Path, fingerprint: str) -> bytes:
    """The secret stored at ``path`` for these credentials, or a new one (blocking I/O)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("credentials") == fingerprint and len(data.get("secret", "")) >= 64:
            return bytes.fromhex(data["secret"])
    except (OSError, ValueError, AttributeError):
        pass  # missing, unreadable or corrupt: make a new one
    secret = secrets.token_bytes(32)
    _write_private(path, json.dumps({"secret": secret.hex(), "credentials": fingerprint}))
    return secret


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # 0600 from the start (atomic's temporary file is): never readable by others.
    atomic.write_text(path, text, mode=0o600)
