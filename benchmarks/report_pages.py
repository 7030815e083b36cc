"""Build the profile, bias and evaluation pages on data that trips readers, and screenshot them.

The data has what made the pages hard to read: a long-named categorical facet, a binary 0/1
target, heavy-tailed usage columns and many skewed ones. Each page is written to OUT as
``reports-<kind>.html`` (profile, bias and evaluation through the CLI as a user would; the
post-training bias page, which only the SDK renders, from a noisy copy of the label); with
Chromium present, a 1280-wide screenshot goes next to it.

    .venv/bin/python benchmarks/report_pages.py /tmp/pages [--rows 20000] [--no-shots]

It prints each page's size and what ``studio_page`` makes of it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

CHROMIUM = "/usr/bin/chromium"


def roaming_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    """Subscriber-days: skewed usage counts, a long-named country facet and a 0/1 fraud label."""
    rng = np.random.default_rng(seed)
    countries = np.array(["PT", "ES", "FR", "DE", "GB", "IT", "NL", "BR", "US", "MA", "NG", "IN"])
    country = countries[rng.choice(len(countries), rows, p=_shares(rng, len(countries)))]
    frame: dict[str, object] = {
        "home_country_of_subscription": country,
        "tariff_plan": rng.choice(["prepaid_basic", "postpaid_business_unlimited"], rows),
    }
    for i, name in enumerate(
        [
            "roaming_call_minutes_last_7_days",
            "roaming_data_megabytes_last_30_days",
            "international_sms_count_last_24_hours",
            "distinct_destination_countries_last_7_days",
            "premium_rate_number_calls_last_24_hours",
            "outgoing_call_cost_eur_last_7_days",
            "incoming_call_minutes_last_7_days",
            "short_calls_under_10s_last_24_hours",
            "night_calls_last_7_days",
            "sim_swaps_last_90_days",
            "device_changes_last_90_days",
            "top_up_amount_eur_last_30_days",
        ]
    ):
        frame[name] = np.round(rng.lognormal(1.0 + 0.2 * i, 1.0 + 0.1 * i, rows), 2)
    frame["tenure_days"] = rng.integers(1, 3000, rows)
    frame["account_balance_eur"] = np.round(rng.pareto(1.2, rows) * 10, 2)
    score = (
        0.004 * np.asarray(frame["premium_rate_number_calls_last_24_hours"])
        + 0.002 * np.asarray(frame["short_calls_under_10s_last_24_hours"])
        + np.isin(country, ["NG", "MA"]) * 1.2
        - np.asarray(frame["tenure_days"]) / 1500
    )
    frame["is_fraud"] = (rng.random(rows) < 1 / (1 + np.exp(-(score - 3.0)))).astype(int)
    return pd.DataFrame(frame)


def _shares(rng: np.random.Generator, n: int) -> np.ndarray:
    weights = rng.pareto(1.0, n) + 0.05
    return weights / weights.sum()


def _sh(args: list[str], cwd: Path) -> None:
    cli = Path(sys.executable).with_name("shipyard")
    done = subprocess.run([str(cli), *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"shipyard {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def build(out: Path, rows: int) -> dict[str, Path]:
    """The three pages a reader opens, written through the CLI like a user would."""
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="report-pages-"))
    roaming_frame(rows).to_parquet(work / "roaming.parquet", index=False)
    pages = {kind: out / f"reports-{kind}.html" for kind in ("profile", "bias", "evaluation")}
    _sh(["init", "."], work)
    _sh(["ingest", "roaming.parquet", "--name", "roaming"], work)
    _sh(["profile", "roaming", "--target", "is_fraud", "--html", str(pages["profile"])], work)
    bias = ["bias", "roaming", "--label", "is_fraud", "--positive", "1"]
    _sh([*bias, "--facet", "home_country_of_subscription"], work)
    stored = sorted((work / ".shipyard" / "artifacts").rglob("bias-*.html"))
    shutil.copyfile(stored[-1], pages["bias"])
    train = ["train", "roaming", "--target", "is_fraud", "--positive", "1", "-m", "fraud"]
    train += ["--family", "lightgbm", "--slice-by", "tariff_plan"]
    _sh([*train, "--facet", "home_country_of_subscription", "--facet-value", "NG"], work)
    _sh(["models", "report", "fraud", "--html", str(pages["evaluation"])], work)
    shutil.rmtree(work, ignore_errors=True)
    pages["posttraining"] = out / "reports-posttraining.html"
    pages["posttraining"].write_text(_posttraining_page(rows), encoding="utf-8")
    return pages


def _posttraining_page(rows: int) -> str:
    from shipyard.analyze import posttraining_bias, render_posttraining_html

    frame = roaming_frame(rows)
    y = frame["is_fraud"].to_numpy()
    flip = np.random.default_rng(1).random(rows) < 0.05
    facet = "home_country_of_subscription"
    report = posttraining_bias(
        y,
        np.where(flip, 1 - y, y),
        frame[facet].to_numpy(dtype=object),
        positive=[1],
        facet_values=["MA", "NG", "US", "IT"],
        facet_name=facet,
        label_name="is_fraud",
    )
    return render_posttraining_html(report)


def screenshot(page: Path, height: int = 2400) -> Path:
    png = page.with_suffix(".png")
    subprocess.run(
        [
            *(CHROMIUM, "--headless", "--no-sandbox", "--hide-scrollbars"),
            *(f"--screenshot={png}", f"--window-size=1280,{height}"),
            *("--virtual-time-budget=4000", page.as_uri()),
        ],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return png


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--height", type=int, default=2400)
    parser.add_argument("--no-shots", action="store_true")
    args = parser.parse_args()
    from shipyard.htmlpage import studio_page

    for kind, page in build(args.out, args.rows).items():
        text = page.read_text(encoding="utf-8")
        slim = studio_page(text, "/static/plotly.min.js")
        mb, kb = len(text.encode()) / 1e6, len(slim.encode()) / 1e3
        print(f"{kind:<12} {mb:6.2f} MB  studio_page {kb:7.1f} KB")
        if not args.no_shots and os.path.exists(CHROMIUM):
            print(f"{'':<12} {screenshot(page, args.height)}")


if __name__ == "__main__":
    main()
