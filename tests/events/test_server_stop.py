"""An open event subscription never holds the server's stop: it is closed with 1001."""

from __future__ import annotations

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect


def test_stopping_the_server_closes_subscribers_going_away(server_factory):
    server = server_factory(plugins="events")
    with connect(
        server.ws_url("api/events/subscribe"),
        additional_headers={"Authorization": f"token {server.token}"},
        open_timeout=30,
    ) as ws:
        server.proc.terminate()
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=30)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1001
        assert closed.value.rcvd.reason == "The server is stopping"
    assert server.proc.wait(30) == 0  # a graceful stop, well within shutdown_timeout
