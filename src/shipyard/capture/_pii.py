"""Which captured inputs are personal data, and what captures keep of them.

A model's inputs are personal when its training dataset (the ``dataset`` of its lineage)
tags them PII (:func:`shipyard.security.pii.pii_columns`) or its signature does. The
``capture_pii`` setting (``SHIPYARD_CAPTURE_PII``) decides what a capture keeps of them:
``hash`` (default) an HMAC of the value under the project's key for that column, the same
one training's ``--hash-pii`` uses, so captures still join and count distinct values;
``mask`` nothing (null); ``keep`` the value (of the dataset's tags: a column the signature
itself tags is never kept).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shipyard.capture._schema import masked_columns
from shipyard.errors import InvalidInput, NotFound
from shipyard.security.pii import column_hash_key, pii_columns

if TYPE_CHECKING:
    from shipyard.project import Project

__all__ = ["PII_POLICIES", "CapturePrivacy", "capture_privacy"]

PII_POLICIES = ("hash", "mask", "keep")
"""What a capture may keep of a personal input column."""

log = logging.getLogger("shipyard.capture")


@dataclass(frozen=True)
class CapturePrivacy:
    """The input columns a capture stores as null (``masked``) or as a keyed hash
    (``hashed``: column -> HMAC key in hex)."""

    masked: tuple[str, ...] = ()
    hashed: Mapping[str, str] = field(default_factory=dict)


def capture_privacy(
    project: Project,
    signature: Mapping[str, Any],
    *,
    dataset: str | None,
    policy: str,
) -> CapturePrivacy:
    """What captures of a model with ``signature``, trained on ``dataset`` (``NAME@N``, or
    None when unknown), do with its personal inputs under ``policy``.

    A training dataset that no longer exists is logged and skipped: the signature's tags
    still hold.

    Raises:
        InvalidInput: ``policy`` is not one of :data:`PII_POLICIES`.
    """
    if policy not in PII_POLICIES:
        raise InvalidInput(
            f"The capture PII policy (SHIPYARD_CAPTURE_PII) must be one of "
            f"{', '.join(PII_POLICIES)}. Got {policy!r} instead."
        )
    inputs = [c["name"] for c in signature["inputs"]]
    tagged = set(masked_columns(signature))
    if dataset:
        try:
            tagged |= set(pii_columns(project, dataset))
        except NotFound:
            log.warning(
                "The training dataset %s is gone; captures protect only the columns the "
                "model's signature tags as personal data.",
                dataset,
            )
    personal = tuple(c for c in inputs if c in tagged)
    if policy == "keep" or not personal:
        return CapturePrivacy()
    if policy == "mask":
        return CapturePrivacy(masked=personal)
    return CapturePrivacy(hashed={c: column_hash_key(project, c) for c in personal})
