"""Which captured inputs are personal data, and what captures keep of them.

A model's inputs are personal when its training dataset (the ``dataset`` of its lineage)
tags them PII (:func:`shipyard.security.pii.pii_columns`) or its signature does. The
``capture_pii`` setting (``SHIPYARD_CAPTURE_PII``) decides what a capture keeps of them:
``hash`` (default) an HMAC of the value under the project's key for that column, the same
one training's ``--hash-pii`` uses, so captures still join and count distinct values;
``mask`` nothing (null); ``keep`` the value (of the dataset's tags: a column the signature
itself tags is never kept). The inference server looks the tags up when it starts.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from shipyard.capture._schema import masked_columns
from shipyard.errors import InvalidInput

__all__ = ["PII_POLICIES", "CapturePrivacy", "capture_privacy"]

PII_POLICIES = ("hash", "mask", "keep")
"""What a capture may keep of a personal input column."""


@dataclass(frozen=True)
class CapturePrivacy:
    """The input columns a capture stores as null (``masked``) or as a keyed hash
    (``hashed``: column -> HMAC key in hex)."""

    masked: tuple[str, ...] = ()
    hashed: Mapping[str, str] = field(default_factory=dict)


def capture_privacy(
    signature: Mapping[str, Any],
    *,
    tagged: Collection[str],
    policy: str,
    hash_key: Callable[[str], str],
) -> CapturePrivacy:
    """What captures of a model with ``signature`` do with its personal inputs: those its
    training dataset tags (``tagged``, from :func:`shipyard.security.pii.pii_columns`) and
    those its signature tags, under ``policy``; ``hash_key(column)`` gives a column's key
    (:func:`shipyard.security.pii.column_hash_key`).

    Raises:
        InvalidInput: ``policy`` is not one of :data:`PII_POLICIES`.
    """
    if policy not in PII_POLICIES:
        raise InvalidInput(
            f"The capture PII policy (SHIPYARD_CAPTURE_PII) must be one of "
            f"{', '.join(PII_POLICIES)}. Got {policy!r} instead."
        )
    personal_names = set(masked_columns(signature)) | set(tagged)
    personal = tuple(c["name"] for c in signature["inputs"] if c["name"] in personal_names)
    if policy == "keep" or not personal:
        return CapturePrivacy()
    if policy == "mask":
        return CapturePrivacy(masked=personal)
    return CapturePrivacy(hashed={c: hash_key(c) for c in personal})
