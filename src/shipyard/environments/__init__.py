"""Environments: dev, staging and prod, each with its own aliases, and, when the project's
``shipyard.yaml`` says so, its own catalog, artifact store and online store (a prod on
PostgreSQL and S3 beside a dev on the laptop) and its own promotion gates.

:func:`environment_project` is the project an environment acts in; :func:`resolve_version`
finds ``fraud@prod`` in prod's catalog. See :mod:`shipyard.environments._config` for the file.
"""

from __future__ import annotations

from shipyard.environments._config import (
    BIAS_METRICS,
    CHAMPION_METRICS,
    CONFIG_FILE,
    DEFAULT_GATES,
    BiasFacet,
    BiasGate,
    ChampionGate,
    DiagnosticsGate,
    EnvironmentConfig,
    GatePlan,
    load_config,
)
from shipyard.environments._projects import (
    check_environment,
    describe_environments,
    environment_config,
    environment_project,
    resolve_version,
    version_home,
)

__all__ = [
    "BIAS_METRICS",
    "CHAMPION_METRICS",
    "CONFIG_FILE",
    "DEFAULT_GATES",
    "BiasFacet",
    "BiasGate",
    "ChampionGate",
    "DiagnosticsGate",
    "EnvironmentConfig",
    "GatePlan",
    "check_environment",
    "describe_environments",
    "environment_config",
    "environment_project",
    "load_config",
    "resolve_version",
    "version_home",
]
