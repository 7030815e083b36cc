"""Importing user code: a module by name, or a Python file by path (loaded once per process,
under a name of its own, so two files called ``steps.py`` do not collide)."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from shipyard.errors import InvalidInput, NotFound

__all__ = ["import_object", "load_file"]


def load_file(path: Path) -> ModuleType:
    """The module a Python file defines (imported at its first use).

    Raises:
        NotFound: No such file.
        InvalidInput: The file fails to import; the message shows where.
    """
    path = path.resolve()
    if not path.is_file():
        raise NotFound(f"No Python file at {path}.")
    name = f"shipyard_user_{path.stem}_{hashlib.sha256(str(path).encode()).hexdigest()[:10]}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InvalidInput(f"{path} cannot be imported as a Python module.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        last = traceback.extract_tb(exc.__traceback__)[-1]
        raise InvalidInput(
            f"{path} failed to import: {type(exc).__name__}: {exc} (line {last.lineno})."
        ) from None
    _pickle_by_value(module)
    return module


def _pickle_by_value(module: ModuleType) -> None:
    """A module loaded from a file is not importable by name on a Ray worker: its functions
    travel by value instead."""
    if "cloudpickle" in sys.modules or importlib.util.find_spec("cloudpickle") is not None:
        import cloudpickle

        cloudpickle.register_pickle_by_value(module)


def import_object(ref: str, base: Path | None) -> Any:
    """The object ``module:name`` or ``path/file.py:name`` names (a file path is relative to
    ``base``, the folder of the pipeline that names it).

    Raises:
        InvalidInput: ``ref`` is not of that form, or the module fails to import.
        NotFound: The module, the file or the name does not exist.
    """
    where, sep, attr = ref.rpartition(":")
    if not sep or not where or not attr:
        raise InvalidInput(
            f"A function is given as 'module:name' or 'file.py:name'. Got {ref!r} instead."
        )
    if where.endswith(".py"):
        path = Path(where)
        module = load_file(path if path.is_absolute() or base is None else base / path)
    else:
        try:
            module = importlib.import_module(where)
        except ModuleNotFoundError as exc:
            raise NotFound(f"No module named {where!r} ({exc}); is it installed?") from None
    target: Any = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise NotFound(f"{where} has no {attr!r}.")
        target = getattr(target, part)
    return target
