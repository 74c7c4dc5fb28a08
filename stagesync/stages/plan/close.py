"""close: the entities the selected changes need (or stop needing) on the destination."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from stagesync.diff import field_changes
from stagesync.entities import channels
from stagesync.errors import PlanError
from stagesync.model import (
    Action,
    Change,
    EntityKey,
    LeftAlone,
    Record,
    Snapshot,
    digest,
    top_fields,
)
from stagesync.stages.plan.common import (
    kind_rank,
    name_of,
    references_of,
    sort_key,
    sorted_keys,
)
from stagesync.stages.plan.select import Selection

if TYPE_CHECKING:
    from stagesync.entities.base import EntityKind


def close(
    changes: Sequence[Change],
    source: Snapshot,
    destination: Snapshot,
    registry: Mapping[str, EntityKind],
    selection: Selection,
    reasons: dict[EntityKey, str],
    warnings: list[str],
    left_alone: list[LeftAlone] | None = None,
) -> list[Change]:
    """The changes to add to ``changes`` (each with its reason in ``reasons``): with ``deps``,
    every entity they reference that is missing or different on the destination (only those
    missing with ``missing_only``, each differing one then added to ``left_alone``); with
    ``prune``, the entities that must stop referencing one the plan deletes (or a warning in
    ``warnings``). Raises ``PlanError`` for a channel that would not resolve and, without
    ``deps``, for a reference the destination cannot resolve."""
    _check_channels(changes, destination, registry)
    added: list[Change] = []
    if selection.deps:
        closure = _closure(changes, source, destination, registry, selection.missing_only)
        for change, reason in closure:
            if selection.missing_only and change.action is not Action.CREATE:
                if left_alone is not None:
                    left_alone.append(LeftAlone(change.key, top_fields(change.fields), reason))
                continue
            added.append(change)
            reasons[change.key] = reason
    else:
        _check_resolvable(changes, source, destination, registry)
    if selection.prune:
        added.extend(
            _stop_referencing([*changes, *added], source, destination, registry, reasons, warnings)
        )
    return added


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


def _closure(
    changes: Sequence[Change],
    source: Snapshot,
    destination: Snapshot,
    registry: Mapping[str, EntityKind],
    missing_only: bool = False,
) -> list[tuple[Change, str]]:
    """Operations for every referenced entity that is missing or different on the destination,
    transitively, each with the reason naming the first planned entity that needs it. With
    ``missing_only``, the references of an entity that only differs are not followed (the
    destination's record, which stays, already resolves its own)."""
    planned = {change.key for change in changes}
    rank = kind_rank(registry)
    pending = sorted(
        (c for c in changes if c.action is not Action.DELETE), key=lambda c: sort_key(c.key, rank)
    )
    added: list[tuple[Change, str]] = []
    index = 0
    while index < len(pending):
        change = pending[index]
        index += 1
        for ref in sorted_keys(references_of(registry, change.key, change.after), rank):
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
            if not missing_only or found.action is Action.CREATE:
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
        for ref in sorted(references_of(registry, change.key, change.after)):
            if ref.kind != channels.NAME or ref in created or destination.get(ref) is not None:
                continue
            missing.setdefault(ref.key, []).append(name_of(registry, change.key))
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
        for ref in sorted(references_of(registry, change.key, change.after)):
            if ref in writes:
                continue
            if ref.kind in destination.kinds and (destination.get(ref) is None or ref in deleted):
                missing.append(
                    f"{name_of(registry, change.key)} references {name_of(registry, ref)}, "
                    "which the destination does not have"
                )
            elif ref.kind not in destination.kinds:
                missing.append(
                    f"{name_of(registry, change.key)} references {name_of(registry, ref)}, and the "
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
            used = sorted(references_of(registry, entity, record) & deleted)
            if not used:
                continue
            after = source.get(entity)
            still = (
                references_of(registry, entity, after) & deleted if after is not None else set(used)
            )
            found = _change(entity, after, record) if after is not None else None
            if found is not None and not still:
                added.append(found)
                planned.add(entity)
                reasons[entity] = (
                    f"stops referencing {name_of(registry, used[0])} before its delete"
                )
            else:
                warnings.append(
                    f"{name_of(registry, entity)} is outside the selection and still references "
                    f"{', '.join(name_of(registry, u) for u in used)} on the destination, which "
                    "this plan deletes. Select it too, or leave out --prune."
                )
    return added
