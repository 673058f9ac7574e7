"""Serving the frontends' files: safe lookup, cache headers, conditional GET, gzip.

Webpack names most bundles after a hash of their content (``1014.073326ef5d98db5e.js``):
a new version is a new name, so those are cached for a year, ``immutable``. Everything
else (``remoteEntry`` without a hash, ``package.json``, theme CSS) must be revalidated:
``no-cache`` with an ``ETag`` and ``Last-Modified``, answered 304 when unchanged.

Text assets (JS, CSS, JSON, SVG, ...) are sent gzip-compressed to clients that accept it:
a ``.gz`` file shipped next to the asset if there is one, else compressed once in a worker
thread and kept in a bounded per-app cache (``GzipCache``).
"""

from __future__ import annotations

import gzip
import mimetypes
import os
import re
import stat
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

import anyio
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

#: A content hash as webpack writes it: 12+ hex digits between separators, before the suffix.
HASHED_NAME = re.compile(r"(?:^|[.\-_])[0-9a-f]{12,}\.[A-Za-z0-9]+$")

COMPRESSIBLE = frozenset(
    {".js", ".mjs", ".css", ".json", ".map", ".svg", ".html", ".txt", ".ttf", ".eot", ".wasm"}
)
#: Below this size gzip saves too little to be worth a header and a cache entry.
MIN_COMPRESS_SIZE = 1024
OCTET_STREAM = "application/octet-stream"

#: Types the frontends need that some systems' tables lack or get wrong: looked up first,
#: rather than added to ``mimetypes``' process-wide tables (which other plugins use too).
FRONTEND_TYPES = {".mjs": "text/javascript", ".wasm": "application/wasm", ".woff2": "font/woff2"}


def media_type(name: str) -> str:
    """The Content-Type of the asset file ``name``."""
    suffix = os.path.splitext(name)[1].lower()
    return FRONTEND_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or OCTET_STREAM


def load_media_types() -> None:
    """Read the system's media-type tables now (a warm-up, after the server listens).

    ``mimetypes`` reads them on first use (~2.5 ms of file reads): without this, the first
    asset served would pay it on the event loop.
    """
    mimetypes.guess_type("index.js")


def is_hashed(name: str) -> bool:
    """True for a file name carrying its content hash (safe to cache forever)."""
    return HASHED_NAME.search(name) is not None


def resolve_asset(roots: Sequence[Path], relative: str) -> Path | None:
    """The file ``relative`` names under the first root that has it, or None.

    Refuses any path that could leave a root: ``..``, empty or hidden segments, backslashes.
    Symlinks inside a root are followed (``jupyter labextension develop`` links folders).
    """
    parts = relative.split("/")
    if not relative or any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        return None
    if "\\" in relative or "\x00" in relative:
        return None
    for root in roots:
        candidate = root.joinpath(*parts)
        try:
            if stat.S_ISREG(candidate.stat().st_mode):
                return candidate
        except OSError:
            continue
    return None


@dataclass(frozen=True)
class _Compressed:
    size: int
    mtime: float
    body: bytes


