"""A label value as the user wrote it, matched to the value the data holds.

DuckDB's CSV reader turns a column of yes / no (or true / false, t / f) into booleans, so
the file's own words are gone by the time a report or a model reads the column. The user's
word must still find its value: ``--positive yes`` on such a column means ``True``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["boolean_hint", "boolean_word", "match_value"]

_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


def boolean_word(value: Any) -> bool | None:
    """``True`` or ``False`` for a word a file writes booleans with (yes, no, t, f, ...),
    else None.

    Example:
        >>> boolean_word("Yes"), boolean_word("no"), boolean_word("maybe")
        (True, False, None)
    """
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if not isinstance(value, str):
        return None
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return None


def match_value(wanted: Any, present: Sequence[Any]) -> Any:
    """The present value equal to ``wanted``: as it is, as text (a CLI argument), or as a
    boolean when the data holds booleans and ``wanted`` is a boolean word. None when none is.

    Example:
        >>> match_value("yes", [False, True]), match_value("2", [1, 2]), match_value("x", [1])
        (True, 2, None)
    """
    for v in present:
        if v == wanted:
            return v
    for v in present:
        if str(v) == str(wanted):
            return v
    word = boolean_word(wanted)
    if word is not None:
        for v in present:
            if isinstance(v, bool | np.bool_) and bool(v) == word:
                return v
    return None


def boolean_hint(present: Sequence[Any]) -> str:
    """A sentence for an error about a column of booleans: which words name its values."""
    if present and all(isinstance(v, bool | np.bool_) for v in present):
        return (
            " The column holds booleans (a file's yes / no, true / false or t / f are read as "
            "such): give yes or no, true or false."
        )
    return ""
