"""Third-party kernel provisioners load through jupyter_client's entry points.

The test fixture distribution tests/fixtures/recording-provisioner (installed like
modserver-hello: noxfile.py) registers ``recording-provisioner`` in the
``jupyter_client.kernel_provisioners`` group, as gateway-provisioners registers its
Docker, Kubernetes and YARN provisioners. A kernelspec naming it in
``metadata.kernel_provisioner`` starts its kernels through it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RunningServer, start_server
from tests.kernels.wsclient import KernelSocket, stdout


@pytest.fixture(scope="module")
def record_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("provisioner") / "launched.txt"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, record_file: Path) -> Iterator[RunningServer]:
    base = tmp_path_factory.mktemp("provisioners")
    spec_dir = base / "data" / "kernels" / "recorded"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python (recorded)",
        "language": "python",
        "metadata": {
            "kernel_provisioner": {
                "provisioner_name": "recording-provisioner",
                "config": {"record_file": str(record_file)},
            }
        },
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    root = base / "root"
    root.mkdir()
    running = start_server(root, plugins="kernels", env={"JUPYTER_PATH": str(base / "data")})
    yield running
    running.stop()


def test_a_kernelspec_naming_a_third_party_provisioner_starts_through_it(
    server: RunningServer, record_file: Path
) -> None:
    with server.client() as client:
        specs = client.get("/api/kernelspecs").json()["kernelspecs"]
        # jupyter_client lists a spec only when its provisioner's entry point is installed.
        assert "recorded" in specs
        provisioner = specs["recorded"]["spec"]["metadata"]["kernel_provisioner"]
        assert provisioner["provisioner_name"] == "recording-provisioner"

        started = client.post("/api/kernels", json={"name": "recorded"})
        assert started.status_code == 201, started.text
        kernel_id = started.json()["id"]
        try:
            # One launch, recorded by the provisioner under the API's kernel id (cluster
            # provisioners name their containers by it).
            assert record_file.read_text().split() == [kernel_id]
            ws = KernelSocket.open(server, kernel_id)
            try:
                messages = ws.run("print(6*7)")
            finally:
                ws.close()
            assert stdout(messages) == "42\n"
        finally:
            assert client.delete(f"/api/kernels/{kernel_id}").status_code == 204


def test_a_kernel_without_a_provisioner_entry_does_not_use_it(
    server: RunningServer, record_file: Path
) -> None:
    before = record_file.read_text() if record_file.exists() else ""
    with server.client() as client:
        started = client.post("/api/kernels", json={"name": "python3"})
        assert started.status_code == 201, started.text
        assert client.delete(f"/api/kernels/{started.json()['id']}").status_code == 204
    after = record_file.read_text() if record_file.exists() else ""
    assert after == before
