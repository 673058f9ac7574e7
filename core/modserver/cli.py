"""The ``modserver`` command: run, plugins, config show, list, and plugin-added commands.

Errors in settings or plugin selection exit with status 2 and one line naming the key or
plugin and the fix; a plugin failing at startup exits 1. Never a traceback for user error.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from modserver.plugins import PluginError
from modserver.settings import CORE, RawSettings, SettingsError, gather

if TYPE_CHECKING:
    from pydantic import BaseModel

USAGE_ERROR = 2


@dataclass(frozen=True)
class Command:
    """A subcommand contributed by a plugin (hook ``modserver_commands``)."""

    name: str
    help: str
    run: Callable[[list[str]], int]


def _settings_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    # Validated with the other settings, so a bad value gets the same clear message.
    parser.add_argument("--port", help="port (default 8888, or the next free one)")
    parser.add_argument("--root-dir", dest="root_dir", help="folder to serve (default: cwd)")
    parser.add_argument("--base-url", dest="base_url", help="URL prefix, e.g. /jupyter/")
    parser.add_argument("--plugins", help="comma-separated plugins to enable (default: all)")
    parser.add_argument("--config", type=Path, help="TOML config file (default ./modserver.toml)")
    parser.add_argument("--log-level", dest="log_level", help="debug, info, warning, error")
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="set any setting, e.g. --set auth.token=abc (repeatable)",
    )


def _parser() -> argparse.ArgumentParser:
    from modserver.version import __version__

    parser = argparse.ArgumentParser(
        prog="modserver", description="A plugin-based, modular Jupyter server."
    )
    parser.add_argument("--version", action="version", version=f"modserver {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _settings_arguments(commands.add_parser("run", help="start the server"))
    _settings_arguments(commands.add_parser("plugins", help="list installed plugins"))
    config = commands.add_parser("config", help="show effective settings")
    config_commands = config.add_subparsers(dest="config_command", metavar="show")
    _settings_arguments(config_commands.add_parser("show", help="effective settings as TOML"))
    _settings_arguments(commands.add_parser("list", help="list running servers"))
    return parser


def _raw_settings(args: argparse.Namespace) -> RawSettings:
    flags = {
        key: getattr(args, key)
        for key in ("host", "port", "root_dir", "base_url", "plugins", "log_level")
    }
    return gather(config_file=args.config, cli=flags, cli_sets=args.sets)


def _setup_logging(level: str = "info") -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="[%(levelname).1s %(asctime)s %(name)s] %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )


def cmd_run(args: argparse.Namespace) -> int:
    """``modserver run``: build, then serve until stopped."""
    from modserver.app import assemble, build
    from modserver.server import run

    raw = _raw_settings(args)
    _setup_logging(str(raw.section(CORE).get("log_level", "info")))
    server = build(raw)
    return run(server, assemble(server, manage_lifespan=False))


def cmd_plugins(args: argparse.Namespace) -> int:
    """``modserver plugins``: every installed plugin, whether it would be enabled, what is wrong.

    Lists every plugin even when some are misdeclared (marked ``broken``, with the reason
    below the table): it is the tool to diagnose them. Exits 1 if anything is broken.
    """
    from modserver.diagnosis import survey
    from modserver.settings import validate_core

    problems: list[str] = []
    selected: list[str] | None
    try:
        selected = validate_core(_raw_settings(args)).plugins
    except SettingsError as exc:
        problems.append(f"settings: {exc}")
        selected = None  # which plugins would run is unknown
    result = survey(selected or [])
    rows = [("NAME", "VERSION", "PROVIDES", "REQUIRES", "ENABLED")]
    for report in result.reports:
        plugin = report.plugin
        if report.problems:
            enabled = "broken"
            problems.extend(f"{report.name}: {problem}" for problem in report.problems)
        else:
            enabled = "?" if selected is None else "yes" if report.name in result.enabled else "no"
        rows.append(
            (
                report.name,
                plugin.version if plugin else "?",
                _names(plugin.provides if plugin else ()),
                _names(plugin.requires if plugin else ()),
                enabled,
            )
        )
    if result.selection_problem:
        problems.append(f"the selected plugins cannot start: {result.selection_problem}")
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())
    if problems:
        print()
        for problem in dict.fromkeys(problems):  # a duplicate name: one line, not two
            print(f"problem: {problem}")
    return 1 if problems else 0


def _names(interfaces: tuple[type, ...]) -> str:
    return ", ".join(i.__name__ for i in interfaces) or "-"


def cmd_config_show(args: argparse.Namespace) -> int:
    """``modserver config show``: effective settings as TOML, each with its source.

    The output is valid ``modserver.toml``: pasted into one, it is accepted as it is.
    """
    from modserver.app import build
    from modserver.settings_toml import settings_toml

    raw = _raw_settings(args)
    server = build(raw)
    sections: list[tuple[str, BaseModel]] = [(CORE, server.settings)]
    for plugin in server.plugins:
        section = server.contexts[plugin.name].settings
        if section is not None:
            sections.append((plugin.name, section))
    print(settings_toml(sections, raw), end="")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """``modserver list``: running servers recorded in the runtime folder."""
    from modserver.runtime_file import running_servers
    from modserver.settings import validate_core

    servers = running_servers(validate_core(_raw_settings(args)).runtime_dir)
    if not servers:
        print("no running servers")
    for info in servers:
        print(f"{info.get('open_url', info.get('url'))} :: {info.get('root_dir')}")
    return 0


def _plugin_command(name: str) -> Command | None:
    """Find a subcommand that an installed plugin contributes."""
    import pluggy

    from modserver import hookspecs
    from modserver.markers import PROJECT_NAME
    from modserver.plugins import discover, load

    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for item in discover().values():
        pm.register(load(item), name=item.name)
    for commands in pm.hook.modserver_commands():
        for command in commands or []:
            if command.name == name:
                return command  # type: ignore[no-any-return]
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``modserver`` command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    core_commands = {"run", "plugins", "config", "list"}
    try:
        if argv and not argv[0].startswith("-") and argv[0] not in core_commands:
            command = _plugin_command(argv[0])
            if command is not None:
                return command.run(argv[1:])
        args = _parser().parse_args(argv)
        if args.command == "run":
            return cmd_run(args)
        if args.command == "plugins":
            return cmd_plugins(args)
        if args.command == "config" and args.config_command == "show":
            return cmd_config_show(args)
        if args.command == "list":
            return cmd_list(args)
        _parser().print_help()
        return USAGE_ERROR
    except (SettingsError, PluginError) as exc:
        print(f"modserver: error: {exc}", file=sys.stderr)
        return USAGE_ERROR


def _forget_working_folder() -> None:
    """Drop the working folder that ``python -m`` put first on ``sys.path``.

    The server is often started in the folder it serves, which other users may write: a
    planted ``ipykernel.py`` would otherwise run inside the server at its first lazy
    import (the ``modserver`` console script never has this entry).
    """
    if not getattr(sys.flags, "safe_path", False) and sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]


if __name__ == "__main__":  # pragma: no cover
    _forget_working_folder()
    sys.exit(main())
