"""A headless client's whole notebook workflow, over the HTTP and WebSocket API only.

Create a notebook, start a session for it, run its cells over the kernel WebSocket,
save the outputs through contents, rename it (the session follows), and delete the
session (its kernel goes away). Every step is checked from the outside, as a client
such as JupyterLab or papermill-over-HTTP would see it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat

from tests.conftest import RunningServer
from tests.workflow.kernel_ws import execute, open_channels

CELLS = [
    "x = 6 * 7",
    "print('hello from the kernel')",
    "x",
    "from IPython.display import HTML\nHTML('<b>bold</b>')",
    "1 / 0",
]


def test_a_notebook_is_created_run_saved_renamed_and_closed_over_the_api(
    server_factory: Callable[..., RunningServer], root_dir: Path
) -> None:
    server = server_factory(plugins="contents,kernels,sessions")
    with server.client() as client:
        # A folder and a new untitled notebook in it.
        assert client.put("api/contents/work", json={"type": "directory"}).status_code == 201
        created = client.post("api/contents/work", json={"type": "notebook"})
        assert created.status_code == 201, created.text
        path = created.json()["path"]
        assert path.startswith("work/") and path.endswith(".ipynb")
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
        saved = client.put(
            f"api/contents/{path}", json={"type": "notebook", "format": "json", "content": notebook}
        )
        assert saved.status_code == 200, saved.text

        # A session for it, with a kernel.
        response = client.post(
            "api/sessions",
            json={
                "path": path,
                "name": Path(path).name,
                "type": "notebook",
                "kernel": {"name": "python3"},
            },
        )
        assert response.status_code == 201, response.text
        session = response.json()
        kernel_id = session["kernel"]["id"]

        # Run every cell over the kernel's WebSocket and keep the outputs.
        model = client.get(f"api/contents/{path}").json()["content"]
        with open_channels(server, kernel_id) as ws:
            for cell in model["cells"]:
                reply, outputs = execute(ws, cell["source"])
                cell["execution_count"] = reply["execution_count"]
                cell["outputs"] = outputs
        statuses = [
            cell["outputs"][-1]["output_type"] if cell["outputs"] else None
            for cell in model["cells"]
        ]
        assert statuses == [None, "stream", "execute_result", "execute_result", "error"]

        # Save the outputs through contents; read them back through the API.
        saved = client.put(
            f"api/contents/{path}", json={"type": "notebook", "format": "json", "content": model}
        )
        assert saved.status_code == 200, saved.text
        cells = client.get(f"api/contents/{path}").json()["content"]["cells"]
        assert cells[1]["outputs"][0]["text"] == "hello from the kernel\n"
        assert cells[2]["outputs"][0]["data"]["text/plain"] == "42"
        assert cells[3]["outputs"][0]["data"]["text/html"] == "<b>bold</b>"
        assert cells[4]["outputs"][0]["ename"] == "ZeroDivisionError"
        assert [c["execution_count"] for c in cells] == [1, 2, 3, 4, 5]

        # Rename the notebook: the session follows, and the kernel keeps its state.
        renamed = client.patch(f"api/contents/{path}", json={"path": "work/analysis.ipynb"})
        assert renamed.status_code == 200, renamed.text
        followed = client.get(f"api/sessions/{session['id']}").json()
        assert followed["path"] == "work/analysis.ipynb"
        assert followed["kernel"]["id"] == kernel_id
        with open_channels(server, kernel_id) as ws:
            _, outputs = execute(ws, "print(x + 1)")
        assert outputs[0]["text"] == "43\n"

        # Close: the session and its kernel are gone.
        assert client.delete(f"api/sessions/{session['id']}").status_code == 204
        assert client.get("api/sessions").json() == []
        assert kernel_id not in {k["id"] for k in client.get("api/kernels").json()}

    # The saved file is a valid notebook with the outputs, under its new name.
    on_disk = nbformat.read(root_dir / "work" / "analysis.ipynb", as_version=4)
    nbformat.validate(on_disk)
    assert on_disk.cells[2].outputs[0]["data"]["text/plain"] == "42"
    assert not (root_dir / path).exists()
