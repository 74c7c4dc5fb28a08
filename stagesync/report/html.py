"""A plan (or a push's results) as one self-contained HTML file, for reviewers.

Rendered through ``templates/plan.html.j2`` with autoescaping on: every value that came from a
store (keys, records, reasons, errors, environment names) is escaped, so a product description
holding ``<script>`` renders as text. The page loads nothing: inline CSS, no scripts, no URLs,
and a Content-Security-Policy that forbids anything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import jinja2
import orjson

from stagesync.model import Operation, Plan
from stagesync.planfile import plan_digest
from stagesync.report.text import ACTIONS, endpoint_label, kinds_in_order

STATUSES = ("applied", "done", "planned", "failed", "skipped", "drifted")
"""Result statuses with their own style; any other is shown plainly."""


@dataclass(frozen=True)
class _Field:
    path: str
    before: str
    after: str


@dataclass(frozen=True)
class _Op:
    op: Operation
    fields: tuple[_Field, ...]
    record: str | None
    status: str | None
    status_class: str
    error: str | None


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("stagesync", "report/templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(plan: Plan, results: Mapping[str, tuple[str, str | None]] | None = None) -> str:
    """The plan as HTML; with ``results`` (op id -> (status, error)), a push result report."""
    counts = plan.counts()
    kinds = kinds_in_order(plan)
    ops = [_view(op, results) for op in plan.operations]
    status_counts: dict[str, int] = {}
    if results is not None:
        for view in ops:
            key = view.status or "not run"
            status_counts[key] = status_counts.get(key, 0) + 1
    template = _environment().get_template("plan.html.j2")
    return template.render(
        plan=plan,
        source=endpoint_label(plan.source.environment, plan.source.store_hash),
        destination=endpoint_label(plan.destination.environment, plan.destination.store_hash),
        digest=plan_digest(plan),
        actions=[a.value for a in ACTIONS],
        symbols={a.value: a.symbol for a in ACTIONS},
        summary=[(kind, [counts[kind].get(a.value, 0) for a in ACTIONS]) for kind in kinds],
        totals=[sum(counts[k].get(a.value, 0) for k in kinds) for a in ACTIONS],
        destructive=[view for view in ops if view.op.action.destructive],
        sections=[
            (kind, rest)
            for kind in kinds
            if (rest := [v for v in ops if v.op.kind == kind and not v.op.action.destructive])
        ],
        results=results is not None,
        status_counts=sorted(status_counts.items()),
    )


def _view(op: Operation, results: Mapping[str, tuple[str, str | None]] | None) -> _Op:
    status: str | None = None
    error: str | None = None
    if results is not None:
        status, error = results.get(op.id, ("not run", None))
    return _Op(
        op=op,
        fields=tuple(_Field(f.path, _show(f.before), _show(f.after)) for f in op.fields),
        record=_show(op.after) if op.after is not None and not op.fields else None,
        status=status,
        status_class=status if status in STATUSES else "other",
        error=error,
    )


def _show(value: Any) -> str:
    """A JSON value as readers see it in the report (escaping is the template's job)."""
    if value is None:
        return "—"
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
