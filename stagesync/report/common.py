"""What the HTML and Markdown reports share: push outcomes, warning groups, duration estimates.

Pure functions over a ``Plan``; no formatting for a particular medium.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from stagesync.entities import REGISTRY
from stagesync.model import Operation, Plan

RATE_PLANS: tuple[tuple[str, int], ...] = (("Standard or Plus", 150), ("Pro", 450))
"""BigCommerce's published store API quotas: requests per 30-second window, by plan."""

PERSONAL_DATA_KINDS = frozenset(name for name, kind in REGISTRY.items() if kind.bears_people)
"""Kinds whose records hold personal data (names, emails, addresses) of shoppers or buyers, or
belong to their accounts (``EntityKind.bears_people``)."""

NOTIFYING_KINDS = frozenset({"customers", "orders", "b2b_users", "b2b_orders", "b2b_quotes"})
"""Kinds whose writes can make the platform email a shopper (welcome, order status, quote)."""

OK_STATUSES = frozenset({"applied", "done", "planned"})
BAD_STATUSES = frozenset({"failed"})
HELD_STATUSES = frozenset({"skipped", "drifted", "not run"})


class Outcome(NamedTuple):
    """What a push did with one operation. A plain ``(status, error)`` pair is accepted too."""

    status: str
    error: str | None = None
    requests: int | None = None
    duration_s: float | None = None


Results = Mapping[str, Outcome | tuple[str, str | None]]
"""Operation id -> its outcome, as a push reports it."""


def outcomes(results: Results) -> dict[str, Outcome]:
    return {op_id: Outcome(*value) for op_id, value in results.items()}


def status_class(status: str) -> str:
    """``ok``, ``bad``, ``held`` or ``other``: how alarming a status is."""
    if status in OK_STATUSES:
        return "ok"
    if status in BAD_STATUSES:
        return "bad"
    if status in HELD_STATUSES:
        return "held"
    return "other"


def estimated_duration(requests: int) -> str:
    """``about 2 min on Standard or Plus (150 requests per 30 s), 40 s on Pro (450 per 30 s)``."""
    if requests <= 0:
        return "no requests"
    parts = []
    for i, (plans, quota) in enumerate(RATE_PLANS):
        seconds = requests * 30 / quota
        unit = "requests per 30 s" if i == 0 else "per 30 s"
        parts.append(f"{_duration(seconds)} on {plans} ({quota} {unit})")
    return "about " + ", ".join(parts)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def left_alone_lines(plan: Plan) -> tuple[str, ...]:
    """One line per dependency ``--deps missing`` left alone: ``products SG-TNT-01 (price)
    differs on the destination and stays as it is (dependency of promotion X)``."""
    return tuple(
        f"{entry.describe()} differs on the destination and stays as it is ({entry.needed_by})"
        for entry in plan.left_alone
    )


@dataclass(frozen=True)
class WarningGroup:
    title: str
    items: tuple[str, ...]
    ops: tuple[Operation, ...] = ()
    """Operations the group is about (their ``describe()`` lines are listed)."""


_UNRESOLVED = ("reference", "does not exist", "not in the plan", "missing")
_LIMITATION = ("limit", "not supported", "cannot", "platform", "read-only")


def warning_groups(plan: Plan) -> list[WarningGroup]:
    """The plan's warnings and the risky operations, in the order a reviewer should read them.

    ``plan.warnings`` are sorted into unresolved references, platform limitations and the rest by
    their wording; operations brought along as dependencies and operations on personal data or
    that may notify customers come from the operations themselves, and the dependencies left
    alone from ``plan.left_alone``.
    """
    unresolved: list[str] = []
    limitations: list[str] = []
    other: list[str] = []
    for warning in plan.warnings:
        lowered = warning.lower()
        if any(word in lowered for word in _UNRESOLVED):
            unresolved.append(warning)
        elif any(word in lowered for word in _LIMITATION):
            limitations.append(warning)
        else:
            other.append(warning)
    dependencies = tuple(op for op in plan.operations if op.reason.startswith("dependency of"))
    notifying = tuple(op for op in plan.operations if op.kind in NOTIFYING_KINDS and op.after)
    personal = tuple(
        op for op in plan.operations if op.kind in PERSONAL_DATA_KINDS and op not in notifying
    )
    groups = [
        WarningGroup("Unresolved references", tuple(unresolved)),
        WarningGroup("Platform limitations", tuple(limitations)),
        WarningGroup(
            "May notify customers",
            (
                f"{len(notifying)} operation(s) write customers, orders or quotes; the platform "
                "may email the people concerned.",
            )
            if notifying
            else (),
            notifying,
        ),
        WarningGroup(
            "Personal data",
            (f"{len(personal)} operation(s) copy or delete personal data.",) if personal else (),
            personal,
        ),
        WarningGroup(
            "Dependencies brought along",
            (
                f"{len(dependencies)} operation(s) were not selected but are needed by ones "
                "that were.",
            )
            if dependencies
            else (),
            dependencies,
        ),
        WarningGroup("Dependencies left alone", left_alone_lines(plan)),
        WarningGroup("Other warnings", tuple(other)),
    ]
    return [group for group in groups if group.items]
