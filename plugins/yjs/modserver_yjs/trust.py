"""Only a user who may run code may mark a shared notebook's cells as trusted.

JupyterLab takes a cell's trust from the shared document (its ``trusted`` metadata) and
then runs the scripts of that cell's HTML outputs (and of a Markdown cell's HTML), in the
browser of whoever opens the notebook. A collaborator who may edit but not run code could
otherwise mark a cell trusted, or put a script into a cell someone else trusted, and have
it run as the owner (start a terminal, say) when the owner looks at the notebook. So an
update from such a client keeps all its changes, but in the same transaction every
``trusted`` mark it set, and the mark of every trusted cell it changed, is removed:
other clients never see a trusted cell with content the owner did not trust.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Array, Doc, Map

#: A map key is stored as its UTF-8 text in a Yjs update (v1 and v2 encodings), so an
#: update without these bytes cannot set a ``trusted`` mark.
KEY = "trusted"
_KEY_BYTES = KEY.encode()


def may_set_trust(update_message: bytes) -> bool:
    """True if this sync message could set or change a ``trusted`` mark."""
    return _KEY_BYTES in update_message


def trusted_cells(doc: Doc[Any]) -> dict[str, Any]:
    """Every cell with a ``trusted`` mark, as it is now (plain values), by cell id."""
    return {
        cell_id: cell.to_py()
        for cell_id, cell in _cells(doc)
        if isinstance(metadata := cell.get("metadata"), (Map, dict)) and KEY in metadata
    }


def revoke_changed(doc: Doc[Any], before: dict[str, Any]) -> list[str]:
    """Remove the ``trusted`` mark of every cell that has one and is not exactly as in
    ``before`` (a new mark, or a trusted cell changed); returns their ids. Call inside the
    update's transaction."""
    revoked = []
    for cell_id, cell in _cells(doc):
        metadata = cell.get("metadata")
        if not isinstance(metadata, (Map, dict)) or KEY not in metadata:
            continue
        if cell_id in before and before[cell_id] == cell.to_py():
            continue
        if isinstance(metadata, Map):
            del metadata[KEY]
        else:  # metadata written as a plain value (the frontend writes a map)
            cell["metadata"] = {key: value for key, value in metadata.items() if key != KEY}
        revoked.append(cell_id)
    return revoked


def _cells(doc: Doc[Any]) -> list[tuple[str, Map[Any]]]:
    """Each notebook cell's id and map (nothing for a document of another kind)."""
    if "cells" not in doc.keys():  # noqa: SIM118 (Doc has no __contains__ for mypy)
        return []
    found = []
    for position, cell in enumerate(doc.get("cells", type=Array)):
        if isinstance(cell, Map):
            cell_id = cell.get("id")
            found.append((cell_id if isinstance(cell_id, str) else f"#{position}", cell))
    return found
