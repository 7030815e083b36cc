"""The connection to Ray for one job: a cluster at an address, or a Ray started here."""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable, Sequence
from types import ModuleType, TracebackType
from typing import Any

from shipyard.errors import BackendUnavailable

__all__ = ["RayCluster", "connect_ray", "require_ray"]

INSTALL = "pip install 'shipyard[ray]'"


def require_ray() -> ModuleType:
    """The ``ray`` module.

    Raises:
        BackendUnavailable: Ray is not installed; the message gives the install command.
    """
    try:
        import ray
    except ImportError as exc:
        raise BackendUnavailable(
            f"The ray backend needs Ray, which is not installed ({exc}). "
            f"Install it with `{INSTALL}`, or use --backend local."
        ) from exc
    return ray


class RayCluster:
    """Ray, connected for the length of a job.

    Use :func:`connect_ray` to make one. :meth:`close` shuts down only what
    :func:`connect_ray` started: a Ray this process had initialized before is left running
    for its owner, and a connection to a cluster only disconnects (the cluster keeps
    running).
    """

    def __init__(self, ray: ModuleType, address: str | None, owned: bool) -> None:
        self.ray = ray
        self.address = address
        self.owned = owned

    def node_cpus(self) -> list[float]:
        """The CPUs of every live node."""
        return [
            float(node.get("Resources", {}).get("CPU", 0))
            for node in self.ray.nodes()
            if node.get("Alive")
        ]

    def slots(self, cpus_per_task: int) -> int:
        """How many tasks of ``cpus_per_task`` CPUs the cluster runs at once (at least 1)."""
        return max(1, sum(int(cpus // cpus_per_task) for cpus in self.node_cpus()))

    def warm_up(self, modules: Sequence[str], *, tasks: int, cpus: int, timeout: float) -> int:
        """Import ``modules`` in ``tasks`` workers at once, so that the first real tasks do
        not pay for starting Python and importing their libraries (seconds each).

        Returns:
            How many workers were ready within ``timeout`` seconds; the others finish
            warming up in the background.

        Raises:
            BackendUnavailable: A module is missing on a node (Shipyard must be installed on
                every node).
        """
        task = self.ray.remote(_import_modules).options(num_cpus=cpus, max_retries=0)
        refs = [task.remote(list(modules)) for _ in range(max(tasks, 1))]
        ready, _ = self.ray.wait(refs, num_returns=len(refs), timeout=max(timeout, 0.0))
        for ref in ready:
            try:
                self.ray.get(ref)
            except self.ray.exceptions.RayError as exc:
                raise BackendUnavailable(
                    "A Ray worker cannot import what the job needs: "
                    f"{getattr(exc, 'cause', None) or exc}. "
                    f"Install the same Shipyard on every node (`{INSTALL}`)."
                ) from exc
        return len(ready)

    def close(self) -> None:
        """Shut down the Ray this cluster started, or disconnect from the one it joined."""
        if self.owned and self.ray.is_initialized():
            self.ray.shutdown()
        self.owned = False

    def __enter__(self) -> RayCluster:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RayCluster(address={self.address!r}, owned={self.owned})"


def _import_modules(names: list[str]) -> None:
    for name in names:
        importlib.import_module(name)


def connect_ray(
    address: str | None = None,
    *,
    num_cpus: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> RayCluster:
    """Connect to the Ray cluster at ``address``, or start Ray on this machine.

    Args:
        address: A cluster: ``auto`` (the one ``ray start`` runs here), ``HOST:6379``, or
            ``ray://HOST:10001`` (Ray Client). None starts a Ray for this job only, with
            ``num_cpus`` CPUs (default: all of this machine's).
        num_cpus: CPUs of a Ray started here; ignored when joining a cluster.
        progress: Told what is about to happen (starting Ray takes seconds).

    A Ray already initialized in this process (a notebook, a test) is used as it is.

    Raises:
        BackendUnavailable: Ray is not installed, or the cluster cannot be reached.
    """
    say = progress or (lambda _msg: None)
    ray = require_ray()
    if ray.is_initialized():
        say("Using the Ray this process is connected to")
        return RayCluster(ray, address, owned=False)
    say(f"Connecting to Ray at {address}" if address else "Starting Ray on this machine")
    options: dict[str, Any] = {"log_to_driver": False}
    if address:
        options.update(address=address, logging_level=logging.WARNING)
    else:
        # "local" starts a new Ray even when RAY_ADDRESS or a `ray start` on this machine
        # exists: joining a cluster is what an address is for. Its start-up notices (token
        # authentication of a throwaway instance) are noise in a training job's output.
        options.update(
            address="local",
            num_cpus=num_cpus or os.cpu_count() or 1,
            include_dashboard=False,
            logging_level=logging.ERROR,
        )
    try:
        ray.init(**options)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
        where = f"the Ray cluster at {address!r}" if address else "a local Ray"
        raise BackendUnavailable(
            f"Cannot start or reach {where}: {exc}. Check the address (--ray-address or "
            "SHIPYARD_RAY_ADDRESS; `ray status` on the head node shows it), or leave it unset "
            "to run Ray on this machine. A cluster with token authentication also needs "
            "RAY_AUTH_MODE=token and its token (RAY_AUTH_TOKEN or ~/.ray/auth_token)."
        ) from exc
    return RayCluster(ray, address, owned=True)
