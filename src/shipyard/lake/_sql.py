"""Quoting for the SQL that Shipyard writes itself."""

from __future__ import annotations


def quote_literal(text: str) -> str:
    """``text`` escaped for use inside a single-quoted SQL string."""
    return text.replace("'", "''")


def quote_ident(name: str) -> str:
    """``name`` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'
