"""Targets as people write them: a latency (``10ms``), a request rate (``500``), a memory
size (``2GB``), parsed with messages that say what was expected."""

from __future__ import annotations

import math
import re

from shipyard.errors import InvalidInput

__all__ = ["format_bytes", "parse_bytes", "parse_latency", "parse_rate"]

_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?"
_LATENCY = re.compile(rf"\s*(?P<n>{_NUMBER})\s*(?P<unit>us|µs|ms|s)?\s*", re.IGNORECASE)
_RATE = re.compile(rf"\s*(?P<n>{_NUMBER})\s*(?P<k>k)?\s*(?:/\s*s|rps)?\s*", re.IGNORECASE)
_BYTES = re.compile(rf"\s*(?P<n>{_NUMBER})\s*(?P<unit>[kmgt]i?b?|b)?\s*", re.IGNORECASE)
_SECONDS = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0}
_POWERS = {"": 0, "b": 0, "k": 1, "m": 2, "g": 3, "t": 4}


def parse_latency(text: str | float, what: str = "p99") -> float:
    """Seconds from ``"10ms"``, ``"0.5s"``, ``"250us"`` or a number of seconds.

    Raises:
        InvalidInput: Not a positive duration with a known unit.
    """
    if isinstance(text, int | float) and not isinstance(text, bool):
        seconds = float(text)
    else:
        match = _LATENCY.fullmatch(str(text))
        if match is None:
            raise InvalidInput(
                f"The '{what}' target must be a duration such as 10ms, 0.5s or 250us. "
                f"Got {text!r} instead."
            )
        unit = (match["unit"] or "s").lower()
        seconds = float(match["n"]) * _SECONDS[unit]
    if not math.isfinite(seconds) or seconds <= 0 or seconds > 3600:
        raise InvalidInput(
            f"The '{what}' target must be a duration above 0 and at most an hour, such as "
            f"10ms. Got {text!r} instead."
        )
    return seconds


def parse_rate(text: str | float, what: str = "rps") -> float:
    """Requests per second from ``"500"``, ``"1.5k"``, ``"500/s"`` or a number.

    Raises:
        InvalidInput: Not a positive rate.
    """
    if isinstance(text, int | float) and not isinstance(text, bool):
        rate = float(text)
    else:
        match = _RATE.fullmatch(str(text))
        if match is None:
            raise InvalidInput(
                f"The '{what}' target must be a number of requests per second such as 500, "
                f"1.5k or 500/s. Got {text!r} instead."
            )
        rate = float(match["n"]) * (1000 if match["k"] else 1)
    if not math.isfinite(rate) or rate <= 0 or rate > 1e9:
        raise InvalidInput(
            f"The '{what}' target must be a rate above 0 requests per second, such as 500. "
            f"Got {text!r} instead."
        )
    return rate


def parse_bytes(text: str | int, what: str = "batch_memory") -> int:
    """Bytes from ``"512MB"``, ``"2GiB"``, ``"2g"`` or a number of bytes. Decimal and binary
    prefixes both count in powers of 1024, as memory limits usually do.

    Raises:
        InvalidInput: Not a positive size.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        size = float(text)
    else:
        match = _BYTES.fullmatch(str(text))
        if match is None:
            raise InvalidInput(
                f"The '{what}' parameter must be a memory size such as 512MB or 2GB. "
                f"Got {text!r} instead."
            )
        unit = (match["unit"] or "").lower()
        size = float(match["n"]) * 1024 ** _POWERS[unit[:1]]
    if not math.isfinite(size) or size < 1024**2:
        raise InvalidInput(
            f"The '{what}' parameter must be a memory size of at least 1MB, such as 2GB. "
            f"Got {text!r} instead."
        )
    return int(size)


def format_bytes(size: float) -> str:
    """``1536 * 2**20`` -> ``"1.5 GiB"``."""
    for unit, power in (("GiB", 3), ("MiB", 2), ("KiB", 1)):
        if size >= 1024**power:
            return f"{size / 1024**power:.3g} {unit}"
    return f"{size:.0f} B"
