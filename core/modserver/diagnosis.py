"""What ``modserver plugins`` shows: every installed plugin, and what is wrong with each.

``modserver run`` stops at the first misdeclared plugin; this survey goes on past every
problem, so it is the tool to find them: each plugin is loaded and checked on its own
(import, declaration, duplicate name, hook names and arguments, required services), then
the selection that ``run`` would start is resolved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from modserver.settings import RawSettings

from modserver.plugin import Plugin
from modserver.plugins import (
    InstalledPlugin,
    PluginError,
    duplicate_problem,
    hook_manager,
    hook_problems,
    installed_entries,
    load,
    resolve,
)


@dataclass
class PluginReport:
    """One installed plugin: the loaded plugin (None if it cannot load) and its problems."""

    entry: InstalledPlugin
    plugin: Plugin | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.entry.name


@dataclass
class Survey:
    """Every installed plugin's report, the plugins ``run`` would enable, and why not."""

    reports: list[PluginReport]
    enabled: set[str]
    selection_problem: str | None


def survey(selected: list[str], environ: Mapping[str, str] | None = None) -> Survey:
    """Load and check every installed plugin, then resolve the ``selected`` plugins.

    An empty ``selected`` is the default selection in the process environment ``environ``.
    """
    reports = _load_each(installed_entries())
    loaded = [r for r in reports if r.plugin is not None and not r.problems]
    _check_hooks(loaded)
    _check_requirements(loaded)
    # What `run` would start, among the plugins without problems.
    usable = {r.name: r.entry for r in loaded if not r.problems}
    broken = sorted({r.name for r in reports if r.problems} & set(selected))
    if broken:
        return Survey(reports, set(), f"selected plugins are broken: {', '.join(broken)}")
    try:
        enabled = {p.name for p in resolve(selected, usable, environ)}
    except PluginError as exc:
        return Survey(reports, set(), str(exc))
    return Survey(reports, enabled, None)


def assembly_problem(raw: RawSettings) -> str | None:
    """Why the app ``run`` would serve cannot be built (its plugins' settings, routes and
    OpenAPI fragments), or None. Nothing starts: no lifespan runs."""
    from modserver.app import assemble, build
    from modserver.settings import SettingsError

    try:
        assemble(build(raw), manage_lifespan=False)
    except (PluginError, SettingsError) as exc:
        return str(exc)
    return None


def _load_each(entries: Iterable[InstalledPlugin]) -> list[PluginReport]:
    reports: list[PluginReport] = []
    by_name: dict[str, PluginReport] = {}
    for entry in entries:
        report = PluginReport(entry)
        first = by_name.get(entry.name)
        if first is not None:
            problem = duplicate_problem(first.entry, entry)
            if problem is None:
                continue  # the same plugin seen twice: list it once
            first.problems.append(problem)
            report.problems.append(problem)
        else:
            by_name[entry.name] = report
        try:
            report.plugin = load(entry)
        except PluginError as exc:
            report.problems.append(str(exc))
        reports.append(report)
    return reports


def _check_hooks(reports: list[PluginReport]) -> None:
    """Hooks no installed plugin's hookspec declares, with arguments it does not pass, or
    async where the hookspec is not."""
    pm = hook_manager(r.plugin for r in reports if r.plugin is not None)
    registered = []
    for report in reports:
        assert report.plugin is not None
        try:
            pm.register(report.plugin, name=report.name)
        except pluggy.PluginValidationError as exc:
            report.problems.append(" ".join(str(exc).split()))
        else:
            registered.append(report)
    for report in registered:
        assert report.plugin is not None
        report.problems.extend(hook_problems(pm, report.plugin))


def _check_requirements(reports: list[PluginReport]) -> None:
    """A required service that no loadable installed plugin provides."""
    provided = {i for r in reports if r.plugin for i in r.plugin.provides}
    for report in reports:
        assert report.plugin is not None
        for interface in report.plugin.requires:
            if interface not in provided:
                report.problems.append(
                    f"plugin {report.name!r} requires service {interface.__name__}, which no "
                    "installed plugin that loads provides: install (or fix) one that does"
                )
