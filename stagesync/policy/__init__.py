"""Policy checks: rules that stop a dangerous plan before it reaches a store.

``rules`` declares each rule as a value (id, default severities, thresholds, evaluate function),
``settings`` reads ``[policy]`` tables, ``engine.evaluate`` runs the rules in force over a plan and
the destination snapshot it was made from, and ``check`` is ``stagesync check plan.json``.
docs/policy.md describes every rule.
"""

from __future__ import annotations

from stagesync.model import Finding
from stagesync.policy.engine import RuleInForce, evaluate, has_errors, rules_in_force
from stagesync.policy.rules import RULES, Rule, Severity, Threshold
from stagesync.policy.settings import PolicySettings, RuleSettings

__all__ = [
    "RULES",
    "Finding",
    "PolicySettings",
    "Rule",
    "RuleInForce",
    "RuleSettings",
    "Severity",
    "Threshold",
    "evaluate",
    "has_errors",
    "rules_in_force",
]
