"""``modserver password``: writes an argon2 hash (or a user token's hash) to the config."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import tomllib

from tests.auth.conftest import browser, login_with_form, wait_for_log
from tests.conftest import start_server


def run_password(cwd: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODSERVER_")}
    return subprocess.run(
        [sys.executable, "-m", "modserver.cli", "password", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
    )


def test_password_command_writes_hash_the_server_accepts(tmp_path: Path):
    result = run_password(tmp_path, "--password-stdin", stdin="s3cret pass\n")
    assert result.returncode == 0, result.stderr
    config = tmp_path / "modserver.toml"
    assert (config.stat().st_mode & 0o777) == 0o600
    stored = tomllib.loads(config.read_text())["auth"]["password_hash"]
    assert stored.startswith("$argon2id$") and "s3cret" not in config.read_text()

    server = start_server(tmp_path, token="", plugins="auth")  # reads ./modserver.toml
    try:
        # A password replaces the random token.
        assert "?token=" not in wait_for_log(server, "open: ")
        client = browser(server)
        assert login_with_form(client, "s3cret pass").status_code == 302
        assert client.get("api/status").status_code == 200
        assert login_with_form(browser(server), "wrong").status_code == 401
    finally:
        server.stop()


def test_password_command_adds_a_user_with_token(tmp_path: Path):
    (tmp_path / "modserver.toml").write_text(
        'port = 9999\n[auth]\nallow_origin = "https://x.example"\n'
    )
    result = run_password(tmp_path, "--user", "bob", "--role", "editor", "--token")
    assert result.returncode == 0, result.stderr
    token = result.stdout.splitlines()[0].split(": ")[-1].strip()
    data = tomllib.loads((tmp_path / "modserver.toml").read_text())
    assert data["port"] == 9999 and data["auth"]["allow_origin"] == "https://x.example"
    bob = data["auth"]["users"]["bob"]
    assert bob["role"] == "editor" and bob["token_hash"].startswith("sha256:")
    assert token not in (tmp_path / "modserver.toml").read_text()

    server = start_server(tmp_path, "--port", "0", plugins="auth")
    try:
        response = server.client(token=token).get("api/me")
        assert response.json()["identity"]["username"] == "bob", response.text
    finally:
        server.stop()


def test_password_command_print_changes_no_file(tmp_path: Path):
    result = run_password(tmp_path, "--print", "--user", "eve", "--password-stdin", stdin="pw\n")
    assert result.returncode == 0
    assert "[auth.users.eve]" in result.stdout and "$argon2id$" in result.stdout
    assert not (tmp_path / "modserver.toml").exists()


def test_password_command_bad_input(tmp_path: Path):
    assert run_password(tmp_path, "--password-stdin", stdin="\n").returncode == 2
    assert run_password(tmp_path, "--token").returncode == 2
    result = run_password(tmp_path, "--user", "no spaces", "--password-stdin", stdin="x\n")
    assert result.returncode == 2 and "invalid user name" in result.stderr
    assert not (tmp_path / "modserver.toml").exists()
