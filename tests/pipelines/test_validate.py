"""Validation before anything runs: planted errors are refused with clear messages, and
nothing is written (no pipeline registered, no run, no dataset)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from shipyard.errors import InvalidInput, NotFound
from shipyard.pipelines import load_pipeline, run_pipeline
from shipyard.project import Project

S = "tests.pipelines._steps"
SOURCE = {"name": "make", "function": f"{S}:source", "config": {"n": 3}}
TOTAL = {"name": "sum", "function": f"{S}:total", "inputs": {"data": "make"}}


def _file(tmp_path: Path, steps: list[dict[str, Any]], **extra: Any) -> str:
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({"name": "planted", "steps": steps, **extra}))
    return str(path)


def _refused(project: Project, target: str, *expected: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        run_pipeline(project, target)
    for text in expected:
        assert text in caught.value.message
    assert project.catalog.list_pipelines() == []
    assert project.catalog.list_pipeline_runs() == []
    assert project.catalog.list_dataset_versions() == []


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param(
            [SOURCE, {**TOTAL, "inputs": {"data": "mkae"}}],
            ["step 'sum', input 'data': no step 'mkae'. Did you mean 'make'?"],
            id="unknown-step",
        ),
        pytest.param(
            [SOURCE, {"name": "x", "kind": "ingets", "config": {"name": "a"}}],
            ["step 'x', key 'kind'", "Did you mean 'ingest'?"],
            id="unknown-kind",
        ),
        pytest.param(
            [
                SOURCE,
                {"name": "a", "function": f"{S}:scale", "inputs": {"data": "b"}},
                {"name": "b", "function": f"{S}:scale", "inputs": {"data": "a"}},
            ],
            ["steps: a -> b -> a form a cycle"],
            id="cycle",
        ),
        pytest.param(
            [
                SOURCE,
                {
                    "name": "t",
                    "kind": "train",
                    "inputs": {"dataset": "make"},
                    "config": {"target": "x"},
                },
                {
                    "name": "p",
                    "kind": "promote",
                    "inputs": {"model": "make"},
                    "config": {"environment": "prod"},
                },
            ],
            ["step 'p', input 'model': make.result is a dataset, but this input takes a model"],
            id="output-consumed-under-the-wrong-type",
        ),
        pytest.param(
            [SOURCE, {**TOTAL, "inputs": {"data": "make.rows"}}],
            ["step 'make' has no output 'rows'", "Its outputs: result"],
            id="unknown-output",
        ),
        pytest.param(
            [{**SOURCE, "config": {"n": "${params.size}"}}],
            ["step 'make', config 'n': no parameter 'size'"],
            id="unknown-parameter",
        ),
        pytest.param(
            [{**SOURCE, "config": {"n": "three"}}],
            ["step 'make', config 'n'", "must be a whole number"],
            id="ill-typed-config",
        ),
        pytest.param(
            [{**SOURCE, "config": {"n": 3, "m": 4}}, {"name": "b", "kind": "promote"}],
            ["has no argument 'm'", "the argument 'model' (model) is missing"],
            id="unknown-and-missing-arguments",
        ),
        pytest.param(
            [SOURCE, {**TOTAL, "when": "make.result"}],
            ["key 'when': make.result is a dataset, but this input takes a bool"],
            id="condition-not-a-boolean",
        ),
    ],
)
def test_planted_errors_are_refused_before_anything_runs(
    project: Project, tmp_path: Path, steps: list[dict[str, Any]], expected: list[str]
) -> None:
    _refused(project, _file(tmp_path, steps), *expected)


def test_every_problem_is_listed_at_once(project: Project, tmp_path: Path) -> None:
    steps = [SOURCE, {**TOTAL, "inputs": {"data": "nope"}}, {"name": "b", "kind": "nope"}]
    with pytest.raises(InvalidInput) as caught:
        load_pipeline(project, _file(tmp_path, steps))
    assert caught.value.message.count("\n  - ") == 2


def test_the_yaml_names_the_file_the_step_and_the_key(project: Project, tmp_path: Path) -> None:
    path = _file(tmp_path, [{**SOURCE, "retries": "many", "colour": "red"}])
    _refused(project, path, str(tmp_path / "p.yaml"), "step 'make', key 'retries'",
             "step 'make', key 'colour': unknown key")  # fmt: skip


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param(
            {"n": "many"},
            "Parameter 'n' of pipeline 'planted' must be a whole number",
            id="wrong-type",
        ),
        pytest.param({"nn": "1"}, "has no parameter 'nn'. Did you mean 'n'?", id="unknown"),
    ],
)
def test_bad_parameters_are_refused(
    project: Project, tmp_path: Path, params: dict[str, str], expected: str
) -> None:
    path = _file(tmp_path, [{**SOURCE, "config": {"n": "${params.n}"}}], parameters={"n": 3})
    with pytest.raises(InvalidInput, match=expected):
        run_pipeline(project, path, params, params_as_text=True)
    assert project.catalog.list_pipeline_runs() == []


def test_a_required_parameter_must_be_given(project: Project, tmp_path: Path) -> None:
    path = _file(tmp_path, [{**SOURCE, "config": {"n": "${params.n}"}}],
                 parameters={"n": {"type": "int"}})  # fmt: skip
    with pytest.raises(InvalidInput, match="has no default; give it with -p n=VALUE"):
        run_pipeline(project, path)
    assert run_pipeline(project, path, {"n": "2"}, params_as_text=True).ok


def test_an_unknown_pipeline_suggests_a_close_name(project: Project) -> None:
    with pytest.raises(NotFound, match="Did you mean 'roaming'"):
        load_pipeline(project, "roamin")
