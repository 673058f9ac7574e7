"""The core's routes and errors (in-process apps), and the real ``modserver run`` process:
startup failures, signals, runtime files, ports and the CLI commands."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from modserver.app import WARM_UP_DELAY_MAX
from modserver.server import bind_socket

from tests.conftest import TOKEN, RunningServer, start_server

# The file takes ~10 s in all: it starts first (see pytest_collection_modifyitems).
pytestmark = pytest.mark.slow


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], root_dir: Path
) -> Callable[..., CliResult]:
    """Run a CLI command that ends before serving in the test process, through ``main``.

    What ``python -m modserver.cli`` does but spawn the interpreter and import everything
    again (~0.3 CPU-s a run); the tests of the process itself (exit codes through
    ``sys.exit``, no traceback, signals) use ``modserver`` below.
    """
    from modserver.cli import main

    def run(*args: str, env: dict[str, str] | None = None) -> CliResult:
        for name in [n for n in os.environ if n.startswith("MODSERVER_")]:
            monkeypatch.delenv(name)
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(root_dir)
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's own exits (--version, --help)
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


def modserver(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the CLI to completion in its own process."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MODSERVER_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "modserver.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=60,
    )


def test_api_answers_version_without_auth(app_factory):
    server = app_factory(plugins="hello")
    response = httpx.get(server.url + "api")
    assert response.status_code == 200
    assert response.json() == {"version": "0.1.0"}


def test_status_needs_auth_and_includes_plugin_fields(app_factory):
    server = app_factory(plugins="hello")
    anonymous = httpx.get(server.url + "api/status")
    assert anonymous.status_code == 401
    assert "token" in anonymous.json()["message"]
    body = server.client().get("api/status").json()
    assert set(body) >= {"started", "last_activity", "greetings"}
    assert body["greetings"] == 1
    assert body["started"].endswith("Z")


def test_third_party_plugin_route_uses_required_service(app_factory):
    server = app_factory("--set", "hello.greeting=Howdy", plugins="hello")
    response = server.client().get("hello")
    assert response.status_code == 200
    assert response.json() == {"message": "Howdy, owner!"}


def test_unknown_route_is_json_404(app_factory):
    server = app_factory(plugins="hello")
    response = server.client().get("api/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found", "reason": "Not Found"}


def test_wrong_method_is_json_405(app_factory):
    server = app_factory(plugins="hello")
    response = server.client().delete("api/status")
    assert response.status_code == 405
    assert response.json()["reason"] == "Method Not Allowed"


def test_base_url_prefixes_every_route(app_factory):
    server = app_factory("--base-url", "/lab-x/", plugins="hello")
    assert server.url.endswith("/lab-x/")
    assert server.client().get("hello").status_code == 200
    root = server.url.replace("/lab-x/", "/")
    assert httpx.get(root + "api").status_code == 404


def test_startup_url_lands_on_a_page_naming_the_plugins_and_apis(app_factory):
    server = app_factory("--base-url", "/lab-x/", plugins="hello")
    # What a user gets from the printed URL, with no frontend plugin: not a 404.
    response = httpx.get(server.url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "hello 1.2.3" in response.text
    assert 'href="/lab-x/api/status"' in response.text


def test_startup_failure_stops_started_plugins_in_reverse_and_exits_1(root_dir: Path):
    trace = root_dir / "trace.txt"
    result = modserver(
        "run",
        "--port",
        "0",
        "--plugins",
        "explode",
        "--set",
        "explode.fail=true",
        "--set",
        f"hello.trace_file={trace}",
        cwd=root_dir,
    )
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert errors == [
        "modserver: error: plugin 'explode' failed to start: RuntimeError: the fuse was lit"
    ]
    assert "Traceback" not in result.stderr
    assert trace.read_text().splitlines() == ["start hello", "stop hello"]


def test_unknown_plugin_exits_2_listing_installed(cli: Callable[..., CliResult]):
    result = cli("run", "--plugins", "hello,nope")
    assert result.returncode == 2
    assert "unknown plugin 'nope'; installed:" in result.stderr
    assert "hello" in result.stderr.splitlines()[-1]


def test_invalid_setting_exits_2_without_traceback(root_dir: Path):
    result = modserver(
        "run", "--plugins", "hello", cwd=root_dir, env={"MODSERVER_SHUTDOWN_TIMEOUT": "-1"}
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "modserver: error: invalid setting shutdown_timeout = '-1' (from env "
        "MODSERVER_SHUTDOWN_TIMEOUT): Input should be greater than 0"
    )


def test_bad_port_flag_gets_the_same_clear_error(cli: Callable[..., CliResult]):
    result = cli("run", "--plugins", "hello", "--port", "eighty")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "modserver: error: invalid setting port = 'eighty' (from --port): "
        "Input should be a valid integer, unable to parse string as an integer"
    )


def test_plugin_setting_error_names_section(cli: Callable[..., CliResult]):
    result = cli("run", "--plugins", "hello", "--set", "hello.greting=hi")
    assert result.returncode == 2
    assert (
        "unknown setting hello.greting (from --set hello.greting): did you mean hello.greeting?"
    ) in result.stderr


def test_settings_for_uninstalled_plugin_are_refused(cli: Callable[..., CliResult]):
    result = cli("run", "--plugins", "hello", "--set", "helo.greeting=hi")
    assert result.returncode == 2
    assert (
        "settings section [helo] (from --set helo.greeting) names no installed plugin"
        in result.stderr
    )


def test_sigterm_stops_gracefully_and_removes_runtime_file(server_factory, tmp_path: Path):
    runtime = tmp_path / "rt"
    trace = tmp_path / "trace.txt"
    server = server_factory(
        "--set", f"hello.trace_file={trace}", plugins="hello", runtime_dir=runtime
    )
    files = list(runtime.glob("modserver-*.json"))
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    info = json.loads(files[0].read_text())
    assert info["pid"] == server.proc.pid
    assert info["url"] == server.url
    assert info["open_url"] == f"{server.url}?token={TOKEN}"
    assert server.stop(signal.SIGTERM) == 0
    assert not list(runtime.glob("modserver-*.json"))
    assert trace.read_text().splitlines() == ["start hello", "stop hello"]


def test_a_stop_during_background_thread_work_exits_0(server_factory, tmp_path: Path):
    """A warm-up and a task-group task both inside a worker thread when SIGTERM comes."""
    busy = tmp_path / "busy"
    trace = tmp_path / "trace.txt"
    server = server_factory(
        "--set",
        f"hello.busy_until={busy}",
        "--set",
        f"hello.trace_file={trace}",
        "--set",
        "warm_up=true",
        plugins="hello",
    )
    wait_until(lambda: Path(f"{busy}.warming").exists() and Path(f"{busy}.working").exists())
    server.proc.send_signal(signal.SIGTERM)
    # The plugins stop while both threads still work; then the work ends by itself.
    wait_until(lambda: "stop hello" in trace.read_text())
    busy.touch()
    assert server.proc.wait(30) == 0, server.log()
    assert "Traceback" not in server.log()


def test_a_stop_does_not_wait_for_a_warm_up_still_running(server_factory, tmp_path: Path):
    """A warm-up (a big import, say) still running is abandoned: the process exits at once."""
    busy = tmp_path / "busy"  # never created: the warm-up would run for its full minute
    server = server_factory(
        "--set", f"hello.warm_up_until={busy}", "--set", "warm_up=true", plugins="hello"
    )
    wait_until(lambda: Path(f"{busy}.warming").exists())
    assert server.stop(signal.SIGTERM, timeout=20) == 0, server.log()
    assert not busy.exists()
    assert "Traceback" not in server.log()


def test_with_warm_up_off_no_warm_up_runs(server_factory, tmp_path: Path):
    """``warm_up = false``: the plugin's task runs, its warm-up never starts."""
    busy = tmp_path / "busy"
    server = server_factory(
        "--set", f"hello.busy_until={busy}", "--set", "warm_up=false", plugins="hello"
    )
    started = time.monotonic()
    wait_until(lambda: Path(f"{busy}.working").exists())
    # Warm-ups begin WARM_UP_DELAY_MAX after the start at the latest, however busy.
    time.sleep(max(0.0, started + WARM_UP_DELAY_MAX + 0.5 - time.monotonic()))
    assert not Path(f"{busy}.warming").exists()
    busy.touch()
    assert server.stop(signal.SIGTERM, timeout=20) == 0, server.log()


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_sigint_also_stops_gracefully(server_factory):
    server = server_factory(plugins="hello")
    assert server.stop(signal.SIGINT) == 0
    assert "received SIGINT, shutting down" in server.log()


