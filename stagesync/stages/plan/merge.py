"""merge: a three-way plan keeps what changed on the destination since the base.

Between select (and its guard) and diff. Given the base (the destination as the last push left
it), the stage hands the later stages a view of the source in which every entity is the
three-way merge of base, source and destination, field by top-level field:

- a field changed only in the source since the base takes the source's value (planned);
- a field changed only on the destination keeps the destination's value (``Kept``: not
  reverted);
- a field changed on both, to different values, is a ``Conflict`` carrying the three values; the
  view keeps the destination's value unless a ``--resolve`` pattern says ``source``.

Whole records follow the same rules (``WHOLE_RECORD``): created or deleted on the destination
alone is kept; deleted on one side and changed on the other is a conflict. A kind the base does
not hold is planned two-way. Pure: no files, no HTTP.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from stagesync.errors import PlanError, PlanRefused
from stagesync.model import (
    WHOLE_RECORD,
    Conflict,
    ConflictField,
    EntityKey,
    Kept,
    KindSnapshot,
    Plan,
    Record,
    Snapshot,
    canonical_json,
)
from stagesync.stages.plan.select import Selection

SIDES = ("source", "destination")


@dataclass(frozen=True)
class Resolution:
    """``KIND:GLOB=source|destination``: which side wins the conflicts of matching entities."""

    kind: str
    pattern: str
    side: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.pattern}={self.side}"

    def matches(self, kind: str, key: str) -> bool:
        return kind == self.kind and fnmatch.fnmatchcase(key, self.pattern)


def parse_resolution(text: str, kinds: Sequence[str]) -> Resolution:
    """``products:SHOE-*=source`` -> ``Resolution``. Raises ``PlanError`` naming the pattern
    and what it should look like."""
    target, _, side = text.rpartition("=")
    kind, _, pattern = target.partition(":")
    if not target or not pattern or side not in SIDES:
        raise PlanError(
            f"--resolve {text!r}: expected KIND:GLOB=source or KIND:GLOB=destination "
            "(products:SHOE-*=source)."
        )
    if kind not in kinds:
        raise PlanError(
            f"--resolve {text!r}: unknown kind {kind!r}; use one of {', '.join(sorted(kinds))}."
        )
    return Resolution(kind, pattern, side)


@dataclass(frozen=True)
class Merged:
    """The source the later stages plan from, and what the merge kept and found in conflict."""

    source: Snapshot
    conflicts: tuple[Conflict, ...] = ()
    kept: tuple[Kept, ...] = ()
    warnings: tuple[str, ...] = ()


def merge(
    source: Snapshot,
    destination: Snapshot,
    base: Snapshot,
    kinds: Sequence[str],
    selection: Selection,
    resolutions: Sequence[Resolution] = (),
) -> Merged:
    """The three-way view of ``source`` against ``destination`` since ``base``, for every kind
    of the source the base holds; conflicts and kept changes are reported for the selected
    entities of ``kinds``."""
    view: dict[str, KindSnapshot] = dict(source.kinds)
    conflicts: list[Conflict] = []
    kept: list[Kept] = []
    used: set[Resolution] = set()
    for kind in sorted(source.kinds):
        if kind not in base.kinds:
            continue
        mine, theirs, old = source.records(kind), destination.records(kind), base.records(kind)
        records: dict[str, Record] = {}
        for key in sorted(set(mine) | set(theirs) | set(old)):
            ours, dest, was = mine.get(key), theirs.get(key), old.get(key)
            shown = kind in kinds and selection.selects(EntityKey(kind, key))
            found = _merge_entity(ours, dest, was)
            chosen = found.record
            if found.conflict:
                rule = next((r for r in resolutions if r.matches(kind, key)), None)
                side = rule.side if rule is not None else None
                if rule is not None:
                    used.add(rule)
                    if side == "source":
                        chosen = found.resolved
                if shown:
                    conflicts.append(Conflict(kind, key, found.conflict, side))
            if found.kept and shown:
                kept.append(Kept(kind, key, found.kept))
            if chosen is not None:
                records[key] = chosen
        view[kind] = KindSnapshot(records)
    warnings = tuple(
        f"--resolve {rule} matches no conflict" for rule in resolutions if rule not in used
    )
    return Merged(replace(source, kinds=view), tuple(conflicts), tuple(kept), warnings)


@dataclass(frozen=True)
class _Entity:
    record: Record | None
    """What the destination should hold (conflicts: the destination's side)."""
    resolved: Record | None = None
    """What it should hold when the conflicts go to the source."""
    conflict: tuple[ConflictField, ...] = ()
    kept: tuple[str, ...] = ()


def _same(left: Any, right: Any) -> bool:
    return canonical_json(left) == canonical_json(right)


def _merge_entity(ours: Record | None, dest: Record | None, was: Record | None) -> _Entity:
    if _same(ours, dest):
        return _Entity(ours)
    if _same(ours, was):  # changed on the destination alone
        fields = _changed_fields(was, dest) if was and dest else (WHOLE_RECORD,)
        return _Entity(dest, kept=fields)
    if _same(dest, was):  # changed in the source alone
        return _Entity(ours)
    if ours is None or dest is None:
        whole = ConflictField(WHOLE_RECORD, was, ours, dest)
        return _Entity(dest, resolved=ours, conflict=(whole,))
    old = was or {}
    merged, resolved = dict(dest), dict(dest)
    conflict: list[ConflictField] = []
    kept: list[str] = []
    for name in sorted(set(ours) | set(dest) | set(old)):
        mine, theirs, before = ours.get(name), dest.get(name), old.get(name)
        source_changed = not _same(mine, before) or (name in ours) != (name in old)
        dest_changed = not _same(theirs, before) or (name in dest) != (name in old)
        if source_changed and dest_changed and not _same(mine, theirs):
            conflict.append(ConflictField(name, before, mine, theirs))
            _put(resolved, name, ours)
        elif source_changed:
            _put(merged, name, ours)
            _put(resolved, name, ours)
        elif dest_changed:
            kept.append(name)
    return _Entity(merged, resolved=resolved, conflict=tuple(conflict), kept=tuple(kept))


def _put(record: Record, name: str, source: Record) -> None:
    if name in source:
        record[name] = source[name]
    else:
        record.pop(name, None)


def _changed_fields(before: Record, after: Record) -> tuple[str, ...]:
    names = set(before) | set(after)
    return tuple(
        sorted(
            n
            for n in names
            if (n in before) != (n in after) or not _same(before.get(n), after.get(n))
        )
    )


def refuse_conflicts(plan: Plan, store: str) -> PlanRefused | None:
    """Push's refusal of a plan with unresolved conflicts, listing each (None when there are
    none)."""
    unresolved = plan.unresolved
    if not unresolved:
        return None
    names = [f"{c.kind} {c.key} ({', '.join(f.path for f in c.fields)})" for c in unresolved]
    shown = "; ".join(names[:5]) + (f"; and {len(names) - 5} more" if len(names) > 5 else "")
    return PlanRefused(
        f"the plan for {store} has {len(unresolved)} unresolved conflict"
        f"{'' if len(unresolved) == 1 else 's'} (changed on both sides since the base): {shown}. "
        "Nothing was written. Re-plan with stagesync diff ... --resolve KIND:GLOB=source or "
        "=destination, or edit the source and re-plan."
    )
