"""permessage-deflate is off unless ``websocket_compression`` names the route family.

A real ``modserver run`` and the ``websockets`` client, which offers permessage-deflate
on every connection as browsers do; the handshake's answer says what was negotiated.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from websockets.sync.client import ClientConnection, connect

from tests.conftest import RunningServer
from tests.kernels.conftest import install_tiny_kernelspec


def open_socket(server: RunningServer, path: str) -> ClientConnection:
    """A WebSocket offering permessage-deflate (the client's default), authenticated."""
    return connect(
        server.ws_url(path),
        additional_headers={"Authorization": f"token {server.token}"},
        compression="deflate",
        open_timeout=30,
    )


def negotiated_extensions(server: RunningServer, path: str) -> str | None:
    with open_socket(server, path) as ws:
        assert ws.response is not None
        offered = ws.request.headers.get("Sec-WebSocket-Extensions") if ws.request else None
        assert offered and "permessage-deflate" in offered
        return ws.response.headers.get("Sec-WebSocket-Extensions")


def kernel_channels(server: RunningServer) -> str:
    with server.client() as client:
        response = client.post("api/kernels", json={"name": "tiny"})
    assert response.status_code == 201, response.text
    return f"api/kernels/{response.json()['id']}/channels"


def test_a_client_offering_deflate_gets_no_compression_by_default(
    server_factory: Callable[..., RunningServer], tmp_path: Path
):
    server = server_factory(plugins="events,kernels", env=install_tiny_kernelspec(tmp_path / "d"))
    assert negotiated_extensions(server, kernel_channels(server)) is None
    assert negotiated_extensions(server, "api/events/subscribe") is None


def test_a_route_family_listed_in_websocket_compression_negotiates_deflate(
    server_factory: Callable[..., RunningServer], tmp_path: Path
):
    server = server_factory(
        "--base-url",
        "/jupyter/",
        "--set",
        "websocket_compression=api/events",
        plugins="events,kernels",
        env=install_tiny_kernelspec(tmp_path / "d"),
    )
    extensions = negotiated_extensions(server, "api/events/subscribe")
    assert extensions is not None and extensions.startswith("permessage-deflate")
    # Another family stays uncompressed.
    assert negotiated_extensions(server, kernel_channels(server)) is None
