"""Write a file whose path the user chose (``--html FILE``, ``--out FILE``), with clear errors.

A missing folder or an unwritable path ends as :class:`~shipyard.errors.InvalidInput` that names
the path and the option, never as a raw ``FileNotFoundError`` or ``OSError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shipyard.errors import InvalidInput

__all__ = ["check_output_path", "write_output", "writing"]


def check_output_path(path: str | Path, *, option: str) -> Path:
    """Return ``path`` if a file can be written there, so a long job doesn't fail at its end.

    Args:
        path: The file the user named.
        option: How the user named it, for the message (``"--html"``, ``"out"``).

    Raises:
        InvalidInput: The folder of ``path`` does not exist, or ``path`` is a folder.
    """
    path = Path(path).expanduser()
    folder = path.parent
    if path.is_dir():
        raise InvalidInput(
            f"{path} for {option} is a folder; give a file name, e.g. {path / 'report.html'}."
        )
    if not folder.is_dir():
        raise InvalidInput(
            f"The folder {folder} for {option} does not exist; create it first "
            f"(mkdir -p {folder}) or give a path in an existing folder."
        )
    return path


@contextmanager
def writing(path: str | Path, *, option: str) -> Iterator[Path]:
    """Check ``path``, yield it to the code that writes it, and translate an ``OSError``.

    Example:
        >>> with writing(tmp / "rows.csv", option="--out") as out:  # doctest: +SKIP
        ...     frame.to_csv(out, index=False)

    Raises:
        InvalidInput: As :func:`check_output_path`, or the write failed (permissions, a full
            disk, a read-only file system).
    """
    target = check_output_path(path, option=option)
    try:
        yield target
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InvalidInput(
            f"Could not write {target} for {option}: {reason}. Give a path you can write to."
        ) from exc


def write_output(path: str | Path, data: str | bytes, *, option: str) -> Path:
    """Write ``data`` (text as UTF-8) to the user-named ``path``; return the path written.

    Raises:
        InvalidInput: As :func:`writing`.
    """
    with writing(path, option=option) as target:
        if isinstance(data, str):
            target.write_text(data, encoding="utf-8")
        else:
            target.write_bytes(data)
    return target
