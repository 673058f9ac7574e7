"""Settings of the ``[config]`` section (documented in docs/settings.md)."""

from __future__ import annotations

from pathlib import Path

from modserver.settings import PluginSettings
from pydantic import Field


class ConfigSettings(PluginSettings):
    """Where the section files live."""

    config_dir: Path | None = Field(
        None,
        description="Folder of the section files; default: <jupyter config dir>/serverconfig.",
    )


def default_config_dir() -> Path:
    """``serverconfig`` in the user's Jupyter config folder, where jupyter_server writes."""
    from jupyter_core.paths import jupyter_config_dir

    return Path(jupyter_config_dir()) / "serverconfig"
