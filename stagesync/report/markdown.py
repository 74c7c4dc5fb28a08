"""A plan as a Markdown summary for a pull-request comment.

Counts per kind and action, destructive operations first, warnings, then as many operations as
fit: the whole text always stays under ``MAX_CHARS`` (GitHub refuses comments of 65,536
characters or more) and ends by saying how many operations it left out and where the full report
is. Store data is escaped: keys go in code spans, free text has Markdown and HTML neutralised, so
a key cannot inject links, images, HTML or @-mentions.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

import orjson

from stagesync.model import Operation, Plan
from stagesync.planfile import plan_digest
from stagesync.report.common import estimated_duration, warning_groups
from stagesync.report.findings import SHOWN_IN_PLAN, counts_line
from stagesync.report.merge import (
    base_line,
    conflict_field_line,
    conflict_title,
    conflicts_heading,
    kept_heading,
    kept_line,
)
from stagesync.report.redaction import source_redaction, withheld_heading
from stagesync.report.text import ACTIONS, endpoint_label, kinds_in_order

MAX_CHARS = 65_536
"""The text is always shorter than this."""

MAX_TEXT = 300
"""Longest piece of store text (a key, a warning) kept on one line; longer ones are cut."""

MAX_VALUE = 40
"""Longest value shown in a ``before → after`` change; longer ones are cut."""

MAX_VALUES_SHOWN = 5
"""Changes of one operation shown with their values; further changed fields are named only."""

MAX_WARNINGS_CHARS = 12_000
"""The warnings section never takes more than this, leaving room for operations."""

_FOOTER_RESERVE = 1_000
_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
"""Markdown syntax that works mid-line (links need ``[``; ``<`` ``>`` ``&`` become entities)."""


def render_markdown(plan: Plan, *, full_report: str | None = None, limit: int = MAX_CHARS) -> str:
    """The plan as Markdown, shorter than ``limit`` characters.

    ``full_report`` says where the complete report is (a file name, or a command to make it);
    it is quoted whenever operations had to be left out.
    """
    source = endpoint_label(plan.source.environment, plan.source.store_hash)
    destination = endpoint_label(plan.destination.environment, plan.destination.store_hash)
    out = _Budget(limit - _FOOTER_RESERVE)
    out.add(f"## stagesync plan: {text(source)} → {text(destination)}")
    out.add("")
    out.extend(_merge(plan))
    out.extend(_findings(plan))
    out.extend(_redaction(plan))
    if plan.empty:
        out.add("**No changes.**")
        return out.finish()
    count = len(plan.operations)
    out.add(
        f"Made {text(plan.created_at)} · digest {code(plan_digest(plan))} · "
        f"**{count} operation{'s' if count != 1 else ''}**, about {plan.estimated_requests} API "
        f"request{'s' if plan.estimated_requests != 1 else ''}, taking "
        f"{estimated_duration(plan.estimated_requests)}."
    )
    out.add("")
    out.extend(_summary(plan))

    warnings = _warnings(plan)
    reserved = sum(len(line) + 1 for line in warnings)
    out.size -= reserved
    destructive = [op for op in plan.operations if op.action.destructive]
    rest = [op for op in plan.operations if not op.action.destructive]
    listed = 0
    if destructive:
        out.add("")
        out.add(f"### ⚠️ Destructive operations ({len(destructive)})")
        out.add("")
        listed += out.extend(operation_line(op) for op in destructive)
    out.size += reserved
    for line in warnings:
        out.force(line)

    if rest:
        out.add("")
        out.add("### Operations" if not destructive else "### Other operations")
        for kind in kinds_in_order(plan):
            ops = [op for op in rest if op.kind == kind]
            if not ops or out.full:
                continue
            out.add("")
            out.add(f"**{text(kind)}** ({len(ops)})")
            out.add("")
            listed += out.extend(operation_line(op) for op in ops)

    left_out = count - listed
    if left_out:
        where = full_report or "run `stagesync show PLAN --html report.html` for the full report"
        out.force("")
        out.force(
            f"_{left_out} of {count} operations are not listed here, to keep this comment under "
            f"{limit:,} characters. Full report: {text(where)}_"
        )
    return out.finish()


def _merge(plan: Plan) -> list[str]:
    """A three-way plan's conflicts (first), resolutions and what it kept."""
    if plan.base is None:
        return []
    lines = [text(base_line(plan)), ""]
    if plan.conflicts:
        icon = "🛑" if plan.unresolved else "⚖️"
        lines += [f"### {icon} {text(conflicts_heading(plan))}", ""]
        for conflict in plan.conflicts:
            lines.append(f"- **{text(conflict_title(conflict))}**")
            lines += [f"  - {text(conflict_field_line(f))}" for f in conflict.fields]
        lines.append("")
    if plan.kept:
        lines += [f"### {text(kept_heading(plan))}", ""]
        lines += [f"- {text(kept_line(k))}" for k in plan.kept]
        lines.append("")
    return lines


def _findings(plan: Plan) -> list[str]:
    """The policy findings, first (at most ``SHOWN_IN_PLAN``)."""
    if not plan.findings:
        return []
    icon = "🛑" if any(f.severity == "error" for f in plan.findings) else "⚠️"
    lines = [f"### {icon} Policy findings: {counts_line(plan.findings)}", ""]
    lines += [
        f"- **{f.severity}** {code(f.rule)} {code(f.entity)}: {text(f.message)}"
        for f in plan.findings[:SHOWN_IN_PLAN]
    ]
    more = len(plan.findings) - SHOWN_IN_PLAN
    if more > 0:
        lines.append(f"- … and {more} more: `stagesync check PLAN` lists them all.")
    return [*lines, ""]


def _redaction(plan: Plan) -> list[str]:
    """Whether the source is redacted, and what the redaction guard left out."""
    lines = []
    said = source_redaction(plan)
    if said:
        lines += [f"🔒 {text(said)}", ""]
    if plan.withheld:
        lines += [f"### 🔒 {text(withheld_heading(plan))}", ""]
        lines += [f"- {text(w.describe())}" for w in plan.withheld]
        lines.append("")
    return lines


def _warnings(plan: Plan) -> list[str]:
    """The warnings section, at most ``MAX_WARNINGS_CHARS`` long."""
    groups = warning_groups(plan)
    if not groups:
        return []
    out = _Budget(MAX_WARNINGS_CHARS)
    out.add("")
    out.add("### Warnings")
    left = 0
    for group in groups:
        lines = [f"- {text(item)}" for item in group.items]
        lines += [operation_line(op) for op in group.ops[:20]]
        more = max(0, len(group.ops) - 20)
        if out.add("") and out.add(f"**{group.title}**") and out.add(""):
            shown = out.extend(lines)
            more += len(lines) - shown
            if more and out.add(f"- … and {more} more"):
                more = 0
        else:
            more += len(lines)
        left += more
    if left:
        out.force(f"- _{left} more warning lines are in the full report._")
    return out.lines


def operation_line(op: Operation) -> str:
    """``- `+` products `SKU-1` (price, name) — dependency of …``"""
    line = f"- `{op.action.symbol}` {text(op.kind)} {code(op.key.key)}"
    if op.fields:
        line += " (" + ", ".join(_field_parts(op)) + ")"
    if op.reason != "selected":
        line += f" — {text(op.reason)}"
    return line


def _field_parts(op: Operation) -> list[str]:
    """Scalar changes as ``path: `before` → `after``` (the first ``MAX_VALUES_SHOWN``), then the
    other changed fields by name."""
    parts: list[str] = []
    named: set[str] = set()
    for change in op.fields:
        if len(parts) < MAX_VALUES_SHOWN and _scalar(change.before) and _scalar(change.after):
            before, after = _values(change.before, change.after)
            parts.append(f"{text(change.path)}: {code(before)} → {code(after)}")
        else:
            named.add(change.path.split(".")[0].split("[")[0])
    return parts + [text(name) for name in sorted(named)]


def _scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _values(before: object, after: object) -> tuple[str, str]:
    """Two scalars as JSON writes them (``"Blue"``, ``12.5``, ``null``), each cut to
    ``MAX_VALUE``; long texts that start alike are shown from a little before they differ."""
    old, new = orjson.dumps(before).decode("utf-8"), orjson.dumps(after).decode("utf-8")
    if max(len(old), len(new)) > MAX_VALUE:
        same = len(os.path.commonprefix([old, new]))
        start = max(0, same - MAX_VALUE // 4)
        if start > 1:
            old, new = "…" + old[start:], "…" + new[start:]
    return _cut_to(old, MAX_VALUE), _cut_to(new, MAX_VALUE)


def _cut_to(value: str, size: int) -> str:
    return value if len(value) <= size else value[: size - 1] + "…"


def text(value: str) -> str:
    """Store text made inert in Markdown: one line, HTML and Markdown syntax escaped, no
    @-mentions, cut to ``MAX_TEXT`` characters."""
    value = " ".join(_cut(value).split())
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _SPECIAL.sub(r"\\\1", value)
    return value.replace("@", "&#64;")


def code(value: str) -> str:
    """Store text as a code span (delimited by more backticks than it contains)."""
    value = " ".join(_cut(value).split())
    run = max((len(m) for m in re.findall(r"`+", value)), default=0)
    fence = "`" * (run + 1)
    pad = " " if value.startswith("`") or value.endswith("`") or not value else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def _cut(value: str) -> str:
    return value if len(value) <= MAX_TEXT else value[: MAX_TEXT - 1] + "…"


def _summary(plan: Plan) -> list[str]:
    counts = plan.counts()
    kinds = kinds_in_order(plan)
    rows = [
        "| kind | " + " | ".join(f"`{a.symbol}` {a.value}" for a in ACTIONS) + " |",
        "|---|" + "--:|" * len(ACTIONS),
    ]
    for kind in kinds:
        cells = [str(counts[kind].get(a.value, 0)) for a in ACTIONS]
        rows.append(f"| {text(kind)} | " + " | ".join(cells) + " |")
    totals = [str(sum(counts[k].get(a.value, 0) for k in kinds)) for a in ACTIONS]
    rows.append("| **total** | " + " | ".join(f"**{t}**" for t in totals) + " |")
    return rows


class _Budget:
    """Lines, added only while they fit in ``size`` characters (``force`` ignores the budget,
    for the footer that ``_FOOTER_RESERVE`` keeps room for)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.lines: list[str] = []
        self.used = 0
        self.full = False

    def add(self, line: str) -> bool:
        if self.full or self.used + len(line) + 1 > self.size:
            self.full = True
            return False
        self.lines.append(line)
        self.used += len(line) + 1
        return True

    def extend(self, lines: Iterable[str]) -> int:
        """Add lines until one does not fit; the number added."""
        added = 0
        for line in lines:
            if not self.add(line):
                break
            added += 1
        return added

    def force(self, line: str) -> None:
        self.lines.append(line)
        self.used += len(line) + 1

    def finish(self) -> str:
        return "\n".join(self.lines) + "\n"
