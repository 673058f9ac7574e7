"""``/api/contents``: the Jupyter Contents REST API over any ``Contents`` service.

Status codes, headers and error messages follow jupyter_server 2.x's handlers, which
JupyterLab and Notebook 7 rely on: POST creates (201 + Location), PUT saves (200) or
creates (201), PATCH renames (200), DELETE answers 204, checkpoints 201/204.
"""

from __future__ import annotations

import errno
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any
from urllib.parse import quote

import orjson
from modserver.api.contents import Contents, ContentsError, ContentsModel
from modserver.confined import OutsideRoot
from modserver.errors import http_error
from modserver.jsonbody import parse_body, read_body, read_json
from modserver.routing import route
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from modserver_contents.large_body import LARGE_BODY, split_content
from modserver_contents.models import http_date

Endpoint = Callable[[Request], Awaitable[Response]]
_TYPES = {"directory", "file", "notebook"}


def _contents_errors(endpoint: Endpoint) -> Endpoint:
    """Turn a ``ContentsError`` (or a refused path) into the JSON error of its status."""

    @wraps(endpoint)
    async def wrapper(request: Request) -> Response:
        try:
            return await endpoint(request)
        except ContentsError as exc:
            raise http_error(exc.status, exc.message) from None
        except OutsideRoot:
            raise http_error(403, "Permission denied: the path leads outside the root") from None
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:
                raise http_error(400, "File name too long for this file system") from None
            raise

    return wrapper


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response serialised with orjson (models can be megabytes of notebook)."""
    return Response(
        orjson.dumps(data), status_code=status, media_type="application/json", headers=headers
    )


async def json_body(request: Request) -> dict[str, Any] | None:
    """The request's JSON object, None for an empty body, 400 for anything else."""
    return _checked(await read_json(request))


async def save_body(request: Request, contents: Contents) -> dict[str, Any] | None:
    """As ``json_body``; a large file model's content is left encoded in the body
    (``LargeContent``) when ``contents`` can stream it to disk."""
    raw = await read_body(request)
    streams = getattr(contents, "accepts_large_content", None)
    if len(raw) >= LARGE_BODY and streams is not None and streams():
        split = split_content(raw)
        if split is not None and _streamable(split[0]):
            model, content = split
            model["content"] = content
            return _checked(model)
    data = parse_body(raw)
    del raw  # the parsed model is all that is needed from here
    return _checked(data)


def _streamable(model: dict[str, Any]) -> bool:
    return (
        model.get("type") == "file"
        and model.get("format") in ("text", "base64")
        and model.get("chunk") is None
    )


