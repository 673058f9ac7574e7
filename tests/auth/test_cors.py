"""CORS headers by configuration: anchored patterns, credentials, never a wildcard with them.

In process (the CORS answer depends only on the request's headers and the settings).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from modserver import create_app

with warnings.catch_warnings():
    # Starlette would rather its TestClient ran on httpx2; httpx serves it as well here.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

TOKEN = "cors-token"
PREFLIGHT = {"Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "x-a"}


def client_for(tmp_path: Path, **auth: Any) -> TestClient:
    app = create_app(
        plugins=["hello"],
        settings={
            "root_dir": str(tmp_path),
            "runtime_dir": str(tmp_path / "runtime"),
            "auth": {"token": TOKEN, **auth},
        },
        use_env=False,
    )
    return TestClient(app, base_url="http://127.0.0.1", headers={"Authorization": f"token {TOKEN}"})


def test_wildcard_origin_never_comes_with_credentials(tmp_path: Path):
    with client_for(tmp_path, allow_origin="*", allow_credentials=True) as client:
        origin = {"Origin": "https://any.example"}
        for response in (
            client.get("/hello", headers=origin),
            client.options("/hello", headers={**origin, **PREFLIGHT}),
        ):
            assert response.status_code == 200
            assert response.headers["access-control-allow-origin"] == "*"
            assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://x.good.example", True),
        ("https://x.good.example.evil.com", False),
        ("https://evil.com/https://x.good.example", False),
    ],
)
def test_origin_pattern_must_match_the_whole_origin(tmp_path: Path, origin: str, allowed: bool):
    with client_for(
        tmp_path, allow_origin_pat=r"https://[a-z]+\.good\.example", allow_credentials=True
    ) as client:
        response = client.options("/hello", headers={"Origin": origin, **PREFLIGHT})
    if allowed:
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == origin
        assert response.headers["access-control-allow-credentials"] == "true"
        assert response.headers["access-control-allow-headers"] == "x-a"
    else:
        assert response.status_code == 403
        assert "access-control-allow-origin" not in response.headers
