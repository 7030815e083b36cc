"""Which SQL the lake runs for a user: one read-only query, as DuckDB's own parser sees it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import duckdb

from shipyard.errors import InvalidInput

__all__ = ["check_read_only", "error_text"]

# Query nodes a read-only query is built of. Writing ones (INSERT_QUERY_NODE,
# COPY_QUERY_NODE, ...) can hide in a CTE of a statement whose type is SELECT.
_READ_NODES = {"SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", "CTE_NODE"}
_EXPLAIN = re.compile(r"\s*EXPLAIN\s+(?P<inner>.*)", re.IGNORECASE | re.DOTALL)
_EXPLAIN_OPTIONS = re.compile(r"\s*EXPLAIN\b\s*(\(|ANALY[SZ]E\b)", re.IGNORECASE)
# DESCRIBE t and SUMMARIZE t read their table; other SHOWs (SHOW TABLES) read the catalog.
_TABLE_SHOWS = {"DESCRIBE", "SUMMARY"}
_HOW = "Datasets are immutable: to make a new one, use `shipyard ingest --sql`."


def check_read_only(sql: str) -> frozenset[str] | None:
    """Refuse anything but one read-only query: a SELECT (WITH, VALUES, UNION, ...) or EXPLAIN.

    EXPLAIN is allowed only plain, since EXPLAIN ANALYZE runs its statement.

    Returns:
        The names of the tables the query reads, lower-cased (DuckDB's names are not case
        sensitive); None when it may read any (a table function, SHOW TABLES, the
        information schema). The lake builds only those views.

    Raises:
        InvalidInput: The text is empty, is not valid SQL, holds several statements, or
            writes anything (INSERT, CREATE, COPY, ATTACH, SET, a writing CTE, ...).
    """
    if not sql.strip():
        raise InvalidInput("The SQL query is empty. Give a SELECT statement.")
    statement = _one_statement(sql)
    if statement.type == duckdb.StatementType.EXPLAIN:
        if _EXPLAIN_OPTIONS.match(statement.query):
            raise InvalidInput(
                "Only a plain EXPLAIN is allowed: EXPLAIN ANALYZE (or with options) runs "
                "its statement. Use EXPLAIN SELECT ... to see a plan."
            )
        match = _EXPLAIN.fullmatch(statement.query)
        if match is None:
            raise InvalidInput("Write EXPLAIN first, followed by the SELECT to explain.")
        statement = _one_statement(match.group("inner"))
    if statement.type != duckdb.StatementType.SELECT:
        raise InvalidInput(
            "Only read-only queries are allowed (SELECT); this is a "
            f"{statement.type.name} statement. {_HOW}"
        )
    tree = _parse_tree(statement.query)
    writing = sorted(_query_nodes(tree) - _READ_NODES)
    if writing:
        kinds = ", ".join(n.removesuffix("_NODE").removesuffix("_QUERY") for n in writing)
        raise InvalidInput(
            f"Only read-only queries are allowed; this SELECT holds a {kinds} inside it "
            f"(e.g. in a WITH clause). {_HOW}"
        )
    return _tables_read(tree)


def error_text(exc: BaseException) -> str:
    """The line of a library's error that says what went wrong.

    DuckDB reports an exception raised in Python code it called back (the lake's file
    system) as the whole traceback; its last line is the message.
    """
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    return lines[-1].strip() if lines[0].startswith("Traceback") else lines[0]


def _one_statement(sql: str) -> Any:
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise InvalidInput(f"The SQL query does not parse: {error_text(exc)}") from exc
    if len(statements) != 1:
        raise InvalidInput(
            f"Give exactly one SQL statement; got {len(statements)}. Remove the extra ones."
        )
    return statements[0]


def _parse_tree(sql: str) -> Any:
    con = duckdb.connect()
    try:
        row = con.execute("SELECT json_serialize_sql(?)", [sql]).fetchall()
    finally:
        con.close()
    tree = json.loads(row[0][0])
    if tree.get("error"):
        raise InvalidInput(
            f"Only plain read-only queries are allowed; this one cannot be checked "
            f"({tree.get('error_message', 'unsupported statement')}). Write it as a SELECT."
        )
    return tree


def _query_nodes(tree: Any) -> set[str]:
    """Every query node type in a serialized statement (``..._NODE`` values of ``type``)."""
    kinds = (node.get("type") for node in _nodes(tree))
    return {kind for kind in kinds if isinstance(kind, str) and kind.endswith("_NODE")}


def _tables_read(tree: Any) -> frozenset[str] | None:
    """The plain table names a serialized statement reads (CTE names too: harmless), or
    None when it reads something else (see :func:`check_read_only`)."""
    names: set[str] = set()
    for node in _nodes(tree):
        kind = node.get("type")
        if kind == "TABLE_FUNCTION":
            return None
        if kind == "SHOW_REF" and node.get("show_type") not in _TABLE_SHOWS:
            return None
        if kind == "BASE_TABLE":
            if node.get("catalog_name") or node.get("schema_name") not in ("", "main"):
                return None
            names.add(str(node["table_name"]).lower())
    return frozenset(names)


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every object in a serialized statement, depth first."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
