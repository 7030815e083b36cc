"""Steps as Ray tasks (``--backend ray``): each task opens the project from its folder (so
every node must see the same catalog, lake and artifact store: PostgreSQL and S3, or one
machine) and runs the step there; the driver keeps the order, the cache and the catalog."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from shipyard.compute import RayCluster, connect_ray
from shipyard.pipelines._execute import Outcome, StepTask, run_task_in_worker
from shipyard.project import Project

__all__ = ["RayExecutor"]


class RayExecutor:
    """Submits each step as a Ray task of one CPU, retried by the step's own policy (Ray's
    task retries are off: a retry is an attempt the step records)."""

    def __init__(self, project: Project, address: str | None = None) -> None:
        self.root = str(project.root)
        self.cluster: RayCluster = connect_ray(address or project.settings.ray_address)
        ray = self.cluster.ray
        self._task: Any = ray.remote(run_task_in_worker).options(num_cpus=1, max_retries=0)

    def submit(self, task: StepTask) -> Future[Outcome]:
        future: Future[Outcome] = self._task.remote(task, self.root).future()
        return future

    def close(self, wait: bool = True) -> None:
        self.cluster.close()
