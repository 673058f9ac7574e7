"""Hooks a frontend plugin (JupyterLab, Notebook 7) calls so other plugins can shape its pages.

The frontend plugin lists ``FrontendHooks`` as its ``Plugin.hookspecs`` and calls them
through ``context.hook``; any plugin implements them without importing the frontend. A
terminals plugin, for instance, answers ``{"terminalsAvailable": True}`` so the UI shows
terminals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modserver.markers import hookspec

if TYPE_CHECKING:
    from modserver.plugin import PluginContext


class FrontendHooks:
    """Hooks a frontend provider calls; other plugins implement them (no import needed)."""

    @hookspec
    def frontend_page_config(
        self, page_config: dict[str, Any], context: PluginContext
    ) -> dict[str, Any] | None:
        """Return keys to merge into the page config (``jupyter-config-data``) of every page.

        Called once per app, when the first page is rendered, after every plugin started;
        ``page_config`` is the config built so far (read it, do not change it). Answers merge
        in dependency order, so a later plugin's key wins. Return None to add nothing.
        """
