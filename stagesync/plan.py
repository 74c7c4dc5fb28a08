"""Changes in, an ordered plan out: ``make_plan(source, destination, registry, ...) -> Plan``.

Pure: no files, no HTTP, no printing. What this module decides:

- **Selection and closure.** A ``Selection`` names kinds (``--kinds``) and/or entities by glob
  (``--only products:SHOE-*``). The selected entities that differ become operations with the
  reason ``selected``. Then, entity by entity, every entity a planned record references (its kind's
  ``references`` and ``links``) that is missing or different on the destination gains an
  operation too, with the reason ``dependency of <kind> <key>``; references that already match add
  nothing. With ``deps=False`` nothing is added, and a reference the destination cannot resolve is
  a ``PlanError`` listing every such reference.
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

import fnmatch
import graphlib
import heapq
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from stagesync.diff import diff_kind, field_changes
from stagesync.entities import channels, dependencies
from stagesync.errors import PlanError
from stagesync.model import (
    LINK_SUFFIX,
    Action,
    Change,
    Endpoint,
    EntityKey,
    FieldChange,
    Operation,
    Plan,
    Record,
    Snapshot,
    digest,
)

if TYPE_CHECKING:
    from stagesync.entities.base import EntityKind

SELECTED = "selected"
STORE_CHECK_REQUESTS = 1
"""Push asks the store who it is (``GET /v2/store``) before anything else."""


@dataclass(frozen=True)
class Selection:
    """What a plan is about: kinds, entity patterns, closure and prune."""

    kinds: tuple[str, ...] | None = None
    """Kinds selected; None: every kind in the source snapshot."""
    only: tuple[tuple[str, str], ...] = ()
    """(kind, glob on keys) patterns; empty: every entity of the selected kinds."""
    deps: bool = True
    """Bring along referenced entities that are missing or different on the destination."""
    prune: bool = False
    """Delete selected entities the destination has and the source lacks."""

    def selects(self, key: EntityKey) -> bool:
        if self.kinds is not None and key.kind not in self.kinds:
            return False
        if not self.only:
            return True
        return any(
            kind == key.kind and fnmatch.fnmatchcase(key.key, pattern)
            for kind, pattern in self.only
        )

    def kinds_in(self, source: Snapshot) -> tuple[str, ...]:
        """The selected kinds the source snapshot holds."""
        wanted = set(self.kinds) if self.kinds is not None else None
        if self.only:
            patterned = {kind for kind, _ in self.only}
            wanted = patterned if wanted is None else wanted & patterned
        return tuple(k for k in sorted(source.kinds) if wanted is None or k in wanted)


@dataclass(frozen=True)
class Quota:
    requests: int = 150
    window_ms: int = 30000


def operation_id(key: EntityKey) -> str:
    """The id of the operation on ``key``: ``products:SKU-1``."""
    return str(key)


def link_id(key: EntityKey) -> str:
    """The id of the link step of ``key``: ``products:SKU-1#link``."""
    return str(key) + LINK_SUFFIX


def endpoint_of(snapshot: Snapshot) -> Endpoint:
    """One side of a plan, as the snapshot describes itself."""
    return Endpoint(snapshot.environment, snapshot.store_hash, snapshot.digest)


def plan_kinds(source: Snapshot, kinds: Iterable[str] | None = None) -> tuple[str, ...]:
    """The kinds a plan is computed over: those in the source snapshot, within ``kinds``."""
    return Selection(tuple(kinds) if kinds is not None else None).kinds_in(source)


def kind_order(registry: Mapping[str, EntityKind]) -> tuple[str, ...]:
    """The registry's kinds, each after the kinds it depends on (ties and cycles: by name)."""
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for name in sorted(registry):
        deps = dependencies.depends_on(name)
        sorter.add(name, *sorted(d for d in deps if d != name and d in registry))
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
    only: Sequence[tuple[str, str]] = (),
    deps: bool = True,
    quota: Quota | None = None,
) -> Plan:
    """The plan that makes the selected part of ``destination`` look like ``source``."""
    selection = Selection(
        kinds=tuple(kinds) if kinds is not None else None,
        only=tuple(only),
        deps=deps,
        prune=prune,
    )
    return plan_selection(
        source, destination, registry, selection, created_at=created_at, quota=quota
    )


