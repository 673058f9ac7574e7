"""Plugin selection: required providers added, clear errors before anything starts."""

from __future__ import annotations

import logging
from importlib.metadata import EntryPoint

import anyio
import pytest
from modserver.app import assemble, build
from modserver.plugins import ENTRY_POINT_GROUP, InstalledPlugin, PluginError, resolve
from modserver.settings import gather

MODULE = "tests.core.sample_plugins"


def installed(*names: str, **targets: str) -> dict[str, InstalledPlugin]:
    """Installed plugins whose entry points load objects of sample_plugins."""
    result = {}
    for name in names:
        target = targets.get(name, name)
        result[name] = InstalledPlugin(
            name, EntryPoint(name, f"{MODULE}:{target}", ENTRY_POINT_GROUP)
        )
    return result


def names(plugins: list) -> list[str]:
    return [p.name for p in plugins]


def test_required_providers_are_added_in_dependency_order(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO, "modserver.plugins")
    plugins = resolve(["user"], installed("alpha", "beta", "user", "lonely"))
    assert names(plugins) == ["alpha", "beta", "user"]
    assert "adding plugin 'beta': 'user' requires Beta" in caplog.text
    assert "adding plugin 'alpha': 'beta' requires Alpha" in caplog.text


def test_empty_selection_enables_every_installed_plugin():
    plugins = resolve([], installed("user", "beta", "alpha", "optional_user"))
    assert names(plugins) == ["alpha", "beta", "optional_user", "user"]


def test_optional_dependency_orders_but_does_not_pull_in():
    assert names(resolve(["optional_user"], installed("alpha", "optional_user"))) == [
        "optional_user"
    ]
    assert names(resolve(["optional_user", "alpha"], installed("alpha", "optional_user"))) == [
        "alpha",
        "optional_user",
    ]


def test_unknown_plugin_lists_what_is_installed():
    with pytest.raises(PluginError, match=r"unknown plugin 'nope'; installed: alpha, beta"):
        resolve(["nope"], installed("alpha", "beta"))


def test_service_nobody_provides_names_plugin_and_service():
    with pytest.raises(PluginError, match=r"'lonely' requires service Gamma, but no installed"):
        resolve(["lonely"], installed("lonely", "alpha"))


def test_two_selected_providers_of_one_service_are_an_error():
    with pytest.raises(PluginError, match=r"Alpha is provided by both 'alpha' and 'alpha_too'"):
        resolve(["alpha", "alpha_too"], installed("alpha", "alpha_too"))


def test_ambiguous_provider_asks_to_choose():
    with pytest.raises(
        PluginError, match=r"several installed plugins provide \('alpha', 'alpha_too'\)"
    ):
        resolve(["beta"], installed("alpha", "alpha_too", "beta"))


def test_ambiguity_is_resolved_by_naming_one():
    assert names(resolve(["beta", "alpha_too"], installed("alpha", "alpha_too", "beta"))) == [
        "alpha_too",
        "beta",
    ]


def test_dependency_cycle_is_named():
    with pytest.raises(PluginError, match=r"cycle: cycle_a -> cycle_b -> cycle_a"):
        resolve(["cycle_a", "cycle_b"], installed("cycle_a", "cycle_b", "alpha"))


def test_entry_point_must_point_at_a_plugin():
    with pytest.raises(PluginError, match=r"is not a modserver.Plugin"):
        resolve(["x"], installed("x", x="not_a_plugin"))


def test_entry_point_name_must_match_plugin_name():
    with pytest.raises(PluginError, match=r"loads a plugin named 'something_else'"):
        resolve(["x"], installed("x", x="misnamed"))


def test_import_failure_names_the_plugin():
    broken = {
        "broken": InstalledPlugin(
            "broken", EntryPoint("broken", "no_such_module_xyz:plugin", ENTRY_POINT_GROUP)
        )
    }
    with pytest.raises(PluginError, match=r"plugin 'broken' failed to import"):
        resolve(["broken"], broken)


