"""The Sessions service: which kernel belongs to which document."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

SessionModel = dict[str, Any]


class SessionNotFound(LookupError):
    """No session has this id."""


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
