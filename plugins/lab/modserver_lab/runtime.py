"""The lab plugin's running state in one app: what was discovered, templates, caches.

Made on first use and kept in the plugin's ``context.state`` (never on the plugin object:
two apps in one process have two runtimes). ``start`` runs in the lifespan, after the
discovery finished in a worker thread; routes read the runtime only while the app runs.
The page templates (jinja2) compile after the server listens, in a warm-up, or on the
first page that needs them before that, in a worker thread.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from modserver.routing import current_user
from starlette.requests import Request

from modserver_lab.page_config import at_prefix, base_page_config, merge_contributions
from modserver_lab.settings import LabSettings
from modserver_lab.static_files import GzipCache
from modserver_lab.user_extensions import Locks, UserExtensions, read_choices
from modserver_lab.user_files import UserFolder

if TYPE_CHECKING:
    import jinja2
    from modserver import PluginContext

    from modserver_lab.discovery import Frontends

STATE_KEY = "runtime"

MAX_PREFIXES = 16

NOTEBOOK_TEMPLATES = ("tree.html", "notebooks.html", "edit.html", "consoles.html", "terminals.html")


class LabRuntime:
    """Per-app state: frontends, compiled page templates, page config, gzip cache."""

    def __init__(self, context: PluginContext) -> None:
        self.context = context
        self.settings = context.settings_as(LabSettings)
        self.gzip_cache = GzipCache()
        self._frontends: Frontends | None = None
        self._templates: dict[str, jinja2.Template] | None = None
        self._templates_lock = threading.Lock()
        self.favicon = b""
        self._base_config: dict[str, Any] | None = None
        self._contributions: list[dict[str, Any]] | None = None
        self._page_configs: dict[str, dict[str, Any]] = {}
        self._user_settings_base: Path | None = None
        self._choices_lock: anyio.Lock | None = None

    def prepare(self) -> Frontends:
        """Discover the frontends and read the favicon (blocking: run in a thread)."""
        from importlib.resources import files

        from modserver_lab.discovery import discover

        frontends = discover(
            app_dir=self.settings.app_dir,
            extra_labextensions_path=self.settings.extra_labextensions_path,
            disabled_setting=self.settings.disabled_extensions,
        )
        # One icon for every favicon name the pages use (busy, notebook, file, ...).
        self.favicon = files("modserver_lab").joinpath("favicon.ico").read_bytes()
        return frontends

    def compile_templates(self) -> None:
        """Compile the page templates once (blocking: a warm-up, or a worker thread).

        Importing jinja2 and compiling the pages took ~40 ms of CPU before the server
        listened; no request but a page needs them.
        """
        from modserver.imports import late_import

        frontends = self.frontends
        with late_import("jinja2"), self._templates_lock:
            if self._templates is not None:
                return
            import jinja2

            templates = {}
            # autoescape: the templates also escape by hand; a value never reaches HTML raw.
            lab = jinja2.Environment(
                loader=jinja2.FileSystemLoader(frontends.lab_static), autoescape=True
            )
            templates["lab"] = lab.get_template("index.html")
            notebook = jinja2.Environment(
                loader=jinja2.FileSystemLoader(frontends.notebook_templates), autoescape=True
            )
            for name in NOTEBOOK_TEMPLATES:
                templates[name] = notebook.get_template(name)
            self._templates = templates

    def start(self, frontends: Frontends) -> None:
        """Keep what ``prepare`` found and build the shared part of the page config."""
        core = self.context.core
        self._frontends = frontends
        self._base_config = base_page_config(
            frontends,
            self.settings,
            root_dir=core.root_dir.expanduser().resolve(),
            can_quit=self.context.server.can_shut_down,
        )

    def stop(self) -> None:
        """Forget the running state (the app stopped)."""
        self._frontends = None
        self._templates = None  # the next start may find other frontends
        self._base_config = self._contributions = None
        self._page_configs.clear()

    @property
    def running(self) -> bool:
        """True between startup and shutdown of the app."""
        return self._frontends is not None

    @property
    def frontends(self) -> Frontends:
        """What discovery found (the app must be running)."""
        if self._frontends is None:
            raise RuntimeError("the lab plugin is not running")
        return self._frontends

    async def template(self, name: str) -> jinja2.Template:
        """A compiled page template: ``lab`` (index.html) or a Notebook 7 page."""
        templates = self._templates
        if templates is None:  # a page before the warm-up finished: compile off the loop
            await anyio.to_thread.run_sync(self.compile_templates)
            templates = self._templates
            if templates is None:
                raise RuntimeError("the lab plugin is not running")
        return templates[name]

    def page_config(self, prefix: str) -> dict[str, Any]:
        """The shared page config for the app at URL path ``prefix``, with every plugin's part.

        The hook runs once, at the first page rather than at startup, so every plugin has
        started (one that starts after this plugin may contribute too). Later pages reuse
        the result: a page costs a dict copy and the template, no hook and no I/O.
        """
        config = self._page_configs.get(prefix)
        if config is not None:
            return config
        if self._base_config is None:
            raise RuntimeError("the lab plugin is not running")
        if self._contributions is None:
            shown = at_prefix(self._base_config, self.context.core.base_url)
            self._contributions = self.context.hook.frontend_page_config(page_config=shown)
        config = merge_contributions(at_prefix(self._base_config, prefix), self._contributions)
        if len(self._page_configs) < MAX_PREFIXES:  # one per mount path: a handful at most
            self._page_configs[prefix] = config
        return config

    def user_folder(self, request: Request) -> UserFolder:
        """The caller's folder in the user-settings folder (the lab API's, user_files.py)."""
        if self._user_settings_base is None:
            from modserver_lab.lab_api import user_settings_folder

            self._user_settings_base = user_settings_folder(self.settings)
        return UserFolder.of(self._user_settings_base, current_user(request))

    async def user_extensions(self, request: Request, prefix: str) -> UserExtensions:
        """What the caller has on and off: the server's configuration, then their own list."""
        chosen = await anyio.to_thread.run_sync(read_choices, self.user_folder(request))
        return self.extensions_for(chosen, prefix)

    def extensions_for(self, chosen: frozenset[str], prefix: str) -> UserExtensions:
        """A user's view, given what they disabled themselves."""
        frontends = self.frontends
        # What other plugins added to the page config's list is the server's choice too.
        added = set(self.page_config(prefix)["disabledExtensions"]) - set(frontends.disabled)
        return UserExtensions(
            installed=frontends.installed,
            server_disabled=frontends.config_disabled | added,
            chosen=chosen,
            locks=Locks(self.settings.lock_all_plugins, frozenset(self.settings.locked_plugins)),
        )

    @property
    def choices_lock(self) -> anyio.Lock:
        """Held while a user's list is read, changed and written (one change at a time)."""
        if self._choices_lock is None:
            self._choices_lock = anyio.Lock()
        return self._choices_lock


def lab_runtime(context: PluginContext) -> LabRuntime:
    """The app's ``LabRuntime``, made on first use."""
    runtime = context.state.get(STATE_KEY)
    if not isinstance(runtime, LabRuntime):
        runtime = LabRuntime(context)
        context.state[STATE_KEY] = runtime
    return runtime
