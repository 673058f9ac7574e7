"""A subscriber that stops reading is dropped (close 1008); emitters and others go on."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from websockets.sync.client import connect

from tests.conftest import RunningServer, start_server
from tests.events.stalled_subscriber import StalledSubscriber

CONTENTS = "https://events.jupyter.org/jupyter_server/contents_service/v1"
EVENTS = 300
BIG = 50_000  # bytes of path per event: the stalled socket's buffers fill quickly


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("slow-events") / "root"
    root.mkdir()
    running = start_server(root, "--set", "events.subscriber_queue=4", plugins="events")
    yield running
    running.stop()


def test_a_stalled_subscriber_is_dropped_while_a_reading_one_gets_every_event(
    server: RunningServer,
):
    stalled = StalledSubscriber(server)
    received: list[str] = []
    with connect(
        server.ws_url("api/events/subscribe"),
        additional_headers={"Authorization": f"token {server.token}"},
        max_queue=None,  # this one reads everything, as fast as it comes
        open_timeout=30,
    ) as healthy:

        def read_all() -> None:
            while len(received) < EVENTS:
                received.append(json.loads(healthy.recv(timeout=60))["path"])

        reader = threading.Thread(target=read_all)
        reader.start()
        try:
            with server.client() as client:
                for number in range(EVENTS):
                    data = {"action": "get", "path": f"{number}:" + "x" * BIG}
                    body = {"schema_id": CONTENTS, "version": "1", "data": data}
                    # Every POST is answered: the emitter never waits on the stalled socket.
                    assert client.post("api/events", json=body).status_code == 204
            reader.join(120)
            assert [p.split(":", 1)[0] for p in received] == [str(n) for n in range(EVENTS)]
            texts, code = stalled.frames_until_close()
            assert code == 1008
            assert texts < EVENTS
        finally:
            stalled.close()
