"""The lake: dataset versions as Parquet folders, read through DuckDB."""

from __future__ import annotations

from shipyard.lake._sql import quote_ident, quote_literal
from shipyard.lake.publish import Published, publish_staged
from shipyard.lake.query import check_read_only, connect_views, query_error
from shipyard.lake.store import Lake, TableFacts

__all__ = [
    "Lake",
    "Published",
    "TableFacts",
    "check_read_only",
    "connect_views",
    "publish_staged",
    "query_error",
    "quote_ident",
    "quote_literal",
]
