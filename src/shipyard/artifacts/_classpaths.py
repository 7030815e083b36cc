"""Where the classes a stored bundle names live now.

``model.pkl`` names each class by module path. When code moves, bundles written before the
move must keep loading: this table maps old module paths to new ones, and the unpickler asks
it before importing anything. Add a row whenever a class a bundle can hold changes module;
never remove one.
"""

from __future__ import annotations

import pickle
from typing import IO, Any

__all__ = ["BUNDLE_FORMAT", "BundleUnpickler", "current_module"]

BUNDLE_FORMAT = 2
"""The bundle format this code writes (``model.json``'s ``format``) and the newest it reads.

1: the runtime lived in ``shipyard.train`` (no ``format`` key). 2: ``shipyard.model``.
"""

# Old module path (exact, or a package prefix ending in ".") -> the module it moved to.
# Bundle format 1 (before 2026-11-30): the runtime lived inside shipyard.train.
_MOVED: dict[str, str] = {
    "shipyard.train.model": "shipyard.model.tabular",
    "shipyard.train.features": "shipyard.model.encoder",
    "shipyard.train.problem": "shipyard.model.problem",
    "shipyard.train.calibration": "shipyard.model.calibration",
    "shipyard.train.automl._ensemble": "shipyard.model.ensemble",
    "shipyard.train.families.": "shipyard.model.families.",
    "shipyard.train.families": "shipyard.model.families",
}


def current_module(module: str) -> str:
    """The module that holds today what a bundle called ``module``."""
    moved = _MOVED.get(module)
    if moved is not None:
        return moved
    for old, new in _MOVED.items():
        if old.endswith(".") and module.startswith(old):
            return new + module[len(old) :]
    return module


class BundleUnpickler(pickle.Unpickler):
    """An unpickler that reads bundles written under older module paths."""

    def __init__(self, file: IO[bytes]) -> None:
        super().__init__(file)

    def find_class(self, module: str, name: str) -> Any:
        return super().find_class(current_module(module), name)