def test_startup_prints_url_with_token_and_plugins(server_factory):
    server = server_factory(plugins="hello")
    log = server.log()
    assert f"open: {server.url}?token={TOKEN}" in log
    assert "plugins: auth 0.1.0, hello 1.2.3" in log
    assert "adding plugin 'auth': 'hello' requires Identity" in log


def _busy_port() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def test_busy_default_port_moves_to_next_free_port(root_dir: Path):
    first = start_server(root_dir, plugins="hello", port=None)
    try:
        second = start_server(root_dir, plugins="hello", port=None)
        try:
            assert first.port >= 8888
            assert second.port > first.port
            assert second.client().get("api/status").status_code == 200
        finally:
            second.stop()
    finally:
        first.stop()


def test_port_search_skips_a_busy_port():
    with _busy_port() as busy:
        port = busy.getsockname()[1]
        sock = bind_socket("127.0.0.1", port, port_is_explicit=False)
        with sock:
            assert sock.getsockname()[1] > port


def test_busy_explicit_port_is_an_error(root_dir: Path):
    with _busy_port() as busy:
        port = busy.getsockname()[1]
        result = modserver("run", "--plugins", "hello", "--port", str(port), cwd=root_dir)
    assert result.returncode == 1
    assert (
        f"cannot listen on 127.0.0.1:{port}: Address already in use; choose another with --port"
        in result.stderr
    )


