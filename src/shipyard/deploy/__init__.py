"""Deploy: batch transform and resource recommendation (the inference server lives in
shipyard.serve)."""

from __future__ import annotations

from shipyard.deploy.batch import batch_transform
from shipyard.deploy.recommend import Recommendation, load_recommendation, recommend

__all__ = ["Recommendation", "batch_transform", "load_recommendation", "recommend"]
