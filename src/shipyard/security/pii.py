"""PII tags on datasets: which columns hold personal data, and the key that hashes them.

The profile tags what it detects on each dataset version; a user's decisions (``shipyard
datasets tag``) apply to every version of the dataset and win over the profile's. Training
refuses a tagged column as a feature unless it is allowed or hashed; captures mask or hash
the columns :func:`pii_columns` names.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING

from shipyard.catalog.refs import parse_dataset_ref
from shipyard.errors import InvalidInput, require_columns

if TYPE_CHECKING:
    from shipyard.project import Project

__all__ = ["check_pii_features", "column_hash_key", "pii_columns", "tag_pii"]

_USER_VERSION = 0  # a user's decision holds for every version
_KEY_FILE = "pii.key"


def pii_columns(project: Project, dataset: str) -> dict[str, str]:
    """``{column: kind}`` of the columns of ``dataset`` (``NAME`` or ``NAME@N``) tagged PII.

    The profile's tags of that version, plus the user's tags, minus the user's removals.

    Raises:
        NotFound: No such dataset or version.
    """
    ref = parse_dataset_ref(dataset)
    version = project.catalog.get_dataset_version(ref.name, ref.version)
    names = {c.name for c in version.columns}
    found: dict[str, str] = {}
    rows = project.catalog.get_pii_tags(version.name)
    for row in rows:
        if row["version"] == version.version and row["tagged"] and row["column"] in names:
            found[row["column"]] = row["kind"]
    for row in rows:
        if row["version"] == _USER_VERSION and row["column"] in names:
            if row["tagged"]:
                found.setdefault(row["column"], row["kind"])
            else:
                found.pop(row["column"], None)
    return dict(sorted(found.items()))


def tag_pii(
    project: Project, dataset: str, columns: Sequence[str], *, remove: bool = False
) -> dict[str, str]:
    """Tag ``columns`` of every version of ``dataset`` as PII (or, with ``remove``, as not
    PII, overriding the profile). Returns the latest version's PII columns afterwards.

    Raises:
        NotFound: No such dataset, or a column it does not have (with a close name).
        InvalidInput: No columns given.
    """
    ref = parse_dataset_ref(dataset)
    if not columns:
        raise InvalidInput("Name at least one column: --pii COLUMN[,COLUMN...].")
    latest = project.catalog.get_dataset_version(ref.name, ref.version)
    require_columns(list(columns), [c.name for c in latest.columns])
    project.catalog.set_pii_tags(
        latest.name,
        _USER_VERSION,
        dict.fromkeys(columns, "user"),
        tagged=not remove,
        source="user",
        actor=project.actor,
    )
    return pii_columns(project, latest.ref)


def check_pii_features(
    tagged: dict[str, str],
    features: Sequence[str],
    *,
    allow: Sequence[str] = (),
    hashed: Sequence[str] = (),
) -> None:
    """Refuse PII columns among ``features`` that are neither allowed nor hashed.

    Raises:
        InvalidInput: Which columns, of which kind, and the three ways out.
    """
    refused = [c for c in features if c in tagged and c not in allow and c not in hashed]
    if not refused:
        return
    listed = ", ".join(f"'{c}' ({tagged[c]})" for c in refused)
    flags = " ".join(refused)
    raise InvalidInput(
        f"Column(s) {listed} are tagged as personal data and would become features. Exclude "
        f"them (--exclude), hash them with the project's key (--hash-pii {flags}), or allow "
        f"them explicitly (--allow-pii {flags}); or untag them with `shipyard datasets tag "
        "DATASET --pii COLUMN --remove` if they are not personal.",
        details={"columns": refused},
    )


def column_hash_key(project: Project, column: str) -> str:
    """The HMAC-SHA256 key (hex) that hashes ``column``: derived from the project's secret
    (``.shipyard/pii.key``, made on first use, readable by its owner only), so the secret
    itself never enters a model bundle."""
    path = project.dir / _KEY_FILE
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it just now
            pass
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(secrets.token_bytes(32))
    secret = path.read_bytes()
    return hmac.new(secret, f"shipyard-pii:{column}".encode(), hashlib.sha256).hexdigest()
