"""schemathesis against the inference server's OpenAPI document: generated requests for every
route and method it documents, valid ones and (negative mode) invalid ones, sent over real
HTTP to ``shipyard serve --capture 100``. No answer may be a 5xx, nor break the document's
own promises (status codes, response schemas, content types, valid JSON accepted, invalid
refused).

The number of examples per operation is bounded so that the whole run stays well under a
minute (``SHIPYARD_FUZZ_EXAMPLES`` raises it). Hypothesis is derandomized, and a failure
prints the curl command that reproduces it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from schemathesis.checks import positive_data_acceptance
from schemathesis.specs.openapi.schemas import OpenApiSchema

from shipyard.project import Project
from tests.reliability._fuzz import MODES, Fuzzer, fuzzed_server

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("SHIPYARD_FUZZ_EXAMPLES", "30"))  # per operation


@pytest.fixture(scope="module")
def base_url(served_project: Project) -> Iterator[str]:
    with fuzzed_server(served_project.root, "serve", "m@prod", "--capture", "100") as url:
        yield url


@pytest.fixture(scope="module")
def api_schema(base_url: str) -> OpenApiSchema:
    return schemathesis.openapi.from_url(f"{base_url}/openapi.json")


def test_no_generated_request_gets_a_5xx_or_breaks_the_document(
    api_schema: OpenApiSchema,
) -> None:
    fuzzer = Fuzzer(EXAMPLES)
    operations = fuzzer.run(api_schema, _call, skip=_no_input_to_get_wrong)
    assert operations >= 4  # /ping, /invocations, /v1/predict, /v1/model
    assert fuzzer.statuses.total() >= operations * 10
    assert not fuzzer.server_errors()


def _no_input_to_get_wrong(operation: object, mode: schemathesis.GenerationMode) -> bool:
    """The GET routes take no input to get wrong: no negative mode for them."""
    return mode is MODES[1] and operation.method.upper() == "GET"  # type: ignore[attr-defined]


def _call(case: schemathesis.Case) -> object:
    # SageMaker's /invocations shapes cannot be pinned down by a schema: a CSV body is a string
    # (no schema says "4 typed values a line"), and a columns + data body is valid only when
    # each value has the type of the column it lines up with. A schema-valid one may rightly
    # be refused (422) there; every other check still applies, and /v1/predict gets them all.
    # Nor can OpenAPI say that ?top= needs ?explain=true (documented on the parameter).
    query = case.query or {}
    # The feature routes' bodies name groups whose entity keys and columns a static schema
    # cannot know (they are the groups' own), so a schema-valid body may still be a 422 there.
    # An infer request of the Open Inference Protocol is valid only when it has one input
    # per column, each of a datatype its column takes and all of one length: no schema ties
    # those together either.
    loose = (
        case.path == "/invocations"
        or case.path.endswith("/infer")
        or case.path.startswith("/v1/features/")
        or ("top" in query and query.get("explain") != "true")
    )
    excluded = [positive_data_acceptance] if loose else []
    return case.call_and_validate(timeout=30, excluded_checks=excluded)
