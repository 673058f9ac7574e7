"""``/login`` (a plain HTML form) and ``/logout``.

GET shows the form; POST checks a password or token, is throttled per client, checks the
form's ``_xsrf`` field, then sets the login cookie and redirects to a safe ``next``.
"""

from __future__ import annotations

import html
from functools import cache
from importlib.resources import files
from string import Template
from urllib.parse import parse_qsl

from modserver.routing import route
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute

from modserver_auth.cookies import (
    app_prefix,
    clear_login_cookie,
    set_login_cookie,
    set_xsrf_cookie,
)
from modserver_auth.identity import TokenCookieIdentity
from modserver_auth.middleware import XSRF_SCOPE_KEY
from modserver_auth.redirects import safe_next
from modserver_auth.runtime import AuthRuntime
from modserver_auth.tokens import same_secret
from modserver_auth.xsrf import new_xsrf_token

MAX_FORM_BYTES = 64 * 1024


@cache
def _page() -> Template:
    return Template(files("modserver_auth").joinpath("login.html").read_text(encoding="utf-8"))


def _html(title: str, body: str, status: int = 200) -> HTMLResponse:
    page = _page().substitute(title=html.escape(title), body=body)
    # Never cache a page holding an XSRF value; never let it be framed (clickjacking).
    headers = {"cache-control": "no-store", "x-frame-options": "DENY"}
    return HTMLResponse(page, status_code=status, headers=headers)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def login_routes(runtime: AuthRuntime) -> list[BaseRoute]:
    """The login and logout routes, public by nature."""

    def form(request: Request, next_url: str, error: str = "", status: int = 200) -> Response:
        users = runtime.users
        fields = []
        if error:
            fields.append(f'<p class="error" role="alert" id="error">{html.escape(error)}</p>')
        fields.append(f'<form method="post" action="{html.escape(_login_path(request))}">')
        if users.multi_user:
            fields.append(
                '<label for="username">User name</label>'
                '<input type="text" id="username" name="username" autocomplete="username"'
                ' autocapitalize="none" spellcheck="false">'
            )
        label = "Password or token" if users.has_passwords else "Token"
        described = ' aria-describedby="error"' if error else ""
        fields.append(
            f'<label for="password">{label}</label>'
            '<input type="password" id="password" name="password" required'
            f' autocomplete="current-password"{described}>'
        )
        xsrf = request.scope.get(XSRF_SCOPE_KEY)
        issue = not xsrf  # e.g. a POST whose browser lost the cookie: give it a new one
        if issue:
            xsrf = new_xsrf_token()
        fields.append(f'<input type="hidden" name="_xsrf" value="{html.escape(str(xsrf))}">')
        fields.append(f'<input type="hidden" name="next" value="{html.escape(next_url)}">')
        fields.append('<button type="submit">Log in</button></form>')
        response = _html("Log in", "\n".join(fields), status)
        if issue:
            set_xsrf_cookie(response, request, value=str(xsrf), base_url=runtime.base_url)
        return response

    async def login_page(request: Request) -> Response:
        prefix = app_prefix(request, runtime.base_url)
        next_url = safe_next(request.query_params.get("next"), prefix)
        if runtime.auth_disabled or _identity(runtime).cookie_user(request) is not None:
            return RedirectResponse(next_url, status_code=302)
        return form(request, next_url)

    async def login_submit(request: Request) -> Response:
        prefix = app_prefix(request, runtime.base_url)
        body = await _read_limited(request)
        if body is None:
            return _html("Log in", "<p>The form is too large.</p>", 413)
        data = dict(parse_qsl(body.decode("utf-8", "replace")))
        next_url = safe_next(data.get("next"), prefix)
        client = _client(request)
        wait = runtime.throttle.retry_after(client)
        if wait > 0:
            response = form(
                request, next_url, f"Too many failed attempts; try again in {int(wait) + 1} s.", 429
            )
            response.headers["retry-after"] = str(int(wait) + 1)
            return response
        cookie_xsrf = request.cookies.get("_xsrf", "")
        if not cookie_xsrf or not same_secret(data.get("_xsrf", ""), cookie_xsrf):
            return form(request, next_url, "The form expired; please try again.", 403)
        secret = data.get("password", "")
        username = data.get("username", "").strip()
        user = runtime.users.by_token(secret)
        if user is not None and username and username != user.username:
            user = None  # a token of someone else than the named user
        if user is None:
            user = await runtime.users.by_password(username, secret)
        if user is None:
            runtime.throttle.failed(client)
            return form(request, next_url, "Invalid credentials.", 401)
        runtime.throttle.succeeded(client)
        response = RedirectResponse(next_url, status_code=302)
        set_login_cookie(
            response,
            request,
            value=runtime.signer.sign(user.username),
            base_url=runtime.base_url,
            max_age=runtime.signer.max_age,
        )
        return response

    async def logout(request: Request) -> Response:
        prefix = app_prefix(request, runtime.base_url)
        body = (
            "<p>You are logged out.</p>"
            f'<p><a href="{html.escape(prefix)}login">Log in again</a></p>'
        )
        response = _html("Logged out", body)
        clear_login_cookie(response, request, base_url=runtime.base_url)
        return response

    return [
        route("/login", login_page, methods=["GET"], public=True),
        route("/login", login_submit, methods=["POST"], public=True),
        route("/logout", logout, methods=["GET", "POST"], public=True),
    ]


def _login_path(request: Request) -> str:
    return request.url.path


def _identity(runtime: AuthRuntime) -> TokenCookieIdentity:
    return TokenCookieIdentity(runtime.users, runtime.signer, runtime.base_url)


async def _read_limited(request: Request) -> bytes | None:
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
