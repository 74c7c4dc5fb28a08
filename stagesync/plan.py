"""Changes in, an ordered plan out: ``build_plan(changes, registry, ...) -> Plan``.

Pure: no files, no HTTP, no printing. What this module decides:

- **Operation ids** are the entity's ``kind:key`` (``products:SKU-1``, ``categories:Shoes/Run``):
  stable whatever else is in the plan, and readable where they are referenced (``depends_on``,
  the push journal, result reports).
- **depends_on** lists the operations that must be applied before this one. A create, update or
  replace depends on the operations of the entities its desired record references (a product on
  its brand and categories, a category on its parent). A delete depends on the operations of the
  entities whose destination record references it, so nothing is deleted while still in use.
- **Order**: creates, updates and replaces first, each after everything it depends on; then the
  deletes, each after everything that referenced it. Ties are broken by the registry's kind order
  (``depends_on`` between kinds: brands before products) and then by key, with
  ``graphlib.TopologicalSorter``, so the same input always gives the same plan. A reference cycle
  is a ``PlanError`` naming it.
"""

from __future__ import annotations

import graphlib
import heapq
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from stagesync.diff import diff
from stagesync.errors import PlanError
from stagesync.model import (
    Action,
    Change,
    Endpoint,
    EntityKey,
    Operation,
    Plan,
    Record,
    Snapshot,
    digest,
)

if TYPE_CHECKING:
    from stagesync.entities.base import EntityKind

SELECTED = "selected"


def operation_id(key: EntityKey) -> str:
    """The id of the operation on ``key``: ``products:SKU-1``."""
    return str(key)


def endpoint_of(snapshot: Snapshot) -> Endpoint:
    """One side of a plan, as the snapshot describes itself."""
    return Endpoint(snapshot.environment, snapshot.store_hash, snapshot.digest)


def plan_kinds(source: Snapshot, kinds: Iterable[str] | None = None) -> tuple[str, ...]:
    """The kinds a plan is computed over: those in the source snapshot, within ``kinds``."""
    selected = set(kinds) if kinds is not None else None
    return tuple(k for k in sorted(source.kinds) if selected is None or k in selected)


def kind_order(registry: Mapping[str, EntityKind]) -> tuple[str, ...]:
    """The registry's kinds, each after the kinds it depends on (ties and cycles: by name)."""
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for name in sorted(registry):
        sorter.add(name, *sorted(d for d in registry[name].depends_on if d != name))
    try:
        sorter.prepare()
    except graphlib.CycleError:
        return tuple(sorted(registry))
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(ready)
        sorter.done(*ready)
    return tuple(order)


def make_plan(
    source: Snapshot,
    destination: Snapshot,
    registry: Mapping[str, EntityKind],
    *,
    created_at: str,
    kinds: Iterable[str] | None = None,
    prune: bool = False,
) -> Plan:
    """diff + build_plan: the plan that makes ``destination`` look like ``source``."""
    selected = plan_kinds(source, kinds)
    return build_plan(
        diff(source, destination, kinds=selected, prune=prune),
        registry,
        source=endpoint_of(source),
        destination=endpoint_of(destination),
        destination_snapshot=destination,
        created_at=created_at,
        kinds=selected,
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
) -> Plan:
    """Order ``changes`` into a plan against ``destination_snapshot``.

    Raises ``PlanError`` for a kind the registry does not know, two changes to one entity, or a
    reference cycle among the planned operations.
    """
    by_key: dict[EntityKey, Change] = {}
    for change in changes:
        if change.key.kind not in registry:
            raise PlanError(
                f"cannot plan {change.key}: stagesync does not know the kind {change.key.kind!r}."
            )
        if change.key in by_key:
            raise PlanError(f"cannot plan {change.key}: it has more than one change.")
        by_key[change.key] = change

    writes = {k: c for k, c in by_key.items() if c.action is not Action.DELETE}
    deletes = {k: c for k, c in by_key.items() if c.action is Action.DELETE}
    warnings: list[str] = []

    # What each write needs first: the planned entities its desired record references.
    write_deps: dict[EntityKey, set[EntityKey]] = {}
    for key, change in writes.items():
        refs = _references(registry, key, change.after)
        write_deps[key] = {r for r in refs if r in writes}
        warnings.extend(
            _missing_reference_warnings(registry, key, refs, writes, deletes, destination_snapshot)
        )

    # What each delete needs first: every planned entity whose destination record references it.
    delete_deps: dict[EntityKey, set[EntityKey]] = {key: set() for key in deletes}
    for key, change in by_key.items():
        before = destination_snapshot.get(key) or change.before
        for ref in _references(registry, key, before):
            if ref in deletes:
                delete_deps[ref].add(key)

    rank = {name: i for i, name in enumerate(kind_order(registry))}
    order = _ordered(write_deps, rank) + _ordered(
        {k: {d for d in deps if d in deletes} for k, deps in delete_deps.items()}, rank
    )

    operations: list[Operation] = []
    estimated = 0
    for key in order:
        change = by_key[key]
        deps = write_deps[key] if key in writes else delete_deps[key]
        operations.append(
            Operation(
                id=operation_id(key),
                action=change.action,
                key=key,
                after=change.after,
                precondition=_precondition(change, destination_snapshot),
                fields=change.fields,
                depends_on=tuple(operation_id(d) for d in _sorted_keys(deps, rank)),
                reason=SELECTED,
            )
        )
        estimated += registry[key.kind].estimate_requests(change.action, change.after)
        if change.after is not None:
            before = destination_snapshot.get(key) or change.before
            kind = registry[key.kind]
            warnings.extend(kind.plan_warnings(change.action, key.key, change.after, before))
        if key.key.startswith("name:") and change.action is not Action.DELETE:
            warnings.append(
                f"{registry[key.kind].singular} {key.key} has no SKU, so it is matched by name; "
                f"renaming it on either store will make stagesync treat it as a different "
                f"{registry[key.kind].singular}. Give it a SKU."
            )

    return Plan(
        source=source,
        destination=destination,
        operations=tuple(operations),
        created_at=created_at,
        warnings=tuple(dict.fromkeys(warnings)),
        estimated_requests=estimated,
        kinds=tuple(sorted(set(kinds))),
    )