class GzipCache:
    """Gzip-compressed copies of assets, bounded in bytes, least recently used out first."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Path, _Compressed] = OrderedDict()
        self._bytes = 0
        self._lock = anyio.Lock()

    async def get(self, path: Path, stat_result: os.stat_result) -> bytes:
        """The gzip body of ``path`` as it is now (compressed again if the file changed)."""
        entry = self._entries.get(path)
        if entry and entry.size == stat_result.st_size and entry.mtime == stat_result.st_mtime:
            self._entries.move_to_end(path)
            return entry.body
        # One compression at a time: many first visitors of a fresh server ask for the
        # same large bundles at once, and compressing each of them twice is wasted CPU.
        async with self._lock:
            entry = self._entries.get(path)
            if entry and entry.size == stat_result.st_size and entry.mtime == stat_result.st_mtime:
                return entry.body
            body = await anyio.to_thread.run_sync(_compress_file, path)
            self._store(path, _Compressed(stat_result.st_size, stat_result.st_mtime, body))
            return body

    def _store(self, path: Path, entry: _Compressed) -> None:
        old = self._entries.pop(path, None)
        if old is not None:
            self._bytes -= len(old.body)
        if len(entry.body) > self.max_bytes:
            return
        self._entries[path] = entry
        self._bytes += len(entry.body)
        while self._bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= len(evicted.body)


def _compress_file(path: Path) -> bytes:
    # mtime=0: the same file always compresses to the same bytes.
    return gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)


class AssetFiles:
    """Files under ``roots`` (first match wins), for GET and HEAD routes."""

    def __init__(self, roots: Sequence[Path], gzip_cache: GzipCache) -> None:
        self.roots = list(roots)
        self.gzip_cache = gzip_cache

    async def respond(self, request: Request, relative: str) -> Response:
        """The response for ``relative`` (a ``/``-separated path below the roots)."""
        path = await anyio.to_thread.run_sync(resolve_asset, self.roots, relative)
        if path is None:
            return _plain(404, "Not found")
        return await self.file_response(request, path)

    async def file_response(self, request: Request, path: Path) -> Response:
        """Answer for an existing file: 304, gzip body, or the file itself."""
        try:
            stat_result = await anyio.to_thread.run_sync(path.stat)
        except OSError:
            return _plain(404, "Not found")
        headers = cache_headers(path.name, stat_result)
        if not_modified(request.headers, headers):
            return Response(status_code=304, headers=headers)
        content_type = media_type(path.name)
        if path.suffix in COMPRESSIBLE:
            headers["vary"] = "Accept-Encoding"
            if stat_result.st_size >= MIN_COMPRESS_SIZE and accepts_gzip(request.headers):
                body = await self._gzip_body(path, stat_result)
                headers["content-encoding"] = "gzip"
                if request.method == "HEAD":
                    headers["content-length"] = str(len(body))
                    return Response(status_code=200, headers=headers, media_type=content_type)
                return Response(body, headers=headers, media_type=content_type)
        return FileResponse(path, headers=headers, media_type=content_type, stat_result=stat_result)

    async def _gzip_body(self, path: Path, stat_result: os.stat_result) -> bytes:
        shipped = path.with_name(path.name + ".gz")
        try:
            shipped_stat = await anyio.to_thread.run_sync(shipped.stat)
        except OSError:
            return await self.gzip_cache.get(path, stat_result)
        if shipped_stat.st_mtime >= stat_result.st_mtime:
            return await anyio.to_thread.run_sync(shipped.read_bytes)
        return await self.gzip_cache.get(path, stat_result)


def cache_headers(name: str, stat_result: os.stat_result) -> dict[str, str]:
    """Cache-Control, ETag and Last-Modified for a file."""
    etag = f'"{int(stat_result.st_mtime_ns):x}-{stat_result.st_size:x}"'
    return {
        "cache-control": IMMUTABLE if is_hashed(name) else REVALIDATE,
        "etag": etag,
        "last-modified": formatdate(stat_result.st_mtime, usegmt=True),
    }


def not_modified(request_headers: Headers, response_headers: dict[str, str]) -> bool:
    """True when the client's copy is current (If-None-Match first, then If-Modified-Since)."""
    if_none_match = request_headers.get("if-none-match")
    if if_none_match is not None:
        etag = response_headers["etag"]
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or etag in tags
    if_modified_since = request_headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
            modified = parsedate_to_datetime(response_headers["last-modified"])
        except (TypeError, ValueError):
            return False
        return modified <= since
    return False


def accepts_gzip(headers: Headers) -> bool:
    """True if Accept-Encoding lists gzip without ``q=0``."""
    for item in headers.get("accept-encoding", "").split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _plain(status: int, message: str) -> Response:
    return JSONResponse({"message": message}, status_code=status)
