"""A plan (or a push's results) as one self-contained HTML file, for reviewers.

Rendered through ``templates/plan.html.j2`` with autoescaping on: every value that came from a
store (keys, records, reasons, errors, environment names) is escaped, so a product description
holding ``<script>`` renders as text. The page loads nothing: inline CSS, one inline script (the
offline filters, ``templates/report.js``) allowed by its sha256 in a Content-Security-Policy that
forbids every other script, URL, frame, form and connection.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jinja2
import orjson
from markupsafe import Markup

from stagesync.model import FieldChange, Operation, Plan
from stagesync.planfile import plan_digest
from stagesync.report.common import (
    Outcome,
    Results,
    estimated_duration,
    outcomes,
    status_class,
    warning_groups,
)
from stagesync.report.findings import SHOWN_IN_PLAN, counts_line
from stagesync.report.merge import merge_view
from stagesync.report.redaction import source_redaction, withheld_heading
from stagesync.report.text import ACTIONS, endpoint_label, kinds_in_order

LONG_TEXT = 160
"""A changed string longer than this (or with a line break) is shown as a line diff."""

CONTEXT_LINES = 2
"""Unchanged lines kept around each change in a line diff; longer unchanged runs are folded."""

OPEN_DESTRUCTIVE_UP_TO = 200
"""The destructive section starts open when it holds at most this many operations."""

_BLOCK_END = re.compile(
    r"(?<=</p>)|(?<=</div>)|(?<=</li>)|(?<=<br>)|(?<=<br/>)|(?<=<br />)|"
    r"(?<=</h[1-6]>)|(?<=</tr>)|(?<=</ul>)|(?<=</ol>)|(?<=</table>)",
    re.I,
)


@dataclass(frozen=True)
class _Line:
    sign: str
    """``" "`` unchanged, ``-`` removed, ``+`` added, ``…`` folded unchanged lines."""
    text: str


@dataclass(frozen=True)
class _Field:
    path: str
    before: str
    after: str
    lines: tuple[_Line, ...] | None
    """A line diff, for long strings."""


@dataclass(frozen=True)
class _Op:
    """One operation as the template shows it. ``fields`` and ``record`` are made when the
    template reads them (and dropped once that operation is rendered): a report of 100,000
    operations never holds every record's text at once."""

    op: Operation
    outcome: Outcome | None
    status_class: str

    @property
    def fields(self) -> tuple[_Field, ...]:
        return tuple(_field(f) for f in self.op.fields)

    @property
    def record(self) -> str | None:
        if self.op.after_json is None or self.op.fields_json != b"[]":
            return None
        return _show(self.op.after)


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


@cache
def _script() -> tuple[Markup, str]:
    """The filters' script and its CSP source (``'sha256-…'``)."""
    text = resources.files("stagesync").joinpath("report/templates/report.js").read_text("utf-8")
    if "</" in text:  # pragma: no cover - a guard for whoever edits report.js
        raise ValueError("report.js must not contain '</' (it is inlined in a <script> element)")
    body = "\n" + text
    digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode("ascii")
    return Markup(body), f"'sha256-{digest}'"


def content_security_policy() -> str:
    """The report's CSP: nothing may load; only the report's own script may run."""
    _, source = _script()
    return (
        "default-src 'none'; style-src 'unsafe-inline'; "
        f"script-src {source}; base-uri 'none'; form-action 'none'"
    )


def render_html(plan: Plan, results: Results | None = None, *, requests: int | None = None) -> str:
    """The plan as HTML; with ``results`` (op id -> (status, error) or ``Outcome``), a push
    result report. ``requests``: every request the push sent, the result JSON's ``requests``
    (the reads before and between writes included); default: the operations' own."""
    return _template().render(_context(plan, results, requests))


def html_chunks(
    plan: Plan,
    results: Results | None = None,
    *,
    requests: int | None = None,
    rehearsal: Sequence[tuple[str, str]] = (),
) -> Iterator[str]:
    """``render_html``'s text in pieces as the template produces them (the same text joined),
    for writing a large report without holding it whole. ``rehearsal`` (label, text) lines mark
    the report as a rehearsal's (``stagesync rehearse``) and say what it found."""
    return _template().generate({**_context(plan, results, requests), "rehearsal": list(rehearsal)})


def _template() -> jinja2.Template:
    return _environment().get_template("plan.html.j2")


