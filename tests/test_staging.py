"""Staging folders are swept as soon as their writer is gone, not a day later."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from shipyard.staging import owned_name, staging_dir, sweep


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_dead_writers_folder_goes_at_once_a_live_ones_stays(tmp_path: Path) -> None:
    mine = owned_name()
    pid, started, host, _ = mine.split(".")
    dead = f"{_dead_pid()}.{started}.{host}.abc"
    reused = f"{pid}.{int(started) - 10_000}.{host}.abc"  # this pid, but an older process
    for name in (mine, dead, reused):
        (tmp_path / name).mkdir()
    assert sorted(p.name for p in sweep(tmp_path)) == sorted([dead, reused])
    assert [p.name for p in tmp_path.iterdir()] == [mine]


def test_another_hosts_or_an_old_style_folder_waits_a_day(tmp_path: Path) -> None:
    pid, started, _, _ = owned_name().split(".")
    fresh, old = tmp_path / f"{pid}.{started}.{'0' * 12}.abc", tmp_path / "0123abcd"
    fresh.mkdir()
    old.mkdir()
    day_ago = time.time() - 25 * 3600
    os.utime(old, (day_ago, day_ago))
    assert sweep(tmp_path) == [old]
    assert fresh.exists()


def test_a_staging_dir_sweeps_only_its_prefix_and_is_removed_after(tmp_path: Path) -> None:
    other = tmp_path / f"{_dead_pid()}.1.{owned_name().split('.')[2]}.abc"
    other.mkdir()
    with staging_dir(tmp_path, "bundle-") as folder:
        assert folder.name.startswith("bundle-") and folder.is_dir()
    assert not folder.exists() and other.exists()
