"""Parse the names users give: ``dataset[@N]`` and ``model[:V|@ALIAS]``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shipyard.errors import InvalidInput

__all__ = ["MAX_VERSION", "DatasetRef", "ModelRef", "parse_dataset_ref", "parse_model_ref"]

MAX_VERSION = 2**31 - 1
"""The largest version number: the catalog stores versions as 32-bit integers (PostgreSQL's
``integer``)."""

_NAME = r"[A-Za-z][A-Za-z0-9_\-]{0,127}"
_DATASET = re.compile(rf"^(?P<name>{_NAME})(@(?P<version>\d+))?$")
_MODEL = re.compile(rf"^(?P<name>{_NAME})(:(?P<version>\d+)|@(?P<alias>[a-z][a-z0-9_\-]*))?$")


@dataclass(frozen=True)
class DatasetRef:
    name: str
    version: int | None = None


@dataclass(frozen=True)
class ModelRef:
    name: str
    version: int | None = None
    alias: str | None = None


def parse_dataset_ref(text: str) -> DatasetRef:
    """``usage`` (latest) or ``usage@3``."""
    match = _DATASET.match(text.strip())
    if not match:
        raise InvalidInput(f"'{text}' is not a dataset reference. Use NAME or NAME@VERSION.")
    name = match.group("name")
    return DatasetRef(name, _version(name, match.group("version")))


def parse_model_ref(text: str) -> ModelRef:
    """``fraud`` (latest), ``fraud:3`` (a version) or ``fraud@prod`` (an alias)."""
    match = _MODEL.match(text.strip())
    if not match:
        raise InvalidInput(
            f"'{text}' is not a model reference. Use NAME, NAME:VERSION or NAME@ALIAS."
        )
    name = match.group("name")
    return ModelRef(name, _version(name, match.group("version")), match.group("alias"))


def _version(name: str, digits: str | None) -> int | None:
    """The version number of ``name``, refused unless it is in 1..MAX_VERSION."""
    if digits is None:
        return None
    # Compare lengths before int(): a 5,000-digit number would hit Python's int-size limit.
    number = digits.lstrip("0")
    if number and len(number) <= len(str(MAX_VERSION)) and int(number) <= MAX_VERSION:
        return int(number)
    shown = digits if len(digits) <= 24 else f"{digits[:21]}..."
    raise InvalidInput(
        f"Version {shown} of '{name}' is out of range: a "
        f"version is a whole number from 1 to {MAX_VERSION:,}. Use a version that exists "
        "(`shipyard datasets list`, `shipyard models list`)."
    )
