"""``auth.mode = "none"``: only when asked, loudly, and only on loopback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.auth.conftest import wait_for_log
from tests.conftest import start_server


def test_no_auth_mode_on_loopback_serves_everyone_as_owner_with_a_warning(tmp_path: Path):
    server = start_server(tmp_path, "--set", "auth.mode=none", plugins="hello", token="")
    try:
        client = server.client(token="")
        assert client.get("hello").json() == {"message": "Hello, owner!"}
        assert client.post("api/shutdown").status_code == 202
        assert "AUTHENTICATION IS OFF" in server.log()
        assert "?token=" not in wait_for_log(server, "open: ")
    finally:
        server.stop()


def test_no_auth_mode_still_refuses_forged_origins_and_rebinding(tmp_path: Path):
    server = start_server(tmp_path, "--set", "auth.mode=none", plugins="hello", token="")
    try:
        client = server.client(token="")
        assert client.get("hello", headers={"Origin": "https://evil.example"}).status_code == 403
        assert client.get("hello", headers={"Host": "evil.example"}).status_code == 403
    finally:
        server.stop()


def test_no_auth_mode_is_refused_off_loopback(tmp_path: Path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "modserver.cli",
            "run",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--root-dir",
            str(tmp_path),
            "--plugins",
            "hello",
            "--set",
            "auth.mode=none",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert 'auth.mode = "none" is refused' in result.stderr
    assert "0.0.0.0" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_mode_is_a_settings_error(tmp_path: Path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "modserver.cli",
            "run",
            "--port",
            "0",
            "--root-dir",
            str(tmp_path),
            "--plugins",
            "hello",
            "--set",
            "auth.mode=off",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "auth.mode" in result.stderr
