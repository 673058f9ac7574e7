"""Kernelspec routes: ``/api/kernelspecs``, ``/api/kernelspecs/{name}`` and resource files.

Specs come from jupyter_client's ``KernelSpecManager`` (disk reads run in a thread).
Models have jupyter_server's shape: ``{name, spec, resources}`` where resources map
``kernel.js``/``kernel.css`` and ``logo-*`` (without extension) to their URLs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import anyio
from modserver.errors import http_error
from modserver.imports import late_import
from modserver.routing import route
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute

if TYPE_CHECKING:
    from jupyter_client.kernelspec import KernelSpecManager

    from modserver_kernels.gateway import GatewayKernels

RESOURCE = "kernelspecs"


def spec_model(name: str, spec: dict[str, Any], resource_dir: str, base_url: str) -> dict[str, Any]:
    """The REST model of one kernelspec (reads its resource folder: call in a thread)."""
    resources: dict[str, str] = {}
    folder = Path(resource_dir)
    prefix = f"{base_url}kernelspecs/{quote(name)}/"
    if folder.is_dir():
        for entry in sorted(folder.iterdir()):
            if entry.name in ("kernel.js", "kernel.css"):
                resources[entry.name] = prefix + quote(entry.name)
            elif entry.name.startswith("logo-"):
                resources[entry.stem] = prefix + quote(entry.name)
    return {"name": name, "spec": spec, "resources": resources}


def all_specs(manager: KernelSpecManager, default: str, base_url: str) -> dict[str, Any]:
    """``{default, kernelspecs: {name: model}}`` (blocking: call in a thread)."""
    specs = {}
    for name, info in manager.get_all_specs().items():
        if not isinstance(info, dict) or "spec" not in info:
            continue
        if "resources" in info and "name" in info:  # already a model (a gateway's manager)
            specs[name] = info
            continue
        specs[name] = spec_model(name, info["spec"], info.get("resource_dir", ""), base_url)
    return {"default": default, "kernelspecs": specs}


def one_spec(manager: KernelSpecManager, name: str, base_url: str) -> dict[str, Any]:
    """One kernelspec's model; raises ``NoSuchKernel`` (blocking: call in a thread)."""
    spec = manager.get_kernel_spec(name)
    return spec_model(name, spec.to_dict(), spec.resource_dir, base_url)


def resource_file(manager: KernelSpecManager, name: str, file: str) -> Path | None:
    """The path of ``file`` inside the spec's folder, or None (never outside it)."""
    spec = manager.get_kernel_spec(name)
    folder = Path(spec.resource_dir).resolve()
    try:
        target = (folder / file).resolve()
        if not target.is_relative_to(folder) or not target.is_file():
            return None
    except (ValueError, OSError):  # a NUL in the name, a name too long for the system
        return None
    return target


def _no_such_kernel() -> type[Exception]:
    """jupyter_client's unknown-kernelspec error (imported on first need, not at startup)."""
    with late_import("jupyter_client"):
        from jupyter_client.kernelspec import NoSuchKernel

    return NoSuchKernel


def kernelspec_routes(
    manager: Callable[[], KernelSpecManager],
    default: Callable[[], str],
    base_url: str,
    gateway: Callable[[], GatewayKernels | None] = lambda: None,
) -> list[BaseRoute]:
    """The kernelspec routes; ``manager`` returns the running spec manager.

    When ``gateway`` returns a gateway (``kernels.gateway_url``), specs come from it.
    """

    async def list_specs(request: Request) -> Response:
        remote = gateway()
        if remote is not None:
            return JSONResponse(await remote.kernelspecs(base_url))
        model = await anyio.to_thread.run_sync(all_specs, manager(), default(), base_url)
        return JSONResponse(model)

    async def get_spec(request: Request) -> Response:
        name = request.path_params["name"]
        remote = gateway()
        if remote is not None:
            return JSONResponse(await remote.kernelspec(name, base_url))
        try:
            model = await anyio.to_thread.run_sync(one_spec, manager(), name, base_url)
        except _no_such_kernel():
            raise http_error(404, f"Kernel spec {name} not found") from None
        return JSONResponse(model)

    async def get_resource(request: Request) -> Response:
        name = request.path_params["name"]
        file = request.path_params["file"]
        remote = gateway()
        if remote is not None:
            upstream = await remote.kernelspec_resource(name, file)
            kind = upstream.headers.get("content-type", "application/octet-stream")
            return Response(upstream.content, media_type=kind)
        try:
            target = await anyio.to_thread.run_sync(resource_file, manager(), name, file)
        except _no_such_kernel():
            raise http_error(404, f"Kernel spec {name} not found") from None
        if target is None:
            raise http_error(404, f"Kernel spec {name} has no file {file}")
        headers = {}
        if target.suffix.lower() == ".png":
            headers["Cache-Control"] = f"max-age={60 * 60 * 24 * 30}"
        return FileResponse(target, headers=headers)

    return [
        route("/api/kernelspecs", list_specs, resource=RESOURCE),
        route("/api/kernelspecs/{name}", get_spec, resource=RESOURCE),
        route(
            "/kernelspecs/{name}/{file:path}",
            get_resource,
            methods=["GET", "HEAD"],
            resource=RESOURCE,
        ),
    ]
