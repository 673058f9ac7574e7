"""``EventBus``: the ``Events`` service over a ``jupyter_events.EventLogger``, one per app.

jupyter_events holds the schema registry, validates each event and builds its record; a
logging handler of ours hands every record to the subscribers (the WebSockets of
``subscriber``, or listeners of other plugins), synchronously and without waiting on any
of them. jupyter_events' own listener API is not used: it starts a fire-and-forget
asyncio task per event and listener. jupyter_events imports jsonschema, which takes
~0.2 s (under ``late_import``, which defers its IRI grammar): the logger is made on first
need (``prepare``, run as the plugin's warm-up after startup), and the plugin's own
trusted schemas wait for it (``trusted_schemas``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modserver.api.events import EventMessage, Events, InvalidEvent
from modserver.imports import late_import

if TYPE_CHECKING:
    from jupyter_events import EventLogger

log = logging.getLogger("modserver.events")

Listener = Callable[[EventMessage], None]


def _schema_errors() -> tuple[type[Exception], ...]:
    from jsonschema import ValidationError
    from jupyter_events.schema import EventSchemaLoadingError
    from jupyter_events.schema_registry import SchemaRegistryException

    return (EventSchemaLoadingError, SchemaRegistryException, ValidationError, ValueError)


class _Deliver(logging.Handler):
    """The logging handler jupyter_events writes each validated record to."""

    def __init__(self, deliver: Callable[[dict[str, Any]], None]) -> None:
        super().__init__()
        self._deliver = deliver

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, dict):
            self._deliver(record.msg)


class EventBus(Events):
    """Registered schemas and the subscribers of one app."""

    def __init__(self, trusted_schemas: list[dict[str, Any]] | None = None) -> None:
        """``trusted_schemas`` (shipped with the plugin, known valid) are registered with
        jupyter_events when its logger is made; others are checked as they come."""
        self._logger: EventLogger | None = None
        self._pending = list(trusted_schemas or [])
        self._versions = {str(s["$id"]): str(s["version"]) for s in self._pending}
        self._making = threading.Lock()  # prepare() runs in a worker thread
        self._handler = _Deliver(self._deliver)
        self._listeners: list[Listener] = []

    def prepare(self) -> EventLogger:
        """Make jupyter_events' logger (importing it) and register the pending schemas."""
        # The late-import lock first, as a warm-up takes them (jupyter_events is imported).
        with late_import("jsonschema"), self._making:
            if self._logger is None:
                from jupyter_events import EventLogger

                logger = EventLogger()
                logger.register_handler(self._handler)
                for schema in self._pending:
                    logger.register_event_schema(schema)
                self._pending.clear()
                self._logger = logger
            return self._logger

    def close(self) -> None:
        """Detach from jupyter_events' logger (the app stops)."""
        if self._logger is not None:
            self._logger.remove_handler(self._handler)
        self._listeners.clear()

    def register_schema(self, schema: Mapping[str, Any] | Path) -> str:
        """Register a schema (dict or YAML/JSON file); returns its ``$id`` (see ``Events``).

        It is checked at once, so the first call may wait for jupyter_events' import
        (``prepare``) when the warm-up has not made the logger yet.
        """
        loaded = load_schema(schema) if isinstance(schema, Path) else dict(schema)
        logger = self.prepare()
        try:
            logger.register_event_schema(loaded)
        except _schema_errors() as exc:
            message = getattr(exc, "message", str(exc))
            raise ValueError(f"invalid event schema {loaded.get('$id')!r}: {message}") from exc
        self._versions[str(loaded["$id"])] = str(logger.schemas.get(loaded["$id"]).version)
        return str(loaded["$id"])

    def is_registered(self, schema_id: str) -> bool:
        """True when ``schema_id`` is registered."""
        return schema_id in self._versions

    def schema_version(self, schema_id: str) -> str:
        """The registered version of ``schema_id``."""
        if not self.is_registered(schema_id):
            raise InvalidEvent(_unregistered(schema_id))
        return self._versions[schema_id]

    def emit(
        self, schema_id: str, data: Mapping[str, Any], *, timestamp: datetime | None = None
    ) -> None:
        """Validate and deliver an event (``InvalidEvent`` if it does not validate)."""
        if not self.is_registered(schema_id):
            raise InvalidEvent(_unregistered(schema_id))
        logger = self.prepare()
        from jsonschema import ValidationError  # imported by prepare()

        try:
            logger.emit(schema_id=schema_id, data=dict(data), timestamp_override=timestamp)
        except ValidationError as exc:
            raise InvalidEvent(f"Invalid data for {schema_id}: {exc.message}") from None

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every event from now on; returns the unsubscribe."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    @property
    def subscribers(self) -> int:
        """How many listeners follow the events (``/api/status``)."""
        return len(self._listeners)

    def _deliver(self, record: dict[str, Any]) -> None:
        # The record carries jupyter_events' metadata (__timestamp__, __schema__, ...);
        # subscribers get jupyter_server's shape: the schema id and the data.
        message: EventMessage = {"schema_id": record["__schema__"]}
        message.update((k, v) for k, v in record.items() if not k.startswith("__"))
        for listener in list(self._listeners):
            try:
                listener(message)
            except Exception:
                log.exception("event listener %r failed", listener)


def load_schema(path: Path) -> dict[str, Any]:
    """Read a schema file (YAML, or JSON which is YAML too). Blocking: call at startup."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, when PyYAML has it
    loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    return _schema_mapping(loaded, path)


def load_shipped_schema(path: Path) -> dict[str, Any]:
    """Read a schema file shipped with the plugin, parsed once per installed file
    (``modserver.packaged_yaml``): it is read at every start. Blocking."""
    from modserver.packaged_yaml import load_packaged_yaml

    return _schema_mapping(load_packaged_yaml(path), path)


def _schema_mapping(loaded: Any, path: Path) -> dict[str, Any]:
    if not isinstance(loaded, dict):
        raise ValueError(f"{path}: an event schema is a mapping")
    return loaded


def _unregistered(schema_id: str) -> str:
    return f"Unregistered event schema: {schema_id!r} (register it before emitting)"
