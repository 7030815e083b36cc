"""Create and reuse a peer library's virtual environment under ``benchmarks/.venvs/``.

A benchmark compares Shipyard with a peer (ydata-profiling, Evidently, ...) whose dependency pins
would clash with ours, so each peer lives in its own venv, made with ``python -m venv`` + pip and
reused on the next run. A stamp file records what was installed; a change of requirements
rebuilds the venv.

    python = peer_python("ydata", ["ydata-profiling==4.18.4"])
    subprocess.run([str(python), "-c", "import ydata_profiling"], check=True)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Sequence
from pathlib import Path

__all__ = ["VENVS", "peer_python", "site_packages"]

VENVS = Path(__file__).resolve().parent / ".venvs"


def _python_of(env_dir: Path) -> Path:
    sub = "Scripts/python.exe" if os.name == "nt" else "bin/python"
    return env_dir / sub


def peer_python(
    name: str,
    requirements: Sequence[str],
    *,
    first: Sequence[str] = (),
    no_deps: Sequence[str] = (),
    base_python: str | None = None,
    quiet: bool = True,
) -> Path:
    """Return the interpreter of venv ``name``, creating it with ``requirements`` when needed.

    Args:
        name: Folder name under ``benchmarks/.venvs/``.
        requirements: pip requirement strings installed with their dependencies.
        first: Requirements installed in an earlier pip call (e.g. ``torch==2.13.0``, whose
            CPU build pip finds on its own while the resolver of the main call would not).
        no_deps: Requirements installed afterwards with ``--no-deps`` (e.g. a package whose
            pins are stale but whose data files we want).
        base_python: Interpreter that creates the venv (default: the one running this script).
        quiet: Pass ``-q`` to pip.
    """
    env_dir = VENVS / name
    python = _python_of(env_dir)
    stamp = env_dir / "shipyard-peer.json"
    done = json.loads(stamp.read_text()) if stamp.exists() else {}
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
    if quiet:
        pip.append("-q")
    wanted = [*(["--first", *first] if first else []), *requirements]
    if done.get("requirements") != wanted:
        if env_dir.exists():
            shutil.rmtree(env_dir)
        VENVS.mkdir(parents=True, exist_ok=True)
        if base_python:
            subprocess.run([base_python, "-m", "venv", str(env_dir)], check=True)
        else:
            venv.EnvBuilder(with_pip=True).create(env_dir)
        print(f"[peer venv] installing {', '.join(wanted)} into {env_dir}", file=sys.stderr)
        if first:
            subprocess.run([*pip, *first], check=True)
        subprocess.run([*pip, *requirements], check=True)
        done = {"requirements": wanted}
        stamp.write_text(json.dumps(done))
    if no_deps and done.get("no_deps") != list(no_deps):
        # Old packages whose metadata pins a past Python still ship usable data files.
        subprocess.run([*pip, "--no-deps", "--ignore-requires-python", *no_deps], check=True)
        done["no_deps"] = list(no_deps)
        stamp.write_text(json.dumps(done))
    return python


def site_packages(python: Path) -> Path:
    """The ``site-packages`` folder of a venv's interpreter (to find a package's data files)."""
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(out.stdout.strip())
