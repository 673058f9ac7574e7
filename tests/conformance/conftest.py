"""One modserver with every built-in plugin, shared by the conformance tests here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import yaml

from tests.conformance.harness import generated_requests_session, working_plugins
from tests.conftest import RunningServer, start_server
from tests.kernels.conftest import install_tiny_kernelspec


@pytest.fixture(scope="package")
def conformance_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """modserver with every working plugin, serving a scratch folder.

    Kernels start from the "tiny" kernelspec by default: what is checked is the API's
    answers, which are the same for any kernel, and an ipykernel start costs ~1.5 CPU-s.
    """
    scratch = tmp_path_factory.mktemp("conformance")
    root = scratch / "root"
    root.mkdir()
    server = start_server(
        root,
        "--set",
        f"config.config_dir={scratch / 'serverconfig'}",
        "--set",
        "kernels.default_kernel_name=tiny",
        "--log-level",
        "warning",
        plugins=",".join(working_plugins()),
        env=install_tiny_kernelspec(scratch / "data"),
    )
    yield server
    server.stop()


@pytest.fixture(scope="package")
def served_spec(conformance_server: RunningServer) -> dict:
    """The server's own ``/api/spec.yaml``."""
    with conformance_server.client() as client:
        response = client.get("api/spec.yaml")
    response.raise_for_status()
    return yaml.safe_load(response.text)


@pytest.fixture(scope="package")
def generated_requests() -> Iterator[requests.Session]:
    """The HTTP session that sends the generated requests (see the harness)."""
    with generated_requests_session() as session:
        yield session
