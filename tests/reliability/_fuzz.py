"""What the schemathesis tests share: a real server process to fuzz over HTTP, and the loop
that sends generated requests (valid ones, and invalid ones in negative mode) for every
operation of its OpenAPI document, counting the answers' statuses.

Hypothesis is derandomized and keeps no database, so a run is repeatable; a failure prints
the curl command that reproduces it.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.schemas import OpenApiSchema

from tests.reliability._hostile import running

__all__ = ["MODES", "Fuzzer", "fuzzed_server"]

MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
Call = Callable[[schemathesis.Case], object]
Skip = Callable[[object, schemathesis.GenerationMode], bool]


@contextmanager
def fuzzed_server(
    root: Path, *args: str, ready: str = "/ping", env: dict[str, str] | None = None
) -> Iterator[str]:
    """The base URL of ``shipyard ARGS`` running in ``root`` (no ``SHIPYARD_*`` variable of
    the test's own but ``env``); the test fails if the server died under fuzzing."""
    with running(root, *args, env=env, deadline=None, ready=ready) as port:
        yield f"http://127.0.0.1:{port}"


class Fuzzer:
    """Sends ``examples`` generated requests per operation and mode through ``call`` (which
    sends and validates one, and returns the response); counts the statuses."""

    def __init__(self, examples: int) -> None:
        self.examples = examples
        self.statuses: Counter[int] = Counter()

    def run(self, schema: OpenApiSchema, call: Call, skip: Skip | None = None) -> int:
        """Fuzz every operation of ``schema`` in both modes (unless ``skip(operation,
        mode)``); returns how many operations the document has."""
        operations = [result.ok() for result in schema.get_all_operations()]
        for operation, mode in itertools.product(operations, MODES):
            if skip is not None and skip(operation, mode):
                continue
            fuzz = given(case=operation.as_strategy(mode))(self._counting(call))
            settings(
                max_examples=self.examples,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )(fuzz)()
        print(f"schemathesis: {self.statuses.total()} requests, statuses {self.summary()}")
        return len(operations)

    def _counting(self, call: Call) -> Callable[[schemathesis.Case], None]:
        def one(case: schemathesis.Case) -> None:
            response = call(case)
            self.statuses[int(response.status_code)] += 1  # type: ignore[attr-defined]

        return one

    def summary(self) -> dict[int, int]:
        return dict(sorted(self.statuses.items()))

    def server_errors(self) -> list[int]:
        """The 5xx statuses seen (there must be none)."""
        return [status for status in self.statuses if status >= 500]
