"""Ingest: files and queries into versioned, immutable datasets."""

from __future__ import annotations

from shipyard.ingest.ingest import IngestResult, ingest_path, ingest_sql, validate_name

__all__ = ["IngestResult", "ingest_path", "ingest_sql", "validate_name"]
