"""Only a user who may run code may have a shared notebook's cells trusted.

JupyterLab takes a cell's trust from the shared document (its ``trusted`` metadata) and
then runs the scripts of that cell's HTML outputs (and of a Markdown cell's HTML), in the
browser of whoever opens the notebook. A collaborator who may edit but not run code could
otherwise mark a cell trusted, or put a script into a cell someone else trusted, and have
it run as the owner (start a terminal, say) when the owner looks at the notebook.

So the room watches which cells an update from such a client touches (``CellWatch``: a
deep observer of the cells, cheap, whatever the notebook's size). Every touched cell that
is marked trusted afterwards loses its mark, in a change the room sends together with the
client's own as one update: other clients never see a trusted cell with content the owner
did not trust. Edits to other cells leave the owner's marks alone.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Array, ArrayEvent, Doc, Map, Subscription

KEY = "trusted"


class CellWatch:
    """Records which cells of a notebook document change while ``watching()``."""

    def __init__(self, doc: Doc[Any]) -> None:
        self.doc = doc
        self._cells: Array[Any] = doc.get("cells", type=Array)
        self._touched: set[int] | None = None
        self._subscription: Subscription = self._cells.observe_deep(self._record)

    @staticmethod
    def applies_to(doc: Doc[Any]) -> bool:
        """True for a notebook document (one with cells)."""
        return "cells" in doc.keys()  # noqa: SIM118 (Doc has no __contains__ for mypy)

    def start(self) -> None:
        """Record from now on (the changes of the next transactions)."""
        self._touched = set()

    def stop(self) -> set[int]:
        """Stop recording; the positions of the cells that changed since ``start``."""
        touched, self._touched = self._touched or set(), None
        return touched

    def _record(self, events: list[Any]) -> None:
        if self._touched is None:
            return
        for event in events:
            path = list(event.path)
            if path:  # inside cell path[0]: its source, outputs, metadata, ...
                if isinstance(path[0], int):
                    self._touched.add(path[0])
            elif isinstance(event, ArrayEvent):  # cells inserted (or removed)
                position = 0
                delta: list[dict[str, Any]] = getattr(event, "delta", [])
                for change in delta:
                    if "retain" in change:
                        position += change["retain"]
                    elif "insert" in change:
                        for _ in change["insert"]:
                            self._touched.add(position)
                            position += 1


def every_cell(doc: Doc[Any]) -> set[int]:
    """The positions of all the document's cells."""
    return set(range(len(doc.get("cells", type=Array))))


def revoke_trust(doc: Doc[Any], positions: set[int]) -> list[str]:
    """Remove the ``trusted`` mark of the cells at ``positions`` that have a true one;
    returns their ids."""
    cells = doc.get("cells", type=Array)
    revoked = []
    for position in sorted(positions):
        if position >= len(cells) or not isinstance(cell := cells[position], Map):
            continue
        metadata = cell.get("metadata")
        if not isinstance(metadata, (Map, dict)) or not metadata.get(KEY):
            continue
        if isinstance(metadata, Map):
            del metadata[KEY]
        else:  # metadata written as a plain value (the frontend writes a map)
            cell["metadata"] = {key: value for key, value in metadata.items() if key != KEY}
        cell_id = cell.get("id")
        revoked.append(cell_id if isinstance(cell_id, str) else f"#{position}")
    return revoked
