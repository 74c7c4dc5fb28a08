"""A plan as plain text, for the terminal and logs: summary, destructive operations, the rest."""

from __future__ import annotations

import difflib

from stagesync.model import Action, FieldChange, Operation, Plan
from stagesync.report.findings import plan_findings_lines
from stagesync.report.merge import merge_lines
from stagesync.report.redaction import redaction_lines

ACTIONS: tuple[Action, ...] = (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE)


def kinds_in_order(plan: Plan) -> list[str]:
    """The plan's kinds in the order their first operation appears."""
    return list(dict.fromkeys(op.kind for op in plan.operations))


def endpoint_label(environment: str | None, store_hash: str | None) -> str:
    """``production (abc123)``, or whichever half is known."""
    if environment and store_hash:
        return f"{environment} ({store_hash})"
    return environment or store_hash or "unknown"


def operation_line(op: Operation) -> str:
    """``op.describe()``, with the reason when it is not simply "selected" and why a replace
    cannot be an update; then one line per changed file of a file tree (a theme's templates), so
    reviewers see which files change."""
    line = op.describe()
    if op.reason != "selected":
        line += f"  [{op.reason}]"
    if op.note:
        line += f"  (replace: {op.note})"
    files = [f for f in op.fields if _is_file(f.path)]
    return "\n".join([line, *(f"      {_file_line(f)}" for f in files)])


def _is_file(path: str) -> bool:
    return "/" in path.split(".")[0].split("[")[0]


def _file_line(change: FieldChange) -> str:
    if change.before is None:
        return f"+ {change.path}"
    if change.after is None:
        return f"- {change.path}"
    if isinstance(change.before, str) and isinstance(change.after, str):
        added = removed = 0
        for line in difflib.ndiff(change.before.splitlines(), change.after.splitlines()):
            added += line.startswith("+ ")
            removed += line.startswith("- ")
        return f"~ {change.path} (+{added} -{removed} lines)"
    return f"~ {change.path} (binary)"


def duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``2.5 h``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def estimate_line(plan: Plan) -> str:
    """``12 operations, about 40 API requests: under a minute at 150 requests / 30 s.``"""
    count = len(plan.operations)
    requests = plan.estimated_requests
    window = f"{plan.window_ms / 1000:g} s"
    seconds = plan.estimated_seconds
    when = (
        "within the first rate-limit window"
        if seconds == 0
        else f"about {duration(seconds)} of rate-limit waits"
    )
    return (
        f"{count} operation{'s' if count != 1 else ''}, about {requests} API request"
        f"{'s' if requests != 1 else ''} ({when} at {plan.quota} requests / {window})."
    )


def render_text(plan: Plan) -> str:
    """The plan as text: a three-way plan's conflicts and kept changes, policy findings,
    summary table and request estimate, destructive operations, the rest."""
    out: list[str] = []
    if plan.empty:
        out.append("No changes.")
    else:
        source = endpoint_label(plan.source.environment, plan.source.store_hash)
        destination = endpoint_label(plan.destination.environment, plan.destination.store_hash)
        out.append(f"Plan: {source} -> {destination}, made {plan.created_at}")
        out.append("")
        out.extend(_summary_table(plan))
        out.append("")
        out.append(estimate_line(plan))
    out[1:1] = [*plan_findings_lines(plan.findings), *redaction_lines(plan)]
    out[0:0] = merge_lines(plan)
    if plan.warnings:
        out.append("")
        out.append("Warnings:")
        out.extend(f"  ! {warning}" for warning in plan.warnings)
    if plan.left_alone:
        out.append("")
        out.append("Dependencies left alone (--deps missing):")
        out.extend(f"  = {entry.describe()}  [{entry.needed_by}]" for entry in plan.left_alone)
    destructive = [op for op in plan.operations if op.action.destructive]
    rest = [op for op in plan.operations if not op.action.destructive]
    if destructive:
        out.append("")
        out.append("Destructive operations:")
        out.extend(f"  {operation_line(op)}" for op in destructive)
    if rest:
        out.append("")
        out.append("Operations:" if not destructive else "Other operations:")
        out.extend(f"  {operation_line(op)}" for op in rest)
    return "\n".join(out) + "\n"


def _summary_table(plan: Plan) -> list[str]:
    counts = plan.counts()
    kinds = kinds_in_order(plan)
    header = ["kind", *(a.value for a in ACTIONS)]
    rows = [[kind, *(str(counts[kind].get(a.value, 0)) for a in ACTIONS)] for kind in kinds]
    totals = [sum(counts[kind].get(a.value, 0) for kind in kinds) for a in ACTIONS]
    rows.append(["total", *(str(t) for t in totals)])
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        others = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *others]).rstrip()

    return [line(header), *(line(row) for row in rows)]
