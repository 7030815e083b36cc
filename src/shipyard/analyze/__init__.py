"""The analyze room: profiles, data-quality rules and bias metrics (pre- and post-training).

Every dataset function takes a dataset version as its list of Parquet files and returns a
JSON-able dict (the catalog stores it as is); ``posttraining_bias`` takes arrays of labels,
predictions and facet values instead. Renderers turn those dicts into HTML pages or terminal
summaries.

Names load on first use, as in :mod:`shipyard`: ``shipyard profile`` then imports neither
the bias code nor what it needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard._lazy import lazy_exports

if TYPE_CHECKING:
    from shipyard.analyze._bias_tests import FlagRule
    from shipyard.analyze._identifiers import entity_keys, identifiers
    from shipyard.analyze._leakage import feature_strengths, leak_message, leaking
    from shipyard.analyze._quick import encode_pair, quick_fit, quick_metric, quick_score
    from shipyard.analyze.bias import BIAS_METRICS, pretraining_bias
    from shipyard.analyze.bias_html import render_bias_html
    from shipyard.analyze.compare import compare_datasets, compare_frames
    from shipyard.analyze.console import (
        print_bias_summary,
        print_check_summary,
        print_posttraining_summary,
        print_profile_summary,
    )
    from shipyard.analyze.constraints import (
        dump_constraints_yaml,
        load_constraints_yaml,
        suggest_constraints,
    )
    from shipyard.analyze.posttraining import POSTTRAINING_METRICS, posttraining_bias
    from shipyard.analyze.posttraining_html import (
        render_posttraining_html,
        render_posttraining_section,
    )
    from shipyard.analyze.profile import PROFILE_VERSION, profile_parquet
    from shipyard.analyze.profile_html import render_profile_html
    from shipyard.analyze.quality import check_constraints
    from shipyard.analyze.reports import (
        StoredReport,
        bias_dataset,
        check_dataset,
        dataset_report,
        load_rules_file,
        profile_dataset,
        suggest_for,
    )

_EXPORTS = {
    "FlagRule": "._bias_tests",
    "entity_keys": "._identifiers",
    "identifiers": "._identifiers",
    "feature_strengths": "._leakage",
    "leak_message": "._leakage",
    "leaking": "._leakage",
    "encode_pair": "._quick",
    "quick_fit": "._quick",
    "quick_metric": "._quick",
    "quick_score": "._quick",
    "BIAS_METRICS": ".bias",
    "pretraining_bias": ".bias",
    "render_bias_html": ".bias_html",
    "compare_datasets": ".compare",
    "compare_frames": ".compare",
    "print_bias_summary": ".console",
    "print_check_summary": ".console",
    "print_posttraining_summary": ".console",
    "print_profile_summary": ".console",
    "dump_constraints_yaml": ".constraints",
    "load_constraints_yaml": ".constraints",
    "suggest_constraints": ".constraints",
    "POSTTRAINING_METRICS": ".posttraining",
    "posttraining_bias": ".posttraining",
    "render_posttraining_html": ".posttraining_html",
    "render_posttraining_section": ".posttraining_html",
    "PROFILE_VERSION": ".profile",
    "profile_parquet": ".profile",
    "render_profile_html": ".profile_html",
    "check_constraints": ".quality",
    "StoredReport": ".reports",
    "bias_dataset": ".reports",
    "check_dataset": ".reports",
    "dataset_report": ".reports",
    "load_rules_file": ".reports",
    "profile_dataset": ".reports",
    "suggest_for": ".reports",
}

__all__ = [
    "BIAS_METRICS",
    "POSTTRAINING_METRICS",
    "PROFILE_VERSION",
    "FlagRule",
    "StoredReport",
    "bias_dataset",
    "check_constraints",
    "check_dataset",
    "compare_datasets",
    "compare_frames",
    "dataset_report",
    "dump_constraints_yaml",
    "encode_pair",
    "entity_keys",
    "feature_strengths",
    "identifiers",
    "leak_message",
    "leaking",
    "load_constraints_yaml",
    "load_rules_file",
    "posttraining_bias",
    "pretraining_bias",
    "print_bias_summary",
    "print_check_summary",
    "print_posttraining_summary",
    "print_profile_summary",
    "profile_dataset",
    "profile_parquet",
    "quick_fit",
    "quick_metric",
    "quick_score",
    "render_bias_html",
    "render_posttraining_html",
    "render_posttraining_section",
    "render_profile_html",
    "suggest_constraints",
    "suggest_for",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
