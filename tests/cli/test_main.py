"""The CLI's entry point: library warnings go to the log, error messages print as written."""

from __future__ import annotations

import logging
import signal
import warnings

import pytest

import shipyard.cli as cli
from shipyard.errors import InvalidInput


@pytest.fixture
def run_main(monkeypatch: pytest.MonkeyPatch):
    """Run ``cli.main`` with ``app`` replaced, restoring what main changes process-wide."""
    sigterm = signal.getsignal(signal.SIGTERM)

    def run(app) -> None:
        monkeypatch.setattr(cli, "app", app)
        try:
            cli.main()
        finally:
            logging.captureWarnings(False)
            signal.signal(signal.SIGTERM, sigterm)

    return run


def test_library_warnings_reach_the_log_not_the_console(run_main, capsys, caplog) -> None:
    def noisy() -> None:
        warnings.warn("The y_prob values do not sum to one.", UserWarning, stacklevel=1)

    with warnings.catch_warnings(), caplog.at_level(logging.WARNING, logger="py.warnings"):
        warnings.simplefilter("always")  # as outside pytest, where warnings are not errors
        run_main(noisy)
    assert "sum to one" not in capsys.readouterr().err
    assert "sum to one" in caplog.text


def test_error_messages_print_brackets_as_written(run_main, capsys) -> None:
    def failing() -> None:
        raise InvalidInput("'[/]' is not a dataset reference.")

    with pytest.raises(SystemExit) as exited:
        run_main(failing)
    assert exited.value.code == 1
    assert "'[/]' is not a dataset reference." in capsys.readouterr().err
