"""Settings of the ``[jupyterhub]`` section (the hub's own values come from its environment)."""

from __future__ import annotations

from typing import Literal

from modserver.settings import PluginSettings
from pydantic import Field


class JupyterHubSettings(PluginSettings):
    """How hub users are mapped to roles, and how often the hub is asked and told."""

    shared_role: Literal["owner", "editor", "viewer"] = Field(
        "editor",
        description=(
            "Role of hub users other than the server's owner whom the hub lets in (shared "
            "servers, admins): an editor reads and writes files but runs no code."
        ),
    )
    activity_interval: float = Field(
        300.0, gt=0, description="Seconds between activity reports to the hub."
    )
    token_check_interval: float = Field(
        300.0,
        ge=0,
        description="Seconds the hub's answer about a token is trusted before asking again.",
    )
    hub_timeout: float = Field(10.0, gt=0, description="Seconds to wait for the hub's API.")
