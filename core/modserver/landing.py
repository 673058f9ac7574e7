"""The page at ``/`` when no plugin serves one (a frontend plugin normally does).

The startup URL points at ``/``; without a frontend, users land here instead of on a
404, and learn what runs and where the APIs are. It is public and shows nothing private:
the version and the names of the enabled plugins.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import HTMLResponse

from modserver.plugin import Plugin
from modserver.routing import GuardedRoute, route
from modserver.version import __version__

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>modserver</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<main>
<h1>modserver {version} is running</h1>
<p>No frontend plugin serves this page. Point a Jupyter client (JupyterLab, Notebook 7, an
API client) at this server, or use the REST API directly.</p>
<h2>Enabled plugins</h2>
<ul>{plugins}</ul>
<h2>API</h2>
<ul>
<li><a href="{base}api">{base}api</a> (version)</li>
<li><a href="{base}api/status">{base}api/status</a></li>
<li><a href="{base}api/spec.yaml">{base}api/spec.yaml</a> (OpenAPI document)</li>
</ul>
</main>
</body>
</html>
"""


def landing_route(plugins: Sequence[Plugin]) -> GuardedRoute:
    """``GET /``: what runs here (the enabled ``plugins``) and where the APIs are."""
    items = "".join(
        f"<li>{html.escape(p.name)} {html.escape(p.version)}: {html.escape(p.description)}</li>"
        for p in plugins
    )

    async def landing(request: Request) -> HTMLResponse:
        base = request.scope.get("root_path", "").rstrip("/") + "/"
        page = PAGE.format(
            version=html.escape(__version__),
            plugins=items or "<li>none</li>",
            base=html.escape(base, quote=True),
        )
        return HTMLResponse(page)

    return route("/", landing, public=True)
