"""Runs that a server starts and answers for at once: validated and recorded in the
caller's request (so a bad name or parameter is its error), then carried out in a thread.

A thread is a daemon: a server that stops does not wait for a long pipeline; the run it
leaves ``running`` is marked failed by the next reader (its process is gone) and can be
resumed. :func:`wait_for_background_runs` lets a server (or a test) wait for them instead.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Mapping
from typing import Any

from shipyard.entities import PipelineRun
from shipyard.errors import InvalidInput
from shipyard.pipelines._load import load_named
from shipyard.pipelines.runs import Started, carry_out, prepare_resume, prepare_run
from shipyard.project import Project

__all__ = ["resume_in_background", "start_in_background", "wait_for_background_runs"]

log = logging.getLogger("shipyard.pipelines")

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,127}$")
_THREADS: dict[str, threading.Thread] = {}
_LOCK = threading.Lock()


def start_in_background(
    project: Project,
    name: str,
    params: Mapping[str, Any] | None = None,
    *,
    params_as_text: bool = False,
    trigger: str = "api",
) -> PipelineRun:
    """Start a run of the pipeline called ``name`` (a name only, never a file path) with
    ``params`` (text to parse by each parameter's type when ``params_as_text``, as a web
    form sends them); returns the run as recorded (``running``) while its steps run in a
    thread.

    Raises:
        NotFound: No pipeline has that name (a close one is suggested).
        InvalidInput: A malformed name, an invalid pipeline, an unknown parameter or a value
            of the wrong type; nothing was written.
    """
    if not _NAME.match(name):
        raise InvalidInput(
            f"A pipeline name starts with a letter and holds letters, digits, '_' and '-' "
            f"(up to 128). Got {name!r} instead.",
            details={"pipeline": name},
        )
    spec = load_named(project, name)
    return _launch(
        project,
        prepare_run(project, spec, params, params_as_text=params_as_text, trigger=trigger),
    )


def resume_in_background(project: Project, run_id: str) -> PipelineRun:
    """Resume failed run ``run_id`` as a new run carried out in a thread; returns that run.

    Raises:
        NotFound: No such run, or its pipeline cannot be found any more.
        Conflict: The run is still running, or it finished (nothing to resume).
        InvalidInput: The pipeline is not valid now.
    """
    return _launch(project, prepare_resume(project, run_id))


def wait_for_background_runs(timeout: float = 60.0) -> bool:
    """Wait until every run started here has ended; False when ``timeout`` passed first."""
    deadline = time.monotonic() + timeout
    while True:
        with _LOCK:
            threads = list(_THREADS.values())
        if not threads:
            return True
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if time.monotonic() >= deadline:
            with _LOCK:
                return not _THREADS


def _launch(project: Project, started: Started) -> PipelineRun:
    run_id = started.run.id

    def work() -> None:
        try:
            carry_out(project, started)
        except Exception:  # the run is marked failed by the runner; the thread must not die loud
            log.exception("Pipeline run %s of %s broke.", run_id[:12], started.run.pipeline)
        finally:
            with _LOCK:
                _THREADS.pop(run_id, None)

    thread = threading.Thread(target=work, name=f"pipeline-{run_id[:12]}", daemon=True)
    with _LOCK:
        _THREADS[run_id] = thread
    thread.start()
    return started.run
