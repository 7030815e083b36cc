"""Steps as Ray tasks on a local Ray: the same outputs and cache as the local backend."""

from __future__ import annotations

import pytest

from shipyard.pipelines import run_pipeline
from shipyard.project import Project
from tests.pipelines import _steps

ray = pytest.importorskip("ray")


def test_steps_run_as_ray_tasks_and_share_the_cache(project: Project) -> None:
    import cloudpickle

    cloudpickle.register_pickle_by_value(_steps)  # workers need not import the tests
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        result = run_pipeline(project, _steps.chain, {"n": 4}, backend="ray")
        assert result.ok, result.run.error
        assert result.outputs("total") == {"result": 12.0}
        assert "summing chain_scale@1" in result.step("total").logs
    finally:
        ray.shutdown()
    again = run_pipeline(project, _steps.chain, {"n": 4})
    assert {s.status for s in again.steps} == {"cached"}
