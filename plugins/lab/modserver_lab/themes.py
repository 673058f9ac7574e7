"""``/lab/api/themes/{path}``: the theme CSS of JupyterLab and of labextensions.

A theme is ``<scope>/<package>/index.css`` under a ``themes`` folder: JupyterLab's own
(``<app_dir>/themes``) or a labextension's (``<extension>/themes``). Extensions come first,
so an extension may override a core theme. Theme CSS refers to its fonts and images by
relative ``url(...)``; those are rewritten to absolute theme URLs, because the browser
loads the CSS into a ``<style>`` element where relative URLs would resolve against the page.
"""

from __future__ import annotations

import gzip
import posixpath
import re
from collections.abc import Sequence
from pathlib import Path

import anyio
from starlette.requests import Request
from starlette.responses import Response

from modserver_lab.discovery import Frontends
from modserver_lab.static_files import (
    MIN_COMPRESS_SIZE,
    AssetFiles,
    accepts_gzip,
    cache_headers,
    not_modified,
    resolve_asset,
)

THEMES_PATH = "lab/api/themes"

#: ``url(x)``, ``url('x')`` or ``url("x")`` in CSS.
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")


def theme_roots(frontends: Frontends) -> list[Path]:
    """Where theme files are looked up: every enabled extension's themes, then the core's."""
    roots = [ext.path / "themes" for ext in frontends.extensions.values()]
    return [*roots, frontends.lab_app_dir / "themes"]


def absolute_css_urls(css: str, themes_url: str, relative_dir: str) -> str:
    """Rewrite relative ``url(...)`` in ``css`` (found at ``relative_dir``) to absolute URLs."""
    base = themes_url.rstrip("/") + "/" + relative_dir.strip("/")

    def rewrite(match: re.Match[str]) -> str:
        quote, target = match.group(1), match.group(2).strip()
        if target.startswith(("/", "#", "data:")) or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", target):
            return match.group(0)
        joined = posixpath.normpath(posixpath.join(base, target))
        return f"url({quote}{joined}{quote})"

    return CSS_URL.sub(rewrite, css)


class ThemeFiles:
    """Theme assets: CSS rewritten as above, everything else as a static file."""

    def __init__(self, roots: Sequence[Path], assets: AssetFiles, themes_url: str) -> None:
        self.roots = list(roots)
        self.assets = assets
        self.themes_url = themes_url

    async def respond(self, request: Request, relative: str) -> Response:
        """The response for ``/lab/api/themes/<relative>``."""
        path = await anyio.to_thread.run_sync(resolve_asset, self.roots, relative)
        if path is None:
            from modserver.errors import json_error

            return json_error(404, f"No theme file {relative}")
        if path.suffix != ".css":
            return await self.assets.file_response(request, path)
        stat_result = await anyio.to_thread.run_sync(path.stat)
        headers = cache_headers(path.name, stat_result)
        headers["vary"] = "Accept-Encoding"
        if not_modified(request.headers, headers):
            return Response(status_code=304, headers=headers)
        css = await anyio.to_thread.run_sync(path.read_text, "utf-8")
        body = absolute_css_urls(css, self.themes_url, posixpath.dirname(relative)).encode()
        if len(body) >= MIN_COMPRESS_SIZE and accepts_gzip(request.headers):
            body = gzip.compress(body, mtime=0)
            headers["content-encoding"] = "gzip"
        return Response(body, headers=headers, media_type="text/css")
