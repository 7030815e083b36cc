"""Which pitfalls to list: a dataset version's or a model version's, told from the reference."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from shipyard.errors import InvalidInput, NotFound
from shipyard.pitfalls._checks import PitfallReport
from shipyard.pitfalls._dataset import dataset_pitfalls
from shipyard.pitfalls._model import model_pitfalls

if TYPE_CHECKING:
    from shipyard.project import Project

__all__ = ["pitfalls_of"]

_DATASET_VERSION = re.compile(r"@\d+$")


def pitfalls_of(
    project: Project,
    ref: str,
    *,
    target: str | None = None,
    facet: str | None = None,
    positive: Any = None,
    against: str | None = None,
) -> PitfallReport:
    """The pitfalls of a dataset (``NAME@N``) or a model (``NAME:N``, ``NAME@prod``); a
    bare ``NAME`` is whichever exists (the dataset when ``target`` is given and both do).

    Args:
        target: A dataset's label column: adds the checks that need it (leakage, the split,
            class balance).
        facet: A dataset's sensitive column: measures label bias across its groups.
        positive: The favourable label value for the bias check (default: the rarer class).
        against: Another dataset to compare the dataset with (representativeness).

    Raises:
        NotFound: Neither a dataset nor a model by that name, or a named column is missing.
        InvalidInput: A bare name that is both a dataset and a model (without ``target``),
            dataset options given for a model, or options a check refuses.
    """
    text = ref.strip()
    kind = _kind(project, text, target is not None)
    if kind == "dataset":
        return dataset_pitfalls(
            project, text, target=target, facet=facet, positive=positive, against=against
        )
    given = [f"--{k}" for k, v in (("target", target), ("facet", facet), ("against", against)) if v]
    if given:
        raise InvalidInput(
            f"{', '.join(given)} apply to a dataset; '{text}' is a model, whose checks come "
            "from its training. Drop them, or name the dataset (NAME@N)."
        )
    return model_pitfalls(project, text)


def _kind(project: Project, ref: str, has_target: bool) -> str:
    """``dataset`` or ``model``."""
    if ":" in ref or ("@" in ref and not _DATASET_VERSION.search(ref)):
        return "model"
    if "@" in ref:
        return "dataset"
    dataset = _exists(lambda: project.catalog.get_dataset_version(ref))
    model = _exists(lambda: project.catalog.get_model_version(ref))
    if dataset and model and not has_target:
        raise InvalidInput(
            f"'{ref}' is both a dataset and a model. Give {ref}@N for the dataset (with "
            f"--target COLUMN) or {ref}:N for the model.",
        )
    if dataset:
        return "dataset"
    if model:
        return "model"
    raise NotFound(
        f"No dataset or model is named '{ref}'. List them with `shipyard datasets list` and "
        "`shipyard models list`."
    )


def _exists(get: Any) -> bool:
    try:
        get()
    except NotFound:
        return False
    return True
