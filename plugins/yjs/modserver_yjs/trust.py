"""Only a user who may run code may mark a shared notebook's cells as trusted.

JupyterLab takes a cell's trust from the shared document (its ``trusted`` metadata) and
then runs the scripts of that cell's HTML and JavaScript outputs, in the browser of
whoever opens the notebook. A collaborator who may edit but not run code could otherwise
mark a cell trusted, put a script in its outputs, and have it run as the owner (start a
terminal, say) when the owner opens the notebook. So an update from such a client keeps
every other change, but any ``trusted`` mark it sets or changes is removed, in the same
transaction: other clients never see it.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Array, Doc, Map

#: A map key is stored as its UTF-8 text in a Yjs update (v1 and v2 encodings), so an
#: update without these bytes cannot touch a ``trusted`` mark: most updates skip the scan.
KEY = "trusted"
_KEY_BYTES = KEY.encode()


def may_touch_trust(update_message: bytes) -> bool:
    """True if this sync message could set or change a ``trusted`` mark."""
    return _KEY_BYTES in update_message


def trust_marks(doc: Doc[Any]) -> dict[str, Any]:
    """The ``trusted`` mark of every notebook cell that has one, by cell id."""
    marks: dict[str, Any] = {}
    for cell_id, cell in _cells(doc):
        metadata = cell.get("metadata")
        if isinstance(metadata, (Map, dict)) and KEY in metadata:
            marks[cell_id] = _plain(metadata[KEY])
    return marks


def revoke_new_marks(doc: Doc[Any], before: dict[str, Any]) -> list[str]:
    """Remove the ``trusted`` marks that are not as they were in ``before``; returns the
    ids of the cells they were removed from. Call inside the update's transaction."""
    revoked = []
    for cell_id, cell in _cells(doc):
        metadata = cell.get("metadata")
        if not isinstance(metadata, (Map, dict)) or KEY not in metadata:
            continue
        if cell_id in before and before[cell_id] == _plain(metadata[KEY]):
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


def _plain(value: Any) -> Any:
    to_py = getattr(value, "to_py", None)
    return to_py() if callable(to_py) else value
