"""Find plugins through entry points, select them, add what they require, order them.

Every check here runs before any plugin starts: unknown names, import failures, missing
or doubly provided services and dependency cycles are errors that name the plugins and
the fix. Only the selected plugins (and the providers they need) are imported.
"""

from __future__ import annotations

import difflib
import inspect
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

import pluggy

from modserver import hookspecs
from modserver.api.contents import ContentsHooks
from modserver.api.frontend import FrontendHooks
from modserver.markers import PROJECT_NAME
from modserver.plugin import Plugin

ENTRY_POINT_GROUP = "modserver.plugins"

log = logging.getLogger("modserver.plugins")

#: Hooks that any provider of a ``modserver.api`` service calls. They are always declared,
#: so a plugin may implement them whether or not a provider is enabled.
SERVICE_HOOKSPECS: tuple[object, ...] = (ContentsHooks, FrontendHooks)


class PluginError(Exception):
    """The plugin selection cannot start; the message names the plugins and the fix."""


@dataclass(frozen=True)
class InstalledPlugin:
    """A plugin's entry point, before it is imported."""

    name: str
    entry_point: EntryPoint

    @property
    def distribution_name(self) -> str:
        """The distribution that registers it: what ``pip uninstall`` takes."""
        dist = self.entry_point.dist
        return dist.name if dist else "?"

    @property
    def distribution(self) -> str:
        """The distribution's name and version, e.g. ``modserver-hello 1.2.3``."""
        dist = self.entry_point.dist
        return f"{dist.name} {dist.version}" if dist else "an unknown distribution"


def installed_entries() -> list[InstalledPlugin]:
    """Every entry point of the group, duplicates included, sorted by name."""
    entries = [InstalledPlugin(ep.name, ep) for ep in entry_points(group=ENTRY_POINT_GROUP)]
    return sorted(entries, key=lambda entry: entry.name)


def duplicate_problem(first: InstalledPlugin, second: InstalledPlugin) -> str | None:
    """Why two entry points of one name cannot both be installed (None if they agree).

    The same target from two places (an editable install seen twice) is no conflict.
    """
    if first.entry_point.value == second.entry_point.value:
        return None
    return (
        f"two installed distributions register plugin {first.name!r}: "
        f"{first.distribution} ({first.entry_point.value}) and "
        f"{second.distribution} ({second.entry_point.value}); uninstall one with "
        f"`pip uninstall {second.distribution_name}` (or {first.distribution_name})"
    )


def discover() -> dict[str, InstalledPlugin]:
    """Return every installed plugin by name (built-ins are found the same way)."""
    found: dict[str, InstalledPlugin] = {}
    for entry in installed_entries():
        if entry.name in found:
            problem = duplicate_problem(found[entry.name], entry)
            if problem:
                raise PluginError(problem)
        found[entry.name] = entry
    return found


def load(installed: InstalledPlugin) -> Plugin:
    """Import one plugin and check its declaration."""
    try:
        obj = installed.entry_point.load()
    except Exception as exc:
        raise PluginError(
            f"plugin {installed.name!r} failed to import ({installed.entry_point.value}): "
            f"{type(exc).__name__}: {exc}; reinstall it, or leave it out of --plugins"
        ) from exc
    plugin = obj() if isinstance(obj, type) else obj
    if not isinstance(plugin, Plugin):
        raise PluginError(
            f"entry point {installed.name!r} ({installed.entry_point.value}) is not a "
            "modserver.Plugin: point it at a Plugin instance"
        )
    if plugin.name != installed.name:
        raise PluginError(
            f"entry point {installed.name!r} loads a plugin named {plugin.name!r}: "
            "the entry-point name and Plugin.name must match"
        )
    return plugin


def resolve(
    selected: Iterable[str] | None,
    installed: dict[str, InstalledPlugin],
    environ: Mapping[str, str] | None = None,
) -> list[Plugin]:
    """Return the plugins to run, required providers added, in dependency order.

    ``selected`` None or empty means the default selection: every installed plugin, as
    ``environ`` (the process environment; default none) sorts them (``Plugin.detect``).
    """
    environ = environ or {}
    names = list(dict.fromkeys(selected or ()))
    unknown = [n for n in names if n not in installed]
    if unknown:
        raise PluginError(
            f"unknown plugin{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"installed: {', '.join(installed) or 'none'}"
        )
    if names:
        chosen: dict[str, Plugin] = {n: load(installed[n]) for n in names}
    else:
        chosen = _default_selection({n: load(i) for n, i in installed.items()}, environ)
    _check_single_providers(chosen.values())
    _add_required_providers(chosen, installed, environ)
    return _dependency_order(list(chosen.values()))


