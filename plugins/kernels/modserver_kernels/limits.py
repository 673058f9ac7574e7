"""Open files and ZMQ sockets: how many kernels one server can hold.

Each local kernel holds about a dozen ZMQ sockets (its channels, plus a monitor pair per
DEALER socket), each with its own file descriptors. ZMQ's default of 1,023 sockets per
context stopped a server at 92 kernels, and a common soft open-files limit of 1,024 stops
it sooner: the registry lifts both as far as the system allows, and a start that still
runs out answers 503 with what to do, not a 500.
"""

from __future__ import annotations

import errno
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import zmq

log = logging.getLogger("modserver.kernels")


def raise_open_files_limit(minimum: int) -> None:
    """Raise the soft open-files limit to ``minimum`` if it is lower (within the hard limit)."""
    try:
        import resource
    except ImportError:  # no rlimits (Windows)
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if minimum <= 0 or soft == resource.RLIM_INFINITY or soft >= minimum:
        return
    target = minimum if hard == resource.RLIM_INFINITY else min(minimum, hard)
    if target <= soft:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (OSError, ValueError) as exc:
        log.warning("could not raise the open-files limit from %d to %d: %s", soft, target, exc)
        return
    log.info("open-files limit raised from %d to %d (kernels.min_open_files_limit)", soft, target)


def socket_limit(context: zmq.Context[Any]) -> int:
    """The most ZMQ sockets worth allowing: the open-files limit, within ZMQ's own ceiling."""
    import zmq  # here: the kernels plugin starts without pyzmq (imported with a first kernel)

    try:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):  # no rlimits (Windows): ZMQ's default
        return int(context.get(zmq.MAX_SOCKETS))
    ceiling = int(context.get(zmq.SOCKET_LIMIT))
    return ceiling if soft == resource.RLIM_INFINITY else max(1, min(soft, ceiling))


def out_of_files(error: BaseException) -> bool:
    """True for "too many open files" (from the OS or from ZMQ), anywhere in the chain."""
    seen: BaseException | None = error
    while seen is not None:
        if getattr(seen, "errno", None) in (errno.EMFILE, errno.ENFILE):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
