"""Deploy: batch transform and export (the inference server lives in shipyard.serve)."""

from __future__ import annotations

from shipyard.deploy._onnx import onnx_feed
from shipyard.deploy.batch import batch_transform
from shipyard.deploy.export import EXPORT_FORMATS, ExportResult, export_model

__all__ = ["EXPORT_FORMATS", "ExportResult", "batch_transform", "export_model", "onnx_feed"]
