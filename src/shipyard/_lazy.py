"""Packages whose public names load on first use, so that importing them stays cheap.

The CLI imports a package to reach one command; eager re-exports would import every
library behind the package (DuckDB, pandas, scikit-learn) on each start-up.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module's ``__getattr__`` and ``__dir__`` that import each exported name on first use.

    Args:
        package: The module's ``__name__``.
        exports: Name -> the module holding it: absolute, or relative to ``package`` with a
            leading dot (``".bias"``).
        namespace: The module's ``globals()``; a loaded name is cached there.
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module '{package}' has no attribute '{name}'")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted([*namespace, *exports])

    return __getattr__, __dir__
