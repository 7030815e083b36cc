"""Dataset and model references: versions outside what the catalog can store are refused."""

from __future__ import annotations

import pytest

from shipyard.catalog.refs import MAX_VERSION, parse_dataset_ref, parse_model_ref
from shipyard.errors import InvalidInput


@pytest.mark.parametrize(
    ("text", "name", "version"),
    [
        ("loans", "loans", None),
        ("loans@3", "loans", 3),
        (f"loans@{MAX_VERSION}", "loans", MAX_VERSION),
    ],
)
def test_dataset_refs_parse(text: str, name: str, version: int | None) -> None:
    ref = parse_dataset_ref(text)
    assert (ref.name, ref.version) == (name, version)


@pytest.mark.parametrize(
    "text",
    ["loans@0", f"loans@{MAX_VERSION + 1}", "loans@99999999999999999999999", "loans@" + "9" * 5000],
)
def test_dataset_versions_out_of_range_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="from 1 to 2,147,483,647") as info:
        parse_dataset_ref(text)
    assert "'loans'" in info.value.message and len(info.value.message) < 300


@pytest.mark.parametrize("text", ["fraud:0", "fraud:99999999999999999999999"])
def test_model_versions_out_of_range_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="from 1 to 2,147,483,647"):
        parse_model_ref(text)


def test_largest_model_version_parses() -> None:
    assert parse_model_ref(f"fraud:{MAX_VERSION}").version == MAX_VERSION