def test_plugins_command_shows_table(cli: Callable[..., CliResult]):
    result = cli("plugins", "--plugins", "hello")
    assert result.returncode == 0
    rows = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert rows["NAME"].split() == ["NAME", "VERSION", "PROVIDES", "REQUIRES", "ENABLED"]
    assert rows["hello"].split() == ["hello", "1.2.3", "Greeter", "Identity,", "Authorizer", "yes"]
    assert rows["auth"].endswith("yes")
    assert rows["explode"].endswith("no")


def test_config_show_tells_where_each_value_came_from(
    cli: Callable[..., CliResult], root_dir: Path
):
    (root_dir / "modserver.toml").write_text('[hello]\ngreeting = "Hi"\n')
    result = cli(
        "config",
        "show",
        "--plugins",
        "hello",
        "--port",
        "9999",
        env={"MODSERVER_LOG_LEVEL": "warning"},
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "port = 9999  # --port" in lines
    assert 'log_level = "warning"  # env MODSERVER_LOG_LEVEL' in lines
    assert 'host = "127.0.0.1"  # default' in lines
    assert "[hello]" in lines
    assert 'greeting = "Hi"  # modserver.toml' in lines


def test_list_shows_running_servers(server_factory, tmp_path: Path, cli: Callable[..., CliResult]):
    runtime = tmp_path / "rt"
    server = server_factory(plugins="hello", runtime_dir=runtime)
    result = cli("list", env={"MODSERVER_RUNTIME_DIR": str(runtime)})
    assert result.returncode == 0
    assert f"{server.url}?token={TOKEN} :: {server.root_dir}" in result.stdout


def test_version_flag(cli: Callable[..., CliResult]):
    result = cli("--version")
    assert result.stdout.strip() == "modserver 0.1.0"


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_answer_without_loading_settings_or_plugins(flag: str, tmp_path: Path):
    # What scripts call to check an install: it used to import pydantic, pydantic-settings
    # and the plugin machinery first (~0.25 s of a ~0.3 s run; ~0.05 s now).
    code = (
        "import sys\n"
        "from modserver.cli import main\n"
        f"try:\n    main([{flag!r}])\nexcept SystemExit:\n    pass\n"
        "print('loaded:', [m for m in ('pydantic', 'modserver.plugins') if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "loaded: []"


@pytest.mark.parametrize("sig", [signal.SIGTERM])
def test_shutdown_endpoint_stops_the_server(server_factory, sig):
    server: RunningServer = server_factory(plugins="hello")
    response = server.client().post("api/shutdown")
    assert response.status_code == 202
    server.proc.wait(30)
    assert server.proc.returncode == 0
