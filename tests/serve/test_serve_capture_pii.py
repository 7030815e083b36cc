"""A value of a column tagged as personal data never reaches a capture file (unless kept)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.serve.test_serve_routes import Client

from shipyard.capture import capture_privacy
from shipyard.errors import InvalidInput
from shipyard.model.encoder import keyed_hash
from shipyard.project import Project
from shipyard.registry import LoadedModel
from shipyard.security.pii import column_hash_key, tag_pii
from shipyard.serve import create_app
from shipyard.serve.server import _capture_writer

PLANTED = "PLANTED-4915550001"


@pytest.fixture(scope="module", autouse=True)
def tagged(served_project: Project) -> None:
    """The training dataset's 'country' column is personal data (tagged after training: the
    server reads the tags when it starts)."""
    tag_pii(served_project, "d", ["country"])


def captured(
    project: Project,
    monkeypatch: pytest.MonkeyPatch,
    loaded: LoadedModel,
    policy: str,
    rows: list[dict[str, Any]],
) -> tuple[list[Path], pa.Table]:
    settings = project.settings.model_copy(update={"capture_pii": policy})
    monkeypatch.setattr(project, "settings", settings)
    root = Path(project.artifacts.filesystem("captures")[1])
    before = set(root.rglob("*.parquet"))
    app = create_app(
        loaded, max_body_bytes=4096, max_rows=20, capture=_capture_writer(project, loaded, 100.0)
    )
    client = Client(app)
    assert client.post("/v1/predict", json={"rows": rows}).status_code == 200
    assert client.post("/invocations", json={"instances": rows[:1]}).status_code == 200
    csv = ",".join(str(rows[0][k]) for k in ("amount", "calls", "country", "roaming"))
    assert (
        client.post(
            "/invocations", content=csv.encode(), headers={"content-type": "text/csv"}
        ).status_code
        == 200
    )
    app.close()
    files = sorted(set(root.rglob("*.parquet")) - before)
    assert files
    return files, pa.concat_tables([pq.read_table(f) for f in files])


@pytest.mark.parametrize("policy", ["hash", "mask"])
def test_a_planted_value_of_a_tagged_column_never_reaches_a_capture_file(
    served_project: Project,
    loaded: LoadedModel,
    monkeypatch: pytest.MonkeyPatch,
    row: dict[str, Any],
    policy: str,
) -> None:
    rows = [row | {"country": PLANTED}, row]
    files, table = captured(served_project, monkeypatch, loaded, policy, rows)
    for f in files:
        assert PLANTED.encode() not in f.read_bytes()
    assert table.num_rows == 4
    values = table.column("country").to_pylist()
    assert PLANTED not in values
    if policy == "mask":
        assert values == [None] * 4
    else:
        key = column_hash_key(served_project, "country")
        assert values == list(keyed_hash([PLANTED, "fr", PLANTED, PLANTED], key))
        assert table.schema.field("country").type == pa.string()
    assert table.column("amount").to_pylist() == [row["amount"]] * 4  # untagged: kept


def test_keep_keeps_the_value_and_an_unknown_policy_is_refused(
    served_project: Project,
    loaded: LoadedModel,
    monkeypatch: pytest.MonkeyPatch,
    row: dict[str, Any],
) -> None:
    _, table = captured(served_project, monkeypatch, loaded, "keep", [row | {"country": PLANTED}])
    assert table.column("country").to_pylist() == [PLANTED] * 3
    with pytest.raises(InvalidInput, match="hash, mask, keep"):
        capture_privacy(loaded.model.signature, tagged=(), policy="drop", hash_key=str)