def plan_selection(
    source: Snapshot,
    destination: Snapshot,
    registry: Mapping[str, EntityKind],
    selection: Selection,
    *,
    created_at: str,
    quota: Quota | None = None,
) -> Plan:
    selected_kinds = selection.kinds_in(source)
    for kind in selected_kinds:
        if kind not in registry:
            raise PlanError(
                f"cannot plan {kind}: stagesync does not know the kind {kind!r}.",
            )
    changes: list[Change] = []
    for kind in selected_kinds:
        for change in diff_kind(
            kind, source.records(kind), destination.records(kind), prune=selection.prune
        ):
            if selection.selects(change.key):
                changes.append(change)
    reasons = {change.key: SELECTED for change in changes}
    warnings: list[str] = []
    if selection.only:
        for kind, pattern in selection.only:
            if not any(
                fnmatch.fnmatchcase(k, pattern)
                for k in (*source.records(kind), *destination.records(kind))
            ):
                warnings.append(f"--only {kind}:{pattern} matches no {kind} on either side.")
    _check_channels(changes, destination, registry)
    if selection.deps:
        added = _closure(changes, source, destination, registry)
        for change, reason in added:
            changes.append(change)
            reasons[change.key] = reason
    else:
        _check_resolvable(changes, source, destination, registry)
    if selection.prune:
        changes.extend(_stop_referencing(changes, source, destination, registry, reasons, warnings))
    return build_plan(
        changes,
        registry,
        source=endpoint_of(source),
        destination=endpoint_of(destination),
        destination_snapshot=destination,
        created_at=created_at,
        kinds=selected_kinds,
        reasons=reasons,
        warnings=warnings,
        quota=quota,
    )


# --- closure ---------------------------------------------------------------------------------


def _change(key: EntityKey, after: Record | None, before: Record | None) -> Change | None:
    """The change that makes ``before`` (destination) into ``after`` (source), if any."""
    if after is None:
        return None
    if before is None:
        return Change(key, Action.CREATE, before=None, after=after)
    if digest(before) == digest(after):
        return None
    return Change(
        key, Action.UPDATE, before=before, after=after, fields=field_changes(before, after)
    )


def _refs(
    registry: Mapping[str, EntityKind], key: EntityKey, record: Record | None
) -> set[EntityKey]:
    if record is None or key.kind not in registry:
        return set()
    return registry[key.kind].all_references(key.key, record)


def _closure(
    changes: Sequence[Change],
    source: Snapshot,
    destination: Snapshot,
    registry: Mapping[str, EntityKind],
) -> list[tuple[Change, str]]:
    """Operations for every referenced entity that is missing or different on the destination,
    transitively, each with the reason naming the first planned entity that needs it."""
    planned = {change.key for change in changes}
    rank = _rank(registry)
    pending = sorted(
        (c for c in changes if c.action is not Action.DELETE), key=lambda c: _sort_key(c.key, rank)
    )
    added: list[tuple[Change, str]] = []
    index = 0
    while index < len(pending):
        change = pending[index]
        index += 1
        for ref in _sorted_keys(_refs(registry, change.key, change.after), rank):
            if ref in planned or ref.kind not in registry or ref.kind == channels.NAME:
                continue  # channels are written only when selected (``_check_channels``)
            if ref.kind not in source.kinds or ref.kind not in destination.kinds:
                continue  # not pulled on one side: nothing is known to bring along
            found = _change(ref, source.get(ref), destination.get(ref))
            planned.add(ref)
            if found is None:
                continue
            name = registry[change.key.kind].singular
            added.append((found, f"dependency of {name} {change.key.key}"))
            pending.append(found)
    return added


def _check_channels(
    changes: Sequence[Change], destination: Snapshot, registry: Mapping[str, EntityKind]
) -> None:
    """Every channel a planned record names must exist on the destination (as its channel map
    keys it) or be created by the plan; channels are never brought along, so anything else is a
    PlanError naming each channel and how to map it. Skipped when the destination snapshot has
    no channels (pulled before channels were a kind)."""
    if channels.NAME not in destination.kinds:
        return
    created = {c.key for c in changes if c.action is not Action.DELETE}
    missing: dict[str, list[str]] = {}
    for change in sorted(changes, key=lambda c: c.key):
        if change.action is Action.DELETE:
            continue
        for ref in sorted(_refs(registry, change.key, change.after)):
            if ref.kind != channels.NAME or ref in created or destination.get(ref) is not None:
                continue
            missing.setdefault(ref.key, []).append(_name(registry, change.key))
    if not missing:
        return
    env = destination.environment or "NAME"
    known = ", ".join(sorted(destination.records(channels.NAME))) or "none"
    lines = []
    for key, users in sorted(missing.items()):
        more = f" and {len(users) - 3} more" if len(users) > 3 else ""
        lines.append(f'  - channel "{key}", named by {", ".join(users[:3])}{more}')
    raise PlanError(
        f"{len(missing)} channel{'s' if len(missing) != 1 else ''} would not resolve on "
        f"{env} (its channels: {known}):\n"
        + "\n".join(lines)
        + "\n"
        + channels.how_to_map(sorted(missing)[0], env)
    )