def _default_selection(plugins: dict[str, Plugin], environ: Mapping[str, str]) -> dict[str, Plugin]:
    """Every plugin the environment does not rule out; detected ones replace rivals.

    A rival is a plugin without an opinion (``detect`` None) providing a service that a
    detected plugin (``detect`` True) provides too: inside JupyterHub, ``jupyterhub``
    replaces ``auth`` as the provider of ``Identity``.
    """
    verdicts = {name: plugin.detect(environ) for name, plugin in plugins.items()}
    detected = [plugins[n] for n, v in verdicts.items() if v is True]
    chosen = {}
    for name, plugin in plugins.items():
        if verdicts[name] is False:
            continue
        rivals = [
            d for d in detected if verdicts[name] is None and set(d.provides) & set(plugin.provides)
        ]
        if rivals:
            log.info("plugin %r replaces %r in this environment", rivals[0].name, name)
            continue
        chosen[name] = plugin
    return chosen


def _providers(plugins: Iterable[Plugin]) -> dict[type, list[Plugin]]:
    result: dict[type, list[Plugin]] = {}
    for plugin in plugins:
        for interface in plugin.provides:
            result.setdefault(interface, []).append(plugin)
    return result


def _check_single_providers(plugins: Iterable[Plugin]) -> None:
    for interface, providers in _providers(plugins).items():
        if len(providers) > 1:
            who = " and ".join(repr(p.name) for p in providers)
            raise PluginError(
                f"service {interface.__name__} is provided by both {who}: "
                "enable only one of them with --plugins"
            )


def _add_required_providers(
    chosen: dict[str, Plugin], installed: dict[str, InstalledPlugin], environ: Mapping[str, str]
) -> None:
    """Add, one at a time, the installed plugin that provides a missing required service.

    Plugins the environment rules out (``detect`` False) are never added; when some
    candidates are detected (True), only those are considered.
    """
    candidates: dict[str, Plugin] | None = None
    while True:
        missing = _first_missing(chosen.values())
        if missing is None:
            return
        requirer, interface = missing
        if candidates is None:
            # Import the remaining plugins only when something is missing.
            candidates = {n: load(i) for n, i in installed.items() if n not in chosen}
        providers = _preferred(
            [p for n, p in candidates.items() if n not in chosen and interface in p.provides],
            environ,
        )
        if not providers:
            raise PluginError(
                f"plugin {requirer.name!r} requires service {interface.__name__}, but no "
                "installed plugin provides it: install one that does, or leave "
                f"{requirer.name!r} out of --plugins"
            )
        if len(providers) > 1:
            who = ", ".join(repr(p.name) for p in providers)
            raise PluginError(
                f"plugin {requirer.name!r} requires service {interface.__name__}, which "
                f"several installed plugins provide ({who}): name one in --plugins"
            )
        provider = providers[0]
        log.info(
            "adding plugin %r: %r requires %s, which it provides",
            provider.name,
            requirer.name,
            interface.__name__,
        )
        chosen[provider.name] = provider
        _check_single_providers(chosen.values())


def _preferred(providers: list[Plugin], environ: Mapping[str, str]) -> list[Plugin]:
    """The providers this environment allows, only the detected ones if there are any."""
    verdicts = [(p, p.detect(environ)) for p in providers]
    detected = [p for p, verdict in verdicts if verdict is True]
    return detected or [p for p, verdict in verdicts if verdict is None]


def _first_missing(plugins: Iterable[Plugin]) -> tuple[Plugin, type] | None:
    plugins = list(plugins)
    provided = _providers(plugins)
    for plugin in plugins:
        for interface in plugin.requires:
            if interface not in provided:
                return plugin, interface
    return None


