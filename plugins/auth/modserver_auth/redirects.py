"""Where a redirect may send a browser: only to a path on this server.

``local_redirect`` builds every ``Location`` the auth plugin sends from a request path
(the ``?token=`` login, ``/login?next=``): its result always starts with exactly one
``/``, so it can never be read as a scheme-relative (``//evil.com/``) or absolute URL.
jupyter_server had several open-redirect flaws here (``//evil``, ``/\\evil``, encoded and
whitespace variants), so ``next`` must also have a small, plain shape under base_url.
"""

from __future__ import annotations

import posixpath
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit


def query_without_token(query: str) -> str:
    """``query`` without its ``token`` parameters (every one of them), the rest as given.

    A token never goes into a URL the server builds (a ``next``, a redirect): it would
    stay in the address bar and history, and go out in Referer headers.
    """
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(key, value) for key, value in pairs if key != "token"])


def login_url(login_page: str, path: str, query: str) -> str:
    """``login_page`` asked to come back to ``path`` (with ``query``, less any token)."""
    query = query_without_token(query)
    return login_page + "?" + urlencode({"next": path + (f"?{query}" if query else "")})


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
    return local_redirect(path, urlsplit(next_url).query, prefix)


#: Characters kept as they are in a redirect path; everything else is percent-encoded
#: (backslashes, controls, spaces, "?" and "#" that would end the path early).
_PATH_SAFE = "/!$&'()*+,;=:@-._~"


def local_redirect(path: str, query: str, prefix: str) -> str:
    """A ``Location`` for the decoded request ``path`` and raw ``query`` on this server.

    The path is percent-encoded again (the server decoded ``/%2Fevil.com/`` to
    ``//evil.com/``) and a second leading ``/`` stays encoded, so the result is always
    path-absolute on this host. Anything that would still not be falls back to ``prefix``.
    """
    encoded = quote(path, safe=_PATH_SAFE)
    if encoded.startswith("//"):
        encoded = "/%2F" + encoded[2:]
    if not encoded.startswith("/") or encoded.startswith("//"):
        return prefix
    query = query.replace("#", "%23")
    return encoded + (f"?{query}" if query else "")


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
