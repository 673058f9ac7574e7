"""``POST /api/shutdown``: the owner stops the server as SIGTERM would."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import RunningServer


def test_the_owner_shuts_the_server_down_and_it_exits_cleanly(
    server_factory: Callable[..., RunningServer],
) -> None:
    server = server_factory(plugins="config")
    with server.client() as client:
        response = client.post("api/shutdown")
    assert response.status_code == 202
    assert server.proc.wait(timeout=30) == 0, server.log()


def test_shutdown_without_credentials_is_refused_and_the_server_keeps_running(
    server_factory: Callable[..., RunningServer],
) -> None:
    server = server_factory(plugins="config")
    with server.client(token="") as client:
        assert client.post("api/shutdown").status_code == 401
        assert client.get("api").status_code == 200
    assert server.proc.poll() is None
