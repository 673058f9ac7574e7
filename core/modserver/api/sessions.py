"""The Sessions service: which kernel belongs to which document.

Models are plain dicts in jupyter_server 2.x's shape:
``{id, path, name, type, kernel: {...}, notebook: {path, name}}`` (``notebook`` only for
sessions of type ``notebook``). A plugin that runs documents server-side may create and
delete sessions through this service as a client would through ``/api/sessions``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from modserver.errors import RequestError

SessionModel = dict[str, Any]


class SessionNotFound(RequestError, LookupError):
    """No session has this id (or its kernel vanished and the session was dropped): 404."""

    status_code = 404


class SessionGone(RequestError, LookupError):
    """The session's kernel was gone (culled or died) before the session was deleted: 410."""

    status_code = 410


@dataclass(frozen=True)
class KernelChoice:
    """Which kernel a session should use: a running one by id, or a new one by spec name.

    Both None means a new kernel of the default kernelspec.
    """

    id: str | None = None
    name: str | None = None


class Sessions(ABC):
    """Sessions in jupyter_server's model ``{id, path, name, type, kernel, notebook?}``."""

    @abstractmethod
    async def list(self) -> list[SessionModel]:
        """Every session."""

    @abstractmethod
    async def get(self, session_id: str) -> SessionModel:
        """One session; raises ``SessionNotFound``."""

    @abstractmethod
    async def find_by_path(self, path: str) -> SessionModel | None:
        """The session of the document at ``path``, if any."""

    @abstractmethod
    async def create(
        self,
        *,
        path: str,
        type: str,
        name: str | None = None,
        kernel: KernelChoice = KernelChoice(),
    ) -> SessionModel:
        """The session of ``path``: the existing one, or a new one with a kernel.

        A running kernel named by ``kernel.id`` is shared; otherwise a kernel of spec
        ``kernel.name`` starts (``NoSuchKernelSpec`` from ``modserver.api.kernels`` if
        that spec is not installed).
        """

    @abstractmethod
    async def delete(self, session_id: str) -> None:
        """Delete the session and shut its kernel down unless another session uses it.

        Raises ``SessionNotFound``, or ``SessionGone`` if the kernel had already vanished
        (the session is removed all the same).
        """
