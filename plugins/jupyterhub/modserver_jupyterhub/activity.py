"""Activity reports: the hub culls idle servers by the last activity it hears of.

The middleware touches ``Activity`` on every request it answers below 400 and every
WebSocket it accepts (``/api/status`` polls excepted); kernels' own activity (output while
nobody makes requests) counts too, from the kernels plugin's ``modserver_status`` answer.
``report_activity`` runs in the server's task group and posts the latest moment to the
hub at startup and every ``jupyterhub.activity_interval`` seconds; a hub that does not
answer is logged and tried again next time.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

import anyio

from modserver_jupyterhub.hub_client import HubClient, HubUnavailable

log = logging.getLogger("modserver.jupyterhub")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Activity:
    """The last moment a user did something on this server (one per app)."""

    def __init__(self) -> None:
        self.last = utcnow()

    def touch(self) -> None:
        """Record activity now."""
        self.last = utcnow()


def parse_moment(text: object) -> datetime | None:
    """An ISO 8601 timestamp (``Z`` or offset), else None."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


async def report_activity(
    hub: HubClient,
    activity: Activity,
    interval: float,
    kernel_activity: Callable[[], Awaitable[list[datetime]]],
) -> None:
    """Post the latest activity to the hub now and every ``interval`` seconds, until cancelled."""
    while True:
        latest = max([activity.last, *await kernel_activity()])
        try:
            await hub.report_activity(latest)
        except HubUnavailable as exc:
            log.warning("could not report activity to the hub: %s", exc)
        await anyio.sleep(interval)
