"""The lake: dataset versions as Parquet folders, read through DuckDB."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shipyard.lake._sql import quote_ident, quote_literal
from shipyard.lake.publish import Published, publish_staged
from shipyard.lake.store import Lake, TableFacts

if TYPE_CHECKING:
    from shipyard.lake.query import check_read_only, connect_views, query_error

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

_QUERY = ("check_read_only", "connect_views", "query_error")


def __getattr__(name: str) -> Any:
    # The query side loads DuckDB (0.2 s); reading a version's file list does not need it.
    if name in _QUERY:
        from shipyard.lake import query

        return getattr(query, name)
    raise AttributeError(f"module 'shipyard.lake' has no attribute '{name}'")
