"""A gate that code in a kernel waits at until the test opens it: no fixed sleeps.

A test that needs a cell to print *after* something happened (its client left, the page
closed) makes the cell wait for a file instead of sleeping long enough on a slow day.
"""

from __future__ import annotations

from pathlib import Path

#: The longest a cell waits at a closed gate: a test that failed before opening it must
#: not leave a shared kernel busy for good.
LONGEST_WAIT = 60


class Gate:
    """A file that does not exist yet; ``wait`` is code that blocks until it does."""

    def __init__(self, folder: Path, name: str = "gate") -> None:
        self.path = folder / f"{name}.open"
        self.path.unlink(missing_ok=True)

    def wait(self, indent: str = "") -> str:
        """Python source (one statement per line, each starting with ``indent``)."""
        return (
            f"{indent}import os as _os, time as _time\n"
            f"{indent}_until = _time.monotonic() + {LONGEST_WAIT}\n"
            f"{indent}while not _os.path.exists({str(self.path)!r}) and _time.monotonic() < _until:\n"
            f"{indent}    _time.sleep(0.01)\n"
        )

    def open(self) -> None:
        """Let the waiting code go on."""
        self.path.touch()
