"""The fork events' schema (jupyter-server-ydoc's ``events/fork.yaml``) and its registration.

Apart from the forks (``forks``, built on pycrdt), so that the routes and the lifespan
need no pycrdt at startup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modserver.api.events import Events

FORK_EVENTS = "https://schema.jupyter.org/jupyter_collaboration/fork/v1"

#: jupyter-server-ydoc's fork event schema (``events/fork.yaml``), for ``Events``.
FORK_EVENTS_SCHEMA: dict[str, Any] = {
    "$id": FORK_EVENTS,
    "version": "1",
    "title": "Collaborative fork events",
    "personal-data": True,
    "description": "A fork of a shared document was created or deleted.",
    "type": "object",
    "required": ["fork_roomid", "fork_info", "username", "action"],
    "properties": {
        "fork_roomid": {"type": "string"},
        "fork_info": {
            "type": "object",
            "required": ["root_roomid", "synchronize", "title", "description"],
            "properties": {
                "root_roomid": {"type": "string"},
                "synchronize": {"type": "boolean"},
                "title": {"type": "string"},
                "description": {"type": "string"},
            },
        },
        "username": {"type": "string"},
        "action": {"enum": ["create", "delete"]},
    },
}


def register_fork_events(events: Events) -> None:
    """Register the fork events' schema with ``events`` unless it is already there."""
    if not events.is_registered(FORK_EVENTS):
        events.register_schema(FORK_EVENTS_SCHEMA)
