"""What users write about an endpoint, parsed and checked: names, variants with weights, the
shadow, capture percentages, durations, guardrails and rollback limits.

Every parser takes what a face hands over as it is (``"fraud:3=90"``, ``"20%"``, ``"5m"``)
and raises :class:`~shipyard.errors.InvalidInput` with a message that quotes it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from shipyard.catalog.refs import parse_model_ref
from shipyard.errors import InvalidInput
from shipyard.types import JSON

__all__ = [
    "ROLLBACK_LIMITS",
    "check_endpoint_name",
    "check_sticky_key",
    "parse_capture",
    "parse_duration",
    "parse_guardrail",
    "parse_percent",
    "parse_rollback_on",
    "parse_shadow",
    "parse_variants",
]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,62}$")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-.]{0,127}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
MAX_DURATION_SECONDS = 7 * 86_400

ROLLBACK_LIMITS = {
    "error_rate": "share of the canary's requests that failed (5xx), 0-1",
    "p99_ms": "the canary's 99th-percentile latency in milliseconds",
    "psi": "PSI of the canary's scores against its version's monitoring baseline",
    "min_requests": "canary requests needed before the limits are judged (default 100)",
}
"""The limits ``--rollback-on`` takes, and what each one bounds."""
DEFAULT_MIN_REQUESTS = 100


def check_endpoint_name(name: str) -> str:
    """Refuse a name that is not 1-63 letters, digits, ``_`` or ``-`` starting with a letter.

    Raises:
        InvalidInput: The name is not one.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(
            "An endpoint name is 1 to 63 letters, digits, '_' or '-', starting with a letter "
            f"(like fraud-scoring). Got {name!r} instead.",
            details={"endpoint": name},
        )
    return name


def check_sticky_key(key: str | None) -> str | None:
    """Refuse a sticky entity key that cannot be a field of a request (None: no key).

    Raises:
        InvalidInput: The key is empty or has characters a column name never has.
    """
    if key is None:
        return None
    if not isinstance(key, str) or not _KEY.match(key):
        raise InvalidInput(
            "The sticky key is the request field whose value keeps one caller on one variant, "
            f"like subscriber_id. Got {key!r}, which is not a field name.",
            details={"sticky_key": key},
        )
    return key


def parse_percent(value: object, what: str, *, low: float = 0.0, high: float = 100.0) -> float:
    """``20``, ``20.5``, ``"20"`` or ``"20%"`` as a number from ``low`` to ``high``.

    Raises:
        InvalidInput: Not a number, or out of range; the message names ``what``.
    """
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().removesuffix("%").strip()
        try:
            number = float(text)
        except ValueError:
            number = None
    if number is None or not math.isfinite(number) or not low <= number <= high:
        raise InvalidInput(
            f"The {what} must be a percentage from {low:g} to {high:g}, like 20 or 20%. "
            f"Got {value!r} instead.",
            details={what: value},
        )
    return number


def parse_capture(value: object) -> float:
    """The share of requests captured: ``"20%"`` or ``20`` as 20.0 (0: off).

    Raises:
        InvalidInput: Not a percentage from 0 to 100.
    """
    return parse_percent(value, "capture")


def parse_duration(value: object, what: str) -> float:
    """``"5m"``, ``"90s"``, ``"1h"``, ``"250ms"`` or a number of seconds, as seconds
    (more than 0, at most 7 days).

    Raises:
        InvalidInput: Not a duration, or out of range; the message names ``what``.
    """
    seconds: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        match = _DURATION.match(value.lower())
        if match:
            seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds is None or not 0 < seconds <= MAX_DURATION_SECONDS:
        raise InvalidInput(
            f"The {what} must be a duration like 90s, 5m or 1h (more than 0, at most 7 "
            f"days). Got {value!r} instead.",
            details={what: value},
        )
    return seconds


def parse_variants(variants: Sequence[str] | Mapping[str, int]) -> list[JSON]:
    """``["fraud:3=90", "fraud:4=10"]`` (or ``{"fraud:3": 90, ...}``) as variant records
    ``{"name", "model", "weight"}``; one variant without a weight takes all the traffic.

    Raises:
        InvalidInput: No variant, a reference that names no version or alias, a weight that
            is not a whole number from 1 to 100, weights that do not sum to 100, or a model
            given twice.
    """
    items = (
        list(variants.items()) if isinstance(variants, Mapping) else [_split(v) for v in variants]
    )
    if not items:
        raise InvalidInput(
            "An endpoint needs at least one variant, like --variant fraud:3 (all the traffic) "
            "or --variant fraud:3=90 --variant fraud:4=10.",
        )
    if len(items) == 1 and items[0][1] is None:
        items = [(items[0][0], 100)]
    out: list[JSON] = []
    for ref, weight in items:
        model = _pinned_ref(ref, "variant")
        if any(v["model"] == model for v in out):
            raise InvalidInput(
                f"The variant {model} is given twice. Give each model once, with its weight.",
                details={"variant": model},
            )
        out.append({"name": model, "model": model, "weight": _weight(ref, weight)})
    total = sum(v["weight"] for v in out)
    if total != 100:
        shown = " + ".join(str(v["weight"]) for v in out)
        raise InvalidInput(
            f"The variants' weights must sum to 100. Got {shown} = {total}. Give each variant "
            "its share of the traffic, like --variant fraud:3=90 --variant fraud:4=10.",
            details={"weights": {v["model"]: v["weight"] for v in out}},
        )
    return out


