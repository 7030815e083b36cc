"""export_model: a registered version as an MLflow pyfunc folder or an ONNX file, checked,
written atomically, audited; and every refusal leaves nothing behind."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest
from tests.conftest import serve_frame

from shipyard.deploy import ExportResult, export_model, onnx_feed
from shipyard.errors import AlreadyExists, BackendUnavailable, InvalidInput, NotFound
from shipyard.project import Project
from shipyard.registry import load_model


def _rows() -> pd.DataFrame:
    """Rows the model has not seen: an integer column, missing values, unseen categories."""
    rows = serve_frame(rows=200, seed=1).drop(columns=["y", "tier", "spend"])
    rows["country"] = rows["country"].astype(object)
    rows.loc[rows.index % 4 == 0, "country"] = "zz"  # never seen in training
    rows.loc[rows.index % 9 == 0, "country"] = None
    rows.loc[rows.index % 5 == 0, "amount"] = np.nan
    return rows


def _mlflow_load(path: Path) -> Any:
    # MLflow warns about its own type hints on import and about pandas 3 while it works;
    # nothing there is Shipyard's to fix.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import mlflow.pyfunc

        return mlflow.pyfunc.load_model(str(path))


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".shipyard-export-"))


def test_mlflow_loads_the_export_and_scores_as_shipyard(served_project, tmp_path) -> None:
    out = tmp_path / "mlflow-model"
    result = export_model(served_project, "m@prod", "mlflow", out)
    assert isinstance(result, ExportResult) and result.model == "m:1"
    assert (out / "MLmodel").is_file() and (out / "shipyard-export.json").is_file()
    assert result.check["max_error"] == 0.0 and result.check["labels_differ"] == 0
    rows = _rows()
    model = _mlflow_load(out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLflow's schema enforcement on pandas 3
        got = model.predict(rows)
    ours = load_model(served_project, "m@prod").model.predict_frame(rows)
    np.testing.assert_allclose(got["score"].to_numpy(float), ours.scores, rtol=0, atol=1e-9)
    assert list(got["decision"]) == list(ours.labels())
    assert ours.unseen["country"] > 0
    requirements = (out / "requirements.txt").read_text()
    assert "shipyard==" in requirements and "lightgbm==" in requirements
    inputs = model.metadata.get_input_schema().input_names()
    assert inputs == ["amount", "calls", "country", "roaming"]
    assert (out / "input_example.json").is_file()


def test_the_onnx_file_takes_raw_columns_and_matches(served_project, tmp_path) -> None:
    out = tmp_path / "edge"
    result = export_model(served_project, "m:1", "onnx", out)
    assert result.files == ("model.onnx", "shipyard-export.json")
    assert result.check["max_error"] <= 1e-5 and result.check["labels_differ"] == 0
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["amount", "calls", "country", "roaming"]
    assert session.get_inputs()[2].type == "tensor(string)"
    rows = _rows()
    label, probability = session.run(["label", "probability"], onnx_feed(session, rows))
    ours = load_model(served_project, "m:1").model.predict_frame(rows)
    np.testing.assert_allclose(probability, ours.scores, rtol=0, atol=1e-5)
    assert list(label) == list(ours.labels())
    marker = json.loads((out / "shipyard-export.json").read_text())
    assert marker["model"] == "m:1" and marker["format"] == "onnx"


def test_an_export_is_audited(served_project, tmp_path) -> None:
    export_model(served_project, "m:1", "onnx", tmp_path / "audited")
    events = served_project.catalog.list_events(object_type="model")
    event = next(e for e in events if e.action == "model.export")
    assert event.object_id == "m:1"
    assert event.details["format"] == "onnx"
    assert event.details["path"] == str(tmp_path / "audited")


def test_a_non_empty_folder_is_refused_and_force_replaces_only_an_export(
    served_project, tmp_path
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("keep me")
    for force in (False, True):
        with pytest.raises(AlreadyExists, match="is not empty"):
            export_model(served_project, "m:1", "onnx", mine, force=force)
    assert (mine / "thesis.tex").read_text() == "keep me"
    out = tmp_path / "edge"
    export_model(served_project, "m:1", "onnx", out)
    with pytest.raises(AlreadyExists, match="--force"):
        export_model(served_project, "m:1", "mlflow", out)
    export_model(served_project, "m:1", "mlflow", out, force=True)
    assert (out / "MLmodel").is_file() and not (out / "model.onnx").exists()
    assert _leftovers(tmp_path) == []
    empty = tmp_path / "empty"
    empty.mkdir()
    export_model(served_project, "m:1", "onnx", empty)
    assert (empty / "model.onnx").is_file()


def test_bad_input_is_refused_and_leaves_nothing(served_project, tmp_path) -> None:
    out = tmp_path / "new" / "edge"
    with pytest.raises(InvalidInput, match=r"must be one of mlflow, onnx\. Got 'pmml'"):
        export_model(served_project, "m:1", "pmml", out)
    with pytest.raises(NotFound):
        export_model(served_project, "nope:1", "onnx", out)
    afile = tmp_path / "a-file"
    afile.write_text("")
    with pytest.raises(InvalidInput, match="is a file"):
        export_model(served_project, "m:1", "onnx", afile)
    assert not out.exists()


def test_a_refused_family_writes_nothing(project: Project, ingest, tmp_path) -> None:
    from shipyard.train import train

    frame = serve_frame(rows=300).drop(columns=["tier", "spend"])
    train(project, ingest(frame), "y", model_name="cat", family="catboost")
    out = tmp_path / "edge"
    with pytest.raises(InvalidInput, match="Export it with --format mlflow instead"):
        export_model(project, "cat:1", "onnx", out)
    assert not out.exists() and _leftovers(tmp_path) == []
    assert not [e for e in project.catalog.list_events() if e.action == "model.export"]


def test_a_missing_library_names_the_extra(served_project, tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxmltools", None)  # import onnxmltools now fails
    with pytest.raises(BackendUnavailable, match=r"pip install 'shipyard\[onnx\]'"):
        export_model(served_project, "m:1", "onnx", tmp_path / "edge")
    monkeypatch.setitem(sys.modules, "mlflow", None)
    with pytest.raises(BackendUnavailable, match=r"pip install 'shipyard\[mlflow\]'"):
        export_model(served_project, "m:1", "mlflow", tmp_path / "edge")


def test_a_feature_store_model_says_which_inputs_to_look_up() -> None:
    from types import SimpleNamespace

    from shipyard.deploy.export import _notes

    refs = {
        "entity": ["subscriber_id"],
        "groups": [{"group": "usage", "columns": {"calls_7d": "usage__calls_7d"}}],
    }
    loaded = SimpleNamespace(version=SimpleNamespace(lineage={"features": refs}))
    [note] = _notes(loaded)  # type: ignore[arg-type]
    assert "(subscriber_id)" in note and "usage__calls_7d" in note
    assert _notes(SimpleNamespace(version=SimpleNamespace(lineage={}))) == []  # type: ignore[arg-type]
