"""The online-store contract, run against every backend: SQLite always, Redis when set."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.errors import BackendUnavailable, InvalidInput
from shipyard.online import OnlineStore, open_online_store

REDIS_URL = os.environ.get("SHIPYARD_TEST_REDIS_URL")


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OnlineStore]:
    if request.param == "sqlite":
        opened = open_online_store(f"sqlite:///{tmp_path / 'online.db'}")
        yield opened
        opened.close()
        return
    if not REDIS_URL:
        pytest.skip("SHIPYARD_TEST_REDIS_URL is not set")
    sep = "&" if "?" in REDIS_URL else "?"
    opened = open_online_store(f"{REDIS_URL}{sep}prefix=test-{uuid.uuid4().hex[:10]}:")
    yield opened
    for table in ("t", "u", "d", "x:y", "x", "race"):
        opened.drop(table)
    opened.close()


def test_get_returns_what_was_put_and_none_for_missing(store: OnlineStore) -> None:
    store.put("t", {"a": b"1", "b": b"\x00\xff"})
    assert store.get("t", ["b", "zz", "a"]) == [b"\x00\xff", None, b"1"]
    assert store.get("t", ["a"]) == [b"1"]
    assert store.get("u", ["a"]) == [None]


def test_tables_are_separate_namespaces(store: OnlineStore) -> None:
    store.put("x", {"y:k": b"1"})
    store.put("x:y", {"k": b"2"})
    assert store.get("x", ["y:k"]) == [b"1"]
    assert store.get("x:y", ["k"]) == [b"2"]
    assert sorted(k for batch in store.scan("x") for k, _ in batch) == ["y:k"]


def test_update_merges_and_deletes(store: OnlineStore) -> None:
    store.put("t", {"a": b"1", "b": b"2"})
    seen: list[list[bytes | None]] = []

    def merge(old: list[bytes | None]) -> list[bytes | None]:
        seen.append(old)
        return [None, b"22", b"3"]

    store.update("t", ["a", "b", "c"], merge)
    assert seen == [[b"1", b"2", None]]
    assert store.get("t", ["a", "b", "c"]) == [None, b"22", b"3"]


def test_update_rejects_a_wrong_merge_and_changes_nothing(store: OnlineStore) -> None:
    store.put("t", {"a": b"1"})
    with pytest.raises(InvalidInput, match="one value per key"):
        store.update("t", ["a"], lambda old: [])
    with pytest.raises(InvalidInput, match="distinct"):
        store.update("t", ["a", "a"], lambda old: old)
    assert store.get("t", ["a"]) == [b"1"]


def test_concurrent_updates_lose_nothing(store: OnlineStore) -> None:
    def add_one() -> None:
        for _ in range(25):
            store.update("race", ["n"], lambda old: [str(int(old[0] or b"0") + 1).encode()])

    threads = [threading.Thread(target=add_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.get("race", ["n"]) == [b"100"]


def test_scan_yields_every_key_in_batches(store: OnlineStore) -> None:
    store.put("t", {f"k{i:03d}": str(i).encode() for i in range(250)})
    batches = list(store.scan("t", batch=100))
    assert all(len(b) <= 100 for b in batches)
    assert dict(pair for b in batches for pair in b) == {
        f"k{i:03d}": str(i).encode() for i in range(250)
    }


def test_drop_forgets_keys_and_dictionary(store: OnlineStore) -> None:
    store.put("d", {"a": b"1"})
    store.encode("d", ["x", "y"])
    store.drop("d")
    assert store.get("d", ["a"]) == [None]
    assert store.decode("d", [0, 1]) == [None, None]
    store.drop("never-made")


def test_dictionary_codes_are_stable_and_decode(store: OnlineStore) -> None:
    first = store.encode("t", ["b", "a", "b"])
    assert first[0] == first[2] and first[0] != first[1]
    again = store.encode("t", ["c", "a"])
    assert again[1] == first[1] and again[0] not in first
    assert store.decode("t", [*again, 999]) == ["c", "a", None]
    assert store.encode("u", ["zz"]) == [0]


@pytest.mark.parametrize("table", ["", None, "x" * 300])
def test_malformed_table_names_are_invalid_input(store: OnlineStore, table: object) -> None:
    with pytest.raises(InvalidInput, match="table name"):
        store.get(table, ["a"])  # type: ignore[arg-type]


def test_malformed_keys_are_invalid_input(store: OnlineStore) -> None:
    with pytest.raises(InvalidInput, match="key must be"):
        store.put("t", {"": b"1"})


def test_unknown_scheme_lists_the_valid_ones() -> None:
    with pytest.raises(InvalidInput, match=r"sqlite://, redis://"):
        open_online_store("mongodb://localhost/x")


def test_unreachable_redis_is_backend_unavailable_without_the_password() -> None:
    pytest.importorskip("redis")
    with pytest.raises(BackendUnavailable) as caught:
        open_online_store("redis://:hunter2@127.0.0.1:1/0")
    assert caught.value.status_code == 503
    assert "hunter2" not in caught.value.message
    assert "redis://:***@127.0.0.1:1/0" in caught.value.message


def test_writes_inside_loading_are_kept_and_the_store_works_after(store: OnlineStore) -> None:
    with store.loading():
        store.put("t", {f"k{i}": bytes([i]) * 10 for i in range(200)})
    store.update("t", ["k1", "new"], lambda old: [b"one", b"fresh"])
    got = store.get("t", ["k0", "k1", "k199", "new"])
    assert got == [bytes([0]) * 10, b"one", bytes([199]) * 10, b"fresh"]
