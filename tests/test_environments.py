"""shipyard.yaml: each environment's own locations and gates, validated; the project an
environment acts in."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.environments import (
    BIAS_METRICS,
    CHAMPION_METRICS,
    DEFAULT_GATES,
    describe_environments,
    environment_config,
    environment_project,
    resolve_version,
)
from shipyard.errors import InvalidInput
from shipyard.project import Project


def _write(project: Project, text: str) -> Path:
    path = project.root / "shipyard.yaml"
    path.write_text(text)
    return path


def test_without_a_file_each_environment_is_the_project_with_default_gates(
    project: Project,
) -> None:
    for env in ("dev", "staging", "prod"):
        assert environment_project(project, env) is project
        assert environment_config(project, env).gates == DEFAULT_GATES[env]
    assert DEFAULT_GATES["prod"].names == ("approval", "diagnostics", "baseline", "champion")
    assert DEFAULT_GATES["staging"].names == ("diagnostics", "baseline")
    assert DEFAULT_GATES["dev"].names == ()


def test_an_environment_with_its_own_locations_gets_its_own_project(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROD_DB", "prod-catalog.db")
    _write(
        project,
        "environments:\n"
        "  prod:\n"
        "    catalog_url: sqlite:///prod/${PROD_DB}\n"
        "    artifacts_url: prod/artifacts\n"
        "    online_url: redis://:s3cret@cache:6379/0\n",
    )
    prod = environment_project(project, "prod")
    assert prod is not project and prod.root == project.root
    assert prod.catalog_url == f"sqlite:///{project.root / 'prod' / 'prod-catalog.db'}"
    assert prod.settings.artifacts_url == str(project.root / "prod" / "artifacts")
    assert prod.online_url == "redis://:s3cret@cache:6379/0"
    assert prod.actor == project.actor
    assert environment_project(project, "prod") is prod  # opened once
    assert environment_project(project, "staging") is project
    (shown,) = [e for e in describe_environments(project) if e["name"] == "prod"]
    assert shown["online_url"] == "redis://:***@cache:6379/0" and shown["own_locations"]
    prod.catalog  # noqa: B018 - opens (and creates) prod's own catalog
    project.close()
    assert (project.root / "prod" / "prod-catalog.db").is_file()


def test_gates_not_named_keep_their_defaults(project: Project) -> None:
    _write(
        project,
        "environments:\n"
        "  prod:\n"
        "    gates:\n"
        "      champion: {metric: pr_auc, margin: -0.01}\n"
        "      baseline: false\n"
        "      bias:\n"
        "        facets:\n"
        "          - {column: region, values: [north], limits: {DPPL: 0.1, DI: [0.8, 1.25]}}\n"
        "  staging:\n"
        "    gates: {diagnostics: {fail_on: warning}}\n",
    )
    prod = environment_config(project, "prod").gates
    assert prod.names == ("approval", "diagnostics", "bias", "champion")
    assert (prod.champion.metric, prod.champion.margin) == ("pr_auc", -0.01)
    assert prod.bias.facets[0].limits == {"DPPL": 0.1, "DI": (0.8, 1.25)}
    assert environment_config(project, "staging").gates.diagnostics.fail_on == "warning"
    assert environment_config(project, "dev").gates == DEFAULT_GATES["dev"]


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("environments:\n  qa: {}\n", "environments.qa", "use one of dev, staging, prod"),
        ("environmnts: {}\n", "environmnts", "Did you mean 'environments'?"),
        (
            "environments:\n  prod: {catalog: x}\n",
            "environments.prod.catalog",
            "Keys here: catalog_url, artifacts_url, online_url, gates",
        ),
        (
            "environments:\n  prod:\n    gates: {champion: {metric: auc}}\n",
            "environments.prod.gates.champion.metric",
            "'roc_auc', 'pr_auc'",
        ),
        (
            "environments:\n  prod:\n    gates: {champion: maybe}\n",
            "environments.prod.gates.champion",
            "expected true, false, or a mapping",
        ),
        (
            "environments:\n  prod:\n    gates: {bias: true}\n",
            "environments.prod.gates.bias",
            "name the facets",
        ),
        (
            "environments:\n  prod:\n    gates:\n"
            "      bias: {facets: [{column: a, limits: {DI: [2, 1]}}]}\n",
            "environments.prod.gates.bias.facets.0",
            "must be [low, high]",
        ),
        (
            "environments:\n  prod: {catalog_url: mysql://db/x}\n",
            "environments.prod.catalog_url",
            "Expected sqlite://, postgresql://, postgres://",
        ),
        (
            "environments:\n  prod: {catalog_url: 'sqlite:///${NO_SUCH_VARIABLE_X}'}\n",
            "environments.prod.catalog_url",
            "NO_SUCH_VARIABLE_X is not set",
        ),
        ("environments:\n  prod: [1, 2\n", "", "line 3 is not valid YAML"),
        ("- just\n- a list\n", "", "expected a mapping with the key 'environments'"),
    ],
)
def test_a_bad_file_names_the_file_the_key_and_what_is_expected(
    project: Project, text: str, key: str, expected: str
) -> None:
    path = _write(project, text)
    with pytest.raises(InvalidInput) as caught:
        environment_project(project, "prod")
    message = caught.value.message
    assert str(path) in message and f"'{key}'" in message if key else str(path) in message
    assert expected in message


def test_an_own_artifact_store_needs_an_own_catalog(project: Project) -> None:
    _write(project, "environments:\n  prod: {artifacts_url: prod-artifacts}\n")
    with pytest.raises(InvalidInput, match="Expected catalog_url too"):
        environment_project(project, "prod")


def test_an_unknown_environment_names_the_choices(project: Project) -> None:
    with pytest.raises(InvalidInput, match=r"one of dev, staging, prod\. Got 'production'"):
        environment_project(project, "production")
    with pytest.raises(InvalidInput, match="Did you mean 'staging'"):
        environment_config(project, "stagin")


def test_the_vocabularies_match_the_rooms_that_compute_them() -> None:
    from shipyard.analyze import POSTTRAINING_METRICS
    from shipyard.evaluation._bootstrap import BINARY_STATS, MULTICLASS_STATS, REGRESSION_STATS

    assert set(BIAS_METRICS) == set(POSTTRAINING_METRICS)
    computed = {*BINARY_STATS, *MULTICLASS_STATS, *REGRESSION_STATS} - {"alert_rate"}
    assert set(CHAMPION_METRICS) == computed


def test_an_environment_alias_resolves_in_that_environments_catalog(project: Project) -> None:
    _write(project, "environments:\n  prod: {catalog_url: 'sqlite:///prod.db'}\n")
    prod = environment_project(project, "prod")
    for catalog in (project.catalog, prod.catalog):
        catalog.create_model_version(
            "fraud", run_id=None, bundle_uri="models/fraud/a", problem_type="binary",
            signature={}, metrics={}, lineage={}, actor=project.actor,
        )  # fmt: skip
    project.catalog.create_model_version(
        "fraud", run_id=None, bundle_uri="models/fraud/b", problem_type="binary",
        signature={}, metrics={}, lineage={}, actor=project.actor,
    )  # fmt: skip
    prod.catalog.set_alias("fraud", "prod", 1, actor=project.actor)
    project.catalog.set_alias("fraud", "prod", 2, actor=project.actor)  # dev's own, ignored
    home, version = resolve_version(project, "fraud@prod")
    assert home is prod and version.ref == "fraud:1"
    home, version = resolve_version(project, "fraud")
    assert home is project and version.ref == "fraud:2"
