"""The ``Kernels`` service on a remote kernel gateway (``kernels.gateway_url``).

jupyter-kernel-gateway and Enterprise Gateway speak jupyter_server's REST API
(``/api/kernels``, ``/api/kernelspecs``) and its kernel WebSocket. Lifecycle calls go
there over HTTP (httpx); server-side consumers (``subscribe``/``send``, e.g. collaborative
execution) share one WebSocket per kernel to the gateway; browser WebSockets are relayed
frame for frame (gateway_relay.py). Gateway failures become JSON errors that name the
gateway (502 when it refuses or fails, 503 when it cannot be reached), never a 500.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import anyio
import httpx
from anyio.abc import TaskGroup
from modserver.api.kernels import (
    KernelListener,
    KernelMessage,
    KernelModel,
    KernelNotFound,
    Kernels,
    NoSuchKernelSpec,
)
from modserver.errors import RequestError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake, InvalidStatus, WebSocketException

from modserver_kernels.settings import KernelsSettings
from modserver_kernels.wire import WireError, decode_legacy, encode_legacy

log = logging.getLogger("modserver.kernels")

#: Environment variables a kernel started on the gateway may receive: the gateways pass
#: only ``KERNEL_*`` variables to kernels, and nothing else of ours should leave the host.
_ENV_PREFIX = "KERNEL_"


class GatewayError(RequestError):
    """The gateway refused or failed a request: 502 with a message naming the gateway."""

    status_code = 502


class GatewayUnavailable(GatewayError):
    """The gateway cannot be reached (down, wrong address, timeout): 503."""

    status_code = 503


def _gateway_message(response: httpx.Response) -> str:
    """The ``message`` of a gateway's JSON error, or the start of its body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("reason") or "")[:200]
    return ""


