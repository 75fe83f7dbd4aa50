"""The one way our schemathesis tests call an operation and check it: with a token, recording
which status codes each operation produced when asked; `reached`, which proves generated requests get
past authentication and routing to the handlers, on its own, whatever order the tests run in; and
the functions' route tables, which their OpenAPI documents are written from."""

import importlib
import os
import re

from hypothesis import HealthCheck, assume, settings

EXAMPLES = settings(max_examples=int(os.environ.get("SCHEMATHESIS_EXAMPLES", "30")), deadline=None,
                    suppress_health_check=list(HealthCheck))


def call_and_check(case, token: str, statuses: dict[str, set[int]] | None = None) -> None:
    from schemathesis.checks import (
        content_type_conformance, not_a_server_error, response_schema_conformance, status_code_conformance,
    )

    # A path parameter that spells a sibling's literal segment (/programs/{program_id} with
    # "export") addresses that sibling, which answers as its own operation documents.
    assume(case.formatted_path == case.path or case.formatted_path not in case.operation.schema.raw_schema["paths"])
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    if statuses is not None:
        statuses.setdefault(case.operation.label, set()).add(response.status_code)
    case.validate_response(response, checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                                             response_schema_conformance])


def route_tables() -> dict:
    """Each function's route table, found from the handler module its entry point calls."""
    from tests.support.processes import ROOT

    tables = {}
    for main in sorted((ROOT / "functions").glob("*/main.py")):
        handler = re.search(r"return (\w+)\.handle\(rt, request\)", main.read_text()).group(1)
        api = getattr(importlib.import_module(f"affiliate_matrix.handlers.{handler}"), "api", None)
        if callable(api):  # web's `api` is the programs handler module it renders pages over
            tables[main.parent.name] = api()
    return tables


def reached(schema, token: str, labels: list[str], examples: int = 100) -> dict[str, set[int]]:
    """The status codes generated requests (valid and invalid, derandomized) to the operations named
    by `labels` ("GET /programs") got, each request checked as call_and_check does."""
    from hypothesis import given
    from hypothesis import strategies as st
    from schemathesis import GenerationMode

    operations = [schema.find_operation_by_label(label) for label in labels]
    assert None not in operations, f"not all of {labels} are in the document"
    statuses: dict[str, set[int]] = {}

    @given(st.one_of([op.as_strategy(generation_mode=mode) for op in operations for mode in GenerationMode]))
    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    def generated(case):
        call_and_check(case, token, statuses)

    generated()
    return statuses
