"""Deploy: batch transform (the inference server lives in shipyard.serve)."""

from __future__ import annotations

from shipyard.deploy.batch import batch_transform

__all__ = ["batch_transform"]