def _check_resolvable(
    changes: Sequence[Change],
    source: Snapshot,
    destination: Snapshot,
    registry: Mapping[str, EntityKind],
) -> None:
    """With closure off, every reference must exist on the destination or be created by the
    plan; otherwise a PlanError lists every missing one."""
    writes = {c.key for c in changes if c.action is not Action.DELETE}
    deleted = {c.key for c in changes if c.action is Action.DELETE}
    missing: list[str] = []
    for change in sorted(changes, key=lambda c: c.key):
        if change.action is Action.DELETE:
            continue
        for ref in sorted(_refs(registry, change.key, change.after)):
            if ref in writes:
                continue
            if ref.kind in destination.kinds and (destination.get(ref) is None or ref in deleted):
                missing.append(
                    f"{_name(registry, change.key)} references {_name(registry, ref)}, which the "
                    "destination does not have"
                )
            elif ref.kind not in destination.kinds:
                missing.append(
                    f"{_name(registry, change.key)} references {_name(registry, ref)}, and the "
                    f"destination snapshot has no {ref.kind} to check it against"
                )
    if missing:
        listing = "\n".join(f"  - {line}" for line in missing)
        raise PlanError(
            f"with --no-deps, {len(missing)} reference{'s' if len(missing) != 1 else ''} would "
            f"not resolve on the destination:\n{listing}\nDrop --no-deps to bring them along, "
            "or select them too."
        )


def _stop_referencing(
    changes: Sequence[Change],
    source: Snapshot,
    destination: Snapshot,
    registry: Mapping[str, EntityKind],
    reasons: dict[EntityKey, str],
    warnings: list[str],
) -> list[Change]:
    """Entities outside the plan whose destination record references an entity being deleted:
    updated first when the source has them without that reference, otherwise a warning."""
    deleted = {c.key for c in changes if c.action is Action.DELETE}
    if not deleted:
        return []
    planned = {c.key for c in changes}
    added: list[Change] = []
    for kind in sorted(destination.kinds):
        if kind not in registry:
            continue
        for key, record in sorted(destination.records(kind).items()):
            entity = EntityKey(kind, key)
            if entity in planned:
                continue
            used = sorted(_refs(registry, entity, record) & deleted)
            if not used:
                continue
            after = source.get(entity)
            still = _refs(registry, entity, after) & deleted if after is not None else set(used)
            found = _change(entity, after, record) if after is not None else None
            if found is not None and not still:
                added.append(found)
                planned.add(entity)
                reasons[entity] = f"stops referencing {_name(registry, used[0])} before its delete"
            else:
                warnings.append(
                    f"{_name(registry, entity)} is outside the selection and still references "
                    f"{', '.join(_name(registry, u) for u in used)} on the destination, which "
                    "this plan deletes. Select it too, or leave out --prune."
                )
    return added


def _name(registry: Mapping[str, EntityKind], key: EntityKey) -> str:
    singular = registry[key.kind].singular if key.kind in registry else key.kind
    return f"{singular} {key.key}"


# --- ordering --------------------------------------------------------------------------------


