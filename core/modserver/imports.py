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

``late_import("jsonschema")`` also defers the one costly part of importing jsonschema (see
``defer_iri_grammar``).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

#: jsonschema's optional "iri" format checker; importing it builds a grammar.
IRI_GRAMMAR_MODULE = "rfc3987_syntax"

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
        if "jsonschema" in libraries:
            defer_iri_grammar()
        yield


def defer_iri_grammar() -> None:
    """Let ``import jsonschema`` skip building the IRI grammar until an IRI is checked.

    jsonschema imports ``rfc3987_syntax`` (installed with ``jsonschema[format-nongpl]``,
    which jupyter_events requires) for its ``iri`` formats, and that import compiles a lark
    grammar: ~1.8 s of CPU in a 0.1 s import, paid by every server that loads jsonschema,
    in the warm-up thread that competes with the first requests. Until jsonschema is
    imported, a stand-in takes the module's place: its ``is_valid_syntax`` (what jsonschema
    takes from it) and any other attribute import the real module on first use, so a
    schema with an ``iri`` format is checked exactly as before. Nothing happens when
    jsonschema or the module is already imported, or the module is not installed.
    """
    if "jsonschema" in sys.modules or IRI_GRAMMAR_MODULE in sys.modules:
        return
    if importlib.util.find_spec(IRI_GRAMMAR_MODULE) is None:
        return
    loading = threading.Lock()

    def real() -> types.ModuleType:
        with loading:
            if sys.modules.get(IRI_GRAMMAR_MODULE) is stand_in:
                del sys.modules[IRI_GRAMMAR_MODULE]
            return importlib.import_module(IRI_GRAMMAR_MODULE)

    def is_valid_syntax(*args: Any, **kwargs: Any) -> Any:
        return real().is_valid_syntax(*args, **kwargs)

    def __getattr__(name: str) -> Any:  # the stand-in module's attribute hook (PEP 562)
        if name.startswith("__"):
            # The import system probes ``__path__``, ``__file__``, ... on every
            # ``from ... import``: answering those must not load the real module.
            raise AttributeError(name)
        return getattr(real(), name)

    stand_in = types.ModuleType(IRI_GRAMMAR_MODULE, "Stand-in until first use (modserver.imports).")
    stand_in.is_valid_syntax = is_valid_syntax  # type: ignore[attr-defined]
    stand_in.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[IRI_GRAMMAR_MODULE] = stand_in
