"""Evaluate the rules over a plan: ``evaluate(plan, destination, registry, ...) -> findings``.

Pure: the plan, the destination snapshot it was made from and the settings in; findings out,
errors first. Each rule's severity and thresholds come from its defaults for the destination's
``role``, then each ``PolicySettings`` layer in turn (``[policy]``, then the destination's
``[environments.NAME.policy]``); exceptions add up across layers.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stagesync.entities import dependencies
from stagesync.model import Action, Finding, Plan, Snapshot
from stagesync.policy.rules import RULES, Context, Rule, Severity
from stagesync.policy.settings import Exception_, PolicySettings

if TYPE_CHECKING:
    from stagesync.entities.base import EntityKind


def override_hint(finding: Finding) -> str:
    """How to accept ``finding`` on the record instead of fixing it."""
    if finding.kind is not None:
        glob = finding.key if finding.key is not None else "*"
        allow = f'add "{finding.kind}:{glob}" to [policy.{finding.rule}] exceptions'
    else:
        lower = "warn" if finding.severity == Severity.ERROR else "off"
        allow = f'set [policy.{finding.rule}] severity = "{lower}"'
    return (
        f"{allow} in stagesync.toml (or a --policy file), or push with "
        f'--override {finding.rule} --reason "why"'
    )


@dataclass(frozen=True)
class RuleInForce:
    """A rule with the severity, thresholds and exceptions that apply to one destination."""

    rule: Rule
    severity: Severity
    limits: Mapping[str, float]
    exceptions: tuple[Exception_, ...]

    def excepted(self, kind: str, key: str | None) -> bool:
        """Whether an exception covers ``kind``'s entity ``key`` (None: the whole kind, which
        only ``KIND:*`` covers)."""
        return any(
            k == kind and (fnmatch.fnmatchcase(key, glob) if key is not None else glob == "*")
            for k, glob in self.exceptions
        )


def rules_in_force(
    role: str, layers: Sequence[PolicySettings] = (), rules: Iterable[Rule] = RULES
) -> tuple[RuleInForce, ...]:
    """Every rule as it applies to a destination of ``role`` under ``layers``."""
    out: list[RuleInForce] = []
    for rule in rules:
        severity = rule.default_severity(role)
        limits = {t.name: t.default for t in rule.thresholds}
        exceptions: list[Exception_] = []
        for layer in layers:
            setting = layer.rules.get(rule.id)
            if setting is None:
                continue
            severity = setting.severity or severity
            limits.update(setting.limits)
            exceptions.extend(setting.exceptions)
        out.append(RuleInForce(rule, severity, limits, tuple(exceptions)))
    return tuple(out)


def evaluate(
    plan: Plan,
    destination: Snapshot,
    registry: Mapping[str, EntityKind],
    *,
    role: str = "production",
    layers: Sequence[PolicySettings] = (),
    activate: str | None = None,
    rules: Iterable[Rule] = RULES,
) -> tuple[Finding, ...]:
    """The findings of every rule in force over ``plan``, errors first, then by rule (in
    ``RULES`` order) and entity."""
    in_force = [r for r in rules_in_force(role, layers, rules) if r.severity is not Severity.OFF]
    covered = tuple(phrase for r in in_force for phrase in r.rule.covers)
    order = {r.rule.id: index for index, r in enumerate(in_force)}
    findings: list[Finding] = []
    for entry in in_force:
        context = Context(
            plan=plan,
            destination=destination,
            registry=registry,
            role=role,
            limits=entry.limits,
            excepted=entry.excepted,
            activate=activate,
            covered=covered,
        )
        for hit in entry.rule.evaluate(context):
            if hit.kind is not None and entry.excepted(hit.kind, hit.key):
                continue
            findings.append(
                Finding(entry.rule.id, entry.severity, hit.message, hit.fix, hit.kind, hit.key)
            )
    findings.sort(
        key=lambda f: (f.severity != Severity.ERROR, order[f.rule], f.kind or "", f.key or "")
    )
    return tuple(findings)


def needed_kinds(plan: Plan) -> set[str]:
    """The destination kinds the rules read for ``plan``: its own, and every kind that may
    reference an entity it deletes (whose references ``delete-referenced`` looks through)."""
    deleted = {op.kind for op in plan.operations if op.action is Action.DELETE}
    referencing = {
        row.kind for row in dependencies.ROWS.values() if deleted & set(row.brings_along)
    }
    return set(plan.kinds) | deleted | referencing


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity == Severity.ERROR for f in findings)