def _context(plan: Plan, results: Results | None, requests: int | None) -> dict[str, Any]:
    counts = plan.counts()
    kinds = kinds_in_order(plan)
    done = outcomes(results) if results is not None else None
    ops = [_view(op, done) for op in plan.operations]
    status_counts: dict[str, int] = {}
    requests_used = 0
    if done is not None:
        for view in ops:
            assert view.outcome is not None
            status_counts[view.outcome.status] = status_counts.get(view.outcome.status, 0) + 1
            requests_used += view.outcome.requests or 0
    summary = [(kind, [counts[kind].get(a.value, 0) for a in ACTIONS]) for kind in kinds]
    widest = max((sum(row) for _, row in summary), default=0)
    destructive = [view for view in ops if view.op.action.destructive]
    script, _ = _script()
    return {
        "plan": plan,
        "csp": content_security_policy(),
        "script": script,
        "source": endpoint_label(plan.source.environment, plan.source.store_hash),
        "destination": endpoint_label(plan.destination.environment, plan.destination.store_hash),
        "digest": plan_digest(plan),
        "duration": estimated_duration(plan.estimated_requests),
        "actions": [a.value for a in ACTIONS],
        "symbols": {a.value: a.symbol for a in ACTIONS},
        "summary": summary,
        "bars": [
            (kind, [(a.value, n, 100 * n / widest) for a, n in zip(ACTIONS, row, strict=True)])
            for kind, row in summary
        ],
        "totals": [sum(counts[k].get(a.value, 0) for k in kinds) for a in ACTIONS],
        "kinds": kinds,
        "warnings": warning_groups(plan),
        "merge": merge_view(plan),
        "findings": plan.findings[:SHOWN_IN_PLAN],
        "findings_count": counts_line(plan.findings),
        "findings_more": max(0, len(plan.findings) - SHOWN_IN_PLAN),
        "source_redaction": source_redaction(plan),
        "withheld_heading": withheld_heading(plan) if plan.withheld else None,
        "withheld": [w.describe() for w in plan.withheld],
        "destructive": destructive,
        "destructive_open": len(destructive) <= OPEN_DESTRUCTIVE_UP_TO,
        "sections": [
            (kind, rest)
            for kind in kinds
            if (rest := [v for v in ops if v.op.kind == kind and not v.op.action.destructive])
        ],
        "results": done is not None,
        "status_counts": [(s, n, status_class(s)) for s, n in sorted(status_counts.items())],
        "requests_used": requests_used if requests is None else max(requests, requests_used),
        "operation_requests": requests_used,
        "failures": [v for v in ops if v.status_class in ("bad", "held")],
        "rehearsal": [],
    }


def _view(op: Operation, done: dict[str, Outcome] | None) -> _Op:
    outcome = None
    if done is not None:
        outcome = done.get(op.id, Outcome("not run"))
    return _Op(
        op=op,
        outcome=outcome,
        status_class=status_class(outcome.status) if outcome else "",
    )


def _field(change: FieldChange) -> _Field:
    lines = None
    before, after = change.before, change.after
    if isinstance(before, str) and isinstance(after, str) and _long(before, after):
        lines = tuple(line_diff(before, after))
    return _Field(change.path, _show(before), _show(after), lines)


def _long(*texts: str) -> bool:
    return any(len(text) > LONG_TEXT or "\n" in text for text in texts)


def _split(text: str) -> list[str]:
    """Lines of a long string; HTML written on one line is broken after block-level tags."""
    out: list[str] = []
    for line in text.splitlines() or [""]:
        if len(line) > LONG_TEXT:
            out.extend(part for part in _BLOCK_END.split(line) if part)
        else:
            out.append(line)
    return out


def line_diff(before: str, after: str) -> list[_Line]:
    """``before`` -> ``after`` line by line, unchanged runs folded to ``CONTEXT_LINES``."""
    old, new = _split(before), _split(after)
    out: list[_Line] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    opcodes = matcher.get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            same = old[i1:i2]
            head = CONTEXT_LINES if index > 0 else 0
            tail = CONTEXT_LINES if index < len(opcodes) - 1 else 0
            if len(same) > head + tail + 1:
                out.extend(_Line(" ", line) for line in same[:head])
                out.append(_Line("…", f"{len(same) - head - tail} unchanged lines"))
                out.extend(_Line(" ", line) for line in same[len(same) - tail :])
            else:
                out.extend(_Line(" ", line) for line in same)
            continue
        out.extend(_Line("-", line) for line in old[i1:i2])
        out.extend(_Line("+", line) for line in new[j1:j2])
    return out


def _show(value: Any) -> str:
    """A JSON value as readers see it in the report (escaping is the template's job)."""
    if value is None:
        return "—"
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
