"""Settings of the ``[events]`` section (see ``docs/settings.md``)."""

from __future__ import annotations

from modserver.settings import PluginSettings
from pydantic import Field


class EventsSettings(PluginSettings):
    """How events reach their subscribers."""

    subscriber_queue: int = Field(
        1000,
        ge=1,
        description=(
            "Events a subscriber (/api/events/subscribe) may fall behind before it is "
            "dropped (its WebSocket closes with code 1008)."
        ),
    )
