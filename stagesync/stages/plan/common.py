"""What the planning stages share: operation ids, the order of kinds, and how entities
are sorted and named."""

from __future__ import annotations

import graphlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from stagesync.entities import dependencies
from stagesync.model import LINK_SUFFIX, Action, Change, EntityKey, Record

if TYPE_CHECKING:
    from stagesync.entities.base import EntityKind


SELECTED = "selected"


Node = tuple[EntityKey, int]
"""An operation in the graph: (entity, 0) its main step, (entity, 1) its link step."""


def operation_id(key: EntityKey) -> str:
    """The id of the operation on ``key``: ``products:SKU-1``."""
    return str(key)


def link_id(key: EntityKey) -> str:
    """The id of the link step of ``key``: ``products:SKU-1#link``."""
    return str(key) + LINK_SUFFIX


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


def kind_rank(registry: Mapping[str, EntityKind]) -> dict[str, int]:
    return {name: i for i, name in enumerate(kind_order(registry))}


def sort_key(key: EntityKey, rank: Mapping[str, int]) -> tuple[int, str, str]:
    return (rank.get(key.kind, len(rank)), key.kind, key.key)


def node_sort_key(node: Node, rank: Mapping[str, int]) -> tuple[int, str, str, int]:
    return (*sort_key(node[0], rank), node[1])


def sorted_keys(keys: Iterable[EntityKey], rank: Mapping[str, int]) -> list[EntityKey]:
    return sorted(keys, key=lambda k: sort_key(k, rank))


def sorted_nodes(nodes: Iterable[Node], rank: Mapping[str, int]) -> list[Node]:
    return sorted(nodes, key=lambda n: node_sort_key(n, rank))


def node_id(node: Node) -> str:
    return link_id(node[0]) if node[1] else operation_id(node[0])


def references_of(
    registry: Mapping[str, EntityKind], key: EntityKey, record: Record | None
) -> set[EntityKey]:
    if record is None or key.kind not in registry:
        return set()
    return registry[key.kind].all_references(key.key, record)


def name_of(registry: Mapping[str, EntityKind], key: EntityKey) -> str:
    singular = registry[key.kind].singular if key.kind in registry else key.kind
    return f"{singular} {key.key}"


def replace_reason(change: Change, registry: Mapping[str, EntityKind]) -> str | None:
    must = registry[change.key.kind].must_replace
    if change.action is not Action.REPLACE or must is None:
        return None
    if change.before is None or change.after is None:
        return None
    return must(change.key.key, change.before, change.after)
