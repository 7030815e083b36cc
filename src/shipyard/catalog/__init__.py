"""The metadata catalog: a port (:class:`Catalog`) and its SQL adapter."""

from __future__ import annotations

from shipyard.catalog._chain import ChainBreak, ChainReport
from shipyard.catalog.base import Catalog
from shipyard.errors import InvalidInput

__all__ = ["Catalog", "ChainBreak", "ChainReport", "open_catalog"]

_SCHEMES = ("sqlite", "postgresql", "postgres")


def open_catalog(url: str) -> Catalog:
    """The catalog at ``url``, its schema brought up to date.

    Raises:
        InvalidInput: The URL's scheme is not one Shipyard knows.
        BackendUnavailable: The database cannot be reached.
    """
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower()
    if scheme not in _SCHEMES:
        raise InvalidInput(
            f"Unknown catalog URL scheme '{scheme}' in '{url}'. "
            f"Use one of: {', '.join(s + '://' for s in _SCHEMES)}."
        )
    from shipyard.catalog.sql import SqlCatalog

    return SqlCatalog(url)
