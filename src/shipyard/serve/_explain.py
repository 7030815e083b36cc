"""``?explain=true[&top=N]``: how many contributions per row a request asks for."""

from __future__ import annotations

from urllib.parse import parse_qs

from shipyard.errors import InvalidInput
from shipyard.serve._errors import NotSupported

__all__ = ["explain_top"]

_EXPLAIN_TOP = 5  # contributions per row that ?explain=true returns by default
_MAX_EXPLAIN_TOP = 100
_TRUE_FLAGS = frozenset({"true", "1", "yes"})
_FALSE_FLAGS = frozenset({"false", "0", "no"})


def explain_top(query: bytes, can_explain: bool, family: str, ref: str) -> int:
    """How many contributions ``?explain=true[&top=N]`` asks for per row (0: none)."""
    params = parse_qs(query.decode("latin-1"), keep_blank_values=True)
    flag = params.get("explain", ["false"])[-1].lower()
    if flag not in _TRUE_FLAGS and flag not in _FALSE_FLAGS:
        raise InvalidInput(
            f"'explain' must be true or false. Got {params['explain'][-1]!r}.",
            details={"explain": params["explain"][-1]},
        )
    if flag not in _TRUE_FLAGS:
        if "top" in params:
            raise InvalidInput(
                "'top' counts the contributions of ?explain=true, so it needs it. Got "
                f"top={params['top'][-1]!r} with explain={flag!r}. Add explain=true, or "
                "drop top.",
                details={"top": params["top"][-1]},
            )
        return 0
    if not can_explain:
        raise NotSupported(
            f"This model ({family}) cannot explain single predictions; LightGBM, "
            "XGBoost, CatBoost, linear models and ensembles of them can. Drop "
            "?explain=true to score.",
            details={"model": ref, "family": family},
        )
    raw = params.get("top", [str(_EXPLAIN_TOP)])[-1]
    if not raw.isdigit() or not 1 <= int(raw) <= _MAX_EXPLAIN_TOP:
        raise InvalidInput(
            f"'top' must be a whole number from 1 to {_MAX_EXPLAIN_TOP}. Got {raw!r}.",
            details={"top": raw},
        )
    return int(raw)
