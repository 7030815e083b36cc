"""Runs a server starts in the background: checked and recorded before the answer, carried
out in a thread, resumable; only pipelines by name, never a file a caller names."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shipyard.catalog.paging import PageQuery
from shipyard.errors import Conflict, InvalidInput, NotFound
from shipyard.pipelines import (
    pipeline_runs_page,
    resume_in_background,
    run_graph,
    show_pipeline_run,
    start_in_background,
    wait_for_background_runs,
)
from shipyard.project import Project

S = "tests.pipelines._steps"


@pytest.fixture
def named(project: Project) -> str:
    folder = project.root / "pipelines"
    folder.mkdir()
    (folder / "two.yaml").write_text(yaml.safe_dump({
        "name": "two",
        "parameters": {"n": {"type": "int", "default": 3},
                       "stop": {"type": "bool", "default": False}},
        "steps": [
            {"name": "make", "function": f"{S}:source", "inputs": {"n": "params.n"}},
            {"name": "sum", "function": f"{S}:total", "inputs": {"data": "make"}},
            {"name": "halt", "kind": "fail", "when": "params.stop", "after": ["sum"],
             "config": {"message": "asked to"}},
        ],
    }))  # fmt: skip
    return "two"


def test_a_run_starts_at_once_and_ends_in_the_background(project: Project, named: str) -> None:
    run = start_in_background(project, named, {"n": 4})
    assert run.status == "running" and run.params["n"] == 4
    assert wait_for_background_runs(timeout=60)
    done = show_pipeline_run(project, run.id)
    assert done.ok and done.step("sum").outputs == {"result": 6.0}
    graph = run_graph(project, run.id)
    assert [(n.step, n.layer, n.status) for n in graph.nodes] == [
        ("make", 0, "finished"), ("sum", 1, "finished"), ("halt", 2, "skipped"),
    ]  # fmt: skip
    assert {(e.source, e.target) for e in graph.edges} == {("make", "sum"), ("sum", "halt")}


def test_a_failed_run_resumes_and_runs_page_newest_first(project: Project, named: str) -> None:
    failed = start_in_background(project, named, {"stop": True})
    assert wait_for_background_runs(timeout=60)
    assert show_pipeline_run(project, failed.id).run.status == "failed"
    resumed = resume_in_background(project, failed.id)
    assert resumed.resumed_from == failed.id and resumed.trigger == "resume"
    assert wait_for_background_runs(timeout=60)
    steps = {s.step: s.status for s in show_pipeline_run(project, resumed.id).steps}
    assert steps == {"make": "cached", "sum": "cached", "halt": "failed"}
    first = pipeline_runs_page(project, named, PageQuery(limit=1))
    assert [r.id for r in first.items] == [resumed.id] and first.next_cursor
    second = pipeline_runs_page(project, named, PageQuery(limit=1, cursor=first.next_cursor))
    assert [r.id for r in second.items] == [failed.id]
    finished = start_in_background(project, named)
    assert wait_for_background_runs(timeout=60)
    with pytest.raises(Conflict, match="nothing to resume"):
        resume_in_background(project, finished.id)


def test_only_a_name_starts_a_run_and_bad_input_writes_nothing(
    project: Project, named: str, tmp_path: Path
) -> None:
    (tmp_path / "evil.yaml").write_text("name: evil\nsteps: []\n")
    for target in (str(tmp_path / "evil.yaml"), "../evil", "evil.yaml"):
        with pytest.raises(InvalidInput, match="pipeline name"):
            start_in_background(project, target)
    with pytest.raises(NotFound, match="Did you mean 'two'"):
        start_in_background(project, "tow")
    with pytest.raises(InvalidInput, match="nope"):
        start_in_background(project, named, {"nope": 1})
    assert project.catalog.list_pipeline_runs() == []
