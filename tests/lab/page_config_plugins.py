"""Plugins that add to the frontends' page config, loaded through real EntryPoint objects."""

from __future__ import annotations

from typing import Any

from modserver import Plugin, PluginContext, hookimpl
from modserver.api.frontend import FrontendHooks


class _TerminalsFlag(Plugin):
    """What a terminals plugin does: tell the UI that terminals are there."""

    name = "terminals_flag"

    @hookimpl
    def frontend_page_config(
        self, page_config: dict[str, Any], context: PluginContext
    ) -> dict[str, Any]:
        context.state["calls"] = context.state.get("calls", 0) + 1
        # Sees what was built so far (and its own context, per app).
        return {
            "terminalsAvailable": True,
            "seenAppName": page_config["appName"],
            "contributor": context.state.get("label", context.name),
        }


class _Silent(Plugin):
    """Implements the hook and adds nothing."""

    name = "silent"

    @hookimpl
    def frontend_page_config(self, page_config: dict[str, Any]) -> None:
        return None


class _OtherFrontend(Plugin):
    """A second frontend calling the same shared hook (its pages are not served here)."""

    name = "other_frontend"
    hookspecs = FrontendHooks


terminals_flag = _TerminalsFlag()
other_frontend = _OtherFrontend()
silent = _Silent()
