"""jupyter_ydoc's document models (notebook, file, ...), found by file type.

Imported on first need: jupyter_ydoc finds its models through entry points, which takes a
noticeable part of a server's start. The plugin's warm-up imports it after listening.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modserver.imports import late_import

if TYPE_CHECKING:
    from jupyter_ydoc.ybasedoc import YBaseDoc


def document_model(file_type: str) -> type[YBaseDoc]:
    """jupyter_ydoc's document model for a file type (``file`` for unknown types).

    jupyter_ydoc is imported on first need (its models are found through entry points): the
    plugin's warm-up imports it after the server listens, so startup does not wait for it.
    """
    with late_import("jupyter_ydoc", "pycrdt"):  # jupyter_ydoc is built on pycrdt
        from jupyter_ydoc import ydocs

    model: type[YBaseDoc] = ydocs.get(file_type, ydocs["file"])
    return model
