"""Files the user names (--html, --out): a missing folder or a failed write is a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.errors import InvalidInput
from shipyard.outfile import write_output, writing


@pytest.mark.parametrize(
    ("data", "read"), [("rules: []\n", "read_text"), (b"<html>", "read_bytes")]
)
def test_writes_text_and_bytes(tmp_path: Path, data: str | bytes, read: str) -> None:
    out = write_output(tmp_path / "f", data, option="--out")
    assert getattr(out, read)() == data


def test_a_missing_folder_is_named_with_the_option(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"The folder .*nope for --html does not exist; create"):
        write_output(tmp_path / "nope" / "r.html", "x", option="--html")
    assert not (tmp_path / "nope").exists()


def test_a_folder_is_not_a_file_name(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="is a folder; give a file name"):
        write_output(tmp_path, "x", option="--out")


def test_an_os_error_while_writing_becomes_a_message(tmp_path: Path) -> None:
    with (
        pytest.raises(InvalidInput, match=r"Could not write .*f\.csv for --out: No space left"),
        writing(tmp_path / "f.csv", option="--out"),
    ):
        raise OSError(28, "No space left on device")
