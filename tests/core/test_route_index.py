"""The app finds a request's route by its first path segment, with Starlette's order kept."""

from __future__ import annotations

import warnings

from modserver.routing import RouteIndex, group_by_path, route
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount

with warnings.catch_warnings():
    # Starlette would rather its TestClient ran on httpx2; httpx serves it as well here.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


def _answer(text: str):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> Response:
        return PlainTextResponse(f"{text} {dict(request.path_params)}")

    endpoint.__name__ = text
    return endpoint


def _client(*, mounted_at: str = "") -> TestClient:
    routes = group_by_path(
        [
            route("/", _answer("root"), public=True),
            route("/api/status", _answer("status"), public=True),
            route("/api/items/{item}", _answer("item"), public=True),
            route("/files/{path:path}", _answer("files"), public=True),
            route("/{page}", _answer("page"), public=True),  # any first segment
            route("/api/{rest:path}", _answer("late-api"), public=True),
        ]
    )
    index = [RouteIndex(routes)]
    app = Starlette(routes=[Mount(mounted_at, routes=index)] if mounted_at else index)
    return TestClient(app, base_url="http://127.0.0.1")


def test_each_path_reaches_the_first_route_that_matches_it_in_order():
    client = _client()
    assert client.get("/").text == "root {}"
    assert client.get("/api/status").text == "status {}"
    assert client.get("/api/items/7").text == "item {'item': '7'}"
    assert client.get("/files/a/b.txt").text == "files {'path': 'a/b.txt'}"
    # A route whose first segment is a parameter serves any segment no literal route took,
    # and keeps its place before later routes of a literal segment.
    assert client.get("/lab").text == "page {'page': 'lab'}"
    assert client.get("/api").text == "page {'page': 'api'}"
    assert client.get("/api/other/x").text == "late-api {'rest': 'other/x'}"


def test_unknown_paths_are_404_and_a_trailing_slash_is_redirected():
    client = _client()
    assert client.get("/nothing/here").status_code == 404
    response = client.get("/lab/", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "http://127.0.0.1/lab"


def test_under_a_base_url_the_segment_after_it_picks_the_route():
    client = _client(mounted_at="/base")
    assert client.get("/base/api/status").text == "status {}"
    assert client.get("/base/files/x").text == "files {'path': 'x'}"
    assert client.get("/base/lab").text == "page {'page': 'lab'}"
    assert client.get("/api/status").status_code == 404
