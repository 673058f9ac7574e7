"""Settings of the ``[yjs]`` section (documented in docs/collaboration.md and docs/settings.md)."""

from __future__ import annotations

from pathlib import Path

from modserver.settings import PluginSettings
from pydantic import Field


class YjsSettings(PluginSettings):
    """How shared documents are saved, watched and freed, and where file ids live."""

    save_delay: float = Field(
        1.0,
        ge=0,
        description=(
            "Seconds without a change before a shared document is saved to its file "
            "(its clients may turn autosave off; the save message still saves)."
        ),
    )
    cleanup_delay: float = Field(
        60.0,
        ge=0,
        description="Seconds a document stays in memory after its last client left.",
    )
    file_poll_interval: float = Field(
        1.0,
        ge=0,
        description=(
            "Seconds between checks of an open document's file for changes made on disk "
            "(merged into the document); 0: only checked before each save."
        ),
    )
    file_id_database: Path | None = Field(
        None,
        description=(
            "The SQLite database of file ids (default: modserver/file_ids-<root hash>.db in "
            "the Jupyter data folder, one per served root)."
        ),
    )
    server_side_execution: bool = Field(
        True,
        description=(
            "Cells of shared notebooks run on the server (POST /api/kernels/{id}/execute), "
            "which writes their outputs into the document: nothing is lost when the browser "
            "closes. False: the browser that runs a cell writes its outputs."
        ),
    )
    client_queue_messages: int = Field(
        10_000,
        ge=1,
        description="Messages a room WebSocket may fall behind before it is dropped.",
    )
