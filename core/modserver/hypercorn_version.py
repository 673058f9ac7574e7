"""Which hypercorn is installed, for the adaptations of it (``websocket_compression``,
``websocket_frames``), each pinned to the versions its tests ran on."""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version


def note_if_untested(tested: tuple[str, ...], log: logging.Logger) -> None:
    """Log (debug) when the installed hypercorn is none of the ``tested`` version prefixes."""
    try:
        installed = version("hypercorn")
    except PackageNotFoundError:  # pragma: no cover - hypercorn is a dependency
        installed = "unknown"
    if not installed.startswith(tested):
        log.debug("hypercorn %s is newer than the tested %s", installed, tested)
