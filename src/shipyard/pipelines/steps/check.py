"""``check``: a dataset version against data-quality rules
(:func:`shipyard.analyze.check_dataset`), from a rules file or suggested from a baseline.
An error rule that fails stops the run unless ``stop_on_error`` is false."""

from __future__ import annotations

from typing import Any

from shipyard.pipelines._kinds import Arg, StepContext, StepFailed, StepKind
from shipyard.pipelines.steps._common import files_digest, project_path
from shipyard.project import Project


def run(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
    from shipyard.analyze import check_dataset

    rules = args.get("constraints")
    version, report = check_dataset(
        ctx.project, args["dataset"],
        constraints_file=project_path(ctx.project, rules) if rules else None,
        against=args.get("against"),
    )  # fmt: skip
    counts = report["counts"]
    ctx.log(
        f"{version.ref}: {report['rules_checked']} rules, {counts['error']} error(s), "
        f"{counts['warning']} warning(s)"
    )
    for v in report["violations"][:20]:
        ctx.log(f"  {v['severity']} {v['column']}: {v['rule']} (found {v['found']})")
    if not report["passed"] and args.get("stop_on_error", True):
        raise StepFailed(
            f"{version.ref} breaks {counts['error']} error rule(s) of its data-quality checks "
            f"(step '{ctx.step}'); see `shipyard check {version.ref}`."
        )
    summary = {"passed": report["passed"], "counts": counts, "rows": report["rows"]}
    return {"passed": bool(report["passed"]), "summary": summary}


def fingerprint(project: Project, args: dict[str, Any]) -> Any:
    rules = args.get("constraints")
    return files_digest(project_path(project, rules)) if rules else None


KIND = StepKind(
    name="check",
    version="1",
    args={
        "dataset": Arg("dataset", doc="The version to check."),
        "constraints": Arg("str", required=False, doc="Rules YAML (relative: to the project)."),
        "against": Arg("dataset", required=False, doc="Or a baseline to suggest rules from."),
        "stop_on_error": Arg("bool", required=False, default=True),
    },
    outputs={"passed": "bool", "summary": "json"},
    run=run,
    fingerprint=fingerprint,
    doc="Check a dataset version against data-quality rules.",
)
