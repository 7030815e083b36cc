"""The lake: dataset versions as Parquet folders, read through DuckDB."""

from __future__ import annotations

from shipyard.lake._guard import check_read_only, error_text
from shipyard.lake._sql import quote_ident, quote_literal
from shipyard.lake.publish import Published, publish_staged
from shipyard.lake.query import connect_views, export, query, query_error, query_reader
from shipyard.lake.store import Lake, TableFacts
from shipyard.lake.verify import VersionCheck, verify_datasets

__all__ = [
    "Lake",
    "Published",
    "TableFacts",
    "VersionCheck",
    "check_read_only",
    "connect_views",
    "error_text",
    "export",
    "publish_staged",
    "query",
    "query_error",
    "query_reader",
    "quote_ident",
    "quote_literal",
    "verify_datasets",
]
