"""The page shell now lives in :mod:`shipyard.htmlpage`, shared by every room's reports.

Kept so that code written against the old place (branches in flight) still imports.
"""

from __future__ import annotations

from shipyard.htmlpage import Page, esc, fmt_bytes, fmt_num

__all__ = ["Page", "esc", "fmt_bytes", "fmt_num"]
