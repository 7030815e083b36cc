"""Deploy: endpoints and their roll-outs, batch transform, export and resource
recommendation (the inference server lives in shipyard.serve)."""

from __future__ import annotations

from shipyard.deploy._endpoint_spec import ROLLBACK_LIMITS, parse_capture, parse_duration
from shipyard.deploy._guardrails import CanaryStats, ScoreBins
from shipyard.deploy._onnx import onnx_feed
from shipyard.deploy._probe_setup import ProbeSetup
from shipyard.deploy.batch import batch_transform
from shipyard.deploy.endpoints import (
    KEEP,
    EndpointStatus,
    Lane,
    create_endpoint,
    delete_endpoint,
    endpoints_page,
    list_endpoints,
    rollback_endpoint,
    show_endpoint,
    update_endpoint,
)
from shipyard.deploy.export import EXPORT_FORMATS, ExportResult, export_model
from shipyard.deploy.recommend import Recommendation, load_recommendation, recommend
from shipyard.deploy.rollout import TrafficPlan, advance_rollout, plan_traffic, score_baseline
from shipyard.deploy.traffic import EndpointTraffic, TrafficBucket, endpoint_traffic

__all__ = [
    "EXPORT_FORMATS",
    "KEEP",
    "ROLLBACK_LIMITS",
    "CanaryStats",
    "EndpointStatus",
    "EndpointTraffic",
    "ExportResult",
    "Lane",
    "ProbeSetup",
    "Recommendation",
    "ScoreBins",
    "TrafficBucket",
    "TrafficPlan",
    "advance_rollout",
    "batch_transform",
    "create_endpoint",
    "delete_endpoint",
    "endpoint_traffic",
    "endpoints_page",
    "export_model",
    "list_endpoints",
    "load_recommendation",
    "onnx_feed",
    "parse_capture",
    "parse_duration",
    "plan_traffic",
    "recommend",
    "rollback_endpoint",
    "score_baseline",
    "show_endpoint",
    "update_endpoint",
]
