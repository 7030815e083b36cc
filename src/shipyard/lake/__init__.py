"""The lake: dataset versions as Parquet folders, read through DuckDB."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard._lazy import lazy_exports
from shipyard.lake._sql import quote_ident, quote_literal
from shipyard.lake.publish import Published, publish_staged
from shipyard.lake.store import Lake, TableFacts

if TYPE_CHECKING:
    from shipyard.lake._guard import check_read_only, error_text
    from shipyard.lake._query import connect_views, export, query, query_error, query_reader
    from shipyard.lake._written import WRITTEN_BY, mark_written, read_written, written_columns
    from shipyard.lake.verify import VersionCheck, verify_datasets

__all__ = [
    "WRITTEN_BY",
    "Lake",
    "Published",
    "TableFacts",
    "VersionCheck",
    "check_read_only",
    "connect_views",
    "error_text",
    "export",
    "mark_written",
    "publish_staged",
    "query",
    "query_error",
    "query_reader",
    "quote_ident",
    "quote_literal",
    "read_written",
    "verify_datasets",
    "written_columns",
]

# The SQL side loads DuckDB (0.2 s); reading a version's file list does not need it.
_LAZY = {
    "check_read_only": "._guard",
    "error_text": "._guard",
    "connect_views": "._query",
    "export": "._query",
    "query": "._query",
    "query_error": "._query",
    "query_reader": "._query",
    "WRITTEN_BY": "._written",
    "mark_written": "._written",
    "read_written": "._written",
    "written_columns": "._written",
    "VersionCheck": ".verify",
    "verify_datasets": ".verify",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
