"""Schemathesis against modserver's own ``/api/spec.yaml``: the document tells the truth.

The document is what the running server serves (core plus every plugin's fragment), so
it is loaded from the server and every operation in it is run here, one after another,
with generated valid and invalid requests: no server error, and every response that
the document describes must match it exactly (no corrections: it is ours to fix).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conformance.harness import (
    EXAMPLES,
    KERNEL_EXAMPLES,
    READ_EXAMPLES,
    READ_ONLY_METHODS,
    content_type_of_a_body,
    path_pattern,
    remove_leftovers,
)
from tests.conftest import RunningServer

#: Not fuzzed: it stops the server (tests/workflow/test_shutdown.py covers it).
SKIPPED = {("post", "/api/shutdown")}
KERNEL_STARTING = {
    ("post", "/api/kernels"),
    ("post", "/api/kernels/{}/restart"),
    ("post", "/api/sessions"),
    ("patch", "/api/sessions/{}"),
}


# Our document lists every status we send, so undocumented statuses fail too.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_of_a_body,
    response_headers_conformance,
]


def run_operation(
    operation: Any,
    server: RunningServer,
    examples: int,
    cleanup: bool,
    session: requests.Session,
) -> None:
    """Run ``examples`` generated requests (valid and invalid) of one operation."""
    cases = st.one_of(
        operation.as_strategy(schemathesis.GenerationMode.POSITIVE),
        operation.as_strategy(schemathesis.GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def check(case: schemathesis.Case) -> None:
        try:
            case.call_and_validate(
                base_url=server.url.rstrip("/"),
                session=session,
                headers={"Authorization": f"token {server.token}"},
                checks=CHECKS,
                timeout=60,
            )
        finally:
            if cleanup:
                remove_leftovers(server)

    check()


def without_security(spec: dict[str, Any]) -> dict[str, Any]:
    """The document without its security requirement: every request carries the token.

    Otherwise half the invalid requests would only mangle the token and meet the guard's
    401 (tested in tests/core), leaving the endpoints' own validation little exercised.
    """
    stripped = copy.deepcopy(spec)
    stripped.pop("security", None)
    for item in stripped["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict):
                operation.pop("security", None)
    return stripped


@pytest.mark.slow
def test_every_operation_of_our_spec_answers_as_documented(
    conformance_server: RunningServer,
    served_spec: dict[str, Any],
    generated_requests: requests.Session,
) -> None:
    schema = schemathesis.openapi.from_dict(without_security(served_spec))
    failures: list[str] = []
    ran = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        key = (operation.method.lower(), path_pattern(operation.path))
        if (operation.method.lower(), operation.path) in SKIPPED:
            continue
        heavy = key in KERNEL_STARTING
        if heavy:
            examples = KERNEL_EXAMPLES
        elif operation.method.lower() in READ_ONLY_METHODS:
            examples = READ_EXAMPLES
        else:
            examples = EXAMPLES
        try:
            run_operation(operation, conformance_server, examples, heavy, generated_requests)
        except Exception as exc:  # collect every operation's failure, then report all
            failures.append(f"{operation.label}:\n{exc}")
        ran += 1
    assert ran > 0
    assert not failures, "\n\n".join(failures)
