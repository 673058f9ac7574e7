"""A document's timeline: its changes since the room opened, replayed into a fork to undo.

The collaboration frontend's "Document Timeline" (a status bar slider) asks for a room's
timeline, connects to the fork room it gets, and moves the fork back and forth in time
with undo/redo steps; "Restore version" writes the fork's state back into the document.
A ``DocumentRoom`` records every change with its time (bounded: the oldest merge into the
first entry, the state the room opened with); a ``ForkRoom`` replays them into a new
document whose undo manager then holds one step per change.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pycrdt import merge_updates

from modserver_yjs.models import document_model
from modserver_yjs.room import Room

if TYPE_CHECKING:
    from jupyter_ydoc.ybasedoc import YBaseDoc

#: Changes kept per open room; older ones merge into the state the timeline starts from.
MAX_CHANGES = 1000


class Timeline:
    """The changes of one open document, each with the time it happened (epoch seconds)."""

    def __init__(self) -> None:
        self.changes: list[tuple[bytes, float]] = []

    def start(self, state: bytes) -> None:
        """Begin with the document's whole ``state`` (when the room has loaded its file)."""
        self.changes = [(state, time.time())]

    def record(self, update: bytes) -> None:
        """Add one change (a Yjs update); past ``MAX_CHANGES`` the oldest two merge."""
        if not self.changes:
            return  # not started: the room is still loading
        self.changes.append((update, time.time()))
        if len(self.changes) > MAX_CHANGES:
            (first, _), (second, when) = self.changes[0], self.changes[1]
            self.changes[0:2] = [(merge_updates(first, second), when)]


class ForkRoom(Room):
    """A copy of a document in which undo and redo walk through its timeline.

    ``root_id`` is the room it was forked from; ``restored`` once its state went back.
    """

    def __init__(self, room_id: str, root_id: str, file_type: str, timeline: Timeline) -> None:
        super().__init__(room_id)
        self.root_id = root_id
        self.restored = False
        self.document: YBaseDoc = document_model(file_type)(self.doc, self.awareness)
        undo = self.document.undo_manager
        #: The time of each undoable step, oldest first: what the slider shows.
        self.timestamps: list[float] = []
        for update, when in list(timeline.changes):
            steps = len(undo.undo_stack)
            self.doc.apply_update(update)
            if len(undo.undo_stack) > steps:
                self.timestamps.append(when)

    @property
    def keep_when_empty(self) -> bool:
        """Kept a while with no client: its browser connects right after it is made."""
        return True

    def step(self, action: str, steps: int) -> int:
        """Undo or redo up to ``steps`` changes; how many were made.

        The first step (the state the room opened with) is never undone: the slider's
        oldest position is that state, not an empty document.
        """
        undo = self.document.undo_manager
        done = 0
        for _ in range(steps):
            if action == "undo" and len(undo.undo_stack) > 1:
                undo.undo()
            elif action == "redo" and undo.can_redo():
                undo.redo()
            else:
                break
            done += 1
        return done

    def changes_for(self, state_vector: bytes) -> bytes:
        """The update that brings a document at ``state_vector`` to this fork's state."""
        return self.doc.get_update(state_vector)
