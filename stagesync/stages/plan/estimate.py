"""estimate: the requests push will make, and the quota they are paced by."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stagesync.entities import channels, dependencies
from stagesync.model import Action, Change, EntityKey, Operation, Snapshot
from stagesync.stages.plan.order import Ordering
from stagesync.storelock import LOCK_REQUESTS

if TYPE_CHECKING:
    from stagesync.entities.base import EntityKind


STORE_CHECK_REQUESTS = 1
"""Push asks the store who it is (``GET /v2/store``) before anything else."""


@dataclass(frozen=True)
class Quota:
    requests: int = 150
    window_ms: int = 30000


def estimate(
    ordering: Ordering,
    operations: Sequence[Operation],
    by_key: Mapping[EntityKey, Change],
    registry: Mapping[str, EntityKind],
    kinds: Iterable[str],
    destination: Snapshot,
) -> int:
    """The requests push will make for ``operations`` (``ordering.nodes``, bound): claiming and
    releasing the store's push lock, reading the destination at the page sizes the client uses,
    then each write as its kind estimates it, less what batches share."""
    estimated = 0
    for (key, step), _ in zip(ordering.nodes, operations, strict=True):
        change = by_key[key]
        estimated += (
            1 if step == 1 else registry[key.kind].estimate_requests(change.action, change.after)
        )
    estimated -= _shared_by_batches(operations, registry)
    if operations:
        estimated += LOCK_REQUESTS + read_requests(
            set(kinds) | {op.kind for op in operations}, destination, registry
        )
    return estimated


def _shared_by_batches(operations: Sequence[Operation], registry: Mapping[str, EntityKind]) -> int:
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


def read_requests(
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
