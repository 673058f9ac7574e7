"""Host and Origin rules: which Host headers are local, which origins may call us.

Used by ``middleware``. A DNS-rebinding page reaches us with its own host name in the
Host header; a foreign page's requests carry its Origin. Both are refused unless allowed.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from modserver_auth.settings import AuthSettings

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (the server's own ``host`` setting)."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def split_host(header: str) -> tuple[str, int | None]:
    """``("example.com", 8888)`` from a Host header; the port is None when absent."""
    header = header.strip().lower()
    if header.startswith("["):
        name, _, rest = header[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        name, _, port = header.partition(":")
    return name, int(port) if port.isdigit() else None


@dataclass(frozen=True)
class OriginPolicy:
    """The host and origin settings, compiled once."""

    allow_remote_access: bool
    local_hostnames: frozenset[str]
    allow_origin: str
    allow_origin_pat: re.Pattern[str] | None
    allow_credentials: bool

    @classmethod
    def from_settings(cls, settings: AuthSettings, server_host: str) -> OriginPolicy:
        """Policy from ``[auth]``; remote access defaults to on only off loopback."""
        remote = settings.allow_remote_access
        if remote is None:
            remote = not is_loopback_host(server_host)
        return cls(
            allow_remote_access=remote,
            local_hostnames=frozenset(h.lower() for h in settings.local_hostnames),
            allow_origin=settings.allow_origin,
            allow_origin_pat=re.compile(settings.allow_origin_pat)
            if settings.allow_origin_pat
            else None,
            allow_credentials=settings.allow_credentials,
        )

    def host_allowed(self, host_header: str | None) -> bool:
        """True when the Host header names this machine (or remote access is on)."""
        if self.allow_remote_access or not host_header:
            return True
        name, _ = split_host(host_header)
        return is_loopback_host(name) or name in self.local_hostnames

    def origin_allowed(self, origin: str) -> bool:
        """True when ``origin`` may make cross-origin requests (CORS settings)."""
        if self.allow_origin == "*":
            return True
        if self.allow_origin and origin == self.allow_origin:
            return True
        return bool(self.allow_origin_pat and self.allow_origin_pat.fullmatch(origin))


def same_origin(origin: str, host_header: str | None) -> bool:
    """True when ``origin`` is the site the request was sent to (Host header)."""
    if not host_header:
        return False
    try:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False
        origin_port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:
        # "host:99999", "host:8888.evil.example", "[::1": not an origin, so not ours.
        return False
    name, port = split_host(host_header)
    # Behind a TLS-terminating proxy the scheme we see may differ from the browser's, so
    # a Host without port means the default port of the Origin's own scheme.
    host_port = port if port is not None else _DEFAULT_PORTS[parts.scheme]
    return parts.hostname.lower() == name.strip("[]") and origin_port == host_port
