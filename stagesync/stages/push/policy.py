"""The policy part of push's check stage: the rules again, against what push read.

The findings are those of the rules over the plan and the live destination (``run.live``),
with ``--activate`` for ``theme-activation``. Findings the plan recorded of rules that read kinds
push does not read (``Rule.reads_beyond_plan``: a reference held by a product, when the plan
only deletes a brand) are kept unless push found the same, re-graded by the policy in force now
(a rule turned off or an entity excepted since drops them). Rules that count every record of a
kind (``Rule.counts_whole_kinds``: ``mass-change``) are not judged again on what push read, the
plan's entities only: their findings in the plan are kept the same way. An error-level
finding whose rule is not overridden (``--override RULE --reason TEXT``) refuses the push.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, Mapping, Sequence

import orjson

from stagesync.config import load_config
from stagesync.entities import REGISTRY
from stagesync.errors import PolicyRefused
from stagesync.model import Finding, KindSnapshot, Record, Snapshot
from stagesync.planfile import finding_to_json
from stagesync.policy.check import destination_policy
from stagesync.policy.engine import rules_in_force
from stagesync.policy.rules import RULES, Severity
from stagesync.pull import LiveState
from stagesync.stages import need
from stagesync.stages.push.run import PushRun

SHOWN = 10
"""Error-level findings a refusal lists."""


def check_policy(run: PushRun) -> PolicyRefused | None:
    """Reads the plan, ``run.live``, the configuration and ``--override``; sets
    ``run.findings`` and writes them with the overrides to the journal. Refuses when an
    error-level finding's rule is not overridden."""
    target = need(run.target)
    policy = destination_policy(load_config(run.config_path), target.plan, env=target.env)
    live = live_snapshot(need(run.live))
    judged = [rule for rule in RULES if not rule.counts_whole_kinds]
    fresh = policy.evaluate(target.plan, live, activate=run.options.activate, rules=judged)
    in_force = {r.rule.id: r for r in rules_in_force(policy.role, policy.layers)}
    carried = []
    for old in target.plan.findings:
        rule = in_force.get(old.rule)
        if rule is None or rule.severity is Severity.OFF:
            continue
        if not (rule.rule.reads_beyond_plan or rule.rule.counts_whole_kinds):
            continue
        if old.kind is not None and rule.excepted(old.kind, old.key):
            continue
        carried.append(Finding(old.rule, rule.severity, old.message, old.fix, old.kind, old.key))
    run.findings = merged(fresh, carried)
    overridden = {rule for rule, _ in run.options.overrides}
    if run.journal is not None and (run.findings or run.options.overrides):
        run.journal.write_now(
            {"event": "policy", **policy_record(run.findings, run.options.overrides)}
        )
    blocking = [
        f for f in run.findings if f.severity == Severity.ERROR and f.rule not in overridden
    ]
    if not blocking:
        return None
    return refusal(blocking)


def merged(fresh: Sequence[Finding], carried: Sequence[Finding]) -> tuple[Finding, ...]:
    """``fresh`` findings, then those of ``carried`` about something ``fresh`` does not cover
    (the same rule and entity; for the whole plan, the same rule and message), errors first."""

    def about(f: Finding) -> tuple[str | None, ...]:
        return (f.rule, f.kind, f.key) if f.kind is not None else (f.rule, f.message)

    seen = {about(f) for f in fresh}
    out = [*fresh, *(f for f in carried if about(f) not in seen)]
    out.sort(key=lambda f: f.severity != Severity.ERROR)
    return tuple(out)


def policy_record(
    findings: Sequence[Finding], overrides: Sequence[tuple[str, str]]
) -> dict[str, object]:
    """The findings and overrides of a push, as its journal and result JSON record them."""
    overridden = {rule for rule, _ in overrides}
    return {
        "findings": [
            {
                **{k: v for k, v in finding_to_json(f).items() if k != "fix"},
                "overridden": f.severity == Severity.ERROR and f.rule in overridden,
            }
            for f in findings
        ],
        "overrides": [{"rule": rule, "reason": reason} for rule, reason in overrides],
    }


def refusal(blocking: Sequence[Finding]) -> PolicyRefused:
    rules = list(dict.fromkeys(f.rule for f in blocking))
    lines = [f"  {f.severity.upper()}  {f.rule}  {f.entity}: {f.message}" for f in blocking]
    if len(blocking) > SHOWN:
        lines = [*lines[:SHOWN], f"  ... and {len(blocking) - SHOWN} more."]
    flags = " ".join(f'--override {rule} --reason "..."' for rule in rules)
    noun = "finding" if len(blocking) == 1 else "findings"
    return PolicyRefused(
        f"the policy stops this push: {len(blocking)} error-level {noun}; nothing was "
        "written.\n" + "\n".join(lines) + "\nFix the plan (stagesync check PLAN says how), or "
        f"accept them on the record: {flags}",
        findings=blocking,
    )


def live_snapshot(live: LiveState) -> Snapshot:
    """What push read, as a snapshot whose records are normalised when a rule reads them."""
    kinds = sorted(set(live.records) | set(live.stored))
    return Snapshot({kind: KindSnapshot(_LiveRecords(live, kind)) for kind in kinds})


class _LiveRecords(Mapping[str, Record]):
    """One kind of a ``LiveState``, normalised on demand."""

    def __init__(self, live: LiveState, kind: str) -> None:
        self.live, self.kind = live, kind
        self.keys_read = live.keys(kind)

    def __getitem__(self, key: str) -> Record:
        stored = self.live.stored.get(self.kind)
        if stored is None:
            return self.live.records.get(self.kind, {})[key]
        return REGISTRY[self.kind].normalise(key, orjson.loads(stored[key]), self.live.lookup)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys_read)

    def __len__(self) -> int:
        return len(self.keys_read)

    def items(self) -> ItemsView[str, Record]:
        return _Items(self)


class _Items(ItemsView[str, Record]):
    """Every (key, record), normalised one at a time (``LiveState.iter_records``)."""

    _mapping: _LiveRecords

    def __iter__(self) -> Iterator[tuple[str, Record]]:
        return self._mapping.live.iter_records(self._mapping.kind)
