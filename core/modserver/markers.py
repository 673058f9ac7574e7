"""The pluggy markers shared by the core's hookspecs and every plugin's hook implementations."""

import pluggy

PROJECT_NAME = "modserver"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
