"""diff: the selected entities that differ between the two snapshots."""

from __future__ import annotations

from collections.abc import Sequence

from stagesync.diff import diff_kind
from stagesync.model import Change, Snapshot
from stagesync.stages.plan.select import Selection


def diff(
    source: Snapshot, destination: Snapshot, kinds: Sequence[str], selection: Selection
) -> list[Change]:
    """Every change that makes a selected entity of ``kinds`` on the destination look like the
    source (deletes only with ``prune``), kind by kind."""
    changes: list[Change] = []
    for kind in kinds:
        for change in diff_kind(
            kind, source.records(kind), destination.records(kind), prune=selection.prune
        ):
            if selection.selects(change.key):
                changes.append(change)
    return changes
