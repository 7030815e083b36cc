"""``ingest``: a file, a folder or a SQL query over the lake as a dataset version
(:func:`shipyard.ingest.ingest_path` / :func:`~shipyard.ingest.ingest_sql`). Identical
content makes no new version. Its cache key holds the bytes of the files it reads, or the
fingerprints of the datasets the query names."""

from __future__ import annotations

from typing import Any

from shipyard.errors import InvalidInput
from shipyard.pipelines._kinds import Arg, StepContext, StepKind
from shipyard.pipelines.steps._common import files_digest, project_path
from shipyard.project import Project


def run(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
    from shipyard.analyze import load_rules_file
    from shipyard.ingest import ingest_path, ingest_sql

    path, sql = args.get("path"), args.get("sql")
    if (path is None) == (sql is None):
        raise InvalidInput(f"Step '{ctx.step}' ingests either a 'path' or a 'sql' query; give one.")
    rules = args.get("constraints")
    constraints = load_rules_file(project_path(ctx.project, rules)) if rules else None
    if path is not None:
        result = ingest_path(
            ctx.project, project_path(ctx.project, path), args["name"], fmt=args.get("format"),
            constraints=constraints,
        )  # fmt: skip
    else:
        result = ingest_sql(ctx.project, str(sql), args["name"], constraints=constraints)
    same = " (same content as before: no new version)" if result.unchanged else ""
    ctx.log(f"ingested {result.version.ref}: {result.version.num_rows:,} rows{same}")
    return {"dataset": result.version.ref}


def fingerprint(project: Project, args: dict[str, Any]) -> Any:
    out: dict[str, Any] = {}
    if args.get("path"):
        out["files"] = files_digest(project_path(project, args["path"]))
    if args.get("constraints"):
        out["rules"] = files_digest(project_path(project, args["constraints"]))
    if args.get("sql"):
        out["datasets"] = _named_datasets(project, args["sql"])
    return out


def _named_datasets(project: Project, sql: str) -> dict[str, str]:
    """The fingerprint of the latest version of each dataset the query names."""
    import duckdb

    from shipyard.errors import NotFound

    try:
        names = duckdb.get_table_names(sql)
    except duckdb.Error:
        return {}  # the ingest itself reports the SQL error
    out = {}
    for name in sorted(names):
        base, _, version = name.partition("@")
        try:
            found = project.catalog.get_dataset_version(base, int(version) if version else None)
        except (NotFound, ValueError):
            continue
        out[name] = found.fingerprint
    return out


KIND = StepKind(
    name="ingest",
    version="1",
    args={
        "name": Arg("str", doc="The dataset's name."),
        "path": Arg("str", required=False, doc="A file or folder (relative: to the project)."),
        "sql": Arg("str", required=False, doc="A SELECT over datasets, instead of a path."),
        "format": Arg("str", required=False, doc="csv, parquet or json (default: by suffix)."),
        "constraints": Arg("str", required=False, doc="Rules YAML the data must pass."),
    },
    outputs={"dataset": "dataset"},
    run=run,
    fingerprint=fingerprint,
    doc="Ingest a file, folder or SQL query as a dataset version.",
)
