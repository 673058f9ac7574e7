"""Auth when modserver is mounted under a sub-path of a host app (tests/core/embed_host.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import TOKEN

RUNNING = re.compile(r"Running on (http://127\.0\.0\.1:\d+)")


@pytest.fixture(scope="module")
def host_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("root")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODSERVER_")}
    env.update(
        {
            "EMBED_ROOT": str(root),
            "EMBED_TOKEN": TOKEN,
            "PYTHONUNBUFFERED": "1",
            "MODSERVER_RUNTIME_DIR": str(root.parent / "runtime"),
        }
    )
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


def test_token_login_cookie_is_scoped_to_the_mount_path(host_url: str):
    client = httpx.Client(base_url=host_url)
    response = client.get(
        "/jupyter/hello", params={"token": TOKEN}, headers={"Accept": "text/html"}
    )
    assert response.status_code == 302
    assert response.headers["location"] == "/jupyter/hello"
    cookies = response.headers.get_list("set-cookie")
    assert any(c.startswith("modserver-login-") and "Path=/jupyter/" in c for c in cookies)
    assert client.get("/jupyter/hello").json() == {"message": "Hello, owner!"}


def test_login_redirects_and_form_stay_under_the_mount_path(host_url: str):
    client = httpx.Client(base_url=host_url)
    response = client.get("/jupyter/hello", headers={"Accept": "text/html"})
    assert response.headers["location"] == "/jupyter/login?next=%2Fjupyter%2Fhello"
    page = client.get("/jupyter/login", params={"next": "/jupyter/hello"})
    assert 'action="/jupyter/login"' in page.text
    response = client.post(
        "/jupyter/login",
        data={"password": TOKEN, "_xsrf": client.cookies["_xsrf"], "next": "/elsewhere"},
    )
    assert response.status_code == 302 and response.headers["location"] == "/jupyter/"
    assert client.get("/jupyter/api/me").json()["identity"]["username"] == "owner"
