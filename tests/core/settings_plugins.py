"""A plugin whose settings hold a list, a table of tables and a flag, for the settings tests.

Loaded through a real entry point (see ``tests/core/test_settings.py``).
"""

from __future__ import annotations

from modserver import Plugin
from modserver.settings import PluginSettings


class Person(PluginSettings):
    role: str = "viewer"


class TablesSettings(PluginSettings):
    names: list[str] = []
    people: dict[str, Person] = {}
    loud: bool = False


class TablesPlugin(Plugin):
    name = "tables"
    settings = TablesSettings


tables = TablesPlugin()
