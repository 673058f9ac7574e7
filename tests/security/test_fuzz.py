"""Fuzz pass: every route in our own /api/spec.yaml with hostile bodies; never a 5xx.

Bodies: nested 100,000 deep, a few megabytes, NaN/Infinity, not UTF-8, and arbitrary JSON
from hypothesis. The example count is fixed, so the pass stays within seconds in CI.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.conftest import Site, assert_clean_log

# The file takes ~8 s in all: it starts first (see pytest_collection_modifyitems).
pytestmark = pytest.mark.slow

HOSTILE = [
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    b'{"a": NaN, "b": Infinity, "c": -Infinity}',
    b'{"content": "\xff\xfe\xfd", "type": "file", "format": "text"}',
    b"\xff\xfe\x00\x01",
    b'{"path": "' + b"a/" * 500_000 + b'"}',
    b'{"type": "notebook", "content": {"cells": [{"source": [1, 2]}]}}',
    b'{"type": "file", "format": "base64", "content": "!!!"}',
    b'{"name": {"x": []}, "path": ["../.."], "kernel": {"name": 5}}',
    b"",
    b"null",
    b"1e999",
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["type", "path", "name", "content", "format"]), children)
    ),
    max_leaves=12,
)


def _operations(client: httpx.Client) -> list[tuple[str, str]]:
    spec = yaml.safe_load(client.get("api/spec.yaml").text)
    operations = []
    for path, item in spec["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "fuzz", path).lstrip("/")
        for method in item:
            if method.upper() in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                if concrete == "api/shutdown":
                    continue  # would end the test server
                operations.append((method.upper(), concrete))
    return operations


@pytest.fixture(scope="module")
def operations(site: Site) -> list[tuple[str, str]]:
    with site.server.client() as http:
        found = _operations(http)
    assert len(found) > 15
    return found


def test_hostile_bodies_on_every_route_never_answer_5xx(
    client: httpx.Client, site: Site, operations: list[tuple[str, str]]
) -> None:
    for method, path in operations:
        for body in HOSTILE:
            response = client.request(
                method, path, content=body, headers={"Content-Type": "application/json"}
            )
            assert response.status_code < 500, (method, path, body[:60], response.text)
    assert_clean_log(site.server)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_arbitrary_json_on_every_route_never_answers_5xx(
    client: httpx.Client, site: Site, operations: list[tuple[str, str]], data: Any
) -> None:
    method, path = data.draw(st.sampled_from(operations))
    body = data.draw(json_values)
    response = client.request(method, path, json=body)
    assert response.status_code < 500, (method, path, body, response.text)
    assert_clean_log(site.server)
