"""schemathesis against the REST API's OpenAPI document (``/api/v1/openapi.json``): generated
requests for every operation, valid ones and (negative mode) invalid ones, sent over real
HTTP to ``shipyard server`` with an admin token. No answer may be a 5xx, nor break the
document's own promises (status codes, response schemas, content types, valid input
accepted, invalid input refused, the bearer token required).

Examples per operation are bounded (``SHIPYARD_FUZZ_EXAMPLES`` raises them); Hypothesis is
derandomized, and a failure prints the curl command that reproduces it.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from schemathesis.checks import negative_data_rejection, positive_data_acceptance
from schemathesis.specs.openapi.schemas import OpenApiSchema

from tests.reliability._fuzz import Fuzzer, fuzzed_server
from tests.server.conftest import seed  # noqa: F401 - the seeded project, made once a session

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("SHIPYARD_FUZZ_EXAMPLES", "8"))  # per operation and mode
HEADERS: dict[str, str] = {}


@pytest.fixture(scope="module")
def base_url(seed: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # noqa: F811
    root = tmp_path_factory.mktemp("fuzz") / "project"
    shutil.copytree(seed, root)
    admin = json.loads((root / "tokens.json").read_text())["admin-all"]
    HEADERS["Authorization"] = f"Bearer {admin}"
    # The checks send requests without the token on purpose (401 each); they must not turn
    # the fuzzer's address into a blocked one (429).
    env = {"SHIPYARD_AUTH_MAX_FAILURES": "1000000"}
    with fuzzed_server(root, "server", ready="/healthz", env=env) as url:
        yield url


@pytest.fixture(scope="module")
def api_schema(base_url: str) -> OpenApiSchema:
    return schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json")


def test_no_generated_request_gets_a_5xx_or_breaks_the_document(
    api_schema: OpenApiSchema,
) -> None:
    fuzzer = Fuzzer(EXAMPLES)
    operations = fuzzer.run(api_schema, _call)
    assert operations >= 40
    assert fuzzer.statuses.total() >= operations * EXAMPLES
    assert not fuzzer.server_errors()
    assert fuzzer.statuses[200] >= operations and fuzzer.statuses[429] == 0


# Routes whose schema-valid input may still be refused for what it means, which no static
# schema can say: an opaque cursor that is not one the listing gave out, SQL that does not
# parse, a column the dataset does not have, a window whose end comes before its start,
# endpoint weights that do not sum to 100, a run that cannot be resumed, a forced promotion
# without its reason, a comment of blanks only.
_SEMANTIC = (
    *("/sql", "/profile", "/check", "/bias", "/run", "/resume", "/rollback", "/promote"),
    *("/approve", "/reject", "/ack"),
)


def _call(case: schemathesis.Case) -> object:
    changes_endpoint = "/endpoints/" in case.path and case.method.upper() != "GET"
    loose = case.path.endswith(_SEMANTIC) or changes_endpoint or "cursor" in (case.query or {})
    excluded = [positive_data_acceptance] if loose else []
    response = case.call(headers=HEADERS, timeout=60)
    if response.status_code == 413:  # a body past the server's limit is refused unread: right
        excluded.append(negative_data_rejection)
    case.validate_response(response, headers=HEADERS, excluded_checks=excluded)
    return response