Node = tuple[EntityKey, int]
"""An operation in the graph: (entity, 0) its main step, (entity, 1) its link step."""


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
) -> Plan:
    """Order ``changes`` into a plan against ``destination_snapshot``.

    Raises ``PlanError`` for a kind the registry does not know, two changes to one entity, or a
    reference cycle among the planned operations that no link can break.
    """
    quota = quota or Quota()
    reasons = reasons or {}
    by_key: dict[EntityKey, Change] = {}
    for change in changes:
        if change.key.kind not in registry:
            raise PlanError(
                f"cannot plan {change.key}: stagesync does not know the kind {change.key.kind!r}."
            )
        if change.key in by_key:
            raise PlanError(f"cannot plan {change.key}: it has more than one change.")
        by_key[change.key] = _maybe_replace(change, registry)

    rank = _rank(registry)
    writes = {k: c for k, c in by_key.items() if c.action is not Action.DELETE}
    deletes = {k: c for k, c in by_key.items() if c.action is Action.DELETE}
    notes: list[str] = list(warnings)

    # What each write needs first: the planned entities its desired record references.
    write_deps: dict[Node, set[Node]] = {}
    link_edges: dict[EntityKey, set[EntityKey]] = {}
    for key, change in writes.items():
        entity = registry[key.kind]
        assert change.after is not None
        refs = {r for r in entity.references(key.key, change.after) if r != key}
        links = {r for r in entity.links(key.key, change.after) if r != key} - refs
        write_deps[(key, 0)] = {(r, 0) for r in refs | links if r in writes}
        link_edges[key] = {r for r in links if r in writes}
        notes.extend(
            _missing_reference_warnings(
                registry, key, refs | links, writes, deletes, destination_snapshot
            )
        )

    patient = {name for name, kind in registry.items() if kind.links_need_targets_written}
    linked_later = _break_cycles(write_deps, link_edges, writes, rank, patient)
    cycle_of: dict[EntityKey, str] = {}
    for key, (targets, cycle) in linked_later.items():
        write_deps[(key, 1)] = {(key, 0)} | {(t, 0) for t in targets}
        cycle_of[key] = cycle

    # What each delete needs first: every planned entity whose destination record references it.
    delete_deps: dict[Node, set[Node]] = {(key, 0): set() for key in deletes}
    # Links held by an entity that is itself deleted need no order: the platform drops them.
    for key, change in by_key.items():
        before = destination_snapshot.get(key) or change.before
        if before is None:
            continue
        entity = registry[key.kind]
        refs = set(entity.references(key.key, before))
        if key not in deletes:
            refs |= set(entity.links(key.key, before))
        for ref in refs:
            if ref in deletes and ref != key:
                delete_deps[(ref, 0)].add((key, 0))

    order = _ordered(write_deps, rank) + _ordered(
        {k: {d for d in deps if d[0] in deletes} for k, deps in delete_deps.items()}, rank
    )

    operations: list[Operation] = []
    estimated = 0
    for node in order:
        key, step = node
        change = by_key[key]
        entity = registry[key.kind]
        deps = write_deps.get(node) if key in writes else delete_deps[node]
        depends_on = tuple(_node_id(d) for d in _sorted_nodes(deps or set(), rank))
        precondition = _precondition(change, destination_snapshot)
        if step == 1:
            assert change.after is not None
            stripped = entity.without_links(change.after)
            operations.append(
                Operation(
                    id=link_id(key),
                    action=Action.UPDATE,
                    key=key,
                    after=change.after,
                    precondition=precondition,
                    fields=_link_fields(entity.link_fields, stripped, change.after),
                    depends_on=depends_on,
                    reason=f"link after the cycle {cycle_of[key]} exists",
                )
            )
            estimated += 1
            continue
        after = change.after
        fields = change.fields
        if key in linked_later and after is not None:
            after = entity.without_links(after)
            fields = tuple(f for f in fields if _top(f.path) not in entity.link_fields)
        operations.append(
            Operation(
                id=operation_id(key),
                action=change.action,
                key=key,
                after=after,
                precondition=precondition,
                fields=fields,
                depends_on=depends_on,
                reason=reasons.get(key, SELECTED),
                note=_replace_reason(change, registry),
            )
        )
        estimated += entity.estimate_requests(change.action, change.after)
        if change.after is not None:
            before = destination_snapshot.get(key) or change.before
            notes.extend(entity.plan_warnings(change.action, key.key, change.after, before))
        if key.key.startswith("name:") and change.action is not Action.DELETE:
            notes.append(
                f"{entity.singular} {key.key} has no SKU, so it is matched by name; "
                f"renaming it on either store will make stagesync treat it as a different "
                f"{entity.singular}. Give it a SKU."
            )

    estimated -= _shared_by_batches(operations, registry)
    plan_kind_set = set(kinds) | {op.kind for op in operations}
    if operations:
        estimated += _read_requests(plan_kind_set, destination_snapshot, registry)
    return Plan(
        source=source,
        destination=destination,
        operations=tuple(operations),
        created_at=created_at,
        warnings=tuple(dict.fromkeys(notes)),
        estimated_requests=estimated,
        kinds=tuple(sorted(plan_kind_set)),
        quota=quota.requests,
        window_ms=quota.window_ms,
    )


