"""The base of a destination: its state right after the last successful push.

A base is a snapshot folder like any other, kept in the snapshots folder at
``.bases/<environment>`` beside the destination's own snapshot (``snapshots/.bases/production``
for ``snapshots/production``) and committed to git with it. Push records it
(``stages/push/record.py``); ``stagesync diff`` merges three ways against it and
``stagesync drift`` lists what changed on the store since it. Pull never writes it.

Push records the plan's after-state applied to the destination snapshot the plan was made
from, rather than reading the whole store again: each entity a done operation wrote is as the
plan says; each other entity the plan named is as push read it just before writing; every
other entity is as the snapshot holds it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from stagesync.diff import diff
from stagesync.errors import PlanError, StageSyncError
from stagesync.model import Action, Change, KindSnapshot, Plan, Record, Snapshot, digest
from stagesync.snapshot import MANIFEST, read_snapshot, write_snapshot

BASES = ".bases"
"""The folder of bases inside the snapshots folder."""


def base_folder(snapshot_folder: Path, environment: str) -> Path:
    """Where the base of ``environment`` lives, beside its snapshot folder."""
    return Path(snapshot_folder).parent / BASES / environment


def read_base(
    destination_folder: Path,
    destination: Snapshot,
    given: Path | None,
    kinds: Iterable[str] | None,
) -> Snapshot | None:
    """The base a diff merges against: ``given``, else the destination's recorded base when
    there is one (None otherwise). Raises ``PlanError`` when the base is of another store."""
    folder = given
    if folder is None:
        if destination.environment is None:
            return None
        folder = base_folder(destination_folder, destination.environment)
        if not (folder / MANIFEST).is_file():
            return None
    base = read_snapshot(folder, kinds)
    if base.store_hash and destination.store_hash and base.store_hash != destination.store_hash:
        raise PlanError(
            f"the base {folder} is of store {base.store_hash}, not of the destination's store "
            f"{destination.store_hash}: pass the destination's base with --base, or --no-base.",
            path=str(folder),
        )
    return base


def made_from(plan: Plan, snapshot: Snapshot) -> bool:
    """Whether ``snapshot`` is the destination snapshot ``plan`` was made from: every planned
    entity as its precondition says (absent for a create)."""
    for op in plan.operations:
        if op.is_link:
            continue
        record = snapshot.get(op.key)
        if op.kind not in snapshot.kinds:
            return False
        if (None if record is None else digest(record)) != op.precondition:
            return False
    return True


def after_push(
    snapshot: Snapshot,
    plan: Plan,
    done: Iterable[str],
    read: Mapping[str, Mapping[str, Record]],
    pushed_at: str,
) -> Snapshot:
    """``snapshot`` (the destination the plan was made from) as the push left the store: the
    operations in ``done`` (op ids) applied in plan order, every other entity the plan names as
    ``read`` (kind -> key -> record, as push read it before writing) holds it."""
    finished = set(done)
    kinds = {kind: dict(snapshot.records(kind)) for kind in snapshot.kinds}
    for op in plan.operations:
        records = kinds.setdefault(op.kind, {})
        if op.id in finished:
            after = op.after
            if op.action is Action.DELETE or after is None:
                records.pop(op.key.key, None)
            else:
                records[op.key.key] = after
        elif op.kind in read and not op.is_link:
            current = read[op.kind].get(op.key.key)
            if current is None:
                records.pop(op.key.key, None)
            else:
                records[op.key.key] = current
    return replace(
        snapshot,
        kinds={kind: KindSnapshot(records) for kind, records in kinds.items()},
        pulled_at=pushed_at,
    )


def destination_snapshot(environment: str, *places: Path) -> Path:
    """Where the destination's snapshot is: ``snapshots/<environment>`` in the current folder,
    else in the first of ``places`` (the configuration's folder, the plan's) that holds one; the
    current folder's when none does."""
    candidates = [Path("snapshots") / environment]
    candidates += [place / "snapshots" / environment for place in places]
    return next((c for c in candidates if (c / MANIFEST).is_file()), candidates[0])


def record_base(
    snapshot_folder: Path,
    plan: Plan,
    done: Iterable[str],
    read: Mapping[str, Mapping[str, Record]],
    pushed_at: str,
) -> Path | str:
    """Write the destination's base after a push (``after_push`` of the snapshot at
    ``snapshot_folder``): its folder, or why none was written."""
    if not (snapshot_folder / MANIFEST).is_file():
        return f"no base recorded: the destination snapshot {snapshot_folder} does not exist"
    try:
        snapshot = read_snapshot(snapshot_folder)
        if not made_from(plan, snapshot):
            return (
                f"no base recorded: {snapshot_folder} is not the snapshot the plan was made from "
                "(pull the destination again to start from a fresh base)"
            )
        environment = snapshot.environment or plan.destination.environment or snapshot_folder.name
        folder = base_folder(snapshot_folder, environment)
        write_snapshot(folder, after_push(snapshot, plan, done, read, pushed_at))
    except StageSyncError as error:  # the push is done: say why there is no base, not fail it
        return f"no base recorded: {error}"
    return folder


@dataclass(frozen=True)
class Drift:
    """What changed on a store since its base (``stagesync drift``)."""

    environment: str
    base: Path
    base_pulled_at: str | None
    changes: tuple[Change, ...]
    """Per entity: ``before`` as the base holds it, ``after`` as the store holds it now (a
    CREATE: added on the store; a DELETE: deleted there)."""
    requests: int = 0

    @property
    def drifted(self) -> bool:
        return bool(self.changes)


def drift_since(base: Snapshot, live: Snapshot) -> tuple[Change, ...]:
    """Every entity of the base's kinds that differs on the store now, field by field."""
    return tuple(diff(live, base, kinds=sorted(base.kinds), prune=True))