def _dependency_order(plugins: list[Plugin]) -> list[Plugin]:
    """Topological order (providers first), ties broken by name; cycles are errors."""
    provided = _providers(plugins)
    deps: dict[str, set[str]] = {}
    for plugin in plugins:
        needs = plugin.requires + plugin.optional
        deps[plugin.name] = {
            p.name for i in needs for p in provided.get(i, []) if p.name != plugin.name
        }
    by_name = {p.name: p for p in plugins}
    ordered: list[Plugin] = []
    done: set[str] = set()
    while len(done) < len(plugins):
        ready = sorted(n for n in by_name if n not in done and deps[n] <= done)
        if not ready:
            raise PluginError(_describe_cycle(deps, done))
        done.add(ready[0])
        ordered.append(by_name[ready[0]])
    return ordered


def _describe_cycle(deps: dict[str, set[str]], done: set[str]) -> str:
    start = sorted(n for n in deps if n not in done)[0]
    path = [start]
    while True:
        nxt = sorted(d for d in deps[path[-1]] if d not in done)[0]
        if nxt in path:
            cycle = [*path[path.index(nxt) :], nxt]
            break
        path.append(nxt)
    return (
        f"plugin dependency cycle: {' -> '.join(cycle)} (each requires a service the next "
        "provides); make one of these requirements `optional`, or disable one plugin"
    )


def plugin_manager(plugins: Sequence[Plugin]) -> pluggy.PluginManager:
    """A pluggy manager knowing every hookspec, with ``plugins`` registered in order.

    A hook implementation that no hookspec declares (a typo such as ``modserver_rotues``),
    that asks for arguments its hookspec does not pass, or that is an ``async def`` (hooks
    are plain calls: the coroutine would never run) is a ``PluginError`` naming the plugin
    and the fix, before anything starts.
    """
    pm = hook_manager(plugins)
    for plugin in plugins:
        try:
            pm.register(plugin, name=plugin.name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(
                f"plugin {plugin.name!r} implements a hook with arguments its hookspec does "
                f"not pass: {_first_line(exc)}; accept only the hookspec's arguments"
            ) from None
    for plugin in plugins:
        problems = hook_problems(pm, plugin)
        if problems:
            raise PluginError(problems[0])
    return pm


def hook_manager(plugins: Iterable[Plugin]) -> pluggy.PluginManager:
    """A pluggy manager with the core's, the services' and these plugins' hookspecs."""
    pm = pluggy.PluginManager(PROJECT_NAME)
    declared: list[object] = [hookspecs, *SERVICE_HOOKSPECS]
    for plugin in plugins:
        if plugin.hookspecs is not None and plugin.hookspecs not in declared:
            declared.append(plugin.hookspecs)
    for namespace in declared:
        pm.add_hookspecs(namespace)  # type: ignore[arg-type]
    return pm


def hook_problems(pm: pluggy.PluginManager, plugin: Plugin) -> list[str]:
    """One message per hook implementation of ``plugin`` that no hookspec declares, or
    that is a coroutine function where its hookspec is a plain function."""
    known = sorted(name for name in vars(pm.hook) if not name.startswith("_"))
    known = [name for name in known if getattr(pm.hook, name).has_spec()]
    problems = []
    for caller in pm.get_hookcallers(plugin) or []:
        own = [i for i in caller.get_hookimpls() if i.plugin is plugin]
        spec_is_plain = caller.spec is not None and not _is_async(caller.spec.function)
        if spec_is_plain and any(_is_async(i.function) for i in own):
            problems.append(
                f"plugin {plugin.name!r} implements hook {caller.name!r} with an async "
                "def, but hooks are called without await: the coroutine would never "
                "run; make it a plain def (start async work in context.task_group, or "
                "do it in the plugin's lifespan)"
            )
        if caller.has_spec() or all(i.optionalhook for i in own):
            continue
        close = difflib.get_close_matches(caller.name, known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        problems.append(
            f"plugin {plugin.name!r} implements hook {caller.name!r}, which no hookspec "
            f"declares: {hint}fix the name, or mark it @hookimpl(optionalhook=True) if "
            "it belongs to a plugin that may not be enabled"
        )
    return problems


def _is_async(function: object) -> bool:
    return inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function)


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())