def write_requests(operations: Sequence[Operation], registry: Mapping[str, EntityKind]) -> int:
    """About how many requests push spends writing ``operations`` (batches shared), without the
    reads before the first write (``_read_requests``)."""
    own = sum(registry[op.kind].estimate_requests(op.action, op.after) for op in operations)
    return own - _shared_by_batches(list(operations), registry)


def _shared_by_batches(operations: list[Operation], registry: Mapping[str, EntityKind]) -> int:
    """Requests saved because push hands operations of a kind that batches (``create_many`` /
    ``update_many``) over together: each operation's estimate counts its own write, but the
    operations of one (kind, action) that are ready together share one write per
    ``batch_size``. Operations waiting for another of the same batch group (a child category for
    its parent) go in a later batch: grouped by that depth."""
    group_of: dict[str, tuple[str, Action]] = {}
    depth: dict[str, int] = {}
    sizes: dict[tuple[str, Action, int], int] = {}
    for op in operations:
        entity = registry[op.kind]
        batches = (op.action is Action.CREATE and entity.create_many is not None) or (
            op.action is Action.UPDATE and entity.update_many is not None
        )
        if entity.batch_size < 2 or op.is_link or not batches:
            continue
        group = group_of[op.id] = (op.kind, op.action)
        depth[op.id] = 1 + max(
            (depth[d] for d in op.depends_on if group_of.get(d) == group), default=-1
        )
        slot = (*group, depth[op.id])
        sizes[slot] = sizes.get(slot, 0) + 1
    return sum(
        count - -(-count // registry[kind].batch_size) for (kind, _, _), count in sizes.items()
    )


def _read_requests(
    kinds: Iterable[str], destination: Snapshot, registry: Mapping[str, EntityKind]
) -> int:
    """What push spends before writing: who the store is, then every kind it reads (the plan's
    and the kinds they bring along, for their IDs) at the page sizes the client uses, and the
    channels those kinds name."""
    needed = dependencies.closure(kinds)
    total = STORE_CHECK_REQUESTS
    if channels.NAME in needed and channels.NAME not in registry:
        total += 1  # read once for every kind that names channels (``read_live``)
    for kind in sorted(needed):
        if kind in registry:
            total += registry[kind].read_requests(len(destination.records(kind)), destination)
    return total


def _maybe_replace(change: Change, registry: Mapping[str, EntityKind]) -> Change:
    if change.action is not Action.UPDATE or change.before is None or change.after is None:
        return change
    if _replace_reason(replace(change, action=Action.REPLACE), registry) is None:
        return change
    return replace(change, action=Action.REPLACE)


def _replace_reason(change: Change, registry: Mapping[str, EntityKind]) -> str | None:
    must = registry[change.key.kind].must_replace
    if change.action is not Action.REPLACE or must is None:
        return None
    if change.before is None or change.after is None:
        return None
    return must(change.key.key, change.before, change.after)


def _break_cycles(
    write_deps: dict[Node, set[Node]],
    link_edges: Mapping[EntityKey, set[EntityKey]],
    writes: Mapping[EntityKey, Change],
    rank: Mapping[str, int],
    patient: Collection[str] = (),
) -> dict[EntityKey, tuple[set[EntityKey], str]]:
    """Remove link edges inside reference cycles (in place). Returns the entities whose links
    must be written by a later link step: entity -> (link targets, the cycle, for the reason).
    Kinds in ``patient`` link only once their targets' planned writes are done."""
    later: dict[EntityKey, tuple[set[EntityKey], str]] = {}
    # First: a link to an entity that already exists (an update) needs no ordering, unless the
    # linking kind needs that update written first.
    for component in _cycles(write_deps, rank):
        members = {node[0] for node in component}
        for key in members:
            if key.kind in patient:
                continue
            existing = {t for t in link_edges.get(key, set()) & members if _exists(writes[t])}
            write_deps[(key, 0)] -= {(t, 0) for t in existing}
    # Then: an entity linking to one the plan creates (or replaces) is written without its links,
    # and links once everything in the cycle exists.
    for component in _cycles(write_deps, rank):
        members = {node[0] for node in component}
        cycle = _describe_cycle(write_deps, component, rank)
        for key in _sorted_keys(members, rank):
            inside = link_edges.get(key, set()) & members
            if inside:
                write_deps[(key, 0)] -= {(t, 0) for t in inside}
                later[key] = (inside, cycle)
    return later


def _exists(change: Change) -> bool:
    """Whether the entity exists on the destination throughout the push (an update)."""
    return change.action is Action.UPDATE


def _cycles(deps: Mapping[Node, set[Node]], rank: Mapping[str, int]) -> list[list[Node]]:
    """The strongly connected components with more than one node (Tarjan, iterative), each
    sorted, in a deterministic order."""
    index: dict[Node, int] = {}
    low: dict[Node, int] = {}
    on_stack: set[Node] = set()
    stack: list[Node] = []
    found: list[list[Node]] = []
    counter = 0
    for root in _sorted_nodes(deps, rank):
        if root in index:
            continue
        work: list[tuple[Node, list[Node]]] = [(root, _sorted_nodes(deps.get(root, set()), rank))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            if children:
                child = children.pop(0)
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, _sorted_nodes(deps.get(child, set()), rank)))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[Node] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(_sorted_nodes(component, rank))
    return sorted(found, key=lambda c: _node_sort_key(c[0], rank))


