"""Checks that the demo data carries learnable signal and visible drift; prints the figures.

Run: ``python -m shipyard.demo._signal OUT_DIR [SUBSCRIBERS] [DAYS] [SEED]``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import duckdb
import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from shipyard.demo.data import drift_start, generate
from shipyard.demo.sql import training_table_sql

_START = "2026-01-01"


def main(out_dir: str, subscribers: int = 20_000, days: int = 60, seed: int = 0) -> None:
    t0 = time.perf_counter()
    rows = generate(out_dir, subscribers=subscribers, days=days, seed=seed, start=_START)
    print(f"generate: {time.perf_counter() - t0:.2f} s  rows: {rows}")

    con = duckdb.connect()
    for table in rows:
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM '{Path(out_dir) / table}.parquet'")
    drift = drift_start(_START, days).isoformat()
    t0 = time.perf_counter()
    pre = con.sql(training_table_sql(until=drift)).df()
    print(f"training_table_sql (pre-drift): {time.perf_counter() - t0:.2f} s, {len(pre):,} rows")
    late = con.sql(training_table_sql(since=drift)).df()
    kinds = con.sql("SELECT subscriber_id, day, fraud_type FROM labels").df()
    late = late.merge(kinds, on=["subscriber_id", "day"], how="left")
    print(f"fraud rate: pre-drift {pre.is_fraud.mean():.4f}, drifted {late.is_fraud.mean():.4f}")

    features = [c for c in pre.columns if c not in ("subscriber_id", "day", "is_fraud")]
    categorical = [c for c in features if not pd.api.types.is_numeric_dtype(pre[c])]
    both = pd.concat([pre[features], late[features]], keys=["pre", "late"])
    for c in categorical:
        both[c] = both[c].astype("category")
    x_pre, x_late = both.loc["pre"], both.loc["late"]

    days_sorted = np.sort(pre.day.unique())
    cut = days_sorted[int(len(days_sorted) * 0.7)]
    train, test = (pre.day < cut).to_numpy(), (pre.day >= cut).to_numpy()
    model = lgb.LGBMClassifier(verbose=-1, random_state=0)
    model.fit(x_pre[train], pre.is_fraud[train])

    def report(name: str, x: pd.DataFrame, y: pd.Series) -> None:
        p = np.asarray(model.predict_proba(x))[:, 1]
        print(
            f"{name:<38} n={len(y):>7,} pos={int(y.sum()):>5} base={y.mean():.4f} "
            f"ROC AUC={roc_auc_score(y, p):.3f} PR AUC={average_precision_score(y, p):.3f}"
        )

    report("pre-drift test (time split)", x_pre[test], pre.is_fraud[test])
    report("drifted period, all", x_late, late.is_fraud)
    old = late.fraud_type.fillna("") != "wangiri"
    report("drifted period, without wangiri", x_late[old.to_numpy()], late.is_fraud[old])
    new = late.fraud_type.isna() | (late.fraud_type == "wangiri")
    report("drifted period, wangiri vs benign", x_late[new.to_numpy()], late.is_fraud[new])
    p_late = np.asarray(model.predict_proba(x_late))[:, 1]
    threshold = np.quantile(
        np.asarray(model.predict_proba(x_pre[test]))[:, 1], 1 - pre.is_fraud[test].mean()
    )
    caught = late.assign(hit=p_late >= threshold).groupby("fraud_type").hit.mean()
    print("drifted recall at the pre-drift top-base-rate threshold:", caught.round(2).to_dict())

    y_test = pre.is_fraud[test]
    print(f"constant model: ROC AUC=0.500 PR AUC={y_test.mean():.3f}")
    numeric = [c for c in features if c not in categorical]
    single = {c: roc_auc_score(y_test, x_pre[test][c].fillna(-1)) for c in numeric}
    best = max(single, key=lambda c: abs(single[c] - 0.5))
    stump = lgb.LGBMClassifier(verbose=-1, random_state=0)
    stump.fit(x_pre[train][[best]], pre.is_fraud[train])
    p = np.asarray(stump.predict_proba(x_pre[test][[best]]))[:, 1]
    print(
        f"one-feature model ({best}): ROC AUC={roc_auc_score(y_test, p):.3f} "
        f"PR AUC={average_precision_score(y_test, p):.3f}"
    )
    importance = pd.Series(model.booster_.feature_importance("gain"), index=features)
    print("top features by gain:", list(importance.nlargest(8).index))


if __name__ == "__main__":
    main(sys.argv[1], *(int(a) for a in sys.argv[2:]))
