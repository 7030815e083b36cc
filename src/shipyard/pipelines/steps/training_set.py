"""``feature-training-set``: a point-in-time training set from a spine and feature groups
(:func:`shipyard.features.training_set`), with the labels known by a date. Its cache key holds
the groups' definitions and their sources' latest versions, which it reads besides the spine."""

from __future__ import annotations

import contextlib
from typing import Any

from shipyard.errors import NotFound
from shipyard.pipelines._kinds import Arg, StepContext, StepKind
from shipyard.project import Project


def run(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
    from shipyard.features import training_set

    made = training_set(
        ctx.project, spine=args["spine"], entity=args["entity"], time=args["time"],
        features=args["features"], name=args["name"], labels=args.get("labels"),
        label=args.get("label"), label_join=args.get("label_join"),
        confirmed_at=args.get("confirmed_at") or "confirmed_at",
        labels_known_by=args.get("labels_known_by"), label_default=args.get("label_default"),
    )  # fmt: skip
    ctx.log(
        f"{made.version.ref}: {made.rows:,} rows; {made.labels_used:,} labels known, "
        f"{made.labels_unknown:,} not yet"
    )
    stats = {"rows": made.rows, "labels_used": made.labels_used,
             "labels_unknown": made.labels_unknown, "rows_dropped": made.rows_dropped}  # fmt: skip
    return {"dataset": made.version.ref, "stats": stats}


def fingerprint(project: Project, args: dict[str, Any]) -> Any:
    groups = args.get("features") or []
    out: dict[str, Any] = {}
    for name in [groups] if isinstance(groups, str) else groups:
        try:
            group = project.catalog.get_feature_definition("group", str(name))
        except NotFound:
            continue  # the step reports it
        source = group.definition.get("source")
        try:
            latest = project.catalog.get_dataset_version(source).fingerprint if source else None
        except NotFound:
            latest = None
        out[str(name)] = [group.fingerprint, latest]
    if args.get("labels"):
        with contextlib.suppress(NotFound):
            out["labels"] = project.catalog.get_dataset_version(args["labels"]).fingerprint
    return out


KIND = StepKind(
    name="feature-training-set",
    version="1",
    args={
        "spine": Arg("dataset", doc="Rows of (entity, time) to build features for."),
        "entity": Arg("json", doc="The entity key column(s)."),
        "time": Arg("str", doc="The spine's time column."),
        "features": Arg("json", doc="Feature group names."),
        "name": Arg("str", doc="The training set's dataset name."),
        "labels": Arg("str", required=False, doc="A labels dataset."),
        "label": Arg("str", required=False),
        "label_join": Arg("json", required=False),
        "confirmed_at": Arg("str", required=False),
        "labels_known_by": Arg("str", required=False, doc="Labels confirmed by this time."),
        "label_default": Arg("json", required=False),
    },
    outputs={"dataset": "dataset", "stats": "json"},
    run=run,
    fingerprint=fingerprint,
    doc="A point-in-time training set from feature groups.",
)
