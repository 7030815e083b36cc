"""The compute backends: names, the Ray import guard, and no Ray import unless asked for."""

from __future__ import annotations

import subprocess
import sys

import pytest

from shipyard.compute import BACKENDS, check_backend, connect_ray, require_ray
from shipyard.errors import BackendUnavailable, InvalidInput


@pytest.mark.parametrize("name", BACKENDS)
def test_known_backends_pass(name: str) -> None:
    assert check_backend(name) == name


def test_an_unknown_backend_lists_the_known_ones_and_suggests_one() -> None:
    with pytest.raises(InvalidInput, match=r"one of local, ray\. Got 'rya'.*Did you mean 'ray'"):
        check_backend("rya")


@pytest.mark.parametrize("call", [require_ray, connect_ray], ids=["require", "connect"])
def test_without_ray_the_error_gives_the_install_command(call, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(BackendUnavailable, match=r"`pip install 'shipyard\[ray\]'`"):
        call()


def test_shipyard_and_its_cli_load_without_importing_ray() -> None:
    code = "import sys, shipyard, shipyard.cli, shipyard.train; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