class GatewayKernels(Kernels):
    """Kernels and kernelspecs of a remote gateway, behind modserver's ``Kernels`` service."""

    def __init__(self, settings: KernelsSettings, task_group: TaskGroup) -> None:
        assert settings.gateway_url  # the plugin selects this class only then
        self.settings = settings
        self.url = settings.gateway_url.rstrip("/")
        headers = dict(settings.gateway_headers)
        if settings.gateway_auth_token is not None:
            headers["Authorization"] = f"token {settings.gateway_auth_token.get_secret_value()}"
        #: Sent on every request and WebSocket handshake (holds the token: never log it).
        self.headers = headers
        self.http = httpx.AsyncClient(
            base_url=self.url,
            headers=headers,
            timeout=httpx.Timeout(
                settings.gateway_request_timeout, connect=settings.gateway_connect_timeout
            ),
        )
        self._group = task_group
        #: The server's own ``KERNEL_*`` variables (``KERNEL_USERNAME``, an Enterprise
        #: Gateway's ``KERNEL_NAMESPACE``...), sent with every start as jupyter_server does:
        #: how a deployment tells the gateway whose kernel it is and where to run it.
        self.kernel_env = {k: v for k, v in os.environ.items() if k.startswith(_ENV_PREFIX)}
        self._streams: dict[str, GatewayStream] = {}
        # Kernels this server started: they stop with it, as local kernels do.
        self._started: set[str] = set()
        #: Browser WebSockets relayed right now (for /api/status).
        self.relays = 0

    # -- HTTP -----------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        missing: RequestError | None = None,
    ) -> httpx.Response:
        """One request to the gateway; errors become ``GatewayError``s (or ``missing`` on 404)."""
        try:
            response = await self.http.request(method, path, json=json)
        except httpx.TimeoutException as exc:
            raise GatewayUnavailable(
                f"Kernel gateway {self.url} did not answer in time ({type(exc).__name__})"
            ) from None
        except httpx.HTTPError as exc:
            raise GatewayUnavailable(f"Kernel gateway {self.url} is unreachable: {exc}") from None
        status = response.status_code
        if status == 404 and missing is not None:
            raise missing
        if status in (401, 403):
            detail = _gateway_message(response)
            raise GatewayError(
                f"Kernel gateway {self.url} refused {method} {path} ({status}"
                + (f": {detail}" if detail else "")
                + "): check kernels.gateway_auth_token (and, for listing kernels, "
                "the gateway's list_kernels option)"
            )
        if status >= 400:
            detail = _gateway_message(response)
            raise GatewayError(f"Kernel gateway {self.url} answered {status}: {detail}")
        return response

    async def request_json(
        self, method: str, path: str, *, json: Any = None, missing: RequestError | None = None
    ) -> Any:
        """``request`` and its JSON body; a body that is not JSON is a ``GatewayError``."""
        response = await self.request(method, path, json=json, missing=missing)
        try:
            return response.json()
        except ValueError:
            raise GatewayError(
                f"Kernel gateway {self.url} answered {method} {path} with a body that is not JSON"
            ) from None

    def ws_url(self, path: str) -> str:
        """The gateway's WebSocket URL for ``path`` (ws:// or wss://)."""
        if self.url.startswith("https://"):
            return "wss://" + self.url[len("https://") :] + path
        return "ws://" + self.url.removeprefix("http://") + path

    async def open_channels(
        self, kernel_id: str, query: str = "", subprotocols: list[str] | None = None
    ) -> ClientConnection:
        """A WebSocket to the kernel's channels on the gateway; raises mapped errors."""
        url = self.ws_url(f"/api/kernels/{quote(kernel_id, safe='')}/channels")
        if query:
            url += "?" + query
        try:
            return await connect(
                url,
                additional_headers=self.headers,
                subprotocols=subprotocols or None,  # type: ignore[arg-type]
                open_timeout=self.settings.gateway_connect_timeout,
                max_size=None,
                compression=None,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status == 404:
                raise KernelNotFound(f"Kernel does not exist: {kernel_id}") from None
            if status in (401, 403):
                raise GatewayError(
                    f"Kernel gateway {self.url} refused the WebSocket ({status}): "
                    "check kernels.gateway_auth_token"
                ) from None
            raise GatewayError(
                f"Kernel gateway {self.url} refused the WebSocket ({status})"
            ) from None
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            raise GatewayUnavailable(
                f"Kernel gateway {self.url} is unreachable: {type(exc).__name__}: {exc}"
            ) from None

    # -- kernelspecs ----------------------------------------------------------------------

    async def kernelspecs(self, base_url: str) -> dict[str, Any]:
        """``{default, kernelspecs}`` from the gateway, resource URLs pointing at us."""
        body = await self.request_json("GET", "/api/kernelspecs")
        if not isinstance(body, dict):
            body = {}
        specs = body.get("kernelspecs")
        return {
            "default": body.get("default") or self.settings.default_kernel_name,
            "kernelspecs": {
                name: self._local_urls(model, base_url)
                for name, model in (specs.items() if isinstance(specs, dict) else [])
                if isinstance(model, dict)
            },
        }

    async def kernelspec(self, name: str, base_url: str) -> dict[str, Any]:
        """One kernelspec's model from the gateway; raises ``NoSuchKernelSpec``."""
        missing = NoSuchKernelSpec(f"Kernel spec {name} not found")
        path = f"/api/kernelspecs/{quote(name, safe='')}"
        return self._local_urls(await self.request_json("GET", path, missing=missing), base_url)

    async def kernelspec_resource(self, name: str, file: str) -> httpx.Response:
        """A kernelspec's resource file (logo, kernel.js) from the gateway."""
        missing = NoSuchKernelSpec(f"Kernel spec {name} has no file {file}")
        path = f"/kernelspecs/{quote(name, safe='')}/{quote(file)}"
        return await self.request("GET", path, missing=missing)

    @staticmethod
    def _local_urls(model: Any, base_url: str) -> dict[str, Any]:
        # The browser fetches resources from modserver, which fetches them from the gateway.
        if not isinstance(model, dict):
            return {}
        name = str(model.get("name", ""))
        resources = model.get("resources") or {}
        model["resources"] = {
            key: f"{base_url}kernelspecs/{quote(name)}/{quote(str(url).rsplit('/', 1)[-1])}"
            for key, url in resources.items()
        }
        return model

    # -- lifecycle ------------------------------------------------------------------------

    def _missing(self, kernel_id: str) -> KernelNotFound:
        return KernelNotFound(f"Kernel does not exist: {kernel_id}")

    def _path(self, kernel_id: str, action: str = "") -> str:
        return f"/api/kernels/{quote(kernel_id, safe='')}{action}"

    async def list(self) -> list[KernelModel]:
        body = await self.request_json("GET", "/api/kernels")
        return (
            [model for model in body if isinstance(model, dict)] if isinstance(body, list) else []
        )

    async def start(
        self, name: str | None = None, path: str | None = None, env: dict[str, str] | None = None
    ) -> KernelModel:
        name = name or self.settings.default_kernel_name
        # The folder is on this host, not the gateway's: it is not sent.
        await self.kernelspec(name, "/")
        body: dict[str, Any] = {"name": name}
        kernel_env = dict(self.kernel_env)
        kernel_env.update((k, v) for k, v in (env or {}).items() if k.startswith(_ENV_PREFIX))
        if kernel_env:
            body["env"] = kernel_env
        model: KernelModel = await self.request_json("POST", "/api/kernels", json=body)
        self._started.add(str(model["id"]))
        log.info("Kernel started on gateway %s: %s (%s)", self.url, model["id"], name)
        return model

    async def get(self, kernel_id: str) -> KernelModel:
        path = self._path(kernel_id)
        model: KernelModel = await self.request_json("GET", path, missing=self._missing(kernel_id))
        return model

    async def shutdown(self, kernel_id: str) -> None:
        await self.request("DELETE", self._path(kernel_id), missing=self._missing(kernel_id))
        self._started.discard(kernel_id)
        stream = self._streams.pop(kernel_id, None)
        if stream is not None:
            stream.close()
        log.info("Kernel shutdown on gateway %s: %s", self.url, kernel_id)

    async def interrupt(self, kernel_id: str) -> None:
        path = self._path(kernel_id, "/interrupt")
        await self.request("POST", path, missing=self._missing(kernel_id))

    async def restart(self, kernel_id: str) -> KernelModel:
        path = self._path(kernel_id, "/restart")
        model: KernelModel = await self.request_json("POST", path, missing=self._missing(kernel_id))
        return model

    async def shutdown_all(self) -> None:
        """Stop the kernels this server started (server shutdown), then close the client."""
        for stream in list(self._streams.values()):
            stream.close()
        self._streams.clear()
        async with anyio.create_task_group() as group:
            for kernel_id in list(self._started):
                group.start_soon(self._stop_quietly, kernel_id)
        await self.http.aclose()

    async def _stop_quietly(self, kernel_id: str) -> None:
        with anyio.move_on_after(self.settings.shutdown_wait + 5):
            try:
                await self.shutdown(kernel_id)
            except (KernelNotFound, GatewayError) as exc:
                log.warning("kernel %s on the gateway did not shut down: %s", kernel_id, exc)

    def status(self) -> dict[str, Any]:
        """``/api/status`` fields: kernels started here and browser WebSockets relayed."""
        return {"kernels": len(self._started), "connections": self.relays}

    # -- messages -------------------------------------------------------------------------

    def _stream(self, kernel_id: str) -> GatewayStream:
        stream = self._streams.get(kernel_id)
        if stream is None or stream.finished:
            stream = self._streams[kernel_id] = GatewayStream(kernel_id)
            self._group.start_soon(stream.run, self)
        return stream

    def subscribe(
        self,
        kernel_id: str,
        listener: KernelListener,
        *,
        session: str | None = None,
        connection: bool = False,
        on_close: Callable[[], None] | None = None,
    ) -> Callable[[], None]:
        """See ``Kernels.subscribe``; ``connection`` changes nothing here.

        The gateway counts connections and keeps a reconnecting session's messages
        itself, for the WebSockets relayed to it (gateway_relay.py); the shared stream
        of server-side listeners is one connection on the gateway.
        """
        return self._stream(kernel_id).subscribe(listener, session, on_close)

    async def send(
        self, kernel_id: str, message: KernelMessage, *, session: str | None = None
    ) -> None:
        await self._stream(kernel_id).send(message, session)


@dataclass(eq=False)
class GatewayStream:
    """One shared WebSocket to a kernel on the gateway, for server-side consumers.

    Uses the legacy JSON protocol, which every gateway speaks. Replies go to the
    listeners of the session that sent the request; iopub goes to every listener.
    """

    kernel_id: str
    listeners: list[tuple[KernelListener, str | None, Callable[[], None] | None]] = field(
        default_factory=list
    )
    #: The session each request was sent for, by msg_id (replies are routed by it).
    origins: dict[str, str | None] = field(default_factory=dict)
    connected: anyio.Event = field(default_factory=anyio.Event)
    error: RequestError | None = None
    finished: bool = False
    socket: ClientConnection | None = None
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)

    def subscribe(
        self,
        listener: KernelListener,
        session: str | None,
        on_close: Callable[[], None] | None = None,
    ) -> Callable[[], None]:
        """Call ``listener`` for the kernel's messages (see ``Kernels.subscribe``)."""
        entry = (listener, session, on_close)
        self.listeners.append(entry)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self.listeners.remove(entry)

        return unsubscribe

    async def send(self, message: KernelMessage, session: str | None) -> None:
        """Send once connected; raises the connection's error (e.g. ``KernelNotFound``)."""
        await self.connected.wait()
        if self.error is not None:
            raise self.error
        if self.socket is None or self.finished:
            raise KernelNotFound(f"Kernel does not exist: {self.kernel_id}")
        msg_id = str(message.header.get("msg_id", ""))
        self.origins[msg_id] = session if session is not None else message.header.get("session")
        if len(self.origins) > 10_000:  # requests whose reply never came: forget the oldest
            self.origins.pop(next(iter(self.origins)))
        try:
            await self.socket.send(encode_legacy(message))
        except WebSocketException:
            raise KernelNotFound(f"Kernel does not exist: {self.kernel_id}") from None

    def close(self) -> None:
        """End the stream (the kernel was shut down, or the server stops)."""
        self.finished = True
        self.scope.cancel()

    async def run(self, gateway: GatewayKernels) -> None:
        """Connect, then dispatch the kernel's messages until the socket or stream ends."""
        with self.scope:
            try:
                self.socket = await gateway.open_channels(self.kernel_id)
            except RequestError as exc:
                self.error = exc
            self.connected.set()
            try:
                if self.socket is not None:
                    async with self.socket:
                        async for frame in self.socket:
                            self._dispatch(frame)
            except WebSocketException as exc:
                log.info("gateway stream of kernel %s ended: %s", self.kernel_id, exc)
        self.finished = True
        self.connected.set()
        # The kernel is gone (or unreachable): nothing more comes to these listeners.
        for _, _, on_close in self.listeners:
            if on_close is not None:
                on_close()

    def _dispatch(self, frame: str | bytes) -> None:
        try:
            message = decode_legacy(frame)
        except WireError as exc:
            log.warning("kernel %s: bad frame from the gateway: %s", self.kernel_id, exc)
            return
        origin: str | None = None
        if message.channel != "iopub":
            parent_id = str(message.parent_header.get("msg_id", ""))
            origin = self.origins.get(parent_id, message.parent_header.get("session"))
            if message.channel in ("shell", "control") and message.msg_type.endswith("_reply"):
                self.origins.pop(parent_id, None)  # one reply per request
        for listener, session, _ in list(self.listeners):
            if session is None or message.channel == "iopub" or session == origin:
                listener(message)
