"""Settings of the ``[nbconvert]`` section (see ``docs/settings.md``)."""

from __future__ import annotations

from modserver.settings import PluginSettings
from pydantic import Field


class NbconvertSettings(PluginSettings):
    """How notebooks are exported."""

    timeout: float = Field(
        120.0,
        gt=0,
        description=(
            "Seconds an export may take; a slower one is answered 504 (its worker thread "
            "finishes in the background)."
        ),
    )
    max_concurrent: int = Field(
        2, ge=1, description="Exports run at once; more requests wait for a free slot."
    )
