"""The built-in policy rules: one declared value each, gathered in ``RULES``.

A rule is data: its id, a one-line summary, its default severity where the destination's ``role``
is ``production`` and where it is ``staging`` or ``sandbox``, its documented thresholds, and an
``evaluate`` function from a ``Context`` (the plan, the destination snapshot it was made from, the
registry, the rule's thresholds and exceptions) to ``Hit``s. Nothing here reads files or prints;
``stagesync.policy.engine`` attaches severities and applies exceptions. docs/policy.md describes
every rule with a plan that triggers it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from stagesync.entities import dependencies
from stagesync.model import Action, EntityKey, Operation, Plan, Snapshot
from stagesync.redact import looks_redacted

if TYPE_CHECKING:
    from stagesync.entities.base import EntityKind


class Severity(StrEnum):
    """What a finding does: ``error`` stops ``check`` (exit 5), ``warn`` is reported, ``off``
    turns the rule off."""

    ERROR = "error"
    WARN = "warn"
    OFF = "off"


@dataclass(frozen=True)
class Threshold:
    """A rule's number that ``[policy.RULE]`` may change."""

    name: str
    default: float
    doc: str
    integer: bool = False
    """A count (``max_deletes``) rather than a percentage."""
    maximum: float | None = None


@dataclass(frozen=True)
class Hit:
    """What a rule found, before the engine gives it a severity. ``kind`` and ``key`` name the
    entity (``key`` None: the whole kind; both None: the whole plan)."""

    message: str
    fix: str
    kind: str | None = None
    key: str | None = None


@dataclass(frozen=True)
class Context:
    """What a rule evaluates: a plan and the destination snapshot it was made from."""

    plan: Plan
    destination: Snapshot
    registry: Mapping[str, EntityKind]
    role: str = "production"
    """The destination environment's ``role``."""
    limits: Mapping[str, float] = field(default_factory=dict)
    """This rule's thresholds, by name (defaults filled in)."""
    excepted: Callable[[str, str | None], bool] = lambda kind, key: False
    """Whether ``[policy.RULE] exceptions`` cover an entity (key None: a whole kind)."""
    activate: str | None = None
    """The theme a push was asked to activate (``push --activate``)."""
    covered: tuple[str, ...] = ()
    """Phrases of plan warnings that other rules in force report themselves."""


@dataclass(frozen=True)
class Rule:
    id: str
    summary: str
    severity: Severity
    """The default where the destination's role is ``production``."""
    relaxed: Severity
    """The default where it is ``staging`` or ``sandbox``."""
    evaluate: Callable[[Context], Iterable[Hit]]
    thresholds: tuple[Threshold, ...] = ()
    covers: tuple[str, ...] = ()
    """Phrases of plan warnings this rule reports as its own findings (``plan-warning`` leaves
    them out while this rule is on)."""
    reads_beyond_plan: bool = False
    """Reads destination records of kinds the plan does not touch, which push does not read:
    push keeps the plan's findings of this rule that its own read cannot repeat."""
    counts_whole_kinds: bool = False
    """Counts every destination record of a kind, which push reads only as far as the plan
    touches it (``pull.read_targeted``): push keeps the plan's findings of this rule instead
    of judging it on that part."""

    def default_severity(self, role: str) -> Severity:
        return self.severity if role == "production" else self.relaxed


# --- helpers ---------------------------------------------------------------------------------


def _entity_ops(plan: Plan) -> Iterator[Operation]:
    """One operation per entity: link steps (``#link``) are the same entity again."""
    return (op for op in plan.operations if not op.is_link)


def _final_records(plan: Plan) -> dict[EntityKey, dict[str, Any]]:
    """Each written entity's record once the plan is applied (a link step writes the full one)."""
    return {op.key: after for op in plan.operations if (after := op.after) is not None}


