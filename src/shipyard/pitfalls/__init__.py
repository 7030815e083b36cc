"""The pitfalls room: every seed pitfall Shipyard checks, for a dataset or a model, in one list.

Each check lives where its evidence is made (the profile, the split, the training job, the
batch transform, the monitors); this room collects their results into one report with a
status per pitfall: ``warning``, ``ok`` or ``not checked`` (and why). It imports the other
rooms' public functions only, and nothing imports it but the faces.
"""

from __future__ import annotations

from shipyard.pitfalls._checks import CHECKS, STATUSES, PitfallReport
from shipyard.pitfalls._resolve import pitfalls_of
from shipyard.pitfalls.console import print_pitfalls

__all__ = ["CHECKS", "STATUSES", "PitfallReport", "pitfalls_of", "print_pitfalls"]
