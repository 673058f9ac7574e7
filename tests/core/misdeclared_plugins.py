"""Plugins that are declared wrongly, each in one way, for the misdeclaration tests.

Loaded through real entry points (see ``tests/core/test_misdeclarations.py``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from modserver import Plugin, PluginContext, hookimpl


class Widget:
    """A service interface."""


class TypoHookPlugin(Plugin):
    """Implements ``modserver_rotues``: a typo of ``modserver_routes``."""

    name = "typo_hook"

    @hookimpl
    def modserver_rotues(self, context: PluginContext) -> list[Any]:
        return []


class WrongArgumentPlugin(Plugin):
    """Asks ``modserver_status`` for an argument the hookspec does not pass."""

    name = "wrong_argument"

    @hookimpl
    def modserver_status(self, context: PluginContext, request: Any) -> dict[str, Any]:
        return {}


class OptionalForeignHookPlugin(Plugin):
    """Implements another plugin's hook, marked optional: fine when that plugin is off."""

    name = "optional_foreign_hook"

    @hookimpl(optionalhook=True)
    def lab_extension_paths(self) -> list[str]:
        return []


class ContentsHookUserPlugin(Plugin):
    """Implements a ``modserver.api`` service hook without any Contents provider enabled."""

    name = "contents_hook_user"

    @hookimpl
    def contents_post_save(self, model: dict[str, Any], path: str) -> None:
        return None


class AsyncHookPlugin(Plugin):
    """Implements a (plain) contents hook with ``async def``: the coroutine would never run."""

    name = "async_hook"

    @hookimpl
    async def contents_post_save(self, model: dict[str, Any], path: str) -> None:
        return None


class ForgetfulProviderPlugin(Plugin):
    """Declares that it provides ``Widget`` but never provides it."""

    name = "forgetful_provider"
    provides = (Widget,)


typo_hook = TypoHookPlugin()
async_hook = AsyncHookPlugin()
wrong_argument = WrongArgumentPlugin()
optional_foreign_hook = OptionalForeignHookPlugin()
contents_hook_user = ContentsHookUserPlugin()
forgetful_provider = ForgetfulProviderPlugin()


class EnvironmentReaderPlugin(Plugin):
    """Reads ``MODSERVER_SPECIAL`` itself, as auth reads ``MODSERVER_TOKEN``."""

    name = "environment_reader"
    environment = ("MODSERVER_SPECIAL",)


environment_reader = EnvironmentReaderPlugin()


async def _ok(request: Any) -> Any:
    from starlette.responses import PlainTextResponse

    return PlainTextResponse("ok")


class _DocumentedPlugin(Plugin):
    """Serves ``GET /widgets/{path:path}``; documents what ``paths`` says."""

    paths: ClassVar[dict[str, Any]] = {}

    @hookimpl
    def modserver_routes(self, context: PluginContext) -> list[Any]:
        from modserver.routing import route

        return [route("/widgets/{path:path}", _ok, public=True)]

    @hookimpl
    def modserver_openapi(self, context: PluginContext) -> dict[str, Any]:
        return {"paths": self.paths}


class WellDocumentedPlugin(_DocumentedPlugin):
    name = "well_documented"
    paths: ClassVar[dict[str, Any]] = {"/widgets/{path}": {"get": {}, "parameters": []}}


class MisdocumentedPlugin(_DocumentedPlugin):
    name = "misdocumented"
    paths: ClassVar[dict[str, Any]] = {
        "/widget/{path}": {"get": {}},
        "/widgets/{path}": {"get": {}, "delete": {}},
    }


class ErrorRedefiningPlugin(WellDocumentedPlugin):
    """Defines its own ``Error`` schema, which the core's operations already refer to."""

    name = "error_redefining"

    @hookimpl
    def modserver_openapi(self, context: PluginContext) -> dict[str, Any]:
        schema = {"type": "object", "properties": {"detail": {"type": "string"}}}
        return {"paths": self.paths, "components": {"schemas": {"Error": schema}}}


well_documented = WellDocumentedPlugin()
error_redefining = ErrorRedefiningPlugin()
misdocumented = MisdocumentedPlugin()
