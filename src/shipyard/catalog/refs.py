"""Parse the names users give: ``dataset[@N]`` and ``model[:V|@ALIAS]``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shipyard.errors import InvalidInput

__all__ = ["DatasetRef", "ModelRef", "parse_dataset_ref", "parse_model_ref"]

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
    version = match.group("version")
    return DatasetRef(match.group("name"), int(version) if version else None)


def parse_model_ref(text: str) -> ModelRef:
    """``fraud`` (latest), ``fraud:3`` (a version) or ``fraud@prod`` (an alias)."""
    match = _MODEL.match(text.strip())
    if not match:
        raise InvalidInput(
            f"'{text}' is not a model reference. Use NAME, NAME:VERSION or NAME@ALIAS."
        )
    version = match.group("version")
    return ModelRef(match.group("name"), int(version) if version else None, match.group("alias"))
