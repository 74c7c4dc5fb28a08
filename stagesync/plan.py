"""Changes in, an ordered plan out: ``make_plan(source, destination, registry, ...) -> Plan``.

Pure: no files, no HTTP, no printing. Planning is a pipeline of stages, one module each under
``stagesync/stages/plan/`` (docs/architecture.md): **select** -> **diff** -> **close** (over
dependencies, and what a delete needs) -> **order** -> **bind** (preconditions) -> **estimate**.
``plan_selection`` runs the first three and ``build_plan`` the rest. What the stages decide:

- **Selection and closure.** A ``Selection`` names kinds (``--kinds``) and/or entities by glob
  (``--only products:SHOE-*``). The selected entities that differ become operations with the
  reason ``selected``. Then, entity by entity, every entity a planned record references (its kind's
  ``references`` and ``links``) that is missing or different on the destination gains an
  operation too, with the reason ``dependency of <kind> <key>``; references that already match add
  nothing. With ``deps=False`` nothing is added, and a reference the destination cannot resolve is
  a ``PlanError`` listing every such reference. With ``missing_only`` (``--deps missing``) only
  the referenced entities the destination lacks gain an operation (and their own references,
  transitively); one that differs is left alone and listed in the plan's ``left_alone``.
- **Prune.** Deletes appear only with ``prune``, only for selected entities on the destination
  alone. Each delete waits for the operations on entities whose destination record references it
  (they stop referencing it first), so deletes run in reverse dependency order.
- **Replace.** An update the kind's ``must_replace`` refuses becomes a ``replace`` (delete, then
  create) carrying the kind's reason as its ``note``.
- **Cycles.** Links (``EntityKind.links``, e.g. related products) inside a reference cycle are
  broken: a link to an entity that already exists needs no ordering; an entity that links to one
  the plan creates is written without its links, and an operation ``<id>#link`` writes them once
  everything is created. A cycle without a link to break is a ``PlanError`` naming it.
- **Operation ids** are the entity's ``kind:key`` (``products:SKU-1``), plus ``#link`` for a link
  step: stable whatever else is in the plan.
- **Order**: writes first, each after everything it depends on; then deletes. Ties are broken by
  the kinds' order in the dependency map, then kind name, then key, then main step before link
  step (``graphlib.TopologicalSorter`` with the ready set sorted): same inputs, same plan.
- **Cost**: the requests push will make (reading the destination at the page sizes the client
  uses, then each write as its kind estimates it), and the time they take at the destination's
  quota.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from stagesync.model import Change, Endpoint, EntityKey, LeftAlone, Plan, Snapshot
from stagesync.stages.plan.bind import bind
from stagesync.stages.plan.close import close
from stagesync.stages.plan.common import SELECTED as SELECTED
from stagesync.stages.plan.common import kind_order as kind_order
from stagesync.stages.plan.common import link_id as link_id
from stagesync.stages.plan.common import operation_id as operation_id
from stagesync.stages.plan.diff import diff
from stagesync.stages.plan.estimate import STORE_CHECK_REQUESTS as STORE_CHECK_REQUESTS
from stagesync.stages.plan.estimate import Quota as Quota
from stagesync.stages.plan.estimate import estimate
from stagesync.stages.plan.estimate import read_requests as _read_requests  # noqa: F401
from stagesync.stages.plan.guard import guard, refuse_only_withheld
from stagesync.stages.plan.merge import Resolution, merge
from stagesync.stages.plan.order import index, order
from stagesync.stages.plan.select import Selection as Selection
from stagesync.stages.plan.select import select, unmatched

if TYPE_CHECKING:
    from stagesync.entities.base import EntityKind


def endpoint_of(snapshot: Snapshot) -> Endpoint:
    """One side of a plan, as the snapshot describes itself (its redaction marker too)."""
    return Endpoint(snapshot.environment, snapshot.store_hash, snapshot.digest, snapshot.redaction)


def plan_kinds(source: Snapshot, kinds: Iterable[str] | None = None) -> tuple[str, ...]:
    """The kinds a plan is computed over: those in the source snapshot, within ``kinds``."""
    return Selection(tuple(kinds) if kinds is not None else None).kinds_in(source)


def make_plan(
    source: Snapshot,
    destination: Snapshot,
    registry: Mapping[str, EntityKind],
    *,
    created_at: str,
    kinds: Iterable[str] | None = None,
    prune: bool = False,
    only: Sequence[tuple[str, str]] = (),
    deps: bool = True,
    missing_only: bool = False,
    quota: Quota | None = None,
    role: str = "production",
    base: Snapshot | None = None,
    resolutions: Sequence[Resolution] = (),
) -> Plan:
    """The plan that makes the selected part of ``destination`` look like ``source``, an
    environment with ``role`` (production, the strictest, unless said otherwise); with ``base``,
    a three-way plan that keeps what changed on the destination since the base."""
    selection = Selection(
        kinds=tuple(kinds) if kinds is not None else None,
        only=tuple(only),
        deps=deps,
        missing_only=missing_only,
        prune=prune,
    )
    return plan_selection(
        source,
        destination,
        registry,
        selection,
        created_at=created_at,
        quota=quota,
        role=role,
        base=base,
        resolutions=resolutions,
    )


def plan_selection(
    source: Snapshot,
    destination: Snapshot,
    registry: Mapping[str, EntityKind],
    selection: Selection,
    *,
    created_at: str,
    quota: Quota | None = None,
    role: str = "production",
    base: Snapshot | None = None,
    resolutions: Sequence[Resolution] = (),
) -> Plan:
    """select (and its guard step) -> merge (with a base) -> diff -> close, then
    ``build_plan``."""
    kinds = select(source, registry, selection)
    guarded = guard(source, destination, registry, kinds, selection, role)
    view = guarded.source
    merged = None
    if base is not None:
        merged = merge(view, destination, base, kinds, selection, resolutions)
        view = merged.source
    changes = diff(view, destination, kinds, selection)
    refuse_only_withheld(selection, kinds, guarded.withheld, changes, registry, destination)
    reasons = {change.key: SELECTED for change in changes}
    warnings = unmatched(selection, source, destination)
    if merged is not None:
        warnings.extend(merged.warnings)
    left_alone: list[LeftAlone] = []
    changes += close(changes, view, destination, registry, selection, reasons, warnings, left_alone)
    plan = build_plan(
        changes,
        registry,
        source=endpoint_of(source),
        destination=endpoint_of(destination),
        destination_snapshot=destination,
        created_at=created_at,
        kinds=kinds,
        reasons=reasons,
        warnings=warnings,
        quota=quota,
        left_alone=left_alone,
    )
    plan = replace(plan, withheld=guarded.withheld)
    if base is None or merged is None:
        return plan
    return replace(
        plan,
        base=endpoint_of(base),
        conflicts=merged.conflicts,
        kept=merged.kept,
        resolutions=tuple(str(r) for r in resolutions),
    )


def build_plan(
    changes: Sequence[Change],
    registry: Mapping[str, EntityKind],
    *,
    source: Endpoint,
    destination: Endpoint,
    destination_snapshot: Snapshot,
    created_at: str,
    kinds: Sequence[str],
    reasons: Mapping[EntityKey, str] | None = None,
    warnings: Sequence[str] = (),
    quota: Quota | None = None,
    left_alone: Sequence[LeftAlone] = (),
) -> Plan:
    """Order ``changes`` into a plan against ``destination_snapshot``: order -> bind ->
    estimate.

    Raises ``PlanError`` for a kind the registry does not know, two changes to one entity, or a
    reference cycle among the planned operations that no link can break.
    """
    quota = quota or Quota()
    by_key = index(changes, registry)
    ordering = order(by_key, registry, destination_snapshot)
    operations, notes = bind(ordering, by_key, registry, destination_snapshot, reasons or {})
    estimated = estimate(ordering, operations, by_key, registry, destination_snapshot)
    return Plan(
        source=source,
        destination=destination,
        operations=tuple(operations),
        created_at=created_at,
        warnings=tuple(dict.fromkeys([*warnings, *ordering.warnings, *notes])),
        estimated_requests=estimated,
        kinds=tuple(sorted(set(kinds) | {op.kind for op in operations})),
        quota=quota.requests,
        window_ms=quota.window_ms,
        left_alone=tuple(left_alone),
    )
