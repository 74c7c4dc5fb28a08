"""estimate: the requests push will make, and the quota they are paced by."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stagesync.entities import (
    REFERENCED,
    TARGETED,
    TARGETED_KEYS,
    WHOLE,
    WHOLE_KEYS,
    channels,
    dependencies,
    push_reads,
)
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
    destination: Snapshot,
) -> int:
    """The requests push will make for ``operations`` (``ordering.nodes``, bound): claiming and
    releasing the store's push lock, reading what it needs of the destination
    (``push_read_requests``), then each write as its kind estimates it, less what batches share."""
    estimated = 0
    for (key, step), _ in zip(ordering.nodes, operations, strict=True):
        change = by_key[key]
        estimated += (
            1 if step == 1 else registry[key.kind].estimate_requests(change.action, change.after)
        )
    estimated -= _shared_by_batches(operations, registry, destination)
    if operations:
        estimated += LOCK_REQUESTS + push_read_requests(operations, destination, registry)
    return estimated


def write_requests(
    operations: Sequence[Operation],
    registry: Mapping[str, EntityKind],
    destination: Snapshot | None = None,
) -> int:
    """About how many requests push spends writing ``operations`` (batches shared), without the
    reads before the first write (``push_read_requests``). Without the ``destination`` records,
    what a batch writes beyond its shared request (``batch_extra``) is not counted."""
    own = sum(
        1 if op.is_link else registry[op.kind].estimate_requests(op.action, op.after)
        for op in operations
    )
    return own - _shared_by_batches(operations, registry, destination)


def _shared_by_batches(
    operations: Sequence[Operation],
    registry: Mapping[str, EntityKind],
    destination: Snapshot | None,
) -> int:
    """Requests saved because push hands operations of a kind that batches (``create_many`` /
    ``update_many``) over together: each operation's estimate counts its own write, but the
    operations of one (kind, action) that are ready together share one write per
    ``batch_size``, and whatever more each batch writes (``batch_extra``) is added back.
    Operations waiting for another of the same batch group (a child category for its parent) go
    in a later batch: grouped by that depth."""
    group_of: dict[str, tuple[str, Action]] = {}
    depth: dict[str, int] = {}
    slots: dict[tuple[str, Action, int], list[Operation]] = {}
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
        slots.setdefault((*group, depth[op.id]), []).append(op)
    shared = 0
    for (kind, action, _), ops in slots.items():
        entity = registry[kind]
        size = entity.batch_size_of(action)
        shared += len(ops) - -(-len(ops) // size)
        if entity.batch_extra is None or destination is None:
            continue
        records = destination.records(kind)
        for start in range(0, len(ops), size):
            batch = ops[start : start + size]
            shared -= entity.batch_extra(action, [(records.get(o.key.key), o.after) for o in batch])
    return shared


def push_read_requests(
    operations: Sequence[Operation], destination: Snapshot, registry: Mapping[str, EntityKind]
) -> int:
    """What push spends before writing (``pull.read_targeted``): who the store is; each kind
    as ``entities.push_reads`` says: whole (``read_requests``), whole for keys
    (``keys_read_requests``), or targeted: the plan's entities by key (the ones it creates for
    their keys only, where the kind can), then the entities their destination records name
    (for keys, by ID), then those the plan's records name and no earlier read found (for IDs,
    by key)."""
    keys: dict[str, set[str]] = {}
    absent: dict[str, set[str]] = {}
    references: dict[str, set[str]] = {}
    for op in operations:
        keys.setdefault(op.kind, set()).add(op.key.key)
        if op.precondition is None:
            absent.setdefault(op.kind, set()).add(op.key.key)
        after = op.after
        if after is not None:
            for ref in registry[op.kind].all_references(op.key.key, after):
                references.setdefault(ref.kind, set()).add(ref.key)
    modes = push_reads(keys, registry)
    total = STORE_CHECK_REQUESTS
    if channels.NAME in dependencies.closure(modes) and channels.NAME not in registry:
        total += 1  # read once for every kind that names channels (``read_live``)
    lean_kinds = {
        kind
        for kind, mode in modes.items()
        if mode in (REFERENCED, TARGETED) and registry[kind].referable
    }
    named: dict[str, set[str]] = {kind: set() for kind in lean_kinds}
    for kind, mode in modes.items():
        entity = registry[kind]
        count = len(destination.records(kind))
        if mode == WHOLE:
            total += entity.read_requests(count, destination)
        elif mode == WHOLE_KEYS:
            assert entity.keys_read_requests is not None
            total += entity.keys_read_requests(count, destination)
        elif mode in (TARGETED, TARGETED_KEYS):
            targeted = entity.targeted
            assert targeted is not None and targeted.requests is not None
            existence_read = mode == TARGETED_KEYS or entity.referable
            creates = absent.get(kind, set()) if existence_read else set()
            total += targeted.requests(sorted(keys[kind] - creates), destination)
            if creates and mode == TARGETED:
                assert targeted.lean_key_requests is not None
                total += targeted.lean_key_requests(sorted(creates))
            if mode == TARGETED_KEYS:
                assert entity.keys_read_requests is not None
                total += entity.keys_read_requests(count, destination)
            records = destination.records(kind)
            for key in keys[kind] & set(records):
                for ref in entity.all_references(key, records[key]):
                    if ref.kind in named and ref.key not in keys.get(ref.kind, ()):
                        named[ref.kind].add(ref.key)
    for kind in sorted(lean_kinds):
        targeted = registry[kind].targeted
        assert targeted is not None and targeted.lean_key_requests is not None
        unknown = references.get(kind, set()) - named[kind] - keys.get(kind, set())
        total += targeted.lean_id_requests(len(named[kind]))
        total += targeted.lean_key_requests(sorted(unknown)) if unknown else 0
    return total


def read_requests(
    kinds: Iterable[str], destination: Snapshot, registry: Mapping[str, EntityKind]
) -> int:
    """What a pull of ``kinds`` spends: who the store is, then every kind it reads (``kinds``
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
