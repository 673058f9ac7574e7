"""Settings of the ``[kernels]`` section (documented in docs/settings.md)."""

from __future__ import annotations

from modserver.settings import PluginSettings
from pydantic import Field, SecretStr, field_validator


class KernelsSettings(PluginSettings):
    """How kernels start, stay alive, get culled, and how WebSockets are served."""

    default_kernel_name: str = Field("python3", description="Kernelspec used when none is named.")
    kernel_info_timeout: float = Field(
        60.0, gt=0, description="Seconds to wait for a (re)started kernel to answer."
    )
    autorestart: bool = Field(True, description="Restart kernels that die on their own.")
    restart_limit: int = Field(5, ge=0, description="Failed restarts in a row before giving up.")
    restart_poll_interval: float = Field(
        1.0, gt=0, description="Seconds between checks that each kernel process is alive."
    )
    cull_idle_timeout: float = Field(
        0, ge=0, description="Shut kernels down after this many idle seconds (0: never)."
    )
    cull_interval: float = Field(300, gt=0, description="Seconds between culling passes.")
    cull_connected: bool = Field(False, description="Also cull kernels with open WebSockets.")
    cull_busy: bool = Field(False, description="Also cull kernels that are busy.")
    min_open_files_limit: int = Field(
        4096,
        ge=0,
        description=(
            "Raise the process's soft open-files limit to at least this (within the hard "
            "limit) at startup: each kernel holds a dozen sockets. 0: leave it as it is."
        ),
    )
    v1_protocol: bool = Field(
        True, description="Accept the v1.kernel.websocket.jupyter.org subprotocol when offered."
    )
    ws_queue_messages: int = Field(
        20_000, ge=1, description="Messages a WebSocket may fall behind before it is dropped."
    )
    ws_queue_bytes: int = Field(
        256 * 1024 * 1024,
        ge=1,
        description="Bytes a WebSocket may fall behind before it is dropped.",
    )
    replay_messages: int = Field(
        1000, ge=0, description="Messages kept for a disconnected session, replayed on reconnect."
    )
    replay_bytes: int = Field(
        16 * 1024 * 1024, ge=0, description="Bytes kept for a disconnected session."
    )
    replay_sessions: int = Field(
        8, ge=0, description="Disconnected sessions per kernel whose messages are kept."
    )
    keep_kernels: bool = Field(
        False,
        description=(
            "Kernels outlive the server (SIGTERM or crash) and the next server on the same "
            "root adopts them; also the flag --keep-kernels."
        ),
    )
    shutdown_wait: float = Field(
        5.0, ge=0, description="Seconds a kernel gets to exit after shutdown_request."
    )
    # -- a remote kernel gateway (jupyter-kernel-gateway, Enterprise Gateway) --------------
    gateway_url: str | None = Field(
        None,
        description=(
            "Base URL of a kernel gateway (e.g. http://gateway:8888): kernelspecs, kernels "
            "and kernel WebSockets then live there. Unset: kernels run locally."
        ),
    )
    # A SecretStr, so `modserver config show` and reprs print stars, never the token.
    gateway_auth_token: SecretStr | None = Field(
        None, description="Token sent to the gateway as 'Authorization: token ...'."
    )
    gateway_headers: dict[str, str] = Field(
        default_factory=dict, description="Extra HTTP headers on every request to the gateway."
    )
    gateway_connect_timeout: float = Field(
        10.0, gt=0, description="Seconds to connect to the gateway."
    )
    gateway_request_timeout: float = Field(
        60.0, gt=0, description="Seconds a gateway request (e.g. a kernel start) may take."
    )

    @field_validator("gateway_url")
    @classmethod
    def _http_gateway_url(cls, value: str | None) -> str | None:
        if value is not None and value.strip() == "":
            return None
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value
