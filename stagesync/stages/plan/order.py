"""order: the planned changes as a dependency graph, in the order push runs them."""

from __future__ import annotations

import graphlib
import heapq
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from stagesync.errors import PlanError
from stagesync.model import Action, Change, EntityKey, Snapshot
from stagesync.stages.plan.common import (
    Node,
    kind_rank,
    name_of,
    node_id,
    node_sort_key,
    replace_reason,
    sorted_keys,
    sorted_nodes,
)

if TYPE_CHECKING:
    from stagesync.entities.base import EntityKind


@dataclass(frozen=True)
class Ordering:
    """The planned changes as operations in push order (``order``)."""

    nodes: list[Node]
    """Writes, each after everything it depends on; then deletes, in reverse."""
    depends_on: dict[Node, set[Node]]
    """Node -> the nodes it waits for."""
    linked_later: dict[EntityKey, str]
    """Entities written without their links, then linked by a link step -> the cycle that
    makes it necessary."""
    warnings: list[str]
    """References to entities the destination lacks and the plan does not create."""


def index(changes: Sequence[Change], registry: Mapping[str, EntityKind]) -> dict[EntityKey, Change]:
    """Entity -> its one change, an update the kind cannot make in place turned into a replace.
    Raises ``PlanError`` for a kind the registry does not know or two changes to one entity."""
    by_key: dict[EntityKey, Change] = {}
    for change in changes:
        if change.key.kind not in registry:
            raise PlanError(
                f"cannot plan {change.key}: stagesync does not know the kind {change.key.kind!r}."
            )
        if change.key in by_key:
            raise PlanError(f"cannot plan {change.key}: it has more than one change.")
        by_key[change.key] = _maybe_replace(change, registry)
    return by_key


def order(
    by_key: Mapping[EntityKey, Change],
    registry: Mapping[str, EntityKind],
    destination: Snapshot,
) -> Ordering:
    """Order ``by_key`` against the ``destination`` snapshot: every write after the planned
    entities its record references (reference cycles broken by a later link step), every
    delete after the planned entities whose destination record references it. Raises
    ``PlanError`` for a reference cycle that no link can break."""
    rank = kind_rank(registry)
    writes = {k: c for k, c in by_key.items() if c.action is not Action.DELETE}
    deletes = {k: c for k, c in by_key.items() if c.action is Action.DELETE}
    notes: list[str] = []

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
            _missing_reference_warnings(registry, key, refs | links, writes, deletes, destination)
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
        before = destination.get(key) or change.before
        if before is None:
            continue
        entity = registry[key.kind]
        refs = set(entity.references(key.key, before))
        if key not in deletes:
            refs |= set(entity.links(key.key, before))
        for ref in refs:
            if ref in deletes and ref != key:
                delete_deps[(ref, 0)].add((key, 0))

    nodes = _ordered(write_deps, rank) + _ordered(
        {k: {d for d in deps if d[0] in deletes} for k, deps in delete_deps.items()}, rank
    )
    return Ordering(nodes, {**write_deps, **delete_deps}, cycle_of, notes)


def _maybe_replace(change: Change, registry: Mapping[str, EntityKind]) -> Change:
    if change.action is not Action.UPDATE or change.before is None or change.after is None:
        return change
    if replace_reason(replace(change, action=Action.REPLACE), registry) is None:
        return change
    return replace(change, action=Action.REPLACE)


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
        for key in sorted_keys(members, rank):
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
    for root in sorted_nodes(deps, rank):
        if root in index:
            continue
        work: list[tuple[Node, list[Node]]] = [(root, sorted_nodes(deps.get(root, set()), rank))]
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
                    work.append((child, sorted_nodes(deps.get(child, set()), rank)))
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
                    found.append(sorted_nodes(component, rank))
    return sorted(found, key=lambda c: node_sort_key(c[0], rank))


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
        nexts = sorted_nodes(deps.get(node, set()) & members, rank)
        if start in nexts and len(path) > 1:
            break
        step = next((n for n in nexts if n not in seen), None)
        if step is None:
            break
        path.append(step)
        seen.add(step)
        node = step
    return " -> ".join(node_id(n) for n in [*path, start])


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
                f"{name_of(registry, key)} references {name_of(registry, ref)}, which the "
                f"destination does not have and this plan does not create; pushing it will "
                f"fail. Include {ref.kind} in the plan."
            )
    return out


def _ordered(deps: Mapping[Node, set[Node]], rank: Mapping[str, int]) -> list[Node]:
    """Every node after all of its ``deps``; among the ready ones, the smallest sort key."""
    sorter: graphlib.TopologicalSorter[Node] = graphlib.TopologicalSorter()
    for node in sorted_nodes(deps, rank):
        sorter.add(node, *sorted_nodes(deps[node], rank))
    try:
        sorter.prepare()
    except graphlib.CycleError as error:
        cycle: list[Node] = list(reversed(error.args[1]))
        raise PlanError(
            "reference cycle: "
            + " -> ".join(node_id(n) for n in cycle)
            + ". No reference in it can be written later, so stagesync cannot order these "
            "operations; break the cycle on the source store (or plan these entities "
            "separately)."
        ) from None
    ready: list[tuple[tuple[int, str, str, int], Node]] = []
    order: list[Node] = []
    while sorter.is_active():
        for node in sorter.get_ready():
            heapq.heappush(ready, (node_sort_key(node, rank), node))
        _, node = heapq.heappop(ready)
        order.append(node)
        sorter.done(node)
    return order
