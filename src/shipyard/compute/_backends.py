"""The compute backends a job may run on, and the check of a user's choice."""

from __future__ import annotations

from shipyard.errors import InvalidInput, did_you_mean

__all__ = ["BACKENDS", "check_backend"]

BACKENDS = ("local", "ray")
"""``local``: this process (the default). ``ray``: tasks on a Ray cluster."""


def check_backend(backend: str) -> str:
    """``backend`` when it is known.

    Raises:
        InvalidInput: An unknown name; the message lists the known ones.
    """
    if backend in BACKENDS:
        return backend
    raise InvalidInput(
        f"The 'backend' parameter must be one of {', '.join(BACKENDS)}. Got {backend!r} "
        f"instead.{did_you_mean(str(backend), BACKENDS)}"
    )
