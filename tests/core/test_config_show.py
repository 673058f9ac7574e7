"""``modserver config show`` prints TOML that ``modserver.toml`` accepts as it is."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from modserver.cli import main

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ALICE_TOKEN_HASH = "sha256:" + "a" * 64


def config_show(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["config", "show", *args]) == 0, capsys.readouterr().err
    return capsys.readouterr().out


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in [n for n in os.environ if n.startswith("MODSERVER_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("MODSERVER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    "users", ["{}", f'{{"alice": {{"role": "editor", "token_hash": "{ALICE_TOKEN_HASH}"}}}}']
)
def test_config_show_output_is_accepted_as_modserver_toml(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, users: str
):
    first = config_show(
        capsys, "--set", f"auth.users={users}", "--set", "contents.allow_hidden=true"
    )
    (tmp_path / "modserver.toml").write_text(first)
    second = config_show(capsys)
    assert tomllib.loads(second) == tomllib.loads(first)
    assert "allow_hidden = true  # modserver.toml" in second


def test_config_show_never_prints_a_secret(capsys: pytest.CaptureFixture[str]):
    output = config_show(capsys, "--set", "auth.token=very-secret-token")
    assert "very-secret-token" not in output
    assert "# token = (secret, not shown)  # --set auth.token" in output


def test_every_core_setting_has_a_flag_whose_source_is_shown(capsys: pytest.CaptureFixture[str]):
    output = config_show(capsys, "--shutdown-timeout", "3", "--log-level", "DEBUG")
    assert "shutdown_timeout = 3.0  # --shutdown-timeout" in output
    assert 'log_level = "debug"  # --log-level' in output


def test_a_bad_flag_value_names_key_value_and_flag(capsys: pytest.CaptureFixture[str]):
    assert main(["config", "show", "--max-body-size", "-1"]) == 2
    error = capsys.readouterr().err
    assert "invalid setting max_body_size = '-1' (from --max-body-size)" in error
