"""Bundles written before the model runtime moved out of ``shipyard.train`` still load."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from shipyard.artifacts import BUNDLE_FORMAT, load_verified_pickle, write_manifest
from shipyard.artifacts._classpaths import current_module
from shipyard.errors import IntegrityError
from shipyard.model import TabularModel
from shipyard.model.families.xgboost import XGBoostModel

BUNDLES = Path(__file__).parents[1] / "fixtures" / "bundles"
# The bundles record the library versions of the day they were written; when the lock file
# moves on, loading them warns (tested elsewhere), which is not what these tests are about.
pytestmark = pytest.mark.filterwarnings("ignore::shipyard.errors.LibraryVersionWarning")
EXPECTED = json.loads((BUNDLES / "expected.json").read_text())


@pytest.mark.parametrize("name", ["lightgbm", "linear", "xgboost", "catboost", "ensemble"])
def test_an_old_bundle_loads_and_scores_as_it_did(name: str) -> None:
    assert b"shipyard.train" in (BUNDLES / name / "model.pkl").read_bytes()
    model = load_verified_pickle(BUNDLES / name, "model.pkl")
    assert isinstance(model, TabularModel)
    scores = model.predict_records(EXPECTED["rows"]).scores
    np.testing.assert_allclose(scores, EXPECTED["scores"][name], rtol=1e-6)


def test_an_old_xgboost_booster_is_wrapped_and_keeps_no_state_on_the_booster() -> None:
    model = load_verified_pickle(BUNDLES / "xgboost", "model.pkl")
    assert isinstance(model.estimator, XGBoostModel)
    model.predict_records(EXPECTED["rows"])
    again = pickle.loads(pickle.dumps(model))
    assert not any(k.startswith("shipyard") for k in vars(again.estimator.booster))


def test_a_bundle_from_a_newer_format_is_refused_before_unpickling(tmp_path: Path) -> None:
    folder = tmp_path / "bundle"
    shutil.copytree(BUNDLES / "linear", folder)
    meta = json.loads((folder / "model.json").read_text())
    (folder / "model.json").write_text(json.dumps({**meta, "format": BUNDLE_FORMAT + 1}))
    (folder / "model.pkl").write_bytes(b"not a pickle")
    write_manifest(folder)
    with pytest.raises(IntegrityError, match="Upgrade Shipyard"):
        load_verified_pickle(folder, "model.pkl")


def test_class_paths_map_to_the_runtime() -> None:
    assert current_module("shipyard.train.model") == "shipyard.model.tabular"
    assert current_module("shipyard.train.families.linear") == "shipyard.model.families.linear"
    assert current_module("shipyard.train.automl._ensemble") == "shipyard.model.ensemble"
    assert current_module("sklearn.linear_model") == "sklearn.linear_model"


def test_loading_a_model_imports_no_training_code() -> None:
    code = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "import shipyard.cli, shipyard.serve\n"
        "from shipyard.artifacts import load_verified_pickle\n"
        f"m = load_verified_pickle(Path({str(BUNDLES / 'ensemble')!r}), 'model.pkl')\n"
        "bad = [k for k in sys.modules if k.split('.')[0] == 'optuna' or k.startswith("
        "('shipyard.automl', 'shipyard.train', 'shipyard.evaluation'))]\n"
        "print(json.dumps(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
