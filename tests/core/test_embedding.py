"""Embedding: modserver mounted under a sub-path of a host Starlette app, lifespan running."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import TOKEN

RUNNING = re.compile(r"Running on (http://127\.0\.0\.1:\d+)")


@pytest.fixture
def host_url(root_dir: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODSERVER_")}
    env.update({"EMBED_ROOT": str(root_dir), "EMBED_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "hypercorn", "tests.core.embed_host:host", "--bind", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=Path(__file__).parents[2],
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            match = RUNNING.search(line)
            if match:
                yield match.group(1)
                break
            assert time.monotonic() < deadline, "".join(lines)
        else:
            raise AssertionError("host app did not start:\n" + "".join(lines))
    finally:
        proc.terminate()
        proc.wait(30)


def test_mounted_modserver_serves_under_sub_path(host_url: str):
    assert httpx.get(host_url + "/").text == "host home"
    assert httpx.get(host_url + "/jupyter/api").json() == {"version": "0.1.0"}


def test_mounted_modserver_ran_its_plugins_lifespan(host_url: str):
    # /hello needs the Greeter service, which exists only once the plugins started.
    headers = {"Authorization": f"token {TOKEN}"}
    response = httpx.get(host_url + "/jupyter/hello", headers=headers)
    assert response.status_code == 200
    assert response.json() == {"message": "Hello, owner!"}
    assert httpx.get(host_url + "/jupyter/api/status", headers=headers).json()["greetings"] == 1


def test_mounted_modserver_still_requires_auth(host_url: str):
    assert httpx.get(host_url + "/jupyter/hello").status_code == 401
