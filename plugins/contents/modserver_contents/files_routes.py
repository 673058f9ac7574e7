"""``/files/{path}``: raw file bytes for download and for viewers (images, PDFs, HTML).

Served with a CSP sandbox so HTML or SVG from the folder cannot script the server's
origin, and as an attachment for notebooks or when ``?download`` is given. Small files
are read in the same worker-thread call that checks the path (batched with other
requests' short calls); large ones stream (starlette's ``FileResponse``: sendfile where
the server has it). Every answer carries ``ETag`` and ``Last-Modified``, so revalidation
is a 304 (``If-None-Match``, else ``If-Modified-Since``); ``Range`` requests are answered
by ``FileResponse``, which implements them (206, multipart ranges, 416, ``If-Range``).
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Callable
from email.utils import formatdate, parsedate_to_datetime
from functools import lru_cache
from http import HTTPStatus
from urllib.parse import quote

from modserver.api.contents import ContentsError
from modserver.errors import http_error, json_error
from modserver.request_headers import header
from modserver.routing import route
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute
from starlette.types import Message, Receive, Scope, Send

from modserver_contents.service import LocalContents

SMALL_FILE = 256 * 1024
SANDBOX_CSP = "frame-ancestors 'self'; sandbox allow-scripts"


@lru_cache(maxsize=4096)
def content_type(name: str) -> str:
    """The Content-Type Jupyter serves a file name with (cached: asked on every request)."""
    if name.endswith(".ipynb"):
        return "application/x-ipynb+json"
    mime, encoding = mimetypes.guess_type(name)
    if encoding == "gzip":
        return "application/gzip"
    if encoding is not None or mime is None:
        return "application/octet-stream"
    return "text/plain; charset=UTF-8" if mime == "text/plain" else mime


def entity_tag(info: os.stat_result) -> str:
    """A strong validator from the file's modification time (ns) and size: no hashing."""
    return f'"{info.st_mtime_ns:x}-{info.st_size:x}"'


def _not_modified(request: Request, info: os.stat_result, etag: str) -> bool:
    """True when the client's copy is current (If-None-Match wins over If-Modified-Since)."""
    match = header(request.scope, b"if-none-match")
    if match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in match.split(",")}
        return "*" in tags or etag in tags
    since = header(request.scope, b"if-modified-since")
    if not since:
        return False
    try:
        return int(info.st_mtime) <= parsedate_to_datetime(since).timestamp()
    except (TypeError, ValueError):
        return False


@lru_cache(maxsize=1024)
def _http_date(mtime: float) -> str:
    return formatdate(mtime, usegmt=True)


def files_routes(service: Callable[[], LocalContents]) -> list[BaseRoute]:
    """The guarded ``/files/{path}`` route over the running contents ``service()``."""

    async def files(request: Request) -> Response:
        path = request.path_params["path"]
        try:
            api_path, disk_path, info, data = await service().open_for_download(path, SMALL_FILE)
        except ContentsError as exc:
            raise http_error(exc.status, exc.message) from None
        name = api_path.rsplit("/", 1)[-1]
        etag = entity_tag(info)
        headers = {
            "Content-Type": content_type(name),
            "Content-Security-Policy": SANDBOX_CSP,
            # Browsers must not second-guess the type (an upload sniffed as HTML).
            "X-Content-Type-Options": "nosniff",
            "Last-Modified": _http_date(info.st_mtime),
            "ETag": etag,
            "Accept-Ranges": "bytes",
        }
        query = request.query_params if request.scope["query_string"] else {}
        if "v" not in query:
            headers["Cache-Control"] = "no-cache"  # revalidate; 304s keep it cheap
        if name.endswith(".ipynb") or "download" in query:
            headers["Content-Disposition"] = f"attachment; filename*=utf-8''{quote(name)}"
        if _not_modified(request, info, etag):
            return Response(status_code=304, headers=headers)
        if data is None or header(request.scope, b"range") is not None:
            return RangedFileResponse(disk_path, stat_result=info, headers=headers)
        headers["Content-Length"] = str(len(data))
        body = b"" if request.method == "HEAD" else data
        return Response(body, headers=headers)

    return [
        route("/files/{path:path}", files, methods=["GET", "HEAD"], resource="contents"),
    ]


class RangedFileResponse(FileResponse):
    """``FileResponse``, whose answers to a bad ``Range`` (400, 416) are JSON errors.

    Starlette answers them in plain text; every error of this server is
    ``{"message", "reason"}``. The status and headers (``Content-Range`` of a 416) stay.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message | None = None

        async def send_json_errors(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start" and message["status"] in (400, 416):
                start = message  # held until its body says why
                return
            if start is None:
                await send(message)
                return
            status = int(start["status"])
            said = message.get("body", b"").decode("utf-8", "replace").strip()
            error = json_error(status, f"Bad Range header: {said or HTTPStatus(status).phrase}")
            headers = MutableHeaders(raw=list(start["headers"]))
            headers["content-type"] = error.headers["content-type"]
            headers["content-length"] = str(len(error.body))
            await send({"type": "http.response.start", "status": status, "headers": headers.raw})
            await send({"type": "http.response.body", "body": error.body})
            start = None

        await super().__call__(scope, receive, send_json_errors)
