"""What the frontend asked the server, and what the browser said: recorded per page.

The :class:`NetworkRecorder` keeps every response (method, URL, status), every failed request,
every WebSocket and every console message of the pages it watches. The suite writes the whole
run's endpoints to ``artifacts/endpoints.json`` (the list of every endpoint the frontend called
and what each answered), and checks each test's pages for answers in the 4xx/5xx range.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, Response, WebSocket

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
HASHED = re.compile(r"(?<=[./-])[0-9a-f]{16,}(?=\.)")
CHUNK = re.compile(r"/(\d+|[0-9a-f]{16,})\.([0-9a-f]{16,}\.)?(js|css|map)$")
CACHE_BUSTER = re.compile(r"^\d{10,}$")
WS_BINDING = "__e2eWebSocketFailed"
# Runs before the page's scripts: a WebSocket that errs before it opened was refused,
# unless the page itself closed it first (a frontend dropping a reconnect attempt it no
# longer needs also gets an error event; the server never saw a refusal there).
WATCH_WEBSOCKETS = """
(() => {
  const Native = window.WebSocket;
  class WatchedWebSocket extends Native {
    constructor(...args) {
      super(...args);
      let opened = false;
      this.addEventListener("open", () => { opened = true; });
      this.addEventListener("error", () => {
        if (!opened && !this.closedByPage && window.BINDING) window.BINDING(this.url);
      });
    }
    close(...args) {
      this.closedByPage = true;
      return super.close(...args);
    }
  }
  window.WebSocket = WatchedWebSocket;
})();
""".replace("BINDING", WS_BINDING)


@dataclass(frozen=True)
class Allowed:
    """An error answer the suite accepts, and why (a frontend probe that expects a 404, ...)."""

    method: str
    path: re.Pattern[str]
    status: int | None  # None: a WebSocket handshake that failed (refused, or nobody listening)
    reason: str

    def matches(self, method: str, path: str, status: int | None) -> bool:
        """True when this entry covers ``method path -> status``."""
        return method == self.method and status == self.status and bool(self.path.search(path))


@dataclass
class Exchange:
    """One request the page made and how it ended."""

    test: str
    method: str
    url: str
    status: int | None  # None: failed without an answer (aborted, refused, ...)
    resource: str  # document, script, xhr, fetch, websocket, ...
    failure: str | None = None

    @property
    def path(self) -> str:
        """Path and query without the origin, cache-busting numbers dropped."""
        parts = urlsplit(self.url)
        query = "&".join(q for q in parts.query.split("&") if q and not CACHE_BUSTER.match(q))
        return parts.path + (f"?{query}" if query else "")


def endpoint_of(method: str, path: str) -> str:
    """``method path`` with ids, hashes and bundle chunk names replaced by placeholders."""
    route = path.split("?", 1)[0]
    query = path.split("?", 1)[1] if "?" in path else ""
    route = UUID.sub("{id}", route)
    route = CHUNK.sub(r"/{chunk}.\3", route)
    route = HASHED.sub("{hash}", route)
    # Keep which query parameters were sent (their names say what was asked), not their values.
    names = sorted({q.split("=", 1)[0] for q in query.split("&") if q})
    return f"{method} {route}" + (f"?{'&'.join(n + '=' for n in names)}" if names else "")


@dataclass
class NetworkRecorder:
    """Collects the exchanges and console messages of every page it is attached to."""

    exchanges: list[Exchange] = field(default_factory=list)
    console: list[dict[str, Any]] = field(default_factory=list)

    def attach(self, page: Page, test: str) -> None:
        """Record ``page``'s responses, failed requests, WebSockets and console under ``test``."""

        def on_response(response: Response) -> None:
            request = response.request
            self.exchanges.append(
                Exchange(test, request.method, request.url, response.status, request.resource_type)
            )

        def on_failed(request: Request) -> None:
            self.exchanges.append(
                Exchange(
                    test, request.method, request.url, None, request.resource_type, request.failure
                )
            )

        def on_websocket(socket: WebSocket) -> None:
            # The browser does not expose the handshake status: 101 means "asked to open".
            # A refused handshake is reported by watch_websockets.
            self.exchanges.append(Exchange(test, "WS", socket.url, 101, "websocket"))

        def on_console(message: ConsoleMessage) -> None:
            self.console.append(
                {"test": test, "type": message.type, "text": message.text, "at": message.location}
            )

        def on_page_error(error: Exception) -> None:
            self.console.append({"test": test, "type": "pageerror", "text": str(error)})

        page.on("response", on_response)
        page.on("requestfailed", on_failed)
        page.on("websocket", on_websocket)
        page.on("console", on_console)
        page.on("pageerror", on_page_error)

    def watch_websockets(self, context: BrowserContext, test: str) -> None:
        """Record, under ``test``, every WebSocket of ``context``'s pages whose handshake fails.

        Playwright sees no event at all for a refused handshake (404, 403, ...), so a script
        in each page reports a socket that errs before it opened.
        """

        def on_failed(source: Any, url: str) -> None:
            self.exchanges.append(
                Exchange(test, "WS", url, None, "websocket", "handshake failed (refused)")
            )

        context.expose_binding(WS_BINDING, on_failed)
        context.add_init_script(WATCH_WEBSOCKETS)

    def of_test(self, test: str) -> list[Exchange]:
        """The exchanges recorded for ``test``."""
        return [e for e in self.exchanges if e.test == test]

    def errors(self, test: str, allowed: tuple[Allowed, ...]) -> list[Exchange]:
        """``test``'s answers with status >= 400 that no ``allowed`` entry covers, and its
        WebSockets that failed (a refused handshake)."""
        return [
            e
            for e in self.of_test(test)
            if (
                (e.method == "WS" and e.failure is not None)
                or (e.status is not None and e.status >= 400)
            )
            and not any(a.matches(e.method, e.path, e.status) for a in allowed)
        ]

    def endpoints(self) -> list[dict[str, Any]]:
        """Every endpoint called: placeholder route, statuses seen with counts, a sample URL."""
        table: dict[str, dict[str, Any]] = {}
        for e in self.exchanges:
            key = endpoint_of(e.method, e.path)
            row = table.setdefault(
                key,
                {"endpoint": key, "statuses": {}, "resource": e.resource, "sample": e.path},
            )
            status = str(e.status) if e.status is not None else f"failed: {e.failure}"
            row["statuses"][status] = row["statuses"].get(status, 0) + 1
        return sorted(table.values(), key=lambda row: row["endpoint"].split(" ", 1)[::-1])

    def write(self, folder: Path, target: str) -> Path:
        """Write ``endpoints.json`` (summary), ``requests.json`` (every exchange) and
        ``console.json`` (every console message) to ``folder``; return the summary's path."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "endpoints.json"
        summary = {"target": target, "endpoints": self.endpoints()}
        path.write_text(json.dumps(summary, indent=1) + "\n")
        every = [asdict(e) | {"path": e.path} for e in self.exchanges]
        (folder / "requests.json").write_text(json.dumps(every, indent=1) + "\n")
        (folder / "console.json").write_text(json.dumps(self.console, indent=1) + "\n")
        return path