def _checked(data: Any) -> dict[str, Any] | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise http_error(400, "The request body must be a JSON object")
    for key in ("type", "format", "ext", "path", "copy_from"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise http_error(400, f"{key!r} must be a string, not {type(data[key]).__name__}")
    return data


def _query_flag(request: Request, name: str, default: str) -> bool:
    value = request.query_params.get(name, default)
    if value not in ("0", "1"):
        raise http_error(400, f"{name.capitalize()} {value!r} is invalid; use 0 or 1")
    return value == "1"


class ContentsRoutes:
    """The endpoints, bound to a ``Contents`` service looked up per request."""

    def __init__(self, contents: Callable[[], Contents], base_url: str) -> None:
        self._contents = contents
        self._base_url = base_url

    def location(self, path: str, *suffix: str) -> str:
        """URL of a contents path (and an optional sub-resource) for ``Location``."""
        tail = "/".join((quote(path), *suffix)) if suffix else quote(path)
        return f"{self._base_url}api/contents/{tail}"

    def _model_response(
        self, model: ContentsModel, status: int = 200, location: bool = True
    ) -> Response:
        headers = {"Last-Modified": http_date(model["last_modified"])}
        if location:
            headers["Location"] = self.location(model["path"])
        return json_response(model, status, headers)

    # -- /api/contents/{path} -----------------------------------------------------------

    async def contents(self, request: Request) -> Response:
        """Dispatch GET, POST, PUT, PATCH and DELETE on a contents path."""
        path = request.path_params.get("path", "")
        handler = {
            "GET": self._get,
            "POST": self._post,
            "PUT": self._put,
            "PATCH": self._patch,
            "DELETE": self._delete,
        }[request.method]
        return await handler(request, path)

    async def _get(self, request: Request, path: str) -> Response:
        params = request.query_params
        kind = params.get("type")
        if kind is not None and kind not in _TYPES:
            kind = "file"  # Jupyter falls back to a file for an unknown type
        fmt = params.get("format")
        if fmt is not None and fmt not in ("text", "base64"):
            raise http_error(400, f"Format {fmt!r} is invalid")
        content = _query_flag(request, "content", "1")
        want_hash = _query_flag(request, "hash", "0")
        try:
            model = await self._contents().get(
                path,
                content=content,
                type=kind,  # type: ignore[arg-type]
                format=fmt,  # type: ignore[arg-type]
                hash=want_hash,
            )
        except ContentsError as exc:
            if exc.status == 404:
                missing = f"file or directory {path.strip('/')!r} does not exist"
                raise http_error(404, missing) from None
            raise
        return self._model_response(model, location=False)

    async def _post(self, request: Request, path: str) -> Response:
        contents = self._contents()
        if await contents.file_exists(path):
            raise http_error(400, "Cannot POST to files, use PUT instead.")
        body = await json_body(request) or {}
        copy_from = body.get("copy_from")
        if copy_from:
            if not isinstance(copy_from, str):
                raise http_error(400, "copy_from must be a path")
            model = await contents.copy(copy_from, path)
        else:
            kind = body.get("type") or ""
            if kind not in _TYPES:
                kind = "file" if kind else ""
            ext = body.get("ext") or ""
            if not isinstance(ext, str):
                raise http_error(400, "ext must be a string such as '.txt'")
            model = await contents.new_untitled(path, type=kind, ext=ext)  # type: ignore[arg-type]
        return self._model_response(model, 201)

    async def _put(self, request: Request, path: str) -> Response:
        contents = self._contents()
        body = await save_body(request, contents)
        if not body:
            return self._model_response(await contents.new_untitled(path), 201)
        if body.get("copy_from"):
            raise http_error(400, "Cannot copy with PUT, only POST")
        if body.get("type") not in (None, "", *_TYPES):
            body["type"] = "file"
        if await contents.file_exists(path):
            return self._model_response(await contents.save(body, path))
        return self._model_response(await contents.create(body, path), 201)

    async def _patch(self, request: Request, path: str) -> Response:
        body = await json_body(request)
        if body is None:
            raise http_error(400, "JSON body missing")
        new_path = body.get("path", path)
        if not isinstance(new_path, str):
            raise http_error(400, "path must be a string")
        return self._model_response(await self._contents().rename(path, new_path))

    async def _delete(self, request: Request, path: str) -> Response:
        await self._contents().delete(path)
        return Response(status_code=204)

    # -- checkpoints --------------------------------------------------------------------

    async def checkpoints(self, request: Request) -> Response:
        """GET lists a file's checkpoints; POST creates one (201 + Location)."""
        path = request.path_params["path"]
        contents = self._contents()
        if request.method == "GET":
            return json_response(await contents.list_checkpoints(path))
        checkpoint = await contents.create_checkpoint(path)
        location = self.location(path.strip("/"), "checkpoints", quote(checkpoint["id"]))
        return json_response(checkpoint, 201, {"Location": location})

    async def checkpoint(self, request: Request) -> Response:
        """POST restores the file from the checkpoint; DELETE removes it (both 204)."""
        path = request.path_params["path"]
        checkpoint_id = request.path_params["checkpoint_id"]
        if not checkpoint_id.replace("-", "").replace("_", "").isalnum():
            raise http_error(404, f"Checkpoint does not exist: {path}@{checkpoint_id}")
        contents = self._contents()
        if request.method == "POST":
            await contents.restore_checkpoint(path, checkpoint_id)
        else:
            await contents.delete_checkpoint(path, checkpoint_id)
        return Response(status_code=204)

    def routes(self) -> list[BaseRoute]:
        """The guarded routes, most specific first (a path may end in ``checkpoints``)."""
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        return [
            route(
                "/api/contents/{path:path}/checkpoints/{checkpoint_id}",
                _contents_errors(self.checkpoint),
                methods=["POST", "DELETE"],
                resource="contents",
                name="contents_checkpoint",
            ),
            route(
                "/api/contents/{path:path}/checkpoints",
                _contents_errors(self.checkpoints),
                methods=["GET", "POST"],
                resource="contents",
                name="contents_checkpoints",
            ),
            route(
                "/api/contents",
                _contents_errors(self.contents),
                methods=methods,
                resource="contents",
                name="contents_root",
            ),
            route(
                "/api/contents/{path:path}",
                _contents_errors(self.contents),
                methods=methods,
                resource="contents",
                name="contents",
            ),
        ]
