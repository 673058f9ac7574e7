"""Login cookie details that need a clock or https: expiry, tampering, the Secure flag.

The https case runs the app in process (ASGI transport): a real TLS server is not worth
its setup time here; the cookie flag only depends on the request scheme.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import modserver
import pytest
from modserver_auth.cookies import CookieSigner

from tests.conftest import TOKEN

SIGNER = CookieSigner(b"k" * 32, max_age=3600)


def test_cookie_is_valid_until_it_expires():
    signed_at = int(time.time())  # the signature counts whole seconds
    value = SIGNER.sign("alice")
    assert SIGNER.verify(value, now=signed_at + 3599) == "alice"
    assert SIGNER.verify(value, now=signed_at + 3602) is None


def test_cookie_from_another_secret_or_tampered_is_refused():
    value = SIGNER.sign("alice")
    assert CookieSigner(b"x" * 32, 3600).verify(value) is None
    payload, signed_at, mac = value.split(".")
    # A character inside the signature: the last one also holds base64 padding bits, so
    # changing it may leave the decoded signature (and so a valid cookie) unchanged.
    other = "A" if mac[5] != "A" else "B"
    for forged in (
        f"{payload}.{signed_at}.{mac[:5]}{other}{mac[6:]}",
        f"{payload}x.{signed_at}.{mac}",
        f"{payload}.{signed_at}0.{mac}",
        payload,
        "",
        ".",
        "a.b.c",
    ):
        assert SIGNER.verify(forged) is None


@pytest.mark.anyio
async def test_cookies_are_secure_under_https(tmp_path: Path):
    settings = {
        "root_dir": str(tmp_path),
        "runtime_dir": str(tmp_path / "rt"),
        "auth": {"token": TOKEN},
    }
    app = modserver.create_app(
        plugins=["hello"], settings=settings, use_env=False, manage_lifespan=False
    )
    transport = httpx.ASGITransport(app=app)
    async with (
        modserver.lifespan_of(app),
        httpx.AsyncClient(transport=transport, base_url="https://localhost") as client,
    ):
        response = await client.get("/hello", params={"token": TOKEN})
        assert response.status_code == 200
        cookies = response.headers.get_list("set-cookie")
        assert cookies and all("Secure" in c for c in cookies)
        # https://localhost is this very site: its Origin passes.
        same = await client.get("/hello", headers={"Origin": "https://localhost"})
        assert same.status_code == 200


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
