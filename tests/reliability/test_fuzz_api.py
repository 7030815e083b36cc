"""schemathesis against the REST API's OpenAPI document (``/api/v1/openapi.json``): generated
requests for every operation, valid ones and (negative mode) invalid ones, sent over real
HTTP to ``shipyard server`` with an admin token. No answer may be a 5xx, nor break the
document's own promises (status codes, response schemas, content types, valid input
accepted, invalid input refused, the bearer token required).

Examples per operation are bounded (``SHIPYARD_FUZZ_EXAMPLES`` raises them); Hypothesis is
derandomized, and a failure prints the curl command that reproduces it.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import negative_data_rejection, positive_data_acceptance
from schemathesis.specs.openapi.schemas import OpenApiSchema

from shipyard.serve import find_free_port, wait_until_ready
from tests.server.conftest import seed  # noqa: F401 - the seeded project, made once a session

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("SHIPYARD_FUZZ_EXAMPLES", "8"))  # per operation and mode
STATUSES: Counter[int] = Counter()
HEADERS: dict[str, str] = {}


@pytest.fixture(scope="module")
def base_url(seed: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # noqa: F811
    root = tmp_path_factory.mktemp("fuzz") / "project"
    shutil.copytree(seed, root)
    admin = json.loads((root / "tokens.json").read_text())["admin-all"]
    HEADERS["Authorization"] = f"Bearer {admin}"
    port = find_free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    # The checks send requests without the token on purpose (401 each); they must not turn
    # the fuzzer's address into a blocked one (429).
    env["SHIPYARD_AUTH_MAX_FAILURES"] = "1000000"
    proc = subprocess.Popen(
        [sys.executable, "-m", "shipyard", "server", "--port", str(port)],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(proc, f"{url}/healthz", timeout=120)
        yield url
        assert proc.poll() is None, "the server died under fuzzing"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def api_schema(base_url: str) -> OpenApiSchema:
    return schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json")


def test_no_generated_request_gets_a_5xx_or_breaks_the_document(
    api_schema: OpenApiSchema,
) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 40
    modes = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
    for operation, mode in itertools.product(operations, modes):
        fuzz = given(case=operation.as_strategy(mode))(_call)
        settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )(fuzz)()
    assert STATUSES.total() >= len(operations) * EXAMPLES
    print(f"schemathesis: {STATUSES.total()} requests, statuses {dict(sorted(STATUSES.items()))}")
    assert not [status for status in STATUSES if status >= 500]
    assert STATUSES[200] >= len(operations) and STATUSES[429] == 0


# Routes whose schema-valid input may still be refused for what it means, which no static
# schema can say: an opaque cursor that is not one the listing gave out, SQL that does not
# parse, a column the dataset does not have, a window whose end comes before its start,
# endpoint weights that do not sum to 100, a run that cannot be resumed, a forced promotion
# without its reason, a comment of blanks only.
_SEMANTIC = (
    *("/sql", "/profile", "/check", "/bias", "/run", "/resume", "/rollback", "/promote"),
    *("/approve", "/reject", "/ack"),
)


def _call(case: schemathesis.Case) -> None:
    changes_endpoint = "/endpoints/" in case.path and case.method.upper() != "GET"
    loose = case.path.endswith(_SEMANTIC) or changes_endpoint or "cursor" in (case.query or {})
    excluded = [positive_data_acceptance] if loose else []
    response = case.call(headers=HEADERS, timeout=60)
    if response.status_code == 413:  # a body past the server's limit is refused unread: right
        excluded.append(negative_data_rejection)
    case.validate_response(response, headers=HEADERS, excluded_checks=excluded)
    STATUSES[response.status_code] += 1
