"""The environment of processes the server starts for users: kernels, terminals, tools.

Such a process runs whatever code its user wrote, so it must not inherit the server's own
secrets. Settings may come from the environment (``MODSERVER_AUTH__TOKEN``,
``MODSERVER_TOKEN``, ``MODSERVER_AUTH__PASSWORD_HASH``, ...): every ``MODSERVER_`` variable
is the server's business, none is passed on. Nor are the secret variables enabled plugins
declare (``Plugin.secret_environment``, e.g. the hub's ``JUPYTERHUB_API_TOKEN``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

#: Prefix of the variables the server reads its settings (and secrets) from.
SERVER_PREFIX = "MODSERVER_"

#: Other secret variables of this process, declared by the plugins enabled in it. The
#: environment is the process's, so this list is too (every app in it hides them).
_secret_variables: set[str] = set()


def hide_from_children(names: Iterable[str]) -> None:
    """Never pass the variables ``names`` (secrets a plugin reads) to a child process."""
    _secret_variables.update(name.upper() for name in names)


def is_server_variable(name: str) -> bool:
    """True for a variable the server reads and children must not see."""
    return name.upper().startswith(SERVER_PREFIX) or name.upper() in _secret_variables


def child_environment(
    extra: Mapping[str, str] | None = None, *, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``base`` (default: this process's environment) plus ``extra``, without server variables.

    ``extra`` comes from the caller (a kernelspec, a session name) and is filtered too: a
    child never receives a server variable, whoever asked for it.
    """
    merged = {**(os.environ if base is None else base), **(extra or {})}
    return {name: value for name, value in merged.items() if not is_server_variable(name)}
