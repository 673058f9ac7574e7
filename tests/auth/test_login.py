"""Password login: the form, cookies, safe ``next`` redirects, throttling, logout, rotation."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.auth.conftest import browser, login_with_form, password_hash
from tests.conftest import TOKEN, RunningServer, start_server

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def server(module_apps) -> RunningServer:
    return module_apps("--set", f"auth.password_hash={password_hash(PASSWORD)}", plugins="hello")


def test_login_form_is_plain_accessible_html(server: RunningServer):
    response = browser(server).get("login")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<html lang="en">' in page
    assert '<label for="password">Password or token</label>' in page
    assert 'id="password" name="password"' in page
    assert 'name="_xsrf" value="' in page


def test_password_login_sets_signed_cookie_and_redirects(server: RunningServer):
    client = browser(server)
    response = login_with_form(client, PASSWORD, next_url="/hello")
    assert response.status_code == 302
    assert response.headers["location"] == "/hello"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("modserver-login-")
    )
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http here
    assert client.get("hello").json() == {"message": "Hello, owner!"}


def test_token_works_in_the_login_form_too(server: RunningServer):
    client = browser(server)
    assert login_with_form(client, TOKEN).status_code == 302
    assert client.get("api/status").status_code == 200


def test_tampered_cookie_is_refused(server: RunningServer):
    client = browser(server)
    login_with_form(client, PASSWORD)
    name = next(n for n in client.cookies if n.startswith("modserver-login-"))
    value = client.cookies[name]
    payload, signature = value.split(".", 1)
    client.cookies.set(name, payload[:-2] + "xx." + signature)
    assert client.get("hello").status_code == 401


def test_wrong_password_shows_form_again_with_401(server: RunningServer):
    client = browser(server, headers={"X-Forwarded-For": "ignored"})
    response = login_with_form(client, "wrong password")
    assert response.status_code == 401
    assert 'role="alert"' in response.text and "Invalid credentials" in response.text
    assert "wrong password" not in response.text
    assert not any(n.startswith("modserver-login-") for n in client.cookies)


def test_login_post_without_xsrf_field_is_refused(server: RunningServer):
    client = browser(server)
    client.get("login")
    response = client.post("login", data={"password": PASSWORD})
    assert response.status_code == 403
    assert not any(n.startswith("modserver-login-") for n in client.cookies)


def test_login_post_without_xsrf_cookie_gets_one_for_the_retry(server: RunningServer):
    client = browser(server)
    response = client.post("login", data={"password": PASSWORD, "_xsrf": "made-up"})
    assert response.status_code == 403 and "try again" in response.text
    assert "_xsrf" in client.cookies  # the re-shown form carries a fresh value
    retry = client.post("login", data={"password": PASSWORD, "_xsrf": client.cookies["_xsrf"]})
    assert retry.status_code == 302


@pytest.mark.parametrize(
    "bad_next",
    [
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "http:evil.example",
        "javascript:alert(1)",
        "/%2F%2Fevil.example",
        "/%5Cevil.example",
        "%2F%2Fevil.example",
        "/\t/evil.example",
        "/ /evil.example",
        "evil.example",
        "/..//evil.example",
    ],
)
def test_login_never_redirects_off_site(server: RunningServer, bad_next: str):
    client = browser(server)
    response = login_with_form(client, PASSWORD, next_url=bad_next)
    assert response.status_code == 302
    assert response.headers["location"] == "/"


@pytest.mark.parametrize("good_next", ["/hello", "/lab/tree/a%20b.ipynb?x=1", "/"])
def test_login_redirects_to_safe_next(server: RunningServer, good_next: str):
    response = login_with_form(browser(server), PASSWORD, next_url=good_next)
    assert response.headers["location"] == good_next


def test_logged_in_browser_visiting_login_goes_to_next(server: RunningServer):
    client = browser(server)
    login_with_form(client, PASSWORD)
    response = client.get("login", params={"next": "/hello"})
    assert response.status_code == 302 and response.headers["location"] == "/hello"
    response = client.get("login", params={"next": "//evil.example"})
    assert response.headers["location"] == "/"


def test_browser_without_login_is_sent_to_login_page(server: RunningServer):
    client = browser(server)
    response = client.get("hello", params={"a": "b"}, headers={"Accept": "text/html"})
    assert response.status_code == 302
    assert response.headers["location"] == "/login?next=%2Fhello%3Fa%3Db"
    # A script's fetch keeps getting JSON.
    assert client.get("hello").status_code == 401


def test_the_login_page_is_never_told_a_token(server: RunningServer):
    # Two tokens (one right) log nobody in; the way back must not carry them into the
    # address bar, history and Referer headers.
    client = browser(server)
    params = [("token", server.token), ("token", "x"), ("a", "b")]
    response = client.get("hello", params=params, headers={"Accept": "text/html"})
    assert response.status_code == 302
    assert response.headers["location"] == "/login?next=%2Fhello%3Fa%3Db"


def test_logout_clears_the_cookie(server: RunningServer):
    client = browser(server)
    login_with_form(client, PASSWORD)
    assert client.get("hello").status_code == 200
    response = client.get("logout")
    assert response.status_code == 200 and "logged out" in response.text
    assert client.get("hello").status_code == 401


def test_failed_logins_are_throttled_per_client(module_apps):
    server = module_apps(
        "--set",
        f"auth.password_hash={password_hash(PASSWORD)}",
        "--set",
        "auth.login_attempts=3",
        plugins="hello",
    )
    client = browser(server)
    for _ in range(3):
        assert login_with_form(client, "guess").status_code == 401
    response = login_with_form(client, PASSWORD)  # even the right password waits
    assert response.status_code == 429
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert "Too many failed attempts" in response.text


def test_cookie_path_and_redirects_follow_base_url(module_apps):
    server = module_apps(
        "--base-url",
        "/jupyter/",
        "--set",
        f"auth.password_hash={password_hash(PASSWORD)}",
        plugins="hello",
    )
    client = browser(server)
    response = login_with_form(client, PASSWORD, next_url="/jupyter/hello")
    assert response.headers["location"] == "/jupyter/hello"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("modserver-login-")
    )
    assert "Path=/jupyter/" in cookie
    assert client.get("hello").status_code == 200
    assert (
        login_with_form(browser(server), PASSWORD, next_url="/other").headers["location"]
        == "/jupyter/"
    )
    redirect = browser(server).get("hello", headers={"Accept": "text/html"})
    assert redirect.headers["location"] == "/jupyter/login?next=%2Fjupyter%2Fhello"


def test_cookie_secret_is_private_and_rotates_when_password_changes(tmp_path: Path):
    runtime = tmp_path / "runtime"
    args = ("--set", f"auth.password_hash={password_hash(PASSWORD)}")
    server = start_server(tmp_path, *args, runtime_dir=runtime, token="", plugins="auth")
    try:
        client = browser(server)
        login_with_form(client, PASSWORD)
        assert client.get("api/status").status_code == 200
    finally:
        server.stop()
    secret = runtime / "auth-cookie-secret.json"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    cookies = dict(client.cookies)

    # Same password, same port name: the cookie survives a restart.
    same = start_server(
        tmp_path, *args, runtime_dir=runtime, token="", port=server.port, plugins="auth"
    )
    try:
        assert browser(same, cookies=cookies).get("api/status").status_code == 200
    finally:
        same.stop()

    # New password: a new secret, old cookies are refused.
    changed = start_server(
        tmp_path,
        "--set",
        f"auth.password_hash={password_hash('new password')}",
        runtime_dir=runtime,
        token="",
        port=server.port,
        plugins="auth",
    )
    try:
        assert browser(changed, cookies=cookies).get("api/status").status_code == 401
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    finally:
        changed.stop()