def _describe_cycle(
    deps: Mapping[Node, set[Node]], component: list[Node], rank: Mapping[str, int]
) -> str:
    """One cycle through the component's first node: ``products:A -> products:B -> products:A``."""
    members = set(component)
    start = component[0]
    path = [start]
    seen = {start}
    node = start
    while True:
        nexts = _sorted_nodes(deps.get(node, set()) & members, rank)
        if start in nexts and len(path) > 1:
            break
        step = next((n for n in nexts if n not in seen), None)
        if step is None:
            break
        path.append(step)
        seen.add(step)
        node = step
    return " -> ".join(_node_id(n) for n in [*path, start])


def _link_fields(names: Sequence[str], before: Record, after: Record) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(name, before.get(name), after.get(name))
        for name in sorted(names)
        if name in after and before.get(name) != after.get(name)
    )


def _top(path: str) -> str:
    return path.split(".")[0].split("[")[0]


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
            out.append(
                f"{_name(registry, key)} references {_name(registry, ref)}, which the "
                f"destination does not have and this plan does not create; pushing it will "
                f"fail. Include {ref.kind} in the plan."
            )
    return out


def _rank(registry: Mapping[str, EntityKind]) -> dict[str, int]:
    return {name: i for i, name in enumerate(kind_order(registry))}


def _sort_key(key: EntityKey, rank: Mapping[str, int]) -> tuple[int, str, str]:
    return (rank.get(key.kind, len(rank)), key.kind, key.key)


def _node_sort_key(node: Node, rank: Mapping[str, int]) -> tuple[int, str, str, int]:
    return (*_sort_key(node[0], rank), node[1])


def _sorted_keys(keys: Iterable[EntityKey], rank: Mapping[str, int]) -> list[EntityKey]:
    return sorted(keys, key=lambda k: _sort_key(k, rank))


def _sorted_nodes(nodes: Iterable[Node], rank: Mapping[str, int]) -> list[Node]:
    return sorted(nodes, key=lambda n: _node_sort_key(n, rank))


def _node_id(node: Node) -> str:
    return link_id(node[0]) if node[1] else operation_id(node[0])


def _ordered(deps: Mapping[Node, set[Node]], rank: Mapping[str, int]) -> list[Node]:
    """Every node after all of its ``deps``; among the ready ones, the smallest sort key."""
    sorter: graphlib.TopologicalSorter[Node] = graphlib.TopologicalSorter()
    for node in _sorted_nodes(deps, rank):
        sorter.add(node, *_sorted_nodes(deps[node], rank))
    try:
        sorter.prepare()
    except graphlib.CycleError as error:
        cycle: list[Node] = list(reversed(error.args[1]))
        raise PlanError(
            "reference cycle: "
            + " -> ".join(_node_id(n) for n in cycle)
            + ". No reference in it can be written later, so stagesync cannot order these "
            "operations; break the cycle on the source store (or plan these entities "
            "separately)."
        ) from None
    ready: list[tuple[tuple[int, str, str, int], Node]] = []
    order: list[Node] = []
    while sorter.is_active():
        for node in sorter.get_ready():
            heapq.heappush(ready, (_node_sort_key(node, rank), node))
        _, node = heapq.heappop(ready)
        order.append(node)
        sorter.done(node)
    return order
