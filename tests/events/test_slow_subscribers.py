"""A subscriber that stops reading is dropped (close 1008); emitters and others go on."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from websockets.sync.client import connect

from tests.conftest import RunningServer, serve_in_process
from tests.events.stalled_subscriber import StalledSubscriber

CONTENTS = "https://events.jupyter.org/jupyter_server/contents_service/v1"
BIG = 50_000  # bytes of path per event: the stalled socket's buffers fill quickly
MAX_EVENTS = 2000  # 100 MB: far beyond any socket buffers between the two


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("slow-events") / "root"
    root.mkdir()
    running = serve_in_process(root, "--set", "events.subscriber_queue=4", plugins="events")
    yield running
    running.stop()


def test_a_stalled_subscriber_is_dropped_while_a_reading_one_gets_every_event(
    server: RunningServer,
):
    stalled = StalledSubscriber(server)
    received: list[str] = []
    with (
        connect(
            server.ws_url("api/events/subscribe"),
            additional_headers={"Authorization": f"token {server.token}"},
            max_queue=None,  # this one reads everything, as fast as it comes
            open_timeout=30,
        ) as healthy,
        server.client() as client,
    ):

        def subscribers() -> int:
            return int(client.get("api/status").json()["event_subscribers"])

        posted = 0
        try:
            assert subscribers() == 2
            # Emit until the stalled subscriber is dropped (its socket buffers and queue
            # of 4 overflow); every POST is answered: emitters never wait on it.
            while subscribers() == 2 and posted < MAX_EVENTS:
                data = {"action": "get", "path": f"{posted}:" + "x" * BIG}
                body = {"schema_id": CONTENTS, "version": "1", "data": data}
                assert client.post("api/events", json=body).status_code == 204
                posted += 1
            assert subscribers() == 1
            while len(received) < posted:
                received.append(json.loads(healthy.recv(timeout=60))["path"].split(":", 1)[0])
            assert received == [str(n) for n in range(posted)]
            texts, code = stalled.frames_until_close()
            assert code == 1008
            assert texts < posted
        finally:
            stalled.close()
