"""guard, a step of select: pseudonymised people never flow into production.

Into an environment whose ``role`` is ``production``, a plan never writes a pseudonymised
record of a person-bearing kind (``EntityKind.bears_people``: customers, orders, product
reviews, the B2B kinds), and never deletes a real one because the source holds only pseudonyms
(a source holding pseudonymised people, or marked redacted, deletes no real person).
Pseudonyms are recognised by their shape (``stagesync.redact``), so a source pulled from a
store that was itself filled from redacted data is caught as well as one pulled with
``--redact``. A record that references a pseudonymised one of these kinds (an invoice of a
pseudonymous order) counts as pseudonymised too.

The step hands the later stages a view of the source in which each such record is what the
destination holds (or absent), so no stage plans it, closure included; the plan says how many
were left out (``Plan.withheld``). Push checks the same rule again against what it reads
(``refuse_pseudonyms``). docs/redaction.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from stagesync.errors import PlanError, PlanRefused
from stagesync.model import (
    Action,
    Change,
    EntityKey,
    KindSnapshot,
    Plan,
    Record,
    Snapshot,
    Withheld,
    digest,
)
from stagesync.redact import holds_pseudonyms, is_pseudonymous
from stagesync.stages.plan.common import kind_order, references_of
from stagesync.stages.plan.select import Selection

if TYPE_CHECKING:
    from stagesync.entities.base import EntityKind
    from stagesync.pull import LiveState

GUARDED_ROLE = "production"


@dataclass(frozen=True)
class Guarded:
    """The source the later stages plan from, and what the guard left out of the selection."""

    source: Snapshot
    withheld: tuple[Withheld, ...] = ()


def guard(
    source: Snapshot,
    destination: Snapshot,
    registry: Mapping[str, EntityKind],
    kinds: Sequence[str],
    selection: Selection,
    role: str,
) -> Guarded:
    """The source with every pseudonymised record of a person-bearing kind replaced by the
    destination's (absent if it has none) and, with ``prune``, when the source holds
    pseudonymised people (or is marked redacted), every real destination record of these kinds
    kept; unchanged unless ``role`` is production. Counts only what the selection would have
    changed."""
    if role != GUARDED_ROLE:
        return Guarded(source)
    people = [k for k in kind_order(registry) if k in source.kinds and registry[k].bears_people]
    pseudonymised = _pseudonymised(source, registry, people)
    if not pseudonymised and source.redaction is None:
        return Guarded(source)
    view = dict(source.kinds)
    withheld: list[Withheld] = []
    for kind in people:
        own = {key for key in pseudonymised if key.kind == kind}
        records: dict[str, Record] = dict(source.records(kind))
        there = destination.records(kind)
        writes = deletes = 0
        for entity in own:
            after, before = records.pop(entity.key), there.get(entity.key)
            if before is not None:
                records[entity.key] = before
            if _counted(entity, kinds, selection) and (
                before is None or digest(before) != digest(after)
            ):
                writes += 1
        if selection.prune:
            entity_kind = registry[kind]
            for key, record in there.items():
                if key in records or is_pseudonymous(entity_kind, key, record):
                    continue
                records[key] = record
                deletes += _counted(EntityKey(kind, key), kinds, selection)
        view[kind] = KindSnapshot(records)
        if writes or deletes:
            withheld.append(Withheld(kind, writes, deletes))
    return Guarded(replace(source, kinds=view), tuple(withheld))


def _counted(key: EntityKey, kinds: Sequence[str], selection: Selection) -> bool:
    return key.kind in kinds and selection.selects(key)


def _pseudonymised(
    source: Snapshot, registry: Mapping[str, EntityKind], people: Sequence[str]
) -> set[EntityKey]:
    """Person-bearing records of the source that hold a pseudonym, or reference one that does
    (to a fixed point: a company's parent, a list's owner)."""
    found: set[EntityKey] = set()
    changed = True
    while changed:
        changed = False
        for kind in people:
            entity = registry[kind]
            for key, record in source.records(kind).items():
                at = EntityKey(kind, key)
                if at in found:
                    continue
                if holds_pseudonyms(entity, key, record) or (
                    found and references_of(registry, at, record) & found
                ):
                    found.add(at)
                    changed = True
    return found


def refuse_only_withheld(
    selection: Selection,
    kinds: Sequence[str],
    withheld: Sequence[Withheld],
    changes: Sequence[Change],
    registry: Mapping[str, EntityKind],
    destination: Snapshot,
) -> None:
    """A selection of person-bearing kinds alone (``--kinds customers``) whose every change the
    guard left out is a ``PlanError`` saying why, not an empty plan."""
    chosen = selection.kinds is not None or bool(selection.only)
    if not chosen or not withheld or changes:
        return
    if not all(registry[kind].bears_people for kind in kinds):
        return
    env = destination.environment or "the destination"
    table = f"[environments.{destination.environment or 'NAME'}]"
    counts = "; ".join(w.describe() for w in withheld)
    raise PlanError(
        f"nothing to plan: the selection ({', '.join(kinds)}) holds only pseudonymised people "
        f"({counts}) and {env}'s role is production. stagesync never writes pseudonymised "
        "customers, orders or B2B people to production, nor deletes real ones in their place. "
        "Move the catalogue and content only (leave these kinds out of --kinds), or, if "
        f'{env} is not production, set role = "staging" in its {table} table.'
    )


def refuse_pseudonyms(
    plan: Plan, live: LiveState, registry: Mapping[str, EntityKind], *, role: str, store: str
) -> PlanRefused | None:
    """Push's check of the same rule against what it read: into production, an operation that
    writes a pseudonymised person-bearing record, or deletes a real one when the plan's source
    holds pseudonymised people (as its ``withheld``, its source's redaction marker or its own
    writes say), refuses the whole plan (a plan edited by hand)."""
    if role != GUARDED_ROLE:
        return None
    writes, deletes = [], []
    for op in plan.operations:
        entity = registry.get(op.kind)
        after = op.after
        if entity is None or not entity.bears_people or after is None:
            continue
        if holds_pseudonyms(entity, op.key.key, after):
            writes.append(op)
    pseudonymous_source = bool(plan.withheld or plan.source.redaction or writes)
    for op in plan.operations:
        entity = registry.get(op.kind)
        if op.action is not Action.DELETE or entity is None or not entity.bears_people:
            continue
        current = live.records.get(op.kind, {}).get(op.key.key)
        if (
            pseudonymous_source
            and current is not None
            and not is_pseudonymous(entity, op.key.key, current)
        ):
            deletes.append(op)
    if not writes and not deletes:
        return None
    listing = "\n".join(f"  - {op.describe()}" for op in [*writes, *deletes][:20])
    more = len(writes) + len(deletes) - 20
    if more > 0:
        listing += f"\n  ... and {more} more"
    what = []
    if writes:
        what.append(f"writes {len(writes)} pseudonymised record(s) of people")
    if deletes:
        what.append(f"deletes {len(deletes)} real one(s) its source holds only pseudonyms for")
    return PlanRefused(
        f"{store} has the role production, and this plan {' and '.join(what)}, so nothing was "
        f"written:\n{listing}\nMake the plan again with "
        "stagesync diff, which leaves them out (docs/redaction.md); if this store is not "
        'production, set role = "staging" for it in stagesync.toml.'
    )
