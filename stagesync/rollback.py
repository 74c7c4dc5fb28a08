"""The rollback plan of a push: an ordinary plan that restores every entity the push changed to
its pre-image (the destination record before the push's first write to it).

Pure: it takes the pushed plan, which of its operations are done, and the pre-images, and returns
a ``Plan``. Created entities are deleted, updated ones updated back, deleted ones created again.
Its dependencies are the push's, reversed: what the push created first is deleted last, and what
it deleted last is created first. Preconditions are the states the push left, so applying a
rollback after someone changed those entities again is refused like any drifted plan.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from stagesync.diff import field_changes
from stagesync.entities import REGISTRY
from stagesync.model import (
    Action,
    Endpoint,
    EntityKey,
    KindSnapshot,
    Operation,
    Plan,
    Record,
    Snapshot,
    digest,
)
from stagesync.stages.plan.estimate import push_read_requests, write_requests
from stagesync.storelock import LOCK_REQUESTS

ROLLBACK_REASON = "rollback"


def rollback_plan(
    plan: Plan,
    done: Collection[str],
    before: Mapping[str, Record | None],
    *,
    created_at: str,
    plan_name: str = "the plan",
) -> Plan:
    """The plan undoing the operations of ``plan`` whose ids are in ``done``."""
    first: dict[EntityKey, Operation] = {}
    last: dict[EntityKey, Operation] = {}
    replaced: set[EntityKey] = set()
    for op in plan.operations:
        if op.id not in done:
            continue
        first.setdefault(op.key, op)
        last[op.key] = op
        if op.action is Action.REPLACE:
            replaced.add(op.key)
    ids = {op.id: op.key for op in plan.operations}
    dependents: dict[EntityKey, set[EntityKey]] = {key: set() for key in first}
    for op in plan.operations:
        if op.key not in first or op.is_link:
            # A link step waits for the entities its links name only to write those links;
            # undoing its entity does not wait for them (a cycle of links would deadlock).
            continue
        for dependency in op.depends_on:
            parent = ids.get(dependency)
            if parent is not None and parent in first and parent != op.key:
                # The push did ``parent`` before ``op``: the rollback undoes ``op`` first.
                dependents[parent].add(op.key)

    operations: list[Operation] = []
    rollback_id = {key: first[key].id for key in first}
    for key in reversed(list(first)):
        pre = before.get(first[key].id)
        final = None if last[key].action is Action.DELETE else last[key].after
        if pre is None and final is None:
            continue
        if pre is None:
            action, after, precondition = Action.DELETE, None, digest(final)
        elif final is None:
            action, after, precondition = Action.CREATE, pre, None
        else:
            action = Action.REPLACE if key in replaced else Action.UPDATE
            after, precondition = pre, digest(final)
        changes = field_changes(final, pre) if final is not None and pre is not None else ()
        operations.append(
            Operation(
                id=rollback_id[key],
                action=action,
                key=key,
                after=after,
                precondition=precondition,
                fields=changes,
                depends_on=tuple(
                    sorted(rollback_id[k] for k in dependents[key] if k in rollback_id)
                ),
                reason=ROLLBACK_REASON,
            )
        )
    kept = {op.id for op in operations}
    operations = [
        Operation(
            op.id,
            op.action,
            op.key,
            op.after,
            op.precondition,
            op.fields,
            tuple(d for d in op.depends_on if d in kept),
            op.reason,
        )
        for op in operations
    ]
    # What the store holds of the rollback's entities once the push is done, as far as the plan
    # says: what the rollback's push reads (and batches write) is estimated against that.
    pushed: dict[str, dict[str, Record]] = {}
    for key, op in last.items():
        if op.after is not None and op.action is not Action.DELETE:
            pushed.setdefault(key.kind, {})[key.key] = op.after
    store = Snapshot({kind: KindSnapshot(records) for kind, records in pushed.items()})
    estimated = (
        LOCK_REQUESTS
        + write_requests(operations, REGISTRY, store)
        + push_read_requests(operations, store, REGISTRY)
        if operations
        else 0
    )
    destination = plan.destination
    return Plan(
        source=Endpoint(destination.environment, destination.store_hash, plan.destination.digest),
        destination=destination,
        operations=tuple(operations),
        created_at=created_at,
        warnings=(f"Rollback of {plan_name}: restores what its push changed.",),
        estimated_requests=estimated,
        kinds=plan.kinds,
        quota=plan.quota,
        window_ms=plan.window_ms,
    )
