"""Settings of the ``[contents]`` section (see ``docs/settings.md``)."""

from __future__ import annotations

from modserver.settings import PluginSettings
from pydantic import Field


class ContentsSettings(PluginSettings):
    """How the local-disk contents service behaves."""

    allow_hidden: bool = Field(
        False, description="List and serve dot files and dot folders (they are 404 otherwise)."
    )
    delete_to_trash: bool = Field(
        True, description="DELETE moves to the system trash instead of deleting for good."
    )
    always_delete_dir: bool = Field(
        False, description="Permanent DELETE removes non-empty folders too (else answers 400)."
    )
    hide_globs: list[str] = Field(
        default_factory=lambda: ["__pycache__", "*.pyc", "*.pyo", ".DS_Store", "*~"],
        description="Names matching these glob patterns are left out of listings.",
    )
    checkpoint_dir: str = Field(
        ".ipynb_checkpoints", description="Folder (next to each file) holding its checkpoint."
    )
    max_copy_folder_size_mb: int = Field(
        500, ge=0, description="Largest folder a copy may duplicate, in MB."
    )
