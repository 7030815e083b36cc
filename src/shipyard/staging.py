"""Staging folders that name their writer, so the next writer sweeps those a dead one left.

A folder's name carries the writing process's pid, its start time and a hash of its host
(``<prefix><pid>.<start>.<host>.<random>``). Before making a new one, a writer removes every
sibling whose process is gone: on the same host that is certain at once (the pid is not
running, or now belongs to a process started later, as :mod:`shipyard.tracking` tells dead
runs); a folder from another host, or with a name from before this scheme, is removed only
after ``STALE_SECONDS`` without a change.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import psutil

__all__ = ["STALE_SECONDS", "owned_name", "process_alive", "staging_dir", "sweep"]

STALE_SECONDS = 24 * 3600
"""How long a staging folder of another host (whose process cannot be checked) is kept."""

_OWNED = re.compile(r"^(\d+)\.(\d+)\.([0-9a-f]{12})\.[0-9a-f]+$")


@cache
def _host_id() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:12]


@cache
def _started_cs(pid: int) -> int:
    """When process ``pid`` (this one, or a forked child) started, in centiseconds."""
    return round(psutil.Process(pid).create_time() * 100)


def owned_name() -> str:
    """A fresh folder name that names this process as its writer."""
    pid = os.getpid()
    return f"{pid}.{_started_cs(pid)}.{_host_id()}.{uuid.uuid4().hex[:12]}"


def process_alive(pid: int, started: Callable[[float], bool]) -> bool:
    """Whether process ``pid`` runs and is the one meant: ``started`` judges its start time
    (epoch seconds), so a reused pid is not taken for the writer. A process we may not look
    at is taken as alive."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return started(process.create_time())
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.AccessDenied:
        return True


def _writer_alive(pid: int, started_cs: int) -> bool:
    return process_alive(pid, lambda t: abs(round(t * 100) - started_cs) <= 100)


def _is_dead(entry: Path, suffix: str, cutoff: float) -> bool:
    owner = _OWNED.match(suffix)
    if owner is not None and owner.group(3) == _host_id():
        return not _writer_alive(int(owner.group(1)), int(owner.group(2)))
    return entry.lstat().st_mtime < cutoff


def sweep(parent: Path, prefix: str = "", *, stale_seconds: float = STALE_SECONDS) -> list[Path]:
    """Remove the staging folders (and files) under ``parent`` named ``prefix...`` whose
    writer is gone; returns what was removed. Errors are ignored: sweeping is best effort."""
    removed: list[Path] = []
    cutoff = time.time() - stale_seconds
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        try:
            if not _is_dead(entry, entry.name[len(prefix) :], cutoff):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
        except OSError:
            continue
        removed.append(entry)
    return removed


@contextmanager
def staging_dir(parent: Path, prefix: str = "") -> Iterator[Path]:
    """Sweep what dead writers left under ``parent``, then yield a fresh folder there named
    for this process; it is removed on exit unless it was renamed away (published)."""
    sweep(parent, prefix)
    folder = parent / f"{prefix}{owned_name()}"
    folder.mkdir(parents=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