def test_two_plugins_claiming_one_route_is_an_error(tmp_path):
    raw = gather(env={}, cli={"root_dir": str(tmp_path), "plugins": "dup_a,dup_b"})
    with pytest.raises(
        PluginError, match=r"route GET /x is contributed by both 'dup_a' and 'dup_b'"
    ):
        assemble(build(raw, installed("dup_a", "dup_b")))


def test_unguarded_plugin_route_is_refused(tmp_path):
    raw = gather(env={}, cli={"root_dir": str(tmp_path), "plugins": "unguarded"})
    with pytest.raises(PluginError, match=r"'unguarded' contributed route /x without a guard"):
        assemble(build(raw, installed("unguarded")))


def _paths(app) -> list[str]:  # type: ignore[no-untyped-def]
    # The app's routes sit in one RouteIndex (found by their first path segment).
    return [getattr(r, "path", "") for item in app.routes for r in getattr(item, "routes", [])]


def test_core_landing_page_serves_root_when_no_plugin_does(tmp_path):
    raw = gather(env={}, cli={"root_dir": str(tmp_path), "plugins": "dup_a"})
    assert _paths(assemble(build(raw, installed("dup_a")))).count("/") == 1


def test_a_plugin_serving_root_replaces_the_landing_page(tmp_path):
    import httpx

    raw = gather(env={}, cli={"root_dir": str(tmp_path), "plugins": "front"})
    app = assemble(build(raw, installed("front")), manage_lifespan=False)
    assert _paths(app).count("/") == 1

    async def get_root() -> str:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return (await client.get("/")).text

    assert anyio.run(get_root) == "ok"


def test_every_plugin_contributes_to_the_startup_url_in_dependency_order(tmp_path):
    from modserver.plugins import discover

    available = {**discover(), **installed("landing_path")}
    raw = gather(
        env={},
        cli={"root_dir": str(tmp_path), "plugins": "auth,landing_path"},
        cli_sets=["auth.token=secret"],
    )
    server = build(raw, available)
    server.contexts["landing_path"].state["page"] = "tree"

    async def started_url() -> str:
        async with server.lifespan():
            return server.open_url("http://127.0.0.1:8888/")

    # The token from auth survives the path the next plugin adds, and each plugin sees
    # its own context.
    assert anyio.run(started_url) == "http://127.0.0.1:8888/tree?token=secret"


def test_a_plugin_the_environment_calls_for_replaces_the_usual_provider():
    found = installed("alpha", "beta", "deployment_alpha")
    inside = resolve([], found, {"SAMPLE_DEPLOYMENT": "/user/alice/"})
    assert names(inside) == ["deployment_alpha", "beta"]
    assert names(resolve([], found, {})) == ["alpha", "beta"]


def test_a_required_provider_is_chosen_by_the_environment():
    found = installed("alpha", "beta", "deployment_alpha")
    assert names(resolve(["beta"], found, {"SAMPLE_DEPLOYMENT": "/x/"})) == [
        "deployment_alpha",
        "beta",
    ]
    assert names(resolve(["beta"], found, {})) == ["alpha", "beta"]


def test_a_plugin_named_in_the_selection_runs_whatever_the_environment():
    found = installed("alpha", "deployment_alpha")
    assert names(resolve(["deployment_alpha"], found, {})) == ["deployment_alpha"]


def test_an_enabled_plugin_sets_core_defaults_below_every_other_source(tmp_path):
    found = installed("deployment_alpha")
    env = {"SAMPLE_DEPLOYMENT": "/user/alice/"}
    server = build(gather(env=env, cli={"root_dir": str(tmp_path)}), found)
    assert server.settings.base_url == "/user/alice/"
    assert "deployment_alpha" in server.raw_settings.origin("core", "base_url")
    overridden = gather(
        env={**env, "MODSERVER_BASE_URL": "/mine/"}, cli={"root_dir": str(tmp_path)}
    )
    assert build(overridden, found).settings.base_url == "/mine/"
