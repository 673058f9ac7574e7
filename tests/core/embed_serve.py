"""The embedding host (``embed_host.py``) served from a program with hypercorn's ``serve``.

This is how a host that owns its process stops an embedded modserver quickly: when its
own stop begins (here on SIGTERM), it calls ``modserver.notify_stopping`` before hypercorn
waits for open connections. ``EMBED_NOTIFY=0`` leaves the call out (the test's control).
``EMBED_GRACEFUL_TIMEOUT`` is hypercorn's wait for open connections, in seconds.
"""

from __future__ import annotations

import asyncio
import os
import signal

import modserver
from hypercorn.asyncio import serve
from hypercorn.config import Config

from tests.core.embed_host import host, jupyter


async def main() -> None:
    config = Config()
    config.bind = ["127.0.0.1:0"]
    config.graceful_timeout = float(os.environ.get("EMBED_GRACEFUL_TIMEOUT", "60"))
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)

    async def shutdown_trigger() -> None:
        await stopping.wait()
        if os.environ.get("EMBED_NOTIFY", "1") == "1":
            modserver.notify_stopping(jupyter)

    await serve(host, config, shutdown_trigger=shutdown_trigger)  # type: ignore[arg-type]


if __name__ == "__main__":
    asyncio.run(main())
