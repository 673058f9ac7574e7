"""Schemathesis against jupyter_server's own OpenAPI file: modserver answers like it.

Generated requests (valid and invalid) go to a real modserver with every working plugin.
Each response must not be a server error, and every documented response must match its
schema, content type and headers. Where jupyter_server's file is wrong about
jupyter_server, ``known_deviations.py`` corrects it (the one place that lists why).
Kernel-starting operations get fewer examples, and their kernels are removed after
each one; read-only operations get fewer than writing ones. That keeps the run within
a minute or two on a small machine.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_headers_conformance,
    response_schema_conformance,
)

from tests.conformance.harness import (
    EXAMPLES,
    KERNEL_EXAMPLES,
    READ_EXAMPLES,
    READ_ONLY_METHODS,
    content_type_of_a_body,
    jupyter_server_api_yaml,
    owner,
    path_pattern,
    remove_leftovers,
    working_plugins,
)
from tests.conformance.known_deviations import NOT_SERVED, corrected
from tests.conftest import RunningServer

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_of_a_body,
    response_headers_conformance,
]
#: Operations that start kernels (or shells): few examples each, and cleaned up after each.
KERNEL_STARTING = {
    ("post", "/api/kernels"),
    ("post", "/api/terminals"),
    ("post", "/api/kernels/{kernel_id}/restart"),
    ("post", "/api/sessions"),
    ("patch", "/api/sessions/{session}"),
}
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def jupyter_spec() -> dict[str, Any]:
    """jupyter_server's api.yaml with the known corrections applied."""
    return corrected(yaml.safe_load(jupyter_server_api_yaml().read_text(encoding="utf-8")))


def served_part(*, kernel_starting: bool, read_only: bool = False) -> dict[str, Any]:
    """The operations of jupyter_server's file in the areas of working plugins: the
    kernel-starting ones, or the others that only read (``read_only``) or that write."""
    spec = jupyter_spec()
    working = {"core", *working_plugins()}
    for path in list(spec["paths"]):
        item = spec["paths"][path]
        if path in NOT_SERVED or owner(path) not in working:
            del spec["paths"][path]
            continue
        for method in [m for m in item if m in HTTP_METHODS]:
            wrong_kind = ((method, path) in KERNEL_STARTING) != kernel_starting
            if wrong_kind or (not kernel_starting and (method in READ_ONLY_METHODS) != read_only):
                del item[method]
        if not any(m in HTTP_METHODS for m in item):
            del spec["paths"][path]
    return spec


def call(case: schemathesis.Case, server: RunningServer, session: requests.Session) -> None:
    case.call_and_validate(
        base_url=server.url.rstrip("/"),
        session=session,
        headers={"Authorization": f"token {server.token}"},
        checks=CHECKS,
        timeout=60,
    )


# The file is static, so the operations are known at collection: one test per operation.
READ_SPEC = served_part(kernel_starting=False, read_only=True)
WRITE_SPEC = served_part(kernel_starting=False, read_only=False)
HEAVY_SPEC = served_part(kernel_starting=True)
reads = schemathesis.openapi.from_dict(READ_SPEC)
writes = schemathesis.openapi.from_dict(WRITE_SPEC)
heavy = schemathesis.openapi.from_dict(HEAVY_SPEC)


@reads.parametrize()
@settings(
    max_examples=READ_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_jupyter_server_read_operations_answer_as_documented(
    case: schemathesis.Case,
    conformance_server: RunningServer,
    generated_requests: requests.Session,
) -> None:
    call(case, conformance_server, generated_requests)


@writes.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_jupyter_server_write_operations_answer_as_documented(
    case: schemathesis.Case,
    conformance_server: RunningServer,
    generated_requests: requests.Session,
) -> None:
    call(case, conformance_server, generated_requests)


if HEAVY_SPEC["paths"]:  # only once the kernels plugin is real

    @pytest.mark.slow
    @heavy.parametrize()
    @settings(
        max_examples=KERNEL_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def test_kernel_starting_operations_answer_as_documented(
        case: schemathesis.Case,
        conformance_server: RunningServer,
        generated_requests: requests.Session,
    ) -> None:
        try:
            call(case, conformance_server, generated_requests)
        finally:
            remove_leftovers(conformance_server)


def test_every_operation_of_jupyter_servers_file_is_served_or_listed(
    served_spec: dict[str, Any],
) -> None:
    """Each working plugin documents every route of its area in our /api/spec.yaml."""
    working = {"core", *working_plugins()}
    served = {path_pattern(p) for p in served_spec["paths"]}
    missing: dict[str, list[str]] = {}
    for path in jupyter_spec()["paths"]:
        plugin = owner(path)
        if path not in NOT_SERVED and plugin in working and path_pattern(path) not in served:
            missing.setdefault(plugin, []).append(path)
    assert not missing, f"routes of jupyter_server's file nobody serves or lists: {missing}"