def _named(keys: list[EntityKey], limit: int = 3) -> str:
    shown = ", ".join(f"{k.kind} {k.key}" for k in keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def _entities(count: int) -> str:
    return f"{count} entit{'y' if count == 1 else 'ies'}"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _percent(value: float) -> str:
    return f"{value:.0f}%" if value >= 10 else f"{value:.1f}%"


# --- delete-referenced -----------------------------------------------------------------------


def _delete_referenced(ctx: Context) -> Iterator[Hit]:
    deleted = {op.key for op in ctx.plan.operations if op.action is Action.DELETE}
    watched = {k for k in deleted if not ctx.excepted(k.kind, k.key)}
    if not watched:
        return
    final = _final_records(ctx.plan)
    targets = {k.kind for k in watched}
    holders: dict[EntityKey, list[EntityKey]] = {}
    for kind in sorted(ctx.destination.kinds):
        entity = ctx.registry.get(kind)
        if entity is None or not (targets & {kind, *dependencies.depends_on(kind)}):
            continue
        for key, record in ctx.destination.records(kind).items():
            holder = EntityKey(kind, key)
            if holder in deleted:
                continue
            refs = entity.all_references(key, record) & watched
            after = final.get(holder)
            if refs and after is not None:
                refs &= entity.all_references(key, after)
            for ref in refs:
                holders.setdefault(ref, []).append(holder)
    for target in sorted(holders):
        found = sorted(holders[target])
        yield Hit(
            f"is deleted, but {_entities(len(found))} on the destination still "
            f"reference{'s' if len(found) == 1 else ''} it and the plan leaves "
            f"{'it' if len(found) == 1 else 'them'} in place: {_named(found)}.",
            "Bring the referencing entities into the plan (select them, so it updates or deletes "
            "them first), or keep this entity (drop --prune, or narrow --only).",
            target.kind,
            target.key,
        )


# --- price-change ----------------------------------------------------------------------------

PRICE_FIELDS: Mapping[str, tuple[str, ...]] = {
    "products": ("price", "sale_price"),
    "price_list_records": ("price", "sale_price"),
}
"""Per kind, the fields ``price-change`` compares (a product's variants' too)."""
_PRICE_PATH = re.compile(r"(?:variants\[(?P<variant>.+)\]\.)?(?P<field>[a-z_]+)")
NO_PRICE = ("sale_price",)
"""Fields where 0 means "none" (no sale), so a change to or from 0 is not a price change."""


def _price_change(ctx: Context) -> Iterator[Hit]:
    down = ctx.limits["max_decrease_percent"]
    up = ctx.limits["max_increase_percent"]
    for op in _entity_ops(ctx.plan):
        fields = PRICE_FIELDS.get(op.kind)
        if fields is None or op.action is Action.DELETE or ctx.excepted(op.kind, op.key.key):
            continue
        for change in op.fields:
            match = _PRICE_PATH.fullmatch(change.path)
            if match is None or match["field"] not in fields:
                continue
            if match["variant"] is not None and op.kind != "products":
                continue
            before, after = _number(change.before), _number(change.after)
            if before is None or after is None or before <= 0:
                continue
            if match["field"] in NO_PRICE and after == 0:
                continue
            ratio = (after - before) / before * 100
            if -ratio > down:
                said = f"{_percent(-ratio)} down, more than the {down:g}% the rule allows"
            elif ratio > up:
                said = f"{_percent(ratio)} up, more than the {up:g}% the rule allows"
            else:
                continue
            yield Hit(
                f"{change.path} {change.before} -> {change.after}: {said}.",
                "Check the price in the source store (a missing digit, a currency mix-up); if the "
                "change is meant, except this entity or raise the threshold.",
                op.kind,
                op.key.key,
            )


# --- mass-delete, mass-change ----------------------------------------------------------------


def _mass_delete(ctx: Context) -> Iterator[Hit]:
    limit = int(ctx.limits["max_deletes"])
    per_kind = Counter(
        op.kind
        for op in _entity_ops(ctx.plan)
        if op.action is Action.DELETE and not ctx.excepted(op.kind, op.key.key)
    )
    total = sum(per_kind.values())
    if total > limit:
        counts = ", ".join(f"{kind} {n}" for kind, n in sorted(per_kind.items()))
        yield Hit(
            f"the plan deletes {_entities(total)} ({counts}), more than the {limit} "
            "the rule allows.",
            "Check the source snapshot is complete (a partial pull or a narrow --kinds makes "
            "everything else look deleted); if the deletes are meant, raise max_deletes.",
        )


def _mass_change(ctx: Context) -> Iterator[Hit]:
    share = ctx.limits["max_percent"]
    least = int(ctx.limits["min_records"])
    per_kind = Counter(
        op.kind
        for op in _entity_ops(ctx.plan)
        if op.action is not Action.CREATE and not ctx.excepted(op.kind, op.key.key)
    )
    for kind, changed in sorted(per_kind.items()):
        total = len(ctx.destination.records(kind))
        if total < least or total == 0:
            continue
        ratio = changed / total * 100
        if ratio > share:
            yield Hit(
                f"the plan updates, replaces or deletes {changed} of the destination's {total} "
                f"{kind} ({_percent(ratio)}), more than the {share:g}% the rule allows.",
                "Check the two snapshots are of the stores you meant and pulled with the same "
                "settings; if the change is meant, raise max_percent or except the kind.",
                kind,
            )


# --- notifies-people, promotion-reset, theme-activation --------------------------------------

NOTIFYING_KINDS = ("b2b_users", "b2b_orders", "b2b_quotes")
"""Kinds whose writes may send email besides those the registry marks ``notifies_customers``
(B2B Edition emails buyers about their account, orders and quotes)."""


def _notifies_people(ctx: Context) -> Iterator[Hit]:
    actions: dict[str, Counter[str]] = {}
    for op in _entity_ops(ctx.plan):
        entity = ctx.registry.get(op.kind)
        notifying = op.kind in NOTIFYING_KINDS or (entity is not None and entity.notifies_customers)
        if not notifying or op.after_json is None or ctx.excepted(op.kind, op.key.key):
            continue
        actions.setdefault(op.kind, Counter())[op.action.value] += 1
    for kind, counts in sorted(actions.items()):
        detail = ", ".join(f"{n} {action}" for action, n in sorted(counts.items()))
        yield Hit(
            f"the plan writes {kind} ({detail}); the platform may email the people they belong to.",
            "Turn off transactional emails on the destination first (Settings > Transactional "
            "emails), or leave the kind out of the plan (--kinds).",
            kind,
        )


def _promotion_reset(ctx: Context) -> Iterator[Hit]:
    for op in _entity_ops(ctx.plan):
        if op.kind == "promotions" and op.action is Action.REPLACE:
            if not ctx.excepted(op.kind, op.key.key):
                yield Hit(
                    "is replaced (deleted and created again): shoppers' usage counts of it and "
                    "of its coupon codes restart at 0, so per-customer and total limits allow "
                    "new uses.",
                    "Push promotion changes when their usage no longer matters (after the "
                    "campaign), or make the change in the destination's control panel.",
                    op.kind,
                    op.key.key,
                )


def _theme_activation(ctx: Context) -> Iterator[Hit]:
    if ctx.activate is None:
        return
    name = ctx.activate.partition(":")[0]
    if not ctx.excepted("themes", name):
        yield Hit(
            f"push makes theme {ctx.activate} the live storefront's theme.",
            "Preview the theme on the destination first; activate it from the control panel if "
            "it should not follow the push.",
            "themes",
            name,
        )


# --- personal-data, plan-warning -------------------------------------------------------------


def _personal_data(ctx: Context) -> Iterator[Hit]:
    if ctx.role == "production":
        return
    marker = ctx.plan.source.redaction
    redacted = set(marker.kinds) if marker is not None else set()
    found: Counter[str] = Counter()
    for op in _entity_ops(ctx.plan):
        entity = ctx.registry.get(op.kind)
        after = op.after
        if entity is None or after is None or not (entity.pii_fields or entity.pii_key):
            continue
        if op.kind in redacted:
            continue
        if not ctx.excepted(op.kind, op.key.key) and not looks_redacted(entity, op.key.key, after):
            found[op.kind] += 1
    for kind, count in sorted(found.items()):
        yield Hit(
            f"the plan writes {kind} holding personal data that is not pseudonymised "
            f"({count} of them) to an environment whose role is {ctx.role}.",
            "Pull the source with --redact and make the plan again, or leave the kind out "
            "(--kinds).",
            kind,
        )


def _plan_warning(ctx: Context) -> Iterator[Hit]:
    for warning in ctx.plan.warnings:
        if not any(phrase in warning for phrase in ctx.covered):
            yield Hit(warning, "Read the warning; change the source or the selection if needed.")


RULES: tuple[Rule, ...] = (
    Rule(
        "delete-referenced",
        "deleting an entity that something the plan leaves in place still references",
        Severity.ERROR,
        Severity.WARN,
        _delete_referenced,
        covers=("which this plan deletes",),
        reads_beyond_plan=True,
    ),
    Rule(
        "price-change",
        "a price of a product, variant or price-list record changing by more than a threshold",
        Severity.ERROR,
        Severity.WARN,
        _price_change,
        (
            Threshold("max_decrease_percent", 50, "largest allowed decrease, in %", maximum=100),
            Threshold("max_increase_percent", 200, "largest allowed increase, in %"),
        ),
    ),
    Rule(
        "mass-delete",
        "more deletes than a threshold in one plan",
        Severity.ERROR,
        Severity.WARN,
        _mass_delete,
        (Threshold("max_deletes", 25, "most deletes allowed in one plan", integer=True),),
    ),
    Rule(
        "mass-change",
        "more than a share of a kind's destination records updated, replaced or deleted",
        Severity.ERROR,
        Severity.WARN,
        _mass_change,
        (
            Threshold("max_percent", 50, "largest allowed share of a kind, in %", maximum=100),
            Threshold(
                "min_records",
                20,
                "kinds with fewer records on the destination are not judged",
                integer=True,
            ),
        ),
        counts_whole_kinds=True,
    ),
    Rule(
        "notifies-people",
        "writing customers, orders or B2B quotes, which may email people",
        Severity.ERROR,
        Severity.WARN,
        _notifies_people,
        covers=("may notify customers",),
    ),
    Rule(
        "promotion-reset",
        "replacing a promotion, which restarts its usage counts",
        Severity.ERROR,
        Severity.WARN,
        _promotion_reset,
        covers=("is replaced (deleted and created again)",),
    ),
    Rule(
        "theme-activation",
        "making a theme the live storefront's theme (push --activate)",
        Severity.ERROR,
        Severity.WARN,
        _theme_activation,
    ),
    Rule(
        "personal-data",
        "real personal data written to an environment whose role is not production",
        Severity.ERROR,
        Severity.ERROR,
        _personal_data,
    ),
    Rule(
        "plan-warning",
        "a warning the plan carries",
        Severity.WARN,
        Severity.WARN,
        _plan_warning,
    ),
)

BY_ID: Mapping[str, Rule] = {rule.id: rule for rule in RULES}
