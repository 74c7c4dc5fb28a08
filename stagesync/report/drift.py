"""Renderings of ``stagesync drift``: what changed on a store since its base, per entity and
per field, before -> after (text, JSON, Markdown, HTML). Pure: a ``Drift`` in, a string or
bytes out."""

from __future__ import annotations

import html
from typing import Any

import orjson

from stagesync.bases import Drift
from stagesync.model import Action, Change
from stagesync.report.markdown import text as md_text
from stagesync.report.merge import show_value

WHAT = {Action.CREATE: "added", Action.DELETE: "deleted", Action.UPDATE: "changed"}


def headline(drift: Drift) -> str:
    since = f", pulled {drift.base_pulled_at}" if drift.base_pulled_at else ""
    if not drift.drifted:
        return f"No drift: {drift.environment} is as its base {drift.base} holds it{since}."
    count = len(drift.changes)
    return (
        f"Drift on {drift.environment}: {count} entit{'y' if count == 1 else 'ies'} changed "
        f"on the store since its base {drift.base}{since}."
    )


def change_title(change: Change) -> str:
    """``~ products SKU-1 changed``."""
    return f"{change.action.symbol} {change.key.kind} {change.key.key} {WHAT[change.action]}"


def field_lines(change: Change) -> list[str]:
    """``price: 10 -> 12`` per field of a changed entity (none for an added or deleted one)."""
    return [f"{f.path}: {show_value(f.before)} -> {show_value(f.after)}" for f in change.fields]


def render_drift_text(drift: Drift) -> str:
    out = [headline(drift)]
    for change in drift.changes:
        out.append(f"  {change_title(change)}")
        out.extend(f"      {line}" for line in field_lines(change))
    return "\n".join(out) + "\n"


def drift_to_json(drift: Drift) -> bytes:
    """``{"environment", "base", "base_pulled_at", "drifted", "entities": [{"kind", "key",
    "change", "fields": [{"path", "before", "after"}]}]}`` (docs/cli.md#stagesync-drift)."""
    body: dict[str, Any] = {
        "environment": drift.environment,
        "base": str(drift.base),
        "base_pulled_at": drift.base_pulled_at,
        "drifted": drift.drifted,
        "entities": [
            {
                "kind": c.key.kind,
                "key": c.key.key,
                "change": WHAT[c.action],
                "fields": [
                    {"path": f.path, "before": f.before, "after": f.after} for f in c.fields
                ],
            }
            for c in drift.changes
        ],
    }
    return orjson.dumps(body, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def render_drift_markdown(drift: Drift) -> str:
    out = [f"## stagesync drift: {md_text(drift.environment)}", "", md_text(headline(drift))]
    for change in drift.changes:
        out += ["", f"- **{md_text(change_title(change))}**"]
        out.extend(f"  - {md_text(line)}" for line in field_lines(change))
    return "\n".join(out) + "\n"


def render_drift_html(drift: Drift) -> str:
    """A self-contained page (no script, no remote resource), every value escaped."""
    items = []
    for change in drift.changes:
        fields = "".join(f"<li>{html.escape(line)}</li>" for line in field_lines(change))
        items.append(
            f"<li><strong>{html.escape(change_title(change))}</strong>"
            + (f"<ul>{fields}</ul>" if fields else "")
            + "</li>"
        )
    title = html.escape(f"stagesync drift: {drift.environment}")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<title>{title}</title></head>\n<body><h1>{title}</h1>\n"
        f"<p>{html.escape(headline(drift))}</p>\n<ul>{''.join(items)}</ul>\n</body></html>\n"
    )
