"""The Kernels service: kernel lifecycle and the shared message stream of each kernel.

One client per kernel: WebSockets and server-side consumers (e.g. a collaborative
document writing outputs) subscribe as listeners and send messages through the service.
Messages keep content, metadata and buffers as raw bytes so nothing re-parses bodies.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from modserver.errors import RequestError

KernelModel = dict[str, Any]

#: Kernel message types that say nothing about the user's activity, as jupyter_server
#: counts it: the kernels service tracks activity by them, and a frontend's page config
#: announces them (``untracked_message_types``) so both agree.
UNTRACKED_MESSAGE_TYPES: tuple[str, ...] = (
    "comm_info_request",
    "comm_info_reply",
    "kernel_info_request",
    "kernel_info_reply",
    "shutdown_request",
    "shutdown_reply",
    "interrupt_request",
    "interrupt_reply",
    "debug_request",
    "debug_reply",
    "stream",
    "display_data",
    "update_display_data",
    "execute_input",
    "execute_result",
    "error",
    "status",
    "clear_output",
    "debug_event",
    "input_request",
    "input_reply",
)


class KernelNotFound(RequestError, LookupError):
    """No running kernel has this id (maybe it was shut down). A route answers 404."""

    status_code = 404


class NoSuchKernelSpec(RequestError, LookupError):
    """No kernelspec has this name. A route answers 404."""

    status_code = 404


#: A message part: ``bytes``, or a read-only ``memoryview`` of a big part as received.
Blob = bytes | memoryview


@dataclass(slots=True)
class KernelMessage:
    """One Jupyter message, parsed only as far as routing needs.

    ``header`` and ``parent_header`` are parsed; ``metadata`` and ``content`` stay the
    JSON bytes the kernel (or client) sent; ``buffers`` are raw. These three are
    ``Blob``s: a part of 64 KiB or more received from a kernel is a read-only
    ``memoryview`` of the ZMQ message (not copied), anything else ``bytes``.
    """

    channel: str
    header: dict[str, Any]
    parent_header: dict[str, Any]
    metadata: Blob = b"{}"
    content: Blob = b"{}"
    buffers: list[Blob] = field(default_factory=list)
    #: The header and parent header exactly as received, when known: forwarding them
    #: as-is avoids re-serializing (and keeps the HMAC signature valid byte for byte).
    raw_header: bytes | None = None
    raw_parent_header: bytes | None = None
    #: The message encoded for each WebSocket protocol, filled by the first connection
    #: that sends it: ten connections on one kernel encode each message once.
    encoded: dict[str, bytes | str] = field(default_factory=dict, repr=False, compare=False)
    _size: int = field(default=-1, repr=False, compare=False)

    @property
    def msg_type(self) -> str:
        return str(self.header.get("msg_type", ""))

    def header_bytes(self) -> bytes:
        """The header as JSON bytes (the received bytes when known)."""
        if self.raw_header is None:
            self.raw_header = json.dumps(self.header).encode()
        return self.raw_header

    def parent_header_bytes(self) -> bytes:
        """The parent header as JSON bytes (the received bytes when known)."""
        if self.raw_parent_header is None:
            self.raw_parent_header = json.dumps(self.parent_header).encode()
        return self.raw_parent_header

    @property
    def size(self) -> int:
        """Approximate size in bytes, for bounded queues (computed once: fan-out asks often)."""
        if self._size < 0:
            self._size = (
                len(self.content)
                + len(self.metadata)
                + sum(len(b) for b in self.buffers)
                + len(self.raw_header or b"") * 2
                + 256
            )
        return self._size

    def content_json(self) -> Any:
        """Parse ``content`` (for consumers that need it; the hot path never does)."""
        return json.loads(_as_bytes(self.content))

    def metadata_json(self) -> Any:
        """Parse ``metadata``."""
        return json.loads(_as_bytes(self.metadata))


def _as_bytes(blob: Blob) -> bytes:
    return blob if isinstance(blob, bytes) else bytes(blob)


KernelListener = Callable[[KernelMessage], None]


class Kernels(ABC):
    """Start, stop and talk to kernels."""

    @property
    def outlive_server(self) -> bool:
        """True when kernels keep running after the server stops, for the next to adopt.

        Whoever links things to kernel ids (sessions) should then keep those links too.
        """
        return False

    @abstractmethod
    async def list(self) -> list[KernelModel]:
        """Every running kernel's model.

        ``{id, name, last_activity, execution_state, connections}``.
        """

    @abstractmethod
    async def start(
        self, name: str | None = None, path: str | None = None, env: dict[str, str] | None = None
    ) -> KernelModel:
        """Start a kernel (default kernelspec if ``name`` is None) in API folder ``path``.

        Raises ``NoSuchKernelSpec`` for an unknown name.
        """

    @abstractmethod
    async def get(self, kernel_id: str) -> KernelModel:
        """The kernel's model; raises ``KernelNotFound``."""

    @abstractmethod
    async def shutdown(self, kernel_id: str) -> None:
        """Stop the kernel; raises ``KernelNotFound``."""

    @abstractmethod
    async def interrupt(self, kernel_id: str) -> None:
        """Interrupt the kernel; raises ``KernelNotFound``."""

    @abstractmethod
    async def restart(self, kernel_id: str) -> KernelModel:
        """Restart and wait until the kernel answers; raises ``KernelNotFound``."""

    @abstractmethod
    def subscribe(
        self,
        kernel_id: str,
        listener: KernelListener,
        *,
        session: str | None = None,
        connection: bool = False,
        on_close: Callable[[], None] | None = None,
    ) -> Callable[[], None]:
        """Call ``listener`` for messages the kernel sends; returns an unsubscribe.

        With ``session=None`` the listener sees every message of every channel. With a
        session name it sees iopub plus the shell/control/stdin replies to requests
        sent with that session (``send(..., session=...)`` or the request header's
        ``session``). Listeners run on the event loop and must not block: enqueue and
        return. Every listener gets the same ``KernelMessage`` object: treat it as
        read-only (its ``encoded`` cache is meant to be shared). Raises
        ``KernelNotFound``.

        ``connection=True`` says the listener is a client connection of ``session``
        (a kernel WebSocket): it counts in the kernel model's ``connections``; the
        messages kept for ``session`` since its last connection went away are passed
        to ``listener`` before ``subscribe`` returns; and when the last connection of
        the session unsubscribes while the kernel runs, the session's messages are
        kept (bounded) for the next connection, so a client that reconnects misses
        nothing.

        When the kernel dies and is restarted by the server, listeners receive an iopub
        ``status`` whose ``execution_state`` is ``restarting`` (``dead`` when it cannot
        be revived). ``on_close`` is called once, on the event loop, when the kernel
        goes away (shut down, culled, dead): no message follows, a WebSocket closes.
        """

    @abstractmethod
    async def send(
        self, kernel_id: str, message: KernelMessage, *, session: str | None = None
    ) -> None:
        """Send a message to the kernel; raises ``KernelNotFound``.

        Messages sent while the kernel starts or restarts wait and go out in order once
        it answers. Replies are routed to the listeners of ``session`` (default: the
        header's ``session``). ``message`` is forwarded as it is: its raw header bytes
        when set, ``metadata``/``content``/``buffers`` untouched.
        """
