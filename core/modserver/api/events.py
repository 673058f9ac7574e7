"""The Events service: structured, schema-validated events any plugin can emit.

The ``events`` plugin provides it (backed by ``jupyter_events``) and streams every event
to ``/api/events/subscribe``. A plugin emits without importing the provider: it lists
``Events`` in its ``optional`` (or ``requires``) and calls
``context.services.get_optional(Events)``; with no provider enabled it emits nothing.
Docs: docs/events.md.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from modserver.errors import RequestError

#: jupyter_server's schema of contents actions (save, rename, copy, delete, ...):
#: data ``{"action": ..., "path": ..., "source_path": ...}``. The provider registers it.
CONTENTS_SCHEMA_ID = "https://events.jupyter.org/jupyter_server/contents_service/v1"

#: jupyter_server's schema of kernel actions (start, interrupt, shutdown, restart): data
#: ``{"action", "kernel_id", "kernel_name", "status", "msg"}``. The provider registers it.
KERNEL_ACTIONS_SCHEMA_ID = "https://events.jupyter.org/jupyter_server/kernel_actions/v1"

#: One event as subscribers receive it: ``{"schema_id": ..., **data}`` (jupyter_server's
#: WebSocket shape).
EventMessage = dict[str, Any]


class InvalidEvent(RequestError):
    """An event names an unregistered schema or its data does not validate (400)."""

    status_code = 400


class Events(ABC):
    """Register event schemas, emit events, follow them as they happen."""

    @abstractmethod
    def register_schema(self, schema: Mapping[str, Any] | Path) -> str:
        """Register a JSON schema (a dict, or a ``.yaml``/``.json`` file); returns its ``$id``.

        The schema follows jupyter_events' rules: ``$id``, ``version``, ``type: object``
        and ``properties``. Registering the same ``$id`` twice is an error.
        """

    @abstractmethod
    def is_registered(self, schema_id: str) -> bool:
        """True when a schema with this ``$id`` is registered."""

    @abstractmethod
    def schema_version(self, schema_id: str) -> str:
        """The registered version of ``schema_id`` (``InvalidEvent`` if unregistered)."""

    @abstractmethod
    def emit(self, schema_id: str, data: Mapping[str, Any]) -> None:
        """Validate ``data`` against ``schema_id`` and deliver it to every subscriber.

        Raises ``InvalidEvent`` for an unregistered schema or invalid data. Call it from
        the event loop (not a worker thread); it never waits on a subscriber.
        """

    @abstractmethod
    def subscribe(self, listener: Callable[[EventMessage], None]) -> Callable[[], None]:
        """Call ``listener`` with every event emitted from now on; returns an unsubscribe.

        Listeners run on the event loop inside ``emit``: they must not block or raise
        (queue the message and return).
        """
