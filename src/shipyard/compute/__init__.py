"""Compute: where heavy work runs. ``local`` is this process; ``ray`` is a Ray cluster, or a
Ray started on this machine for one job.

Nothing here imports Ray until a Ray backend is asked for, so ``import shipyard`` and the CLI
stay fast and work without the ``ray`` extra.
"""

from __future__ import annotations

from shipyard.compute._backends import BACKENDS, check_backend
from shipyard.compute._ray import RayCluster, connect_ray, require_ray

__all__ = ["BACKENDS", "RayCluster", "check_backend", "connect_ray", "require_ray"]
