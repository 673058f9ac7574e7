"""Editor → owner through a kernel is closed: files planted in the notebook folder do not
run when a kernel starts there, and a kernel never sees the server's secrets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.auth.conftest import password_hash
from tests.conftest import RunningServer, start_server
from tests.kernels.wsclient import KernelSocket

SECRET_TOKEN = "env-token-4f1d2c3b4a5968778695a4b3"
PASSWORD_HASH = password_hash("owner pw")
PLANTED = "import os, sys; open({marker!r}, 'a').write(repr((os.getpid(), sys.argv)))\n"
#: Modules a planted file could shadow while a Python kernel starts.
SHADOWED = ("ipykernel_launcher", "runpy", "ipykernel")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    base = tmp_path_factory.mktemp("escalation")
    root = base / "root"
    (root / "work").mkdir(parents=True)
    for folder in (root, root / "work"):
        for module in SHADOWED:
            marker = base / f"planted-{module}-ran"
            (folder / f"{module}.py").write_text(PLANTED.format(marker=str(marker)))
    (root / "work" / "helpers.py").write_text("ANSWER = 42\n")
    # The owner's credentials come from the environment, as a deployment may set them.
    env = {"MODSERVER_TOKEN": SECRET_TOKEN, "MODSERVER_AUTH__PASSWORD_HASH": PASSWORD_HASH}
    server = start_server(root, plugins="kernels,contents", token="", env=env)
    server.token = SECRET_TOKEN
    yield server
    server.stop()


def run_in_kernel(server: RunningServer, path: str, code: str) -> str:
    """Start a python3 kernel for ``path``, run ``code``, return its stdout."""
    client = server.client()
    kernel = client.post("api/kernels", json={"name": "python3", "path": path})
    assert kernel.status_code == 201, kernel.text
    kernel_id = kernel.json()["id"]
    try:
        socket = KernelSocket.open(server, kernel_id)
        try:
            messages = socket.run(code, timeout=120)
        finally:
            socket.close()
    finally:
        client.delete(f"api/kernels/{kernel_id}")
    errors = [m["content"] for m in messages if m["header"]["msg_type"] == "error"]
    assert not errors, errors
    return "".join(m["content"]["text"] for m in messages if m["header"]["msg_type"] == "stream")


@pytest.mark.parametrize("path", ["", "work/nb.ipynb"])
def test_planted_modules_in_the_notebook_folder_do_not_run_at_kernel_start(
    server: RunningServer, path: str
):
    cwd = run_in_kernel(server, path, "import os; print(os.getcwd())").strip()
    expected = server.root_dir / Path(path).parent
    assert Path(cwd).resolve() == expected.resolve()
    ran = sorted(p.name for p in server.root_dir.parent.glob("planted-*-ran"))
    assert ran == []


def test_user_code_still_imports_modules_next_to_the_notebook(server: RunningServer):
    out = run_in_kernel(server, "work/nb.ipynb", "import helpers; print(helpers.ANSWER)")
    assert out.strip() == "42"


def test_a_kernel_inherits_no_server_secret(server: RunningServer):
    code = "import os, json; print(json.dumps(dict(os.environ)))"
    environ = json.loads(run_in_kernel(server, "", code))
    assert [name for name in environ if name.upper().startswith("MODSERVER_")] == []
    leaked = [
        name for name, value in environ.items() if SECRET_TOKEN in value or PASSWORD_HASH in value
    ]
    assert leaked == []
    # The kernel still gets the ordinary environment.
    assert environ.get("PATH")
