"""Studio's Endpoints pages: each environment's endpoints, and one endpoint's variants,
revisions and captured traffic (requests per hour and variant, latency)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.capture import capture_key, capture_schema
from shipyard.deploy import endpoint_traffic
from shipyard.errors import InvalidInput
from shipyard.server import ShipyardApi
from tests.conftest import serve_frame
from tests.server.conftest import open_for_api
from tests.ui.conftest import browser, studio_server

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def capture(root: Path, hour: datetime, n: int, latency: float) -> None:
    """``n`` captured requests of m:1 in ``hour``, each taking ``latency`` ms."""
    project = open_for_api(root)
    version = project.catalog.get_model_version("m", 1)
    records = serve_frame().head(n).to_dict("records")
    inputs = [c["name"] for c in version.signature["inputs"]]
    rows = [
        {
            "request_id": f"r{hour:%H}-{i}",
            "captured_at": hour + timedelta(minutes=i % 60),
            "model": "m",
            "model_version": 1,
            "variant": "m@prod",
            "latency_ms": latency,
            "score": 0.25,
            "prediction": "0",
            **{c: records[i][c] for c in inputs},
        }
        for i in range(n)
    ]
    table = pa.Table.from_pylist(rows, schema=capture_schema(version.signature))
    fs, path = project.artifacts.filesystem(capture_key("m", 1, hour))
    fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
    pq.write_table(table, path)
    project.close()


@pytest.fixture(scope="module")
def app(studio_root: Path) -> Iterator[ShipyardApi]:
    capture(studio_root, NOW - timedelta(hours=2), 30, 2.0)
    capture(studio_root, NOW, 10, 4.0)
    capture(studio_root, NOW - timedelta(days=3), 5, 1.0)  # outside the last 24 hours
    app = studio_server(studio_root)
    yield app
    app.project.close()


def test_the_room_computes_traffic_per_hour_and_variant(app: ShipyardApi) -> None:
    traffic = endpoint_traffic(app.project, "scorer", env="prod", hours=24)
    assert [(b.hour, b.requests, b.latency_p50) for b in traffic.buckets] == [
        (NOW - timedelta(hours=2), 30, 2.0),
        (NOW, 10, 4.0),
    ]
    assert traffic.buckets[0].variant == "m@prod" and traffic.buckets[0].version == 1
    week = endpoint_traffic(app.project, "scorer", env="prod", hours=24 * 7)
    assert sum(b.requests for b in week.buckets) == 45
    with pytest.raises(InvalidInput, match="'hours'"):
        endpoint_traffic(app.project, "scorer", env="prod", hours=0)


def figure(page: str, chart: str) -> dict[str, Any]:
    found = re.search(rf'<script type="application/json" id="{chart}-spec">(.*?)</script>', page)
    assert found, f"no {chart} on the page"
    spec: dict[str, Any] = json.loads(found.group(1))
    return spec


def test_endpoints_are_listed_by_environment(app: ShipyardApi, tokens: dict[str, str]) -> None:
    page = browser(app, tokens["viewer-dev"]).get("/endpoints")
    assert page.status_code == 200
    assert '<a href="/endpoints/prod/scorer">scorer</a>' in page.text
    assert "No endpoint in dev." in page.text


def test_an_endpoint_shows_its_variants_revisions_and_captured_traffic(
    app: ShipyardApi, tokens: dict[str, str]
) -> None:
    page = browser(app, tokens["viewer-dev"]).get("/endpoints/prod/scorer").text
    assert "<td><code>m@prod</code></td>" in page and "<code>m:1</code>" in page
    assert "100%" in page and "create" in page
    requests = figure(page, "requests-chart")
    assert [t["y"] for t in requests["data"]] == [[30, 10]]
    assert requests["data"][0]["name"] == "m@prod (m:1)"
    latency = figure(page, "latency-chart")
    assert [t["y"] for t in latency["data"]] == [[2.0, 4.0], [2.0, 4.0]]
    week = browser(app, tokens["viewer-dev"]).get("/endpoints/prod/scorer?hours=168").text
    assert figure(week, "requests-chart")["data"][0]["y"] == [5, 30, 10]


def test_bad_input_gets_an_error_page(app: ShipyardApi, tokens: dict[str, str]) -> None:
    client = browser(app, tokens["viewer-dev"])
    missing = client.get("/endpoints/prod/scorr")
    assert missing.status_code == 404 and "Did you mean &#39;scorer&#39;?" in missing.text
    assert client.get("/endpoints/qa/scorer").status_code == 422
    assert client.get("/endpoints/prod/scorer?hours=0").status_code == 422
