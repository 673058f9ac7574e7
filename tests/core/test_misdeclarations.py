"""Every misdeclaration of a plugin is an error before the server starts, naming the fix."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path

import anyio
import pytest
from modserver.app import assemble, build
from modserver.lifecycle import PluginStartupError
from modserver.plugins import ENTRY_POINT_GROUP, InstalledPlugin, PluginError
from modserver.settings import SettingsError, gather

MODULE = "tests.core.misdeclared_plugins"


def build_with(  # type: ignore[no-untyped-def]
    root: Path, *names: str, env: dict[str, str] | None = None, also_installed: tuple[str, ...] = ()
):
    """Build a server enabling ``names`` of misdeclared_plugins (installed: those and ``also``)."""
    installed = {
        name: InstalledPlugin(name, EntryPoint(name, f"{MODULE}:{name}", ENTRY_POINT_GROUP))
        for name in (*names, *also_installed)
    }
    raw = gather(env=env or {}, cli={"root_dir": str(root), "plugins": ",".join(names)})
    return build(raw, installed)


def test_hook_with_a_misspelt_name_is_an_error_naming_plugin_and_hook(tmp_path: Path):
    with pytest.raises(PluginError) as info:
        build_with(tmp_path, "typo_hook")
    message = str(info.value)
    assert "plugin 'typo_hook' implements hook 'modserver_rotues'" in message
    assert "did you mean 'modserver_routes'?" in message


def test_hook_asking_for_arguments_the_hookspec_lacks_is_an_error(tmp_path: Path):
    with pytest.raises(PluginError, match=r"plugin 'wrong_argument' implements a hook .*request"):
        build_with(tmp_path, "wrong_argument")


def test_hook_written_as_async_def_is_an_error_saying_it_would_never_run(tmp_path: Path):
    with pytest.raises(PluginError) as info:
        build_with(tmp_path, "async_hook")
    message = str(info.value)
    assert "plugin 'async_hook' implements hook 'contents_post_save' with an async def" in message
    assert "make it a plain def" in message


def test_optional_hook_of_a_plugin_not_enabled_is_accepted(tmp_path: Path):
    assert [p.name for p in build_with(tmp_path, "optional_foreign_hook").plugins] == [
        "optional_foreign_hook"
    ]


def test_service_hooks_can_be_implemented_without_a_provider_enabled(tmp_path: Path):
    assert [p.name for p in build_with(tmp_path, "contents_hook_user").plugins] == [
        "contents_hook_user"
    ]


def test_declared_service_not_provided_at_startup_names_the_plugin(tmp_path: Path):
    server = build_with(tmp_path, "forgetful_provider")

    async def start() -> None:
        async with server.lifespan():
            pass

    with pytest.raises(Exception) as info:  # an ExceptionGroup: the task group wraps it
        anyio.run(start)
    assert info.group_contains(
        PluginStartupError,
        match=r"plugin 'forgetful_provider' failed to start: .*declares provides=\(Widget,\) "
        r"but did not provide Widget .*context.services.provide\(Widget, ...\)",
    )


def test_misspelt_core_setting_in_the_environment_is_an_error(tmp_path: Path):
    with pytest.raises(
        SettingsError,
        match=r"unknown setting prot \(from env MODSERVER_PROT\): did you mean MODSERVER_PORT\?",
    ):
        build_with(tmp_path, "optional_foreign_hook", env={"MODSERVER_PROT": "9000"})


def test_environment_variable_a_plugin_reads_is_accepted_even_when_it_is_off(tmp_path: Path):
    env = {"MODSERVER_SPECIAL": "1"}
    for enabled, others in (
        ("environment_reader", ()),
        ("optional_foreign_hook", ("environment_reader",)),
    ):
        server = build_with(tmp_path, enabled, env=env, also_installed=others)
        assert [p.name for p in server.plugins] == [enabled]


def test_openapi_fragment_documenting_unserved_routes_is_an_error(tmp_path: Path):
    with pytest.raises(
        PluginError,
        match=r"plugin 'misdocumented' documents GET /widget/\{path\}, DELETE /widgets/\{path\} "
        r"in its OpenAPI fragment \(modserver_openapi\), but no route serves it",
    ):
        assemble(build_with(tmp_path, "misdocumented"))


def test_openapi_fragment_may_write_a_path_parameter_without_its_convertor(tmp_path: Path):
    assemble(build_with(tmp_path, "well_documented"))  # {path} documents {path:path}


def test_openapi_component_redefining_the_cores_is_an_error(tmp_path: Path):
    # The merged document keeps one Error schema: every other operation's $ref would change.
    with pytest.raises(PluginError) as info:
        assemble(build_with(tmp_path, "error_redefining"))
    message = str(info.value)
    assert "plugin 'error_redefining' defines components.schemas.Error" in message
    assert "which the core defines differently" in message
    assert "ErrorRedefiningError" in message  # a name of its own to use instead
