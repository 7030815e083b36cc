"""The README's Python snippets run as written, on a fresh machine's fresh folder."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parents[2] / "README.md"

pytestmark = pytest.mark.e2e


def _snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_the_readme_has_python_snippets() -> None:
    assert _snippets()


@pytest.mark.parametrize("index", range(len(_snippets())))
def test_a_readme_snippet_runs(index: int, tmp_path: Path) -> None:
    code = _snippets()[index]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]


def _yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", README.read_text(), flags=re.S)


def test_the_readme_environments_file_validates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shipyard.environments import load_config

    (text,) = [b for b in _yaml_blocks() if b.startswith("environments:")]
    (tmp_path / "shipyard.yaml").write_text(text)
    monkeypatch.setenv("PROD_DB_PASSWORD", "s3cret")
    config = load_config(tmp_path)
    prod = config["prod"]
    assert prod.catalog_url == "postgresql://shipyard:s3cret@db.internal/shipyard"
    assert prod.gates.names == ("approval", "diagnostics", "baseline", "bias", "champion")
    assert config["staging"].gates.champion.margin == -0.01
    assert config["dev"].gates.names == ()


def test_the_readme_feature_definitions_load(tmp_path: Path) -> None:
    from shipyard.features import load_definitions

    (yaml_text,) = [b for b in _yaml_blocks() if "feature_groups:" in b]
    path = tmp_path / "features.yaml"
    path.write_text(yaml_text)
    (group,) = load_definitions(path).groups
    names = [f.name for f in group.features]
    assert names == [
        "visited_operator",
        "count_1h",
        "count_24h",
        "count_7d",
        "voice_out_s_1h",
        "voice_out_s_24h",
        "count_distinct_destination_country_24h",
        "calls_1h_vs_24h",
    ]
