"""Making a project where it cannot be made is a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.errors import InvalidInput
from shipyard.project import init_project


def test_init_where_no_folder_can_be_made_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(InvalidInput, match=r"Could not make a project in .*file/p: "):
        init_project(blocker / "p")
