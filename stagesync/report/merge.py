"""What every report says about a three-way plan (``stagesync.stages.plan.merge``): its
conflicts first, with the three values of each field and how each was resolved, then what was
kept because it changed on the destination alone."""

from __future__ import annotations

from typing import Any

import orjson

from stagesync.model import WHOLE_RECORD, Conflict, ConflictField, Kept, Plan

SHORT = 80
"""Longest value shown in a line (longer ones end with an ellipsis)."""


def show_value(value: Any) -> str:
    """A field's value on one line: JSON, cut to ``SHORT`` characters; ``(none)`` when absent."""
    if value is None:
        return "(none)"
    shown = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    return shown if len(shown) <= SHORT else shown[: SHORT - 1] + "…"


def field_name(change: ConflictField) -> str:
    return "whole record" if change.path == WHOLE_RECORD else change.path


def conflict_field_line(change: ConflictField) -> str:
    """``price: base 10, source 12, destination 11``."""
    return (
        f"{field_name(change)}: base {show_value(change.base)}, source "
        f"{show_value(change.source)}, destination {show_value(change.destination)}"
    )


def conflict_title(conflict: Conflict) -> str:
    """``products SKU-1 (unresolved)`` / ``products SKU-1 (resolved: source)``."""
    state = f"resolved: {conflict.resolution}" if conflict.resolution else "unresolved"
    return f"{conflict.kind} {conflict.key} ({state})"


def conflicts_heading(plan: Plan) -> str:
    """``Conflicts: 2, 1 unresolved (push refuses the plan until each is resolved)``."""
    unresolved = len(plan.unresolved)
    line = f"Conflicts (changed on both sides since the base): {len(plan.conflicts)}"
    if unresolved:
        line += f", {unresolved} unresolved: push refuses this plan until each is resolved"
    return line


def kept_heading(plan: Plan) -> str:
    side = plan.destination.environment or "the destination"
    return f"kept: changed on {side} ({len(plan.kept)}, not reverted)"


def kept_line(kept: Kept) -> str:
    names = ", ".join("whole record" if f == WHOLE_RECORD else f for f in kept.fields)
    return f"{kept.kind} {kept.key} ({names})"


def base_line(plan: Plan) -> str:
    """``Three-way plan against the base of production (sha256:…); resolved: …``."""
    assert plan.base is not None
    line = f"Three-way plan against the base of {plan.base.environment or 'the destination'}"
    line += f" ({plan.base.digest[:19]})"
    if plan.resolutions:
        line += "; --resolve " + ", ".join(plan.resolutions)
    return line


def merge_lines(plan: Plan) -> list[str]:
    """The text report's three-way section (nothing for a two-way plan): conflicts first."""
    if plan.base is None:
        return []
    out = [base_line(plan)]
    if plan.conflicts:
        out += ["", conflicts_heading(plan) + ":"]
        for conflict in plan.conflicts:
            out.append(f"  !! {conflict_title(conflict)}")
            out.extend(f"       {conflict_field_line(f)}" for f in conflict.fields)
    if plan.kept:
        out += ["", kept_heading(plan) + ":"]
        out.extend(f"  = {kept_line(k)}" for k in plan.kept)
    return [*out, ""]


def merge_view(plan: Plan) -> dict[str, Any] | None:
    """The HTML report's three-way section (None for a two-way plan): conflicts first."""
    if plan.base is None:
        return None
    return {
        "base": base_line(plan),
        "conflicts_heading": conflicts_heading(plan),
        "conflicts": [
            (conflict_title(c), [conflict_field_line(f) for f in c.fields]) for c in plan.conflicts
        ],
        "kept_heading": kept_heading(plan),
        "kept": [kept_line(k) for k in plan.kept],
    }
