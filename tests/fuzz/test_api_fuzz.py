"""Schemathesis fuzzes every operation of /api/schema/ signed in as each role.

For every generated request: no server error, the status code is documented, the body and its
content type (and documented headers) conform to the schema, schema-invalid input is rejected;
and for the roles bound to tenant A (A's PoC and member, A's service manager, who serves only
A's engagement), no response shows tenant B's text or names one of B's rows by id. The
provider admin legitimately sees every tenant, so only the first checks apply to them.

Bounded and deterministic: a fixed seed, derandomized Hypothesis, `MAX_EXAMPLES` cases per
operation (the examples and fuzzing phases, positive and negative), no example database, no
shrinking. Integer ids in paths and bodies are sometimes swapped for real rows of tenant A or B,
so the fuzzer reaches A's objects and probes B's. Requests go through the WSGI app in-process,
inside the test's transaction; each runs in a savepoint, rolled back if it failed.

The coverage phase (schemathesis's systematic boundary and negative cases) sends about 7,000
requests per role, some 8 minutes each on the CI machine; CI runs without it. `FUZZ_DEEP=1`
turns it on, with more examples, for a local deep run:

    FUZZ_DEEP=1 pytest tests/fuzz/test_api_fuzz.py -k admin
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from django.db import connection, transaction
from hypothesis import strategies as st
from schemathesis.checks import load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.config._checks import NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES

from portal.wsgi import application
from tests.fuzz.conftest import FuzzData
from tests.fuzz.leaks import PATH_PARAMETERS, REFERENCES, id_model, tenant_b_leaks

DEEP = os.environ.get("FUZZ_DEEP") == "1"
MAX_EXAMPLES = 25 if DEEP else 8
SEED = 20261128
ROLES = ("poc", "member", "manager", "admin")
CONFIG = {
    "seed": SEED,
    "generation": {
        "max-examples": MAX_EXAMPLES,
        "deterministic": True,
        "database": "none",
        "no-shrink": True,
    },
    "phases": {"coverage": {"enabled": DEEP}, "stateful": {"enabled": False}},
    # A stale If-Match is answered 412 before the body is read (RFC 9110 §13.2.1 evaluates
    # preconditions before processing the content): that too refuses schema-invalid input.
    "checks": {
        "negative_data_rejection": {
            "expected-statuses": [*NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES, "412"]
        }
    },
}


def _with_known_ids(data: FuzzData, values: dict[str, Any], models: dict[str, str]) -> Any:
    """A strategy that keeps `values` or swaps integer ids for real rows of A or B. Only
    integers: a schema-invalid value (negative testing) must stay invalid."""
    if not isinstance(values, dict):
        return st.just(values)
    choices = {}
    for key, value in values.items():
        known = data.known_ids.get(models.get(key, ""), ())
        if known and isinstance(value, int) and not isinstance(value, bool):
            choices[key] = st.sampled_from((value, *known))
        else:
            choices[key] = st.just(value)
    return st.fixed_dictionaries(choices)


@pytest.fixture
def fuzz_schema(fuzz_data: FuzzData, in_process_requests: None, unthrottled: None) -> Any:
    config = SchemathesisConfig.from_dict(CONFIG)
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=config)

    @schema.hook
    def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
        path = context.operation.path
        models = {"id": id_model(path) or "", **PATH_PARAMETERS}
        return _with_known_ids(fuzz_data, path_parameters, models)

    @schema.hook
    def flatmap_body(context: Any, body: Any) -> Any:
        return _with_known_ids(fuzz_data, body, REFERENCES)

    return schema


schema = schemathesis.pytest.from_fixture("fuzz_schema")
if os.environ.get("FUZZ_PATHS"):  # a local run over some paths: FUZZ_PATHS='^/api/v1/cases/'
    schema = schema.include(path_regex=os.environ["FUZZ_PATHS"])
load_all_checks()
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.negative_data_rejection,
]


@pytest.fixture(params=ROLES)
def role(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.mark.django_db
@pytest.mark.usefixtures("role")
@schema.parametrize()
def test_api_conforms_and_isolates(case: Any, role: str, fuzz_data: FuzzData) -> None:
    headers = {"Authorization": f"Bearer {fuzz_data.tokens[role]}"}
    savepoint = transaction.savepoint()
    response = case.call(headers=headers)
    if connection.needs_rollback or response.status_code >= 500:
        transaction.savepoint_rollback(savepoint)
    else:
        transaction.savepoint_commit(savepoint)
    case.validate_response(response, checks=CHECKS, headers=headers)
    if role != "admin":
        leaks = tenant_b_leaks(response, case.operation.path, fuzz_data)
        assert not leaks, (
            f"{role} of tenant A got tenant B's data from {case.method} {case.formatted_path}: "
            + "; ".join(leaks)
        )
