"""One thread at a time imports the big libraries that plugins load late.

Plugins defer heavy imports (jupyter_client, jsonschema, nbformat, jupyter_events,
jupyter_ydoc) past startup and warm them up in a background thread
(``PluginContext.warm_up``), while a request may need the same library first, on the event
loop or in a worker thread. CPython does not make two threads importing one package graph
that has import cycles safe: one of them can fail halfway (``KeyError`` for the parent
package, or a deadlock error), and the package is then missing for everyone. So every
late import of such a library, and every warm-up, runs under this one lock.

Use ``with late_import(): from big_library import thing`` where the import happens on
first use; warm-ups hold the lock already. Take it before any lock of your own (never
inside one that a warm-up also takes), so that locks are always taken in the same order.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Re-entrant: a warm-up that holds it calls code that takes it again.
_lock = threading.RLock()


@contextmanager
def late_import() -> Iterator[None]:
    """Hold the process-wide late-import lock while the block imports (re-entrant)."""
    with _lock:
        yield
