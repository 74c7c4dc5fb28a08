"""bind: each ordered node as an operation bound to the destination record it was planned
against (its precondition)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from stagesync.errors import PlanError
from stagesync.model import (
    Action,
    Change,
    EntityKey,
    FieldChange,
    Operation,
    Record,
    Snapshot,
    digest,
)
from stagesync.stages.plan.common import (
    SELECTED,
    kind_rank,
    link_id,
    node_id,
    operation_id,
    replace_reason,
    sorted_nodes,
)
from stagesync.stages.plan.order import Ordering

if TYPE_CHECKING:
    from stagesync.entities.base import EntityKind


def bind(
    ordering: Ordering,
    by_key: Mapping[EntityKey, Change],
    registry: Mapping[str, EntityKind],
    destination: Snapshot,
    reasons: Mapping[EntityKey, str],
) -> tuple[list[Operation], list[str]]:
    """The operations, in order, each with its precondition (the digest of the destination
    record it was planned against; None for a create: it must still be absent), and the
    warnings about them. Raises ``PlanError`` for a change the destination snapshot lacks."""
    rank = kind_rank(registry)
    operations: list[Operation] = []
    notes: list[str] = []
    for node in ordering.nodes:
        key, step = node
        change = by_key[key]
        entity = registry[key.kind]
        deps = ordering.depends_on.get(node)
        depends_on = tuple(node_id(d) for d in sorted_nodes(deps or set(), rank))
        precondition = _precondition(change, destination)
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
                    reason=f"link after the cycle {ordering.linked_later[key]} exists",
                )
            )
            continue
        after = change.after
        fields = change.fields
        if key in ordering.linked_later and after is not None:
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
                note=replace_reason(change, registry),
            )
        )
        if change.after is not None:
            before = destination.get(key) or change.before
            notes.extend(entity.plan_warnings(change.action, key.key, change.after, before))
        if key.key.startswith("name:") and change.action is not Action.DELETE:
            notes.append(
                f"{entity.singular} {key.key} has no SKU, so it is matched by name; "
                f"renaming it on either store will make stagesync treat it as a different "
                f"{entity.singular}. Give it a SKU."
            )
    return operations, notes


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
