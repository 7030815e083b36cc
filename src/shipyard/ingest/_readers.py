"""Turn files on disk into a DuckDB relation, with clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import duckdb

from shipyard.errors import InvalidInput, NotFound
from shipyard.lake import error_text, quote_literal

FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
}
_DELIMITERS = (",", ";", "\t", "|")


def resolve_files(path: Path, fmt: str | None) -> tuple[list[Path], str]:
    """The files to read under ``path`` (a file or a folder) and their one format."""
    if not path.exists():
        raise NotFound(f"No file or folder at {path}. Check the path.")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in FORMATS)
        if not files:
            raise InvalidInput(
                f"The folder {path} holds no CSV, Parquet or JSON-lines files "
                f"(looked for {', '.join(sorted(FORMATS))})."
            )
    else:
        files = [path]
    formats = {fmt or FORMATS.get(p.suffix.lower(), "") for p in files}
    if "" in formats:
        raise InvalidInput(
            f"Cannot tell the format of {path} from its name. Pass --format csv|parquet|json."
        )
    if len(formats) > 1:
        raise InvalidInput(
            f"The folder {path} mixes formats ({', '.join(sorted(formats))}); "
            "ingest one format at a time."
        )
    empty = [p for p in files if p.stat().st_size == 0]
    if empty:
        raise InvalidInput(f"{empty[0]} is empty (0 bytes). Nothing to ingest.")
    return files, formats.pop()


def relation(
    con: duckdb.DuckDBPyConnection, files: list[Path], fmt: str
) -> duckdb.DuckDBPyRelation:
    """A lazy relation over ``files``; CSV rows that do not parse are kept for :func:`rejects`."""
    listing = "[" + ", ".join(f"'{quote_literal(str(p))}'" for p in files) + "]"
    try:
        if fmt == "parquet":
            return con.sql(f"SELECT * FROM read_parquet({listing}, union_by_name = true)")
        if fmt == "json":
            return con.sql(
                f"SELECT * FROM read_json({listing}, format = 'newline_delimited', "
                "union_by_name = true)"
            )
        delim = _csv_delimiter(con, files[0])
        return con.sql(
            f"SELECT * FROM read_csv({listing}, header = true, delim = '{quote_literal(delim)}', "
            "store_rejects = true)"
        )
    except duckdb.Error as exc:
        raise InvalidInput(f"Cannot read {files[0]} as {fmt}: {first_line(exc)}") from exc


def rejects(con: duckdb.DuckDBPyConnection) -> list[dict[str, object]]:
    """The CSV lines DuckDB could not parse during the last read, first ten."""
    try:
        rows = con.sql(
            "SELECT e.line, e.error_type, e.csv_line, e.error_message, s.file_path "
            "FROM reject_errors e JOIN reject_scans s USING (scan_id) ORDER BY e.line LIMIT 10"
        ).fetchall()
    except duckdb.CatalogException:
        return []
    return [
        {"file": r[4], "line": r[0], "error": r[1], "text": r[2], "message": r[3]} for r in rows
    ]


def _csv_delimiter(con: duckdb.DuckDBPyConnection, first: Path) -> str:
    try:
        delim, columns = con.execute(
            f"SELECT Delimiter, Columns FROM sniff_csv('{quote_literal(str(first))}')"
        ).fetchone()  # type: ignore[misc]
    except duckdb.Error:
        delim, columns = ",", []
    if len(columns) > 1:
        return str(delim)
    # A malformed line can make the sniffer fall back to one column; the header knows better.
    with first.open(encoding="utf-8", errors="replace") as fh:
        header = fh.readline()
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else str(delim)


def first_line(exc: Exception) -> str:
    """The line of a library's error message that says what went wrong."""
    return error_text(exc)
