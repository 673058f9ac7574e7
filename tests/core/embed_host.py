"""A host application that mounts modserver under /jupyter.

The tests serve it with hypercorn and with uvicorn (``tests.conftest.start_embed_host``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import modserver
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

jupyter = modserver.create_app(
    plugins=os.environ.get("EMBED_PLUGINS", "hello").split(","),
    settings={"root_dir": os.environ["EMBED_ROOT"], "auth": {"token": os.environ["EMBED_TOKEN"]}},
)


async def home(request: Request) -> PlainTextResponse:
    return PlainTextResponse("host home")


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    # Starlette does not run a mounted app's lifespan: enter modserver's from the host's.
    async with modserver.lifespan_of(jupyter):
        yield


host = Starlette(routes=[Route("/", home), Mount("/jupyter", app=jupyter)], lifespan=lifespan)
