"""One (system, dataset) run of ``automl.py``, in that system's own venv.

    python _automl_workers.py SYSTEM DATASET_DIR BUDGET THREADS [SEED]

Reads ``train.parquet``, ``test.parquet`` and ``meta.json`` written by ``_automl_data.py``,
fits SYSTEM on train (the fit wall time is the whole fit call), scores the held-out test rows
and times single-row predictions, then prints one line ``AUTOML_RESULT {json}`` (libraries
print their own logs on stdout too). Errors are reported in that line, never raised, so the
driver records them and goes on. Only the SYSTEM's own library is imported, so the file runs
in any of the venvs.

Single-row latency, the same for every system: the predict call a system offers for one row,
on test rows prepared beforehand, 20 warm-up calls, then the median of 200 calls on 200
different rows. For the peers that call takes a one-row DataFrame; for Shipyard the reported
one is ``predict_records`` on one JSON row (what its inference server runs, one thread), and
``predict_frame`` on a one-row DataFrame (one thread, and the default threads) is recorded
beside it.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

MARKER = "AUTOML_RESULT "
WARMUP = 20
LATENCY_CALLS = 200


class Runner:
    """Fits one system and predicts with it. Scores are P(positive) (binary), the
    (n, k) probabilities in ``meta['classes']`` order (multiclass), or values (regression)."""

    def __init__(
        self, meta: dict[str, Any], budget: float, threads: int, workdir: Path, seed: int = 0
    ):
        self.meta = meta
        self.seed = seed  # AutoGluon keeps its own
        self.budget = budget
        self.threads = threads
        self.workdir = workdir
        self.info: dict[str, Any] = {}
        self.fit_seconds = 0.0  # the whole fit call, set by fit()

    def fit(self, train: pd.DataFrame, train_path: Path) -> None:
        raise NotImplementedError

    def scores(self, x: pd.DataFrame) -> np.ndarray:
        raise NotImplementedError

    def single_row_calls(self, x: pd.DataFrame) -> dict[str, Callable[[int], Any]]:
        """Named single-row predict calls (the first is the reported one), each taking a
        test row number; inputs are prepared here, outside the timed calls."""
        rows = [x.iloc[[i]] for i in range(len(x))]
        return {"frame": lambda i: self.scores(rows[i])}


def _proba_in_order(proba: np.ndarray, labels: list[Any], wanted: list[Any]) -> np.ndarray:
    index = {str(label): j for j, label in enumerate(labels)}
    return proba[:, [index[str(w)] for w in wanted]]


class Shipyard(Runner):
    def fit(self, train: pd.DataFrame, train_path: Path) -> None:
        import shipyard

        meta = self.meta
        project = shipyard.init_project(self.workdir / "project")
        # The held-out 25% is Shipyard's test part (--split column): the search and the
        # refit see only the 75% every system gets, and none of it is kept back.
        test = pd.read_parquet(train_path.with_name("test.parquet"))
        table = pd.concat(
            [train.assign(__part="train"), test.assign(__part="test")], ignore_index=True
        )
        table_path = self.workdir / "table.parquet"
        table.to_parquet(table_path)
        started = time.perf_counter()
        shipyard.ingest_path(project, table_path, meta["name"])
        self.info["ingest_seconds"] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        result = shipyard.train(
            project,
            meta["name"],
            meta["target"],
            time_budget=self.budget,
            metric=meta["metric"],
            positive=1 if meta["task"] == "binary" else None,
            problem_type=meta["task"],
            split="column",
            split_column="__part",
            threads=0,  # 0: one thread for small data, else all cores
            seed=self.seed,
            # Caravan repeats rows between train and test, which the leakage check refuses
            # by default; the finding is recorded in info["split_findings"].
            allow_leakage=True,
        )
        self.fit_seconds = time.perf_counter() - started
        self.model = shipyard.load_model(project, result.model_version.ref).model
        board = result.leaderboard
        self.info.update(
            search={
                k: result.search.get(k)
                for k in (
                    "trials",
                    "finished",
                    "pruned",
                    "failed",
                    "stopped_by",
                    "chosen",
                    "ensemble",
                    "refit",
                    "refit_members",
                    "ensemble_note",
                    "stack_note",
                )
            },
            leaderboard=[
                {k: row.get(k) for k in ("family", "valid_score", "fit_seconds", "trial")}
                for row in board[:5]
            ],
            families_finished=sorted({row["family"] for row in board}),
            split_rows=result.split.get("rows"),
            split_findings=[
                {k: f.get(k) for k in ("check", "severity", "message")}
                for f in result.split.get("findings", [])
            ],
            internal_test=result.metrics.get("test"),
            calibration=self.model.signature.get("calibration"),
            dropped_columns=result.dropped_columns,
        )

    def scores(self, x: pd.DataFrame) -> np.ndarray:
        return self._order(self.model.predict_frame(x).scores)

    def raw_scores(self, x: pd.DataFrame) -> np.ndarray:
        """Scores before calibration (binary): shows what the calibrator did to ROC AUC."""
        m = self.model
        matrix = m.encoder.encode_frame(x).matrix
        return self._order(np.asarray(m.family.predict(m.estimator, matrix)))

    def _order(self, scores: np.ndarray) -> np.ndarray:
        if self.meta["task"] == "multiclass":
            return _proba_in_order(scores, list(self.model.problem.classes), self.meta["classes"])
        return scores

    def single_row_calls(self, x: pd.DataFrame) -> dict[str, Callable[[int], Any]]:
        records = x.astype(object).where(x.notna(), None).to_dict("records")
        records = json.loads(json.dumps(records))  # what the server hands the model
        rows = [x.iloc[[i]] for i in range(len(x))]
        model = self.model
        return {
            "records": lambda i: model.predict_records([records[i]]),
            "frame_1thread": lambda i: model.predict_frame(rows[i], threads=1),
            "frame": lambda i: model.predict_frame(rows[i]),
        }


class Flaml(Runner):
    def fit(self, train: pd.DataFrame, train_path: Path) -> None:
        from flaml import AutoML

        meta = self.meta
        x, y = train.drop(columns=[meta["target"]]), train[meta["target"]]
        self.automl = AutoML()
        started = time.perf_counter()
        self.automl.fit(
            x,
            y,
            task="regression" if meta["task"] == "regression" else "classification",
            time_budget=self.budget,
            metric=meta["metric"],
            n_jobs=self.threads,
            seed=self.seed,
            verbose=0,
        )
        self.fit_seconds = time.perf_counter() - started
        self.info.update(
            best_estimator=self.automl.best_estimator,
            best_config=self.automl.best_config,
            best_valid_loss=self.automl.best_loss,
        )

    def scores(self, x: pd.DataFrame) -> np.ndarray:
        task = self.meta["task"]
        if task == "regression":
            return np.asarray(self.automl.predict(x), dtype=float)
        proba = np.asarray(self.automl.predict_proba(x))
        labels = list(self.automl.classes_)
        if task == "binary":
            return _proba_in_order(proba, labels, [1])[:, 0]
        return _proba_in_order(proba, labels, self.meta["classes"])


class AutoGluon(Runner):
    METRICS: ClassVar[dict[str, str]] = {
        "roc_auc": "roc_auc",
        "log_loss": "log_loss",
        "rmse": "root_mean_squared_error",
    }

    def fit(self, train: pd.DataFrame, train_path: Path) -> None:
        from autogluon.tabular import TabularPredictor

        meta = self.meta
        self.predictor = TabularPredictor(
            label=meta["target"],
            problem_type=meta["task"],
            eval_metric=self.METRICS[meta["metric"]],
            path=str(self.workdir / "ag"),
            verbosity=0,
        )
        started = time.perf_counter()
        self.predictor.fit(
            train,
            presets="medium_quality",
            time_limit=self.budget,
            num_cpus=self.threads,
            num_gpus=0,
        )
        self.fit_seconds = time.perf_counter() - started
        board = self.predictor.leaderboard(silent=True)
        self.info.update(
            best_model=self.predictor.model_best,
            models=board["model"].tolist()[:8],
        )
        # Keep the models in memory, as AutoGluon advises for online inference: without it
        # every predict call loads them from disk.
        self.predictor.persist()

    def scores(self, x: pd.DataFrame) -> np.ndarray:
        task = self.meta["task"]
        if task == "regression":
            return np.asarray(self.predictor.predict(x), dtype=float)
        proba = self.predictor.predict_proba(x, as_multiclass=True)
        labels = list(proba.columns)
        proba = proba.to_numpy(dtype=float)
        if task == "binary":
            return _proba_in_order(proba, labels, [1])[:, 0]
        return _proba_in_order(proba, labels, self.meta["classes"])


class LightGBM(Runner):
    """Plain LightGBM with its default parameters; strings as pandas categories."""

    def fit(self, train: pd.DataFrame, train_path: Path) -> None:
        import lightgbm as lgb

        meta = self.meta
        x, y = train.drop(columns=[meta["target"]]), train[meta["target"]]
        self.categories = {
            c: pd.CategoricalDtype(sorted(x[c].dropna().unique()))
            for c in x.columns
            if not pd.api.types.is_numeric_dtype(x[c])
        }
        x = self._encode(x)
        cls = lgb.LGBMRegressor if meta["task"] == "regression" else lgb.LGBMClassifier
        self.model = cls(n_jobs=self.threads, random_state=self.seed, verbose=-1)
        started = time.perf_counter()
        self.model.fit(x, y)
        self.fit_seconds = time.perf_counter() - started
        self.info["lightgbm"] = lgb.__version__

    def _encode(self, x: pd.DataFrame) -> pd.DataFrame:
        x = x.copy()
        for c, dtype in self.categories.items():
            x[c] = x[c].astype(object).astype(dtype)
        return x

    def scores(self, x: pd.DataFrame, *, encoded: bool = False) -> np.ndarray:
        x = x if encoded else self._encode(x)
        task = self.meta["task"]
        if task == "regression":
            return np.asarray(self.model.predict(x), dtype=float)
        proba = np.asarray(self.model.predict_proba(x))
        labels = list(self.model.classes_)
        if task == "binary":
            return _proba_in_order(proba, labels, [1])[:, 0]
        return _proba_in_order(proba, labels, self.meta["classes"])

    def single_row_calls(self, x: pd.DataFrame) -> dict[str, Callable[[int], Any]]:
        encoded = self._encode(x)
        rows = [encoded.iloc[[i]] for i in range(len(encoded))]
        return {"frame": lambda i: self.scores(rows[i], encoded=True)}


RUNNERS: dict[str, type[Runner]] = {
    "shipyard": Shipyard,
    "flaml": Flaml,
    "autogluon": AutoGluon,
    "lightgbm": LightGBM,
}


def evaluate(meta: dict[str, Any], y: pd.Series, scores: np.ndarray) -> dict[str, float]:
    """The benchmark metric (``meta['metric']``) and a few companions."""
    from sklearn import metrics as skm

    task = meta["task"]
    if task == "binary":
        truth = y.to_numpy().astype(int)
        p = np.clip(scores.astype(float), 1e-15, 1 - 1e-15)
        return {
            "roc_auc": float(skm.roc_auc_score(truth, p)),
            "pr_auc": float(skm.average_precision_score(truth, p)),
            "log_loss": float(skm.log_loss(truth, p, labels=[0, 1])),
        }
    if task == "multiclass":
        classes = meta["classes"]
        proba = np.clip(scores.astype(float), 1e-15, 1)
        proba = proba / proba.sum(axis=1, keepdims=True)
        truth = y.astype(str).to_numpy()
        predicted = np.asarray(classes, dtype=object)[np.argmax(proba, axis=1)]
        return {
            "log_loss": float(skm.log_loss(truth, proba, labels=classes)),
            "accuracy": float(np.mean(predicted == truth)),
        }
    truth = y.to_numpy(dtype=float)
    return {
        "rmse": float(np.sqrt(np.mean((scores - truth) ** 2))),
        "r2": float(skm.r2_score(truth, scores)),
        "mae": float(np.mean(np.abs(scores - truth))),
    }


def latency_ms(call: Callable[[int], Any], n_rows: int) -> dict[str, float]:
    for i in range(WARMUP):
        call(i % n_rows)
    times = []
    for i in range(LATENCY_CALLS):
        row = (WARMUP + i) % n_rows
        started = time.perf_counter()
        call(row)
        times.append(time.perf_counter() - started)
    ms = np.asarray(times) * 1000
    return {"p50": float(np.median(ms)), "p90": float(np.percentile(ms, 90))}


def run(system: str, folder: Path, budget: float, threads: int, seed: int = 0) -> dict[str, Any]:
    meta = json.loads((folder / "meta.json").read_text())
    out: dict[str, Any] = {"system": system, "dataset": meta["name"], "metric": meta["metric"]}
    out["seed"] = seed
    out["python"] = sys.executable
    try:
        train = pd.read_parquet(folder / "train.parquet")
        test = pd.read_parquet(folder / "test.parquet")
        target = meta["target"]
        x_test, y_test = test.drop(columns=[target]), test[target]
        with tempfile.TemporaryDirectory(prefix=f"automl-{system}-") as workdir:
            runner = RUNNERS[system](meta, budget, threads, Path(workdir), seed)
            runner.fit(train, folder / "train.parquet")
            out["fit_seconds"] = round(runner.fit_seconds, 3)
            started = time.perf_counter()
            scores = runner.scores(x_test)
            out["batch_predict_seconds"] = round(time.perf_counter() - started, 4)
            out["test"] = evaluate(meta, y_test, scores)
            out["test_metric"] = out["test"][meta["metric"]]
            if isinstance(runner, Shipyard) and meta["task"] == "binary":
                raw = evaluate(meta, y_test, runner.raw_scores(x_test))
                out["test_uncalibrated"] = raw
            calls = runner.single_row_calls(x_test)
            latencies = {name: latency_ms(call, len(x_test)) for name, call in calls.items()}
            out["latency_ms"] = latencies
            out["predict_ms"] = next(iter(latencies.values()))["p50"]
            out["info"] = runner.info
    except BaseException as exc:  # recorded, never fatal: the driver goes on
        out["error"] = f"{type(exc).__name__}: {exc}"
        out["traceback"] = traceback.format_exc()[-4000:]
    return out


def main() -> None:
    system, folder, budget, threads = sys.argv[1:5]
    seed = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    result = run(system, Path(folder), float(budget), int(threads), seed)
    sys.stdout.flush()
    print(MARKER + json.dumps(result, default=str), flush=True)
    # Some libraries leave non-daemon threads behind (Ray, joblib pools): do not wait.
    os._exit(0)


if __name__ == "__main__":
    main()
