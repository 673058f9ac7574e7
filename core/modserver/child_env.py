"""The environment of processes the server starts for users: kernels, terminals, tools.

Such a process runs whatever code its user wrote, so it must not inherit the server's own
secrets. Settings may come from the environment (``MODSERVER_AUTH__TOKEN``,
``MODSERVER_TOKEN``, ``MODSERVER_AUTH__PASSWORD_HASH``, ...): every ``MODSERVER_`` variable
is the server's business, none is passed on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

#: Prefix of the variables the server reads its settings (and secrets) from.
SERVER_PREFIX = "MODSERVER_"


def is_server_variable(name: str) -> bool:
    """True for a variable the server reads and children must not see."""
    return name.upper().startswith(SERVER_PREFIX)


def child_environment(
    extra: Mapping[str, str] | None = None, *, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``base`` (default: this process's environment) plus ``extra``, without server variables.

    ``extra`` comes from the caller (a kernelspec, a session name) and is filtered too: a
    child never receives a server variable, whoever asked for it.
    """
    merged = {**(os.environ if base is None else base), **(extra or {})}
    return {name: value for name, value in merged.items() if not is_server_variable(name)}
