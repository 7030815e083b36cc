"""Small synthetic tables, each with one pitfall planted (and a clean twin where it matters)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def leaky(n: int = 4000, seed: int = 0) -> pd.DataFrame:
    """``status`` equals the label on 98% of rows (AUC ~0.98); the honest best, ``x``, has
    AUC ~0.85."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = (x + rng.normal(scale=1.2, size=n) > 0.4).astype(int)
    flip = rng.random(n) < 0.02
    return pd.DataFrame(
        {
            "x": x,
            "noise": rng.normal(size=n),
            "plan": rng.choice(["a", "b", "c"], n),
            "status": np.where(flip, 1 - y, y),
            "label": y,
        }
    )


def with_customer_ref(seed: int = 0) -> pd.DataFrame:
    """An integer customer reference, unique per customer, with 300 of 4,300 rows repeated."""
    rng = np.random.default_rng(seed)
    n = 4000
    frame = pd.DataFrame(
        {
            "customer_ref": rng.choice(10**9, n, replace=False),
            "amount": rng.gamma(2.0, 50.0, n).round(2),
            "plan": rng.choice(["a", "b", "c"], n),
        }
    )
    frame["label"] = (rng.random(n) < 0.2 + 0.002 * frame["amount"].clip(0, 200)).astype(int)
    return pd.concat([frame, frame.sample(300, random_state=1)], ignore_index=True)


def per_customer(seed: int = 0, customers: int = 400, rows_each: int = 8) -> pd.DataFrame:
    """Several rows per customer, the label mostly a trait of the customer."""
    rng = np.random.default_rng(seed)
    trait = np.repeat(rng.normal(size=customers), rows_each)
    n = customers * rows_each
    frame = pd.DataFrame(
        {
            "customer_id": np.repeat(rng.choice(10**6, customers, replace=False), rows_each),
            "spend": trait + rng.normal(scale=0.3, size=n),
            "plan": rng.choice(["a", "b"], n),
        }
    )
    frame["label"] = (trait + rng.normal(scale=0.5, size=n) > 0.5).astype(int)
    return frame


def per_day(seed: int = 0, days: int = 120, n: int = 6000) -> pd.DataFrame:
    """Rows over 120 days whose label rate is a trait of the day, and a ``weather`` reading
    that names the day: a random split learns each day's rate, a time split cannot."""
    rng = np.random.default_rng(seed)
    day = rng.integers(0, days, n)
    offset = rng.normal(scale=1.5, size=days)
    weather = rng.random(days)
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "day": pd.Timestamp("2025-01-01") + pd.to_timedelta(day, unit="D"),
            "weather": weather[day],
            "x": x,
            "label": (offset[day] + x + rng.normal(size=n) > 1.0).astype(int),
        }
    )


def hard(n: int, seed: int = 0) -> pd.DataFrame:
    """A wiggly boundary in a few numbers: the more rows, the better it is learned."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, size=(n, 4))
    signal = np.sin(3 * x[:, 0]) + np.sin(3 * x[:, 1]) + x[:, 2] * x[:, 3]
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"])
    frame["label"] = (signal + rng.normal(scale=0.3, size=n) > 0).astype(int)
    return frame


def easy(n: int, seed: int = 0) -> pd.DataFrame:
    """One noisy linear signal: a few thousand rows learn all there is."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    frame["label"] = (x[:, 0] + rng.normal(scale=1.0, size=n) > 0).astype(int)
    return frame