def parse_shadow(shadow: str) -> JSON:
    """``"fraud:5"`` (mirror every request) or ``"fraud:5=20"`` (20 % of them) as the shadow
    record ``{"name", "model", "percent"}``.

    Raises:
        InvalidInput: The reference names no version or alias, or the percentage is not
            from 1 to 100.
    """
    ref, percent = _split(shadow)
    model = _pinned_ref(ref, "shadow")
    share = 100.0 if percent is None else parse_percent(percent, "shadow's share", low=0.01)
    return {"name": model, "model": model, "percent": share}


def parse_guardrail(
    canary: object = None, bake: object = None, linear: object = None
) -> JSON | None:
    """``canary="10%"`` with ``bake="5m"`` (default 5 minutes), or ``linear="10%/1m"``, as
    the guardrail record; None for neither (the change goes live at once).

    Raises:
        InvalidInput: Both kinds, a bake time without a canary, or a share or time that
            does not parse.
    """
    if canary is not None and linear is not None:
        raise InvalidInput(
            "Choose one guardrail: --canary SHARE [--bake TIME] sends a share of the traffic "
            "for a baking time, then all of it; --linear STEP/INTERVAL shifts it step by step."
        )
    if bake is not None and canary is None:
        raise InvalidInput(
            f"--bake {bake} is the baking time of a canary; give --canary SHARE with it."
        )
    if canary is not None:
        share = parse_percent(canary, "canary's share", low=1, high=99)
        seconds = 300.0 if bake is None else parse_duration(bake, "bake time")
        return {"kind": "canary", "share": share, "bake_seconds": seconds}
    if linear is not None:
        text = str(linear)
        step, sep, every = text.partition("/")
        if not sep:
            raise InvalidInput(
                "A linear roll-out is STEP/INTERVAL, like 10%/1m: 10 % more of the traffic "
                f"every minute. Got {text!r} instead."
            )
        share = parse_percent(step, "linear step", low=1, high=99)
        return {
            "kind": "linear",
            "step": share,
            "interval_seconds": parse_duration(every, "linear interval"),
        }
    return None


def parse_rollback_on(limits: str | Mapping[str, Any]) -> JSON:
    """``"error_rate=0.01,p99_ms=50,psi=0.2"`` (or a mapping) as the limits that roll a
    canary back (see :data:`ROLLBACK_LIMITS`).

    Raises:
        InvalidInput: An unknown limit, or a value that is not a positive number (an error
            rate at most 1, a request count a whole number).
    """
    pairs: list[tuple[str, Any]]
    if isinstance(limits, Mapping):
        pairs = list(limits.items())
    else:
        pairs = []
        for part in (p.strip() for p in str(limits).split(",") if p.strip()):
            key, sep, value = part.partition("=")
            if not sep:
                raise InvalidInput(
                    f"Each rollback limit is NAME=VALUE, like error_rate=0.01. Got {part!r}."
                )
            pairs.append((key.strip(), value.strip()))
    out: JSON = {}
    for key, value in pairs:
        if key not in ROLLBACK_LIMITS:
            known = ", ".join(ROLLBACK_LIMITS)
            raise InvalidInput(
                f"Unknown rollback limit {key!r}. The limits are: {known}.",
                details={"limit": key},
            )
        out[key] = _limit(key, value)
    return out


def _limit(key: str, value: Any) -> float | int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    ok = math.isfinite(number) and number > 0
    if key == "error_rate":
        ok = ok and number <= 1
    if key == "min_requests":
        ok = ok and number.is_integer()
    if not ok:
        raise InvalidInput(
            f"The rollback limit {key} ({ROLLBACK_LIMITS[key]}) must be a positive "
            f"{'whole number' if key == 'min_requests' else 'number'}"
            f"{' at most 1' if key == 'error_rate' else ''}. Got {value!r} instead.",
            details={"limit": key, "value": value},
        )
    return int(number) if key == "min_requests" else number


def _split(text: object) -> tuple[str, Any]:
    """``"fraud:3=90"`` as ``("fraud:3", "90")``; ``"fraud:3"`` as ``("fraud:3", None)``."""
    if not isinstance(text, str):
        raise InvalidInput(f"A variant is MODEL:VERSION[=WEIGHT]. Got {text!r} instead.")
    ref, sep, weight = text.partition("=")
    return ref.strip(), (weight.strip() if sep else None)


def _pinned_ref(ref: str, role: str) -> str:
    """A reference that names a version (``fraud:3``) or an alias (``fraud@prod``)."""
    parsed = parse_model_ref(ref)
    if parsed.version is not None:
        return f"{parsed.name}:{parsed.version}"
    if parsed.alias is not None:
        return f"{parsed.name}@{parsed.alias}"
    raise InvalidInput(
        f"The {role} '{ref}' names no version. Use {ref}:VERSION to serve one version, or "
        f"{ref}@ALIAS (like {ref}@prod) to follow an alias as promotions move it.",
        details={role: ref},
    )


def _weight(ref: str, weight: Any) -> int:
    if weight is None:
        raise InvalidInput(
            f"The variant {ref} has no weight. With several variants give each its share "
            f"of the traffic, like {ref}=50.",
            details={"variant": ref},
        )
    text = str(weight).strip()
    if isinstance(weight, bool) or not re.fullmatch(r"\d{1,3}", text) or not 1 <= int(text) <= 100:
        raise InvalidInput(
            f"The weight of variant {ref} must be a whole number from 1 to 100. Got "
            f"{weight!r} instead.",
            details={"variant": ref, "weight": weight},
        )
    return int(text)
