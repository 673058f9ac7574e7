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

KernelModel = dict[str, Any]


class KernelNotFound(LookupError):
    """No running kernel has this id (maybe it was shut down)."""


class NoSuchKernelSpec(LookupError):
    """No kernelspec has this name."""


@dataclass(slots=True)
class KernelMessage:
    """One Jupyter message, parsed only as far as routing needs.

    ``header`` and ``parent_header`` are parsed; ``metadata`` and ``content`` stay the
    JSON bytes the kernel (or client) sent; ``buffers`` are raw.
    """

    channel: str
    header: dict[str, Any]
    parent_header: dict[str, Any]
    metadata: bytes = b"{}"
    content: bytes = b"{}"
    buffers: list[bytes] = field(default_factory=list)

    @property
    def msg_type(self) -> str:
        return str(self.header.get("msg_type", ""))

    def content_json(self) -> Any:
        """Parse ``content`` (for consumers that need it; the hot path never does)."""
        return json.loads(self.content)

    def metadata_json(self) -> Any:
        """Parse ``metadata``."""
        return json.loads(self.metadata)


KernelListener = Callable[[KernelMessage], None]


class Kernels(ABC):
    """Start, stop and talk to kernels."""

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
    def subscribe(self, kernel_id: str, listener: KernelListener) -> Callable[[], None]:
        """Call ``listener`` for every message the kernel sends; returns an unsubscribe.

        Listeners run on the event loop and must not block: enqueue and return.
        """

    @abstractmethod
    async def send(self, kernel_id: str, message: KernelMessage) -> None:
        """Send a message to the kernel (queued while it starts)."""
