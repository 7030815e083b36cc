from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from shipyard.errors import InvalidInput, NotFound
from shipyard.ingest import ingest_path, ingest_sql
from shipyard.project import Project


def _state(project: Project) -> tuple[list[str], list[str]]:
    refs = [v.ref for v in project.catalog.list_dataset_versions()]
    folders = sorted(
        str(p.relative_to(project.lake.root))
        for p in project.lake.root.glob("*/*")
        if not p.parts[-2].startswith("_")
    )
    return refs, folders


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json"])
def test_each_format_becomes_a_version(project: Project, tmp_path: Path, frame, fmt) -> None:
    path = tmp_path / f"data.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True)
    result = ingest_path(project, path, "events")
    assert result.version.ref == "events@1" and not result.unchanged
    assert result.version.num_rows == len(frame)
    assert [c.name for c in result.version.columns] == list(frame.columns)


def test_identical_content_is_reported_unchanged(project: Project, tmp_path, frame) -> None:
    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.to_parquet(tmp_path / "a.parquet", index=False)
    first = ingest_path(project, tmp_path / "a.parquet", "events")
    again = ingest_path(project, tmp_path / "a.parquet", "events")
    assert again.unchanged and again.version.ref == first.version.ref
    changed = frame.head(100)
    changed.to_parquet(tmp_path / "b.parquet", index=False)
    assert ingest_path(project, tmp_path / "b.parquet", "events").version.ref == "events@2"


def test_folder_of_files(project: Project, tmp_path: Path, frame) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    frame.iloc[:1000].to_parquet(folder / "a.parquet", index=False)
    frame.iloc[1000:].to_parquet(folder / "b.parquet", index=False)
    assert ingest_path(project, folder, "events").version.num_rows == len(frame)


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str, type, str]]:
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header_only.csv").write_text("a,b\n")
    (tmp_path / "malformed.csv").write_text("a,b\n1,x\n2,y,3\n4,z\n")
    (tmp_path / "notes.xyz").write_text("a")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "a.csv").write_text("a\n1\n")
    pd.DataFrame({"a": [1]}).to_parquet(mixed / "b.parquet")
    return {
        "missing": (tmp_path / "nope.csv", "events", NotFound, "No file or folder"),
        "empty": (tmp_path / "empty.csv", "events", InvalidInput, "is empty"),
        "no rows": (tmp_path / "header_only.csv", "events", InvalidInput, "has no rows"),
        "malformed": (tmp_path / "malformed.csv", "events", InvalidInput, "line 3"),
        "unknown format": (tmp_path / "notes.xyz", "events", InvalidInput, "--format"),
        "mixed": (mixed, "events", InvalidInput, "mixes formats"),
        "bad name": (tmp_path / "malformed.csv", "Bad Name", InvalidInput, "not a valid"),
    }


@pytest.mark.parametrize(
    "case", ["missing", "empty", "no rows", "malformed", "unknown format", "mixed", "bad name"]
)
def test_bad_input_is_refused_and_changes_nothing(project: Project, tmp_path, case) -> None:
    path, name, error, message = _bad_inputs(tmp_path)[case]
    before = _state(project)
    with pytest.raises(error, match=message):
        ingest_path(project, path, name)
    assert _state(project) == before


def test_sql_ingest_and_refusals(project: Project, parquet_file: Path) -> None:
    ingest_path(project, parquet_file, "events")
    out = ingest_sql(project, "SELECT country, count(*) AS n FROM events GROUP BY 1", "by_country")
    assert out.version.num_rows == 4 and out.version.source.startswith("sql:")
    before = _state(project)
    with pytest.raises(InvalidInput, match="read-only"):
        ingest_sql(project, "DELETE FROM events", "x")
    with pytest.raises(InvalidInput, match="Did you mean 'events'"):
        ingest_sql(project, "SELECT * FROM event", "x")
    assert _state(project) == before


_KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from shipyard.ingest import ingest_path
    from shipyard.lake.store import Lake
    from shipyard.project import open_project

    moment = sys.argv[3]
    original = Lake.publish

    def publish_then_die(self, staged, name):
        location = original(self, staged, name)
        os.kill(os.getpid(), signal.SIGKILL)

    def die_while_staging(self, folder):
        os.kill(os.getpid(), signal.SIGKILL)

    if moment == "after-rename":
        Lake.publish = publish_then_die
    else:
        Lake.measure = die_while_staging
    ingest_path(open_project(sys.argv[1]), sys.argv[2], "events")
    """
)


@pytest.mark.parametrize("moment", ["while-staging", "after-rename"])
def test_killed_ingest_publishes_nothing(project: Project, parquet_file: Path, moment) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _KILLER, str(project.root), str(parquet_file), moment],
        capture_output=True,
    )
    assert proc.returncode == -9, proc.stderr.decode()
    assert project.catalog.list_dataset_versions() == []
    result = ingest_path(project, parquet_file, "events")
    assert result.version.ref == "events@1"
    assert len(project.lake.files(result.version)) >= 1
    json.dumps(result.version.num_rows)


def test_sql_ingest_enforces_constraints(project: Project, parquet_file: Path) -> None:
    from shipyard.analyze.constraints import load_constraints_yaml

    ingest_path(project, parquet_file, "events")
    sql = "SELECT country, amount FROM events"
    strict = load_constraints_yaml("rules:\n- {column: amount, rule: range, max: 1}\n")
    before = _state(project)
    with pytest.raises(InvalidInput, match="breaks 1 data-quality rule"):
        ingest_sql(project, sql, "big", constraints=strict)
    assert _state(project) == before
    loose = load_constraints_yaml("rules:\n- {column: amount, rule: range, min: 0}\n")
    assert ingest_sql(project, sql, "big", constraints=loose).version.ref == "big@1"
