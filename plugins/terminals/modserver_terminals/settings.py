"""Settings of the ``[terminals]`` section (documented in docs/settings.md)."""

from __future__ import annotations

from modserver.settings import PluginSettings
from pydantic import Field


class TerminalsSettings(PluginSettings):
    """Which shell terminals run, how much they remember, when idle ones are ended."""

    shell_command: list[str] = Field(
        default_factory=list,
        description=(
            'The command a terminal runs, e.g. ["/bin/bash", "-i"]. Empty: the user\'s '
            "login shell ($SHELL, else the password database, else /bin/sh)."
        ),
    )
    scrollback_chars: int = Field(
        100_000,
        ge=0,
        description="Recent output kept per terminal and sent to a client that (re)connects.",
    )
    client_queue_chars: int = Field(
        4 * 1024 * 1024,
        ge=1,
        description="Characters of output a WebSocket may fall behind before it is dropped.",
    )
    stall_timeout: float = Field(
        10.0,
        gt=0,
        description=(
            "Seconds the shell's output may wait for clients that read nothing; then they are "
            "dropped and the shell goes on."
        ),
    )
    cull_inactive_timeout: float = Field(
        0,
        ge=0,
        description="End terminals with no input or output for this many seconds (0: never).",
    )
    cull_interval: float = Field(300, gt=0, description="Seconds between culling passes.")
    shutdown_wait: float = Field(
        1.0,
        ge=0,
        description="Seconds a terminal's processes get to exit after SIGHUP before SIGKILL.",
    )
