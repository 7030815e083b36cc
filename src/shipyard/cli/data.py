"""CLI: demo-data, ingest, datasets, sql."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shipyard.cli._context import project_of
from shipyard.cli._output import JsonFlag, console, emit_json, human_bytes, table
from shipyard.errors import InvalidInput

datasets_app = typer.Typer(help="List and inspect datasets.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    app.command("sql")(sql)
    app.add_typer(datasets_app, name="datasets")


def ingest(
    ctx: typer.Context,
    path: Annotated[
        Path | None, typer.Argument(help="A CSV/Parquet/JSON-lines file or folder.")
    ] = None,
    name: Annotated[str, typer.Option("--name", "-n", help="Dataset name.")] = "",
    sql_query: Annotated[
        str | None, typer.Option("--sql", help="A SELECT over existing datasets instead of a file.")
    ] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="csv, parquet or json.")] = None,
    constraints: Annotated[
        Path | None, typer.Option(help="Refuse the data if it breaks these rules (YAML).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Ingest a file, a folder or a SQL query as a new immutable dataset version NAME@N."""
    from shipyard.ingest import ingest_path, ingest_sql

    if not name:
        raise InvalidInput("Give the dataset a name with --name NAME.")
    if (path is None) == (sql_query is None):
        raise InvalidInput('Give either a PATH or --sql "SELECT ...", not both or neither.')
    project = project_of(ctx)
    with console.status(f"Ingesting into '{name}'..."):
        if sql_query is not None:
            result = ingest_sql(project, sql_query, name)
        else:
            from shipyard.analyze import load_rules_file

            rules = load_rules_file(constraints) if constraints else None
            result = ingest_path(project, path, name, fmt=fmt, constraints=rules)  # type: ignore[arg-type]
    v = result.version
    if as_json:
        emit_json({"dataset": v, "unchanged": result.unchanged})
    elif result.unchanged:
        console.print(f"Unchanged: the content is identical to {v.ref}; no new version made.")
    else:
        console.print(
            f"Created {v.ref}: {v.num_rows:,} rows, {len(v.columns)} columns, "
            f"{human_bytes(v.num_bytes)}, fingerprint {v.fingerprint[:12]}"
        )


@datasets_app.command("list")
def datasets_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List every dataset version."""
    versions = project_of(ctx).catalog.list_dataset_versions()
    if as_json:
        emit_json(versions)
        return
    console.print(
        table(
            "Datasets",
            ["dataset", "rows", "columns", "size", "created (UTC)", "by", "source"],
            [
                (
                    v.ref,
                    f"{v.num_rows:,}",
                    len(v.columns),
                    human_bytes(v.num_bytes),
                    v.created_at.strftime("%Y-%m-%d %H:%M"),
                    v.created_by,
                    v.source[:60],
                )
                for v in versions
            ],
        )
    )


@datasets_app.command("show")
def datasets_show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME or NAME@VERSION.")],
    rows: Annotated[int, typer.Option(help="Sample rows to show.")] = 5,
    as_json: JsonFlag = False,
) -> None:
    """Show a dataset version: schema, sizes, fingerprint, source and a sample."""
    from shipyard.catalog.refs import parse_dataset_ref
    from shipyard.lake import connect_views, quote_ident

    project = project_of(ctx)
    parsed = parse_dataset_ref(ref)
    v = project.catalog.get_dataset_version(parsed.name, parsed.version)
    con = connect_views(project.catalog, project.lake)
    try:
        sample = con.sql(f"SELECT * FROM {quote_ident(v.ref)} LIMIT {max(rows, 0)}").df()
    finally:
        con.close()
    if as_json:
        emit_json({"dataset": v, "sample": sample.astype(str).to_dict(orient="records")})
        return
    console.print(f"[bold]{v.ref}[/]  {v.num_rows:,} rows, {human_bytes(v.num_bytes)}")
    console.print(f"fingerprint {v.fingerprint}\nsource      {v.source}")
    console.print(f"created     {v.created_at:%Y-%m-%d %H:%M:%S} UTC by {v.created_by}")
    console.print(table("Schema", ["column", "type"], [(c.name, c.type) for c in v.columns]))
    if rows > 0:
        console.print(table("Sample", list(sample.columns), sample.values.tolist()))


def sql(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="A read-only SELECT; datasets are tables.")],
    out: Annotated[
        Path | None, typer.Option(help="Write the result to FILE.parquet or .csv.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Most rows to print (not to --out).")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Run read-only SQL over every dataset (NAME is the latest version, "NAME@N" version N)."""
    import duckdb

    from shipyard.lake import check_read_only, connect_views, query_error

    project = project_of(ctx)
    check_read_only(query)
    if out is not None and out.suffix.lower() not in (".parquet", ".csv"):
        raise InvalidInput(f"--out must end in .parquet or .csv; got {out.name}.")
    con = connect_views(project.catalog, project.lake)
    try:
        rel = con.sql(query)
        if out is not None:
            frame = rel.df()
            if out.suffix.lower() == ".csv":
                frame.to_csv(out, index=False)
            else:
                frame.to_parquet(out, index=False)
            console.print(f"Wrote {len(frame):,} rows to {out}")
            return
        frame = rel.limit(limit).df()
    except duckdb.Error as exc:
        raise query_error(exc, project.catalog) from exc
    finally:
        con.close()
    if as_json:
        emit_json(frame.astype(object).where(frame.notna(), None).to_dict(orient="records"))
        return
    console.print(table(None, list(frame.columns), frame.values.tolist()))
    if len(frame) == limit:
        console.print(f"(first {limit} rows; --limit N for more, --out FILE for all)")
