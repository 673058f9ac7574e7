"""``modserver plugins`` lists every installed plugin, even misdeclared ones, and says why.

Extra distributions are real ``*.dist-info`` folders on the path, so discovery goes
through ``importlib.metadata`` exactly as for installed packages.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from modserver.plugins import PluginError, discover

REPO = Path(__file__).parents[2]


def install_fake_distribution(site: Path, name: str, version: str, entry_points: str) -> None:
    """A distribution's metadata, as pip would leave it in site-packages."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[modserver.plugins]\n{entry_points}\n")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A site folder with another distribution registering a plugin named ``hello``."""
    path = tmp_path / "site"
    install_fake_distribution(path, "other-hello", "2.0", "hello = other_hello:plugin")
    return path


def test_duplicate_plugin_name_error_names_both_distributions(
    site: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.syspath_prepend(str(site))
    with pytest.raises(PluginError) as info:
        discover()
    message = str(info.value)
    assert "two installed distributions register plugin 'hello'" in message
    assert "modserver-hello 1.2.3 (modserver_hello:plugin)" in message
    assert "other-hello 2.0 (other_hello:plugin)" in message
    assert "pip uninstall" in message


def run_plugins_command(
    site: Path, cwd: Path, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODSERVER_")}
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(REPO)])
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "modserver.cli", "plugins"],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
    )


def test_plugins_command_lists_everything_and_marks_the_broken_ones(site: Path, tmp_path: Path):
    install_fake_distribution(
        site,
        "misdeclared",
        "0.1",
        "typo_hook = tests.core.misdeclared_plugins:typo_hook\n"
        "wrong_argument = tests.core.misdeclared_plugins:wrong_argument\n"
        "broken_import = no_such_module_xyz:plugin",
    )
    result = run_plugins_command(site, tmp_path)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    rows = {line.split()[0]: line.split() for line in lines if line and " " in line}
    assert rows["contents"][-1] == "yes"
    for broken in ("hello", "typo_hook", "wrong_argument", "broken_import"):
        assert rows[broken][-1] == "broken"
    problems = [line for line in lines if line.startswith("problem: ")]
    assert any("other-hello 2.0" in line for line in problems)
    assert any(
        "typo_hook: plugin 'typo_hook' implements hook 'modserver_rotues'" in line
        for line in problems
    )
    assert any("wrong_argument: " in line and "request" in line for line in problems)
    assert any(
        "broken_import: plugin 'broken_import' failed to import" in line for line in problems
    )
    assert any(line.startswith("problem: explode: ") for line in problems)  # requires hello
    assert "Traceback" not in result.stderr


def test_plugins_command_reports_what_only_building_the_app_finds(tmp_path: Path):
    # Every plugin loads and its hooks are right, but its OpenAPI fragment documents a
    # route it does not serve: `run` refuses to start, so `plugins` must say so too.
    site = tmp_path / "site"
    install_fake_distribution(
        site, "misdocumented", "0.1", "misdocumented = tests.core.misdeclared_plugins:misdocumented"
    )
    result = run_plugins_command(site, tmp_path, {"MODSERVER_PLUGINS": "misdocumented"})
    assert result.returncode == 1, result.stdout + result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if " " in line}
    assert rows["misdocumented"][-1] == "yes"
    assert (
        "problem: the selected plugins cannot start: plugin 'misdocumented' documents "
        "GET /widget/{path}"
    ) in result.stdout
