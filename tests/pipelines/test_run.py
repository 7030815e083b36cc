"""Running pipelines: caching (exactly the downstream steps rerun), conditions, fail steps,
retries with backoff, resume, parallel steps, logs and lineage."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from shipyard.ingest import ingest_path
from shipyard.pipelines import resume_pipeline, run_pipeline, show_pipeline_run
from shipyard.project import Project
from tests.pipelines import _steps

S = "tests.pipelines._steps"


def _statuses(result: object) -> dict[str, str]:
    return {s.step: s.status for s in result.steps}  # type: ignore[attr-defined]


def _write(tmp_path: Path, doc: dict[str, object]) -> str:
    path = tmp_path / f"{doc['name']}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_a_changed_parameter_reruns_exactly_the_steps_downstream(project: Project) -> None:
    first = run_pipeline(project, _steps.chain)
    assert first.ok and set(_statuses(first).values()) == {"finished"}
    again = run_pipeline(project, _steps.chain)
    assert set(_statuses(again).values()) == {"cached"}
    assert again.step("total").cached_from == first.run.id
    assert again.outputs("total") == first.outputs("total")

    _steps.CALLS.clear()
    changed = run_pipeline(project, _steps.chain, {"factor": 3.0})
    assert _statuses(changed) == {
        "source": "cached",
        "scale": "finished",
        "total": "finished",
        "other": "cached",
    }
    assert sorted(_steps.CALLS) == ["scale", "total"]
    assert changed.outputs("total") == {"result": 30.0}


def test_a_new_dataset_version_reruns_its_readers_only(project: Project, tmp_path: Path) -> None:
    raw = tmp_path / "raw.parquet"
    pd.DataFrame({"x": [1, 2, 3]}).to_parquet(raw)
    ingest_path(project, raw, "raw")
    doc = {
        "name": "readers",
        "steps": [
            {
                "name": "sum_raw",
                "function": f"{S}:total",
                "config": {"data": "raw"},
            },
            {"name": "side", "function": f"{S}:other", "config": {"n": 2}},
        ],
    }
    path = _write(tmp_path, doc)
    assert run_pipeline(project, path).outputs("sum_raw") == {"result": 6.0}
    pd.DataFrame({"x": [1, 2, 3, 4]}).to_parquet(raw)
    ingest_path(project, raw, "raw")
    again = run_pipeline(project, path)
    assert _statuses(again) == {"sum_raw": "finished", "side": "cached"}
    assert again.outputs("sum_raw") == {"result": 10.0}
    assert again.step("sum_raw").inputs == {"data": "raw@2"}


def test_no_cache_cache_false_and_expiry_run_steps_again(project: Project) -> None:
    run_pipeline(project, _steps.chain)
    assert set(_statuses(run_pipeline(project, _steps.chain, no_cache=True)).values()) == {
        "finished"
    }
    uncached = _steps.other.using(cache=False)
    expiring = _steps.other.using(name="expiring", expire_after=1e-6)

    from shipyard.pipelines import pipeline

    @pipeline(name="settings")
    def settings(n: int = 5) -> None:
        uncached(n)
        expiring(n)
        _steps.other(n)

    run_pipeline(project, settings)
    assert _statuses(run_pipeline(project, settings)) == {
        "other": "finished",
        "expiring": "finished",
        "other_2": "cached",
    }


def test_a_condition_branches_and_a_fail_step_stops_the_run(project: Project) -> None:
    small = run_pipeline(project, _steps.wired, {"limit": 100.0})
    assert not small.ok
    assert _statuses(small)["when_big"] == "skipped"
    assert small.run.error == "Stopped by step 'stop': too small"
    big = run_pipeline(project, _steps.wired, {"limit": 1.0})
    assert big.ok
    assert _statuses(big) == {
        "source": "cached",
        "total": "cached",
        "condition": "finished",
        "when_big": "cached",  # the same function on the same data as 'total': reused
        "stop": "skipped",
    }
    shown = show_pipeline_run(project, big.run.id[:8])
    assert (shown.run.status, shown.step("stop").error) == (
        "finished",
        "its condition 'not condition.result' is false",
    )


def test_retries_back_off_and_record_their_attempts(project: Project, tmp_path: Path) -> None:
    _steps.ATTEMPTS.clear()
    waits: list[float] = []
    doc = {
        "name": "retrying",
        "steps": [
            {"name": "shaky", "function": f"{S}:flaky", "retries": 3,
             "backoff": "2s", "config": {"key": "a", "failures": 2}},
            {"name": "broken", "function": f"{S}:flaky", "retries": 1,
             "backoff": 0.5, "config": {"key": "b", "failures": 5}},
        ],
    }  # fmt: skip
    result = run_pipeline(project, _write(tmp_path, doc), sleep=waits.append, workers=1)
    shaky, broken = result.step("shaky"), result.step("broken")
    assert (shaky.status, shaky.attempts, shaky.outputs) == (
        "finished",
        3,
        {"result": "ok after 3"},
    )
    assert (broken.status, broken.attempts) == ("failed", 2)
    assert "ConnectionError: attempt 2 lost the connection" in (broken.error or "")
    assert sorted(waits) == [0.5, 2.0, 4.0]
    assert "attempt 1 failed" in shaky.logs
    assert not result.ok and "Step 'broken' failed" in (result.run.error or "")


def test_resume_starts_from_the_failed_step(project: Project, tmp_path: Path) -> None:
    flag = tmp_path / "flag"
    doc = {
        "name": "resumable",
        "steps": [
            {"name": "one", "function": f"{S}:source", "config": {"n": 4}},
            {"name": "two", "function": f"{S}:gated", "config": {"flag": str(flag)}},
            {"name": "three", "function": f"{S}:total", "inputs": {"data": "one"}},
            {"name": "four", "function": f"{S}:first", "inputs": {"n": "params.n"}},
        ],
        "parameters": {"n": 1},
    }  # fmt: skip
    path = _write(tmp_path, doc)
    failed = run_pipeline(project, path, {"n": 7}, workers=1)
    assert not failed.ok and failed.step("two").status == "failed"
    flag.write_text("now")
    resumed = resume_pipeline(project, failed.run.id[:10])
    assert resumed.ok and resumed.run.resumed_from == failed.run.id
    assert resumed.run.params == {"n": 7}
    assert resumed.step("one").status == "cached"
    assert resumed.step("one").cached_from == failed.run.id
    assert resumed.step("two").status == "finished"
    assert resumed.outputs("four") == {"result": 8}


def test_independent_steps_run_at_once(project: Project, tmp_path: Path) -> None:
    doc = {
        "name": "parallel",
        "steps": [
            {"name": "left", "function": f"{S}:meet", "config": {"side": "l"}},
            {"name": "right", "function": f"{S}:meet", "config": {"side": "r"}},
        ],
    }
    result = run_pipeline(project, _write(tmp_path, doc), workers=2)
    assert result.ok, result.run.error


def test_outputs_carry_lineage_logs_and_several_datasets(project: Project, tmp_path: Path) -> None:
    doc = {
        "name": "lineage",
        "steps": [
            {"name": "make", "function": f"{S}:source", "config": {"n": 6}},
            {"name": "split", "function": f"{S}:halves", "inputs": {"data": "make"}},
            {"name": "sum_high", "function": f"{S}:total",
             "inputs": {"data": "split.high"}},
        ],
    }  # fmt: skip
    result = run_pipeline(project, _write(tmp_path, doc))
    assert result.outputs("split") == {"low": "lineage_split_low@1", "high": "lineage_split_high@1"}
    assert result.outputs("sum_high") == {"result": 12.0}
    assert "summing lineage_split_high@1" in result.step("sum_high").logs
    assert project.catalog.pipeline_lineage("lineage_split_high@1") == [(result.run.id, "split")]
