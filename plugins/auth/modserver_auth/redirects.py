"""Where ``/login?next=...`` may send a browser: only to a path under base_url.

jupyter_server had several open-redirect flaws here (``//evil``, ``/\\evil``, encoded and
whitespace variants), so we accept a small, plain shape and fall back to base_url.
"""

from __future__ import annotations

import posixpath
from urllib.parse import unquote, urlsplit


def safe_next(next_url: str | None, prefix: str) -> str:
    """``next_url`` if it is a same-site path under ``prefix`` (e.g. ``/jupyter/``), else prefix."""
    if not next_url or not _plain_path(next_url, allow_space=False):
        return prefix
    # Browsers and proxies may decode once more; the decoded form must be plain too
    # (a decoded space is fine: "a%20b.ipynb" is a real file name).
    if not _plain_path(unquote(next_url), allow_space=True):
        return prefix
    path = unquote(urlsplit(next_url).path)
    # Dot segments and empty segments have no use in a real next page; refuse them rather
    # than guess how a browser or proxy would resolve them.
    if "//" in path or (posixpath.normpath(path) != path.rstrip("/") and path != "/"):
        return prefix
    if not (path + "/").startswith(prefix) and path != prefix.rstrip("/"):
        return prefix
    return next_url


def _plain_path(url: str, *, allow_space: bool) -> bool:
    if not url.startswith("/") or url.startswith("//"):
        return False
    # Backslashes read as slashes in browsers; control characters are stripped by them,
    # turning "/\t/evil" into "//evil".
    lowest = 0x20 if allow_space else 0x21
    if "\\" in url or any(ord(ch) < lowest or ord(ch) == 0x7F for ch in url):
        return False
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc
