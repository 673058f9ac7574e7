"""Cells run by the server: outputs reach the shared document with or without a browser.

``POST /api/kernels/{id}/execute`` (the collaboration frontend's server-side execution)
runs a real ipykernel; a pycrdt client stands for the browser.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import RunningServer
from tests.gate import Gate
from tests.yjs.conftest import EDITOR_TOKEN, start_yjs_server, write_notebook
from tests.yjs.test_collaboration import wait_until
from tests.yjs.yclient import YClient, put_session


@pytest.fixture(scope="module")
def kernel_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("yjs-exec") / "root"
    root.mkdir()
    server = start_yjs_server(root, plugins="yjs,kernels")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def kernel_id(kernel_server: RunningServer) -> str:
    with kernel_server.client() as client:
        started = client.post("api/kernels", json={"name": "python3"})
    assert started.status_code == 201, started.text
    kid: str = started.json()["id"]
    return kid


def document_id(server: RunningServer, path: str) -> str:
    model = put_session(server, path).json()
    return f"{model['format']}:{model['type']}:{model['fileId']}"


def execute(
    server: RunningServer, kernel: str, document: str, cell_id: str, token: str | None = None
) -> httpx.Response:
    with server.client(token=token) as client:
        return client.post(
            f"api/kernels/{kernel}/execute",
            json={"document_id": document, "cell_id": cell_id},
            timeout=60,
        )


def outputs(client: YClient, index: int = 0) -> list[dict[str, Any]]:
    cell = client.model.get()["cells"][index]
    return [dict(o) for o in cell["outputs"]]


def outputs_on_disk(path: Path, index: int = 0) -> list[dict[str, Any]]:
    try:
        cells = json.loads(path.read_text())["cells"]
    except (OSError, json.JSONDecodeError):
        return []
    result: list[dict[str, Any]] = cells[index]["outputs"]
    return result


def stream_text(outputs: list[dict[str, Any]]) -> str:
    return "".join(
        "".join(o["text"]) if isinstance(o["text"], list) else o["text"]
        for o in outputs
        if o.get("output_type") == "stream"
    )


def test_a_cell_run_by_the_server_shows_its_outputs_to_clients_and_in_the_file(
    kernel_server: RunningServer, kernel_id: str
):
    path = kernel_server.root_dir / "run.ipynb"
    write_notebook(path, "print('hello')\n6 * 7")
    document = document_id(kernel_server, "run.ipynb")
    watcher = YClient.open(kernel_server, "run.ipynb")
    try:
        watcher.pump_until(lambda: watcher.synced and watcher.model.cell_number == 1)
        reply = execute(kernel_server, kernel_id, document, "cell-0")
        assert reply.status_code == 200 and reply.json() == {"status": "ok"}
        watcher.pump_until(lambda: len(outputs(watcher)) == 2)
        stream, result = outputs(watcher)
        assert stream["name"] == "stdout" and stream["text"] == "hello\n"
        assert result["output_type"] == "execute_result"
        assert result["data"]["text/plain"] == "42"
        cell = watcher.model.get()["cells"][0]
        assert isinstance(cell["execution_count"], int) and cell["execution_count"] >= 1
        wait_until(lambda: len(outputs_on_disk(path)) == 2)
        assert stream_text(outputs_on_disk(path)) == "hello\n"
    finally:
        watcher.close()


def test_closing_the_browser_mid_run_loses_no_output(
    kernel_server: RunningServer, kernel_id: str, tmp_path: Path
):
    path = kernel_server.root_dir / "long.ipynb"
    gate = Gate(tmp_path)
    # Ticks 0 and 1, then the rest only once the page is closed.
    code = "for i in range(6):\n    print(f'tick {i}', flush=True)\n    if i == 1:\n" + gate.wait(
        indent="        "
    )
    write_notebook(path, code)
    document = document_id(kernel_server, "long.ipynb")
    browser = YClient.open(kernel_server, "long.ipynb")
    browser.pump_until(lambda: browser.synced and browser.model.cell_number == 1)
    replies: list[httpx.Response] = []
    run = threading.Thread(
        target=lambda: replies.append(execute(kernel_server, kernel_id, document, "cell-0"))
    )
    run.start()
    try:
        browser.pump_until(lambda: "tick 1" in stream_text(outputs(browser)))
    finally:
        browser.close()  # the page is closed while the cell still prints
    gate.open()
    run.join(60)
    assert replies and replies[0].json() == {"status": "ok"}
    expected = "".join(f"tick {i}\n" for i in range(6))
    wait_until(lambda: stream_text(outputs_on_disk(path)) == expected)
    # A browser that comes back sees the whole output, and an idle cell.
    again = YClient.open(kernel_server, "long.ipynb")
    try:
        again.pump_until(lambda: again.synced and stream_text(outputs(again)) == expected)
        assert again.model.ycells[0]["execution_state"] == "idle"
    finally:
        again.close()


def test_display_updates_and_clear_output_are_applied_to_the_cell(
    kernel_server: RunningServer, kernel_id: str
):
    path = kernel_server.root_dir / "display.ipynb"
    write_notebook(
        path,
        "from IPython.display import display\nh = display('first', display_id=True)\nh.update('second')",
        "from IPython.display import clear_output\nprint('gone')\nclear_output(wait=True)\nprint('kept')",
    )
    document = document_id(kernel_server, "display.ipynb")
    watcher = YClient.open(kernel_server, "display.ipynb")
    try:
        watcher.pump_until(lambda: watcher.synced and watcher.model.cell_number == 2)
        assert execute(kernel_server, kernel_id, document, "cell-0").json() == {"status": "ok"}
        assert execute(kernel_server, kernel_id, document, "cell-1").json() == {"status": "ok"}
        watcher.pump_until(
            lambda: (
                [o.get("data", {}).get("text/plain") for o in outputs(watcher, 0)] == ["'second'"]
                and stream_text(outputs(watcher, 1)) == "kept\n"
            )
        )
        assert len(outputs(watcher, 1)) == 1
    finally:
        watcher.close()


def test_a_cell_runs_with_no_client_in_the_room(kernel_server: RunningServer, kernel_id: str):
    path = kernel_server.root_dir / "headless.ipynb"
    write_notebook(path, "print('no browser')")
    document = document_id(kernel_server, "headless.ipynb")
    assert execute(kernel_server, kernel_id, document, "cell-0").json() == {"status": "ok"}
    wait_until(lambda: stream_text(outputs_on_disk(path)) == "no browser\n")


def test_an_error_is_an_output_and_the_reply_status(kernel_server: RunningServer, kernel_id: str):
    path = kernel_server.root_dir / "error.ipynb"
    write_notebook(path, "1 / 0")
    document = document_id(kernel_server, "error.ipynb")
    assert execute(kernel_server, kernel_id, document, "cell-0").json() == {"status": "error"}
    wait_until(lambda: [o["output_type"] for o in outputs_on_disk(path)] == ["error"])
    assert outputs_on_disk(path)[0]["ename"] == "ZeroDivisionError"


def test_running_a_cell_needs_the_owner_an_existing_cell_and_a_good_body(
    kernel_server: RunningServer, kernel_id: str
):
    write_notebook(kernel_server.root_dir / "refused.ipynb", "print(1)")
    document = document_id(kernel_server, "refused.ipynb")
    assert (
        execute(kernel_server, kernel_id, document, "cell-0", token=EDITOR_TOKEN).status_code == 403
    )
    missing = execute(kernel_server, kernel_id, document, "no-such-cell")
    assert missing.status_code == 404
    assert missing.json()["message"] == f"No code cell 'no-such-cell' in {document}"
    assert execute(kernel_server, "no-such-kernel", document, "cell-0").status_code == 404
    with kernel_server.client() as client:
        bad = client.post(f"api/kernels/{kernel_id}/execute", json={"cell_id": 1})
    assert bad.status_code == 400
    assert bad.json()["message"] == "document_id and cell_id must be strings"
