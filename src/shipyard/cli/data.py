"""CLI: demo-data, ingest, datasets, sql."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shipyard.cli._context import either, project_of, remote_of
from shipyard.cli._output import (
    JsonFlag,
    console,
    emit_json,
    human_bytes,
    strict_json,
    table,
)
from shipyard.errors import IntegrityError, InvalidInput

if TYPE_CHECKING:
    import pyarrow as pa

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
    if sql_query is not None and fmt is not None:
        raise InvalidInput("--format applies to a file; a --sql query has no format to give.")
    project = project_of(ctx)
    rules = None
    if constraints is not None:
        from shipyard.analyze import load_rules_file

        rules = load_rules_file(constraints)
    with console.status(f"Ingesting into '{name}'..."):
        if sql_query is not None:
            result = ingest_sql(project, sql_query, name, constraints=rules)
        else:
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
    versions = either(
        ctx, lambda c: c.list_dataset_versions(), lambda p: p.catalog.list_dataset_versions()
    )
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

    client = remote_of(ctx)
    if client is not None:
        v = client.get_dataset_version_ref(ref)
        sample = client.dataset_sample(v.ref, rows=min(max(rows, 0), 1000))
    else:
        from shipyard.lake import query, quote_ident

        project = project_of(ctx)
        parsed = parse_dataset_ref(ref)
        v = project.catalog.get_dataset_version(parsed.name, parsed.version)
        sample = query(project, f"SELECT * FROM {quote_ident(v.ref)}", limit=max(rows, 0))
    if as_json:
        emit_json({"dataset": v, "sample": sample.to_pylist()})
        return
    console.print(f"[bold]{v.ref}[/]  {v.num_rows:,} rows, {human_bytes(v.num_bytes)}")
    console.print(f"fingerprint {v.fingerprint}\nsource      {v.source}")
    console.print(f"created     {v.created_at:%Y-%m-%d %H:%M:%S} UTC by {v.created_by}")
    console.print(table("Schema", ["column", "type"], [(c.name, c.type) for c in v.columns]))
    if rows > 0:
        console.print(table("Sample", sample.column_names, _rows(sample)))


@datasets_app.command("verify")
def datasets_verify(
    ctx: typer.Context,
    ref: Annotated[
        str | None, typer.Argument(help="NAME or NAME@VERSION; every dataset if omitted.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Recompute each version's fingerprint and report any whose files changed on disk."""
    from shipyard.catalog.refs import parse_dataset_ref
    from shipyard.lake import verify_datasets

    parsed = parse_dataset_ref(ref) if ref is not None else None
    checks = verify_datasets(
        project_of(ctx), parsed.name if parsed else None, parsed.version if parsed else None
    )
    bad = [c for c in checks if not c.ok]
    if as_json:
        emit_json([{**strict_json(c), "ok": c.ok} for c in checks])
    else:
        console.print(
            table(
                "Dataset versions",
                ["dataset", "status", "detail"],
                [(c.ref, c.status, c.detail) for c in checks],
            )
        )
    if bad:
        raise IntegrityError(
            f"{len(bad)} of {len(checks)} dataset version(s) no longer match their "
            f"fingerprint: {', '.join(f'{c.ref} ({c.detail})' for c in bad)}. Their files "
            "were changed outside Shipyard; restore them from a backup, or ingest the data "
            "again as a new version."
        )
    if not as_json:
        console.print(f"All {len(checks)} version(s) match their fingerprint.")


def sql(
    ctx: typer.Context,
    sql_query: Annotated[
        str, typer.Argument(metavar="QUERY", help="A read-only SELECT; datasets are tables.")
    ],
    out: Annotated[
        Path | None, typer.Option(help="Write the result to FILE.parquet or .csv.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Most rows to print (not to --out).")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Run read-only SQL over every dataset (NAME is the latest version, "NAME@N" version N)."""
    client = remote_of(ctx)
    if client is not None:
        if out is not None:
            raise InvalidInput(
                "--out writes a file on this machine from the project's lake; through a "
                "server, print the rows (--json, up to --limit) and redirect them instead."
            )
        result = client.query(sql_query, limit=limit)
    else:
        from shipyard.lake import export, query

        project = project_of(ctx)
        if out is not None:
            written = export(project, sql_query, out)
            console.print(f"Wrote {written:,} rows to {out}")
            return
        result = query(project, sql_query, limit=limit)
    if as_json:
        emit_json(result.to_pylist())
        return
    console.print(table(None, result.column_names, _rows(result)))
    if result.num_rows == limit:
        console.print(f"(first {limit} rows; --limit N for more, --out FILE for all)")


def _rows(result: pa.Table) -> list[list[Any]]:
    columns = [column.to_pylist() for column in result.columns]
    return [list(row) for row in zip(*columns, strict=True)]
