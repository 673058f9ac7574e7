"""Settings precedence (defaults < file < env < CLI) and errors that name key, value, source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from modserver.settings import SettingsError, gather, validate_core


def test_sources_apply_lowest_first(tmp_path: Path):
    config = tmp_path / "modserver.toml"
    config.write_text('port = 1000\nhost = "127.0.0.2"\nlog_level = "debug"\n[auth]\ntoken = "f"\n')
    raw = gather(
        config_file=config,
        env={"MODSERVER_PORT": "2000", "MODSERVER_HOST": "127.0.0.3", "MODSERVER_AUTH__TOKEN": "e"},
        cli={"port": 3000},
        cli_sets=["auth.token=c"],
    )
    core = validate_core(raw)
    assert (core.port, core.host, core.log_level) == (3000, "127.0.0.3", "debug")
    assert raw.section("auth") == {"token": "c"}
    assert raw.origin("core", "port") == "--port"
    assert raw.origin("core", "host") == "env MODSERVER_HOST"
    assert raw.origin("core", "log_level") == str(config)
    assert raw.origin("auth", "token") == "--set auth.token"
    assert raw.origin("core", "base_url") == "default"


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    core = validate_core(gather(env={}))
    assert (core.host, core.port, core.base_url, core.plugins) == ("127.0.0.1", 8888, "/", [])
    assert core.root_dir == tmp_path.resolve()


def test_invalid_value_names_key_value_source_and_allowed():
    raw = gather(env={"MODSERVER_LOG_LEVEL": "loud"})
    with pytest.raises(SettingsError) as info:
        validate_core(raw)
    message = str(info.value)
    assert "log_level = 'loud'" in message
    assert "env MODSERVER_LOG_LEVEL" in message
    assert "'debug', 'info', 'warning', 'error' or 'critical'" in message


def test_port_out_of_range_is_refused():
    with pytest.raises(
        SettingsError, match=r"port = 70000 \(from --port\).*less than or equal to 65535"
    ):
        validate_core(gather(env={}, cli={"port": 70000}))


def test_unknown_core_key_in_config_is_an_error(tmp_path: Path):
    config = tmp_path / "c.toml"
    config.write_text("prot = 1\n")
    with pytest.raises(
        SettingsError, match=r"unknown setting prot \(from .*c.toml\): did you mean port\?"
    ):
        validate_core(gather(config_file=config, env={}))


def test_stray_environment_variables_are_not_core_settings():
    raw = gather(env={"MODSERVER_TOKEN": "x", "MODSERVER_WHATEVER": "y"})
    assert validate_core(raw).port == 8888


def test_base_url_is_normalised_and_urls_refused():
    assert validate_core(gather(env={}, cli={"base_url": "jupyter"})).base_url == "/jupyter/"
    with pytest.raises(SettingsError, match="must be a URL path"):
        validate_core(gather(env={}, cli={"base_url": "http://evil/"}))


def test_plugins_accept_a_comma_list():
    raw = gather(env={"MODSERVER_PLUGINS": "kernels, contents"})
    assert validate_core(raw).plugins == ["kernels", "contents"]


def test_set_without_equals_is_explained():
    with pytest.raises(SettingsError, match=r"expected section.key=value"):
        gather(env={}, cli_sets=["auth.token"])


def test_broken_config_file_is_reported(tmp_path: Path):
    config = tmp_path / "bad.toml"
    config.write_text("port = = 3")
    with pytest.raises(SettingsError, match=r"bad.toml is not valid TOML"):
        gather(config_file=config, env={})
    with pytest.raises(SettingsError, match=r"does not exist"):
        gather(config_file=tmp_path / "missing.toml", env={})


def test_json_values_from_env_and_cli_are_parsed():
    raw = gather(env={"MODSERVER_PLUGINS": '["a", "b"]'}, cli_sets=["x.flag=true", "x.n=3"])
    assert validate_core(raw).plugins == ["a", "b"]
    assert raw.section("x") == {"flag": True, "n": "3"}


def test_root_dir_must_exist(tmp_path: Path):
    with pytest.raises(SettingsError, match=r"is not an existing folder"):
        validate_core(gather(env={}, cli={"root_dir": str(tmp_path / "missing")}))


def build_tables(root: Path, **sources: Any) -> Any:
    """Build a server enabling only the ``tables`` plugin of tests/core/settings_plugins.py."""
    from importlib.metadata import EntryPoint

    from modserver.app import build
    from modserver.plugins import ENTRY_POINT_GROUP, InstalledPlugin

    entry = EntryPoint("tables", "tests.core.settings_plugins:tables", ENTRY_POINT_GROUP)
    raw = gather(cli={"root_dir": str(root), "plugins": "tables"}, **sources)
    return build(raw, {"tables": InstalledPlugin("tables", entry)})


def test_plugin_lists_and_tables_from_the_environment_are_decoded_as_its_model_asks(
    tmp_path: Path,
):
    env = {
        "MODSERVER_TABLES__NAMES": '["a", "b"]',
        "MODSERVER_TABLES__PEOPLE__ALICE__ROLE": "editor",
        "MODSERVER_TABLES__LOUD": "true",
    }
    server = build_tables(tmp_path, env=env)
    settings = server.contexts["tables"].settings
    assert settings.names == ["a", "b"]
    assert settings.people["alice"].role == "editor"
    assert settings.loud is True
    origin = server.raw_settings.origin("tables", "people")
    assert origin == "env MODSERVER_TABLES__PEOPLE__ALICE__ROLE"


def test_environment_list_that_is_not_json_names_the_variable(tmp_path: Path):
    with pytest.raises(SettingsError) as info:
        build_tables(tmp_path, env={"MODSERVER_TABLES__NAMES": "a,b"})
    message = str(info.value)
    assert "tables.names = 'a,b' (from env MODSERVER_TABLES__NAMES)" in message
    assert "lists and tables are given as JSON" in message


def test_set_with_a_deeper_key_sets_a_value_inside_a_table(tmp_path: Path):
    server = build_tables(tmp_path, env={}, cli_sets=["tables.people.ci-bot.role=editor"])
    assert server.contexts["tables"].settings.people["ci-bot"].role == "editor"
    assert server.raw_settings.origin("tables", "people") == "--set tables.people.ci-bot.role"


def test_environment_section_that_names_no_plugin_is_an_error(tmp_path: Path):
    with pytest.raises(
        SettingsError,
        match=r"section \[tablse\] \(from env MODSERVER_TABLSE__NAMES\) names no installed",
    ):
        build_tables(tmp_path, env={"MODSERVER_TABLSE__NAMES": '["a"]'})


def test_empty_table_of_an_unknown_section_in_the_config_is_an_error(tmp_path: Path):
    config = tmp_path / "modserver.toml"
    config.write_text("[users]\n")
    with pytest.raises(SettingsError, match=r"section \[users\] \(from .*modserver.toml\)"):
        build_tables(tmp_path, env={}, config_file=config)


def test_a_given_environment_is_the_only_one_read(monkeypatch: pytest.MonkeyPatch):
    # create_app(use_env=False) gathers with env={}: the process environment must not
    # come in through pydantic-settings' own sources when the core section is validated.
    monkeypatch.setenv("MODSERVER_PORT", "1234")
    assert validate_core(gather(env={})).port == 8888
    assert validate_core(gather(env={"MODSERVER_PORT": "99"})).port == 99
