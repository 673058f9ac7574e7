"""One thread at a time imports each big library that plugins load late.

Plugins defer heavy imports (jupyter_client, jsonschema and what is built on it, jupyter_ydoc)
past startup and warm them up in a background thread (``PluginContext.warm_up``), while a
request may need the same library first, on the event loop or in a worker thread. CPython
does not make two threads importing one package graph that has import cycles safe: one of
them can fail halfway (``KeyError`` for the parent package, or a deadlock error), and the
package is then missing for everyone (a kernel start right after the server's failed so).

So every late import of such a library, in a warm-up or on first use, runs under that
library's lock: ``with late_import("jupyter_client"): from jupyter_client import ...``.
Name the library at the root of what the block imports: ``jsonschema`` for anything built
on it (nbformat, jupyter_events), several names when the block imports several (nbconvert
brings both ``jsonschema`` and ``jupyter_client``). Different libraries do not wait for
each other: a first notebook open is not queued behind the kernels' warm-up. Take these
locks before any lock of your own, so that locks are always taken in the same order.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

_locks: dict[str, threading.RLock] = {}
_locks_guard = threading.Lock()


def _lock(library: str) -> threading.RLock:
    with _locks_guard:
        lock = _locks.get(library)
        if lock is None:
            # Re-entrant: code that holds it may call code that takes it again.
            lock = _locks[library] = threading.RLock()
        return lock


@contextmanager
def late_import(*libraries: str) -> Iterator[None]:
    """Hold the late-import lock of each of ``libraries`` (sorted: one order everywhere)."""
    with ExitStack() as stack:
        for library in sorted(set(libraries)):
            stack.enter_context(_lock(library))
        yield
