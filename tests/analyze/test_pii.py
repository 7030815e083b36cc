"""PII detection by name and content, tags on datasets, and what training does with them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shipyard.analyze import profile_dataset
from shipyard.analyze.pii import detect_pii, luhn_valid
from shipyard.errors import InvalidInput
from shipyard.ingest import ingest_path
from shipyard.project import Project
from shipyard.registry import load_model
from shipyard.security.pii import pii_columns, tag_pii
from shipyard.train import train


def _with_check_digit(bodies: list[str]) -> list[str]:
    out = []
    for body in bodies:
        candidates = [body + d for d in "0123456789"]
        out.append(candidates[int(np.flatnonzero(luhn_valid(candidates))[0])])
    return out


def pii_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    imei = _with_check_digit([str(v) for v in rng.integers(10**13, 10**14, n)])
    cards = _with_check_digit([f"4{v:014d}" for v in rng.integers(0, 10**14, n)])
    amount = rng.gamma(2.0, 50.0, n)
    return pd.DataFrame(
        {
            "contact": [f"u{i}@mail.example.org" for i in range(n)],
            "e164": [f"+3361{i:07d}" for i in range(n)],
            "national": [f"06 12 {i % 100:02d} {i % 97:02d} {i % 89:02d}" for i in range(n)],
            "device": imei,
            "sim": [f"20801{v:010d}" for v in rng.integers(0, 10**10, n)],
            "addr": [f"10.{i % 256}.{i % 7}.{i % 200}" for i in range(n)],
            "pan": cards,
            "firstName": rng.choice(["ann", "bob"], n),
            "device_imei_hash": [f"{v:016x}" for v in rng.integers(0, 2**62, n)],
            "account_id": rng.integers(10**9, 10**12, n),
            "day": ["2024-01-15"] * n,
            "country": rng.choice(["fr", "de"], n),
            "amount": amount,
            "y": (amount > 100).astype(int),
        }
    )


def test_luhn() -> None:
    assert luhn_valid(["490154203237518", "4111111111111111", "79927398713"]).all()
    assert not luhn_valid(["490154203237519", "4111111111111112"]).any()


def test_detects_each_kind_by_content_or_name_and_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    frame = pii_frame()
    frame.to_parquet(path)
    types = {"account_id": "BIGINT", "amount": "DOUBLE", "y": "BIGINT"}
    found = detect_pii([str(path)], [(c, types.get(c, "VARCHAR")) for c in frame.columns])
    assert {c: t["kind"] for c, t in found.items()} == {
        "contact": "email",
        "e164": "phone",
        "national": "phone",
        "device": "imei",
        "sim": "imsi",
        "addr": "ip_address",
        "pan": "card_number",
        "firstName": "person_name",
    }
    assert found["firstName"]["by"] == "name" and found["device"]["by"] == "content"


@pytest.fixture
def pii_project(project: Project, tmp_path: Path) -> Project:
    path = tmp_path / "p.parquet"
    pii_frame().to_parquet(path)
    ingest_path(project, path, "subs")
    return project


def test_the_profile_tags_pii_and_shows_none_of_its_values(pii_project: Project) -> None:
    report = profile_dataset(pii_project, "subs")
    assert report.payload["pii"]["contact"]["kind"] == "email"
    assert "u1@mail.example.org" not in str(report.payload)
    assert "u1@mail.example.org" not in report.html_path.read_text()  # type: ignore[union-attr]
    assert pii_columns(pii_project, "subs")["pan"] == "card_number"


def test_users_add_and_remove_tags_for_every_version(pii_project: Project) -> None:
    profile_dataset(pii_project, "subs")
    assert "country" in tag_pii(pii_project, "subs", ["country"])
    after = tag_pii(pii_project, "subs", ["contact"], remove=True)
    assert "contact" not in after and "country" in after
    with pytest.raises(Exception, match="Did you mean 'country'"):
        tag_pii(pii_project, "subs", ["countri"])


def test_training_refuses_pii_features_unless_allowed_or_hashed(pii_project: Project) -> None:
    profile_dataset(pii_project, "subs")
    keep = ["firstName", "country", "amount"]
    exclude = [c for c in pii_frame().columns if c not in [*keep, "y"]]
    with pytest.raises(InvalidInput, match=r"'firstName' \(person_name\)") as info:
        train(pii_project, "subs", "y", exclude=exclude)
    assert "--hash-pii firstName" in str(info.value) and "ann" not in str(info.value)
    allowed = train(pii_project, "subs", "y", exclude=exclude, allow_pii=["firstName"])
    assert "firstName" in [c["name"] for c in allowed.model_version.signature["inputs"]]
    hashed = train(
        pii_project, "subs", "y", exclude=exclude, hash_pii=["firstName"], model_name="h"
    )
    model = load_model(pii_project, hashed.model_version.ref).model
    (spec,) = [c for c in model.encoder.columns_ if c.name == "firstName"]
    assert len(spec.levels) == 2 and not {"ann", "bob"} & set(spec.levels)
    rows = [{"firstName": "ann", "country": "fr", "amount": 150.0}]
    assert len(model.predict_records(rows).to_records()) == 1