def _references(
    registry: Mapping[str, EntityKind], key: EntityKey, record: Record | None
) -> set[EntityKey]:
    if record is None:
        return set()
    return {ref for ref in registry[key.kind].references(key.key, record) if ref != key}


def _precondition(change: Change, destination: Snapshot) -> str | None:
    if change.action is Action.CREATE:
        return None
    before = destination.get(change.key)
    if before is None:
        before = change.before
    if before is None:
        raise PlanError(
            f"cannot plan {change.action.value} of {change.key}: the destination snapshot does "
            f"not have it."
        )
    return digest(before)


def _missing_reference_warnings(
    registry: Mapping[str, EntityKind],
    key: EntityKey,
    refs: Iterable[EntityKey],
    writes: Mapping[EntityKey, Change],
    deletes: Mapping[EntityKey, Change],
    destination: Snapshot,
) -> list[str]:
    """A reference to an entity the destination lacks and the plan does not create or keep."""
    out = []
    for ref in sorted(refs):
        if ref.kind not in destination.kinds or ref in writes:
            continue  # not pulled, so unknown; or the plan writes it
        if destination.get(ref) is None or ref in deletes:
            name = registry[key.kind].singular if key.kind in registry else key.kind
            ref_name = registry[ref.kind].singular if ref.kind in registry else ref.kind
            out.append(
                f"{name} {key.key} references {ref_name} {ref.key}, which the destination "
                f"does not have and this plan does not create; pushing it will fail. Include "
                f"{ref.kind} in the plan."
            )
    return out


def _sort_key(key: EntityKey, rank: Mapping[str, int]) -> tuple[int, str, str]:
    return (rank.get(key.kind, len(rank)), key.kind, key.key)


def _sorted_keys(keys: Iterable[EntityKey], rank: Mapping[str, int]) -> list[EntityKey]:
    return sorted(keys, key=lambda k: _sort_key(k, rank))


def _ordered(deps: Mapping[EntityKey, set[EntityKey]], rank: Mapping[str, int]) -> list[EntityKey]:
    """Every key after all of its ``deps``; among the ready ones, the smallest (kind rank, key)."""
    sorter: graphlib.TopologicalSorter[EntityKey] = graphlib.TopologicalSorter()
    for key in _sorted_keys(deps, rank):
        sorter.add(key, *_sorted_keys(deps[key], rank))
    try:
        sorter.prepare()
    except graphlib.CycleError as error:
        cycle: list[EntityKey] = list(reversed(error.args[1]))
        raise PlanError(
            "reference cycle: "
            + " -> ".join(str(k) for k in cycle)
            + ". stagesync cannot order these operations; break the cycle on the source store "
            "(or plan these entities separately)."
        ) from None
    ready: list[tuple[tuple[int, str, str], EntityKey]] = []
    order: list[EntityKey] = []
    while sorter.is_active():
        for key in sorted(sorter.get_ready()):
            heapq.heappush(ready, (_sort_key(key, rank), key))
        _, key = heapq.heappop(ready)
        order.append(key)
        sorter.done(key)
    return order
