"""The pipelines room: the lifecycle as a DAG of steps, cached, resumable and on a schedule.

A pipeline is parameters and steps, written in YAML (``pipelines/NAME.yaml``) or in Python
(:func:`step` and :func:`pipeline`). Each step is a built-in kind (ingest, check, profile,
bias, feature-training-set, split, train, evaluate, gate, register, approve-wait, promote,
batch, monitor, condition, fail) or a plain function, with typed inputs and outputs.
:func:`run_pipeline` validates the graph first, runs independent steps at once, reuses the
outputs of steps whose inputs, configuration and code are unchanged, and records every step
in the catalog. Names load on first use, as in :mod:`shipyard`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard._lazy import lazy_exports

if TYPE_CHECKING:
    from shipyard.pipelines._graph import draw_graph
    from shipyard.pipelines._handles import Dataset, Model, Report
    from shipyard.pipelines._kinds import BUILTIN, Arg, StepContext, StepFailed, StepKind
    from shipyard.pipelines._python import pipeline, step, use
    from shipyard.pipelines._runner import StepEvent
    from shipyard.pipelines._validate import Plan
    from shipyard.pipelines.background import (
        resume_in_background,
        start_in_background,
        wait_for_background_runs,
    )
    from shipyard.pipelines.runs import (
        PipelineSummary,
        RunResult,
        fail_dead_pipeline_runs,
        list_pipelines,
        load_pipeline,
        pipeline_runs,
        resume_pipeline,
        run_pipeline,
        show_pipeline_run,
    )
    from shipyard.pipelines.schedules import (
        Scheduler,
        list_schedules,
        remove_schedule,
        schedule_pipeline,
    )
    from shipyard.pipelines.views import (
        GraphEdge,
        GraphNode,
        RunForm,
        RunGraph,
        pipeline_runs_page,
        pipelines_page,
        run_form,
        run_graph,
    )

_EXPORTS = {
    "draw_graph": "._graph",
    "Dataset": "._handles",
    "Model": "._handles",
    "Report": "._handles",
    "BUILTIN": "._kinds",
    "Arg": "._kinds",
    "StepContext": "._kinds",
    "StepFailed": "._kinds",
    "StepKind": "._kinds",
    "pipeline": "._python",
    "step": "._python",
    "use": "._python",
    "StepEvent": "._runner",
    "Plan": "._validate",
    "PipelineSummary": ".runs",
    "RunResult": ".runs",
    "fail_dead_pipeline_runs": ".runs",
    "list_pipelines": ".runs",
    "load_pipeline": ".runs",
    "pipeline_runs": ".runs",
    "resume_pipeline": ".runs",
    "run_pipeline": ".runs",
    "show_pipeline_run": ".runs",
    "resume_in_background": ".background",
    "start_in_background": ".background",
    "wait_for_background_runs": ".background",
    "GraphEdge": ".views",
    "GraphNode": ".views",
    "RunForm": ".views",
    "RunGraph": ".views",
    "pipeline_runs_page": ".views",
    "pipelines_page": ".views",
    "run_form": ".views",
    "run_graph": ".views",
    "Scheduler": ".schedules",
    "list_schedules": ".schedules",
    "remove_schedule": ".schedules",
    "schedule_pipeline": ".schedules",
}

__all__ = [
    "BUILTIN",
    "Arg",
    "Dataset",
    "GraphEdge",
    "GraphNode",
    "Model",
    "PipelineSummary",
    "Plan",
    "Report",
    "RunForm",
    "RunGraph",
    "RunResult",
    "Scheduler",
    "StepContext",
    "StepEvent",
    "StepFailed",
    "StepKind",
    "draw_graph",
    "fail_dead_pipeline_runs",
    "list_pipelines",
    "list_schedules",
    "load_pipeline",
    "pipeline",
    "pipeline_runs",
    "pipeline_runs_page",
    "pipelines_page",
    "remove_schedule",
    "resume_in_background",
    "resume_pipeline",
    "run_form",
    "run_graph",
    "run_pipeline",
    "schedule_pipeline",
    "show_pipeline_run",
    "start_in_background",
    "step",
    "use",
    "wait_for_background_runs",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
