"""Policy findings as text and as JSON (``stagesync check``; docs/schemas/policy-check.schema.json).

Pure functions over findings; ``check_to_json`` and ``render_check`` add what ``check`` read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from stagesync.policy.engine import Finding
from stagesync.policy.rules import Severity

if TYPE_CHECKING:
    from stagesync.policy.check import CheckResult

FORMAT = "stagesync.policy-check"
FORMAT_VERSION = 1


def counts_line(findings: Sequence[Finding]) -> str:
    """``2 errors, 1 warning`` or ``no findings``."""
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warnings = len(findings) - errors
    if not findings:
        return "no findings"
    parts = [f"{errors} error{'' if errors == 1 else 's'}"] if errors else []
    if warnings:
        parts.append(f"{warnings} warning{'' if warnings == 1 else 's'}")
    return ", ".join(parts)


def finding_lines(finding: Finding) -> list[str]:
    """One finding: a head line (severity, rule, entity), then what, fix and override."""
    return [
        f"{finding.severity.value.upper():<5}  {finding.rule}  {finding.entity}",
        f"  {finding.message}",
        f"  Fix: {finding.fix}",
        f"  Override: {finding.override}",
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


def finding_to_json(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "severity": finding.severity.value,
        "kind": finding.kind,
        "key": finding.key,
        "message": finding.message,
        "fix": finding.fix,
        "override": finding.override,
    }


def check_to_json(result: CheckResult) -> bytes:
    """``check --format json``: sorted keys, 2-space indent, trailing newline."""
    from stagesync.planfile import plan_digest

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
            "error": sum(f.severity is Severity.ERROR for f in result.findings),
            "warn": sum(f.severity is Severity.WARN for f in result.findings),
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
        "findings": [finding_to_json(f) for f in result.findings],
    }
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"
