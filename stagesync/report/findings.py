"""Policy findings as text and as JSON (``stagesync check``; docs/schemas/policy-check.schema.json),
and the findings section every plan report starts with.

Pure functions over findings; ``check_to_json`` and ``render_check`` add what ``check`` read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import orjson

from stagesync.model import Finding
from stagesync.policy.engine import override_hint
from stagesync.policy.rules import Severity

if TYPE_CHECKING:
    from stagesync.policy.check import CheckResult

FORMAT = "stagesync.policy-check"
FORMAT_VERSION = 1


def counts_line(findings: Sequence[Finding]) -> str:
    """``2 errors, 1 warning`` or ``no findings``."""
    errors = sum(f.severity == Severity.ERROR for f in findings)
    warnings = len(findings) - errors
    if not findings:
        return "no findings"
    parts = [f"{errors} error{'' if errors == 1 else 's'}"] if errors else []
    if warnings:
        parts.append(f"{warnings} warning{'' if warnings == 1 else 's'}")
    return ", ".join(parts)


SHOWN_IN_PLAN = 50
"""Findings a plan report lists before saying how many more ``stagesync check`` shows."""


def plan_findings_lines(findings: Sequence[Finding]) -> list[str]:
    """The text plan report's first section: one line per finding (at most ``SHOWN_IN_PLAN``),
    after a blank line; nothing when there are none."""
    if not findings:
        return []
    out = ["", f"Policy findings ({counts_line(findings)}):"]
    out += [f"  {one_line(f)}" for f in findings[:SHOWN_IN_PLAN]]
    more = len(findings) - SHOWN_IN_PLAN
    if more > 0:
        out.append(f"  ... and {more} more: stagesync check PLAN lists them all.")
    return out


def one_line(finding: Finding) -> str:
    """``ERROR  price-change  products SKU-1: price 100 -> 20: ...``"""
    return f"{finding.severity.upper():<5}  {finding.rule}  {finding.entity}: {finding.message}"


def finding_lines(finding: Finding) -> list[str]:
    """One finding: a head line (severity, rule, entity), then what, fix and override."""
    return [
        f"{finding.severity.upper():<5}  {finding.rule}  {finding.entity}",
        f"  {finding.message}",
        f"  Fix: {finding.fix}",
        f"  Override: {override_hint(finding)}",
    ]


def render_findings(findings: Sequence[Finding]) -> str:
    """Every finding, a blank line between them."""
    return "\n\n".join("\n".join(finding_lines(f)) for f in findings)


def render_check(result: CheckResult) -> str:
    """``check``'s text report."""
    where = result.environment or "the destination"
    policy = ", ".join(result.policy) if result.policy else "the default policy"
    head = (
        f"Policy check of {result.plan_path} for {where} (role {result.role}) against "
        f"{result.destination}, with {policy}: {counts_line(result.findings)}."
    )
    body = render_findings(result.findings)
    return f"{head}\n\n{body}\n" if body else f"{head}\n"


def check_to_json(result: CheckResult) -> bytes:
    """``check --format json``: sorted keys, 2-space indent, trailing newline."""
    from stagesync.planfile import finding_to_json, plan_digest

    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "plan": {"path": str(result.plan_path), "digest": plan_digest(result.plan)},
        "destination": {
            "environment": result.environment,
            "store_hash": result.plan.destination.store_hash,
            "role": result.role,
            "snapshot": str(result.destination),
        },
        "policy": list(result.policy),
        "passed": not result.failed,
        "counts": {
            "error": sum(f.severity == Severity.ERROR for f in result.findings),
            "warn": sum(f.severity == Severity.WARN for f in result.findings),
        },
        "rules": [
            {
                "id": entry.rule.id,
                "severity": entry.severity.value,
                "thresholds": dict(entry.limits),
                "exceptions": [f"{kind}:{glob}" for kind, glob in entry.exceptions],
            }
            for entry in result.rules
        ],
        "findings": [{**finding_to_json(f), "override": override_hint(f)} for f in result.findings],
    }
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"
