"""select: the kinds and entities a plan is about."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stagesync.errors import PlanError
from stagesync.model import EntityKey, Snapshot

if TYPE_CHECKING:
    from stagesync.entities.base import EntityKind


@dataclass(frozen=True)
class Selection:
    """What a plan is about: kinds, entity patterns, closure and prune."""

    kinds: tuple[str, ...] | None = None
    """Kinds selected; None: every kind in the source snapshot."""
    only: tuple[tuple[str, str], ...] = ()
    """(kind, glob on keys) patterns; empty: every entity of the selected kinds."""
    deps: bool = True
    """Bring along referenced entities that are missing or different on the destination."""
    missing_only: bool = False
    """With ``deps``: bring along only the referenced entities the destination lacks, and list
    the differing ones as left alone (``--deps missing``)."""
    prune: bool = False
    """Delete selected entities the destination has and the source lacks."""

    def selects(self, key: EntityKey) -> bool:
        if self.kinds is not None and key.kind not in self.kinds:
            return False
        if not self.only:
            return True
        return any(
            kind == key.kind and fnmatch.fnmatchcase(key.key, pattern)
            for kind, pattern in self.only
        )

    def kinds_in(self, source: Snapshot) -> tuple[str, ...]:
        """The selected kinds the source snapshot holds."""
        wanted = set(self.kinds) if self.kinds is not None else None
        if self.only:
            patterned = {kind for kind, _ in self.only}
            wanted = patterned if wanted is None else wanted & patterned
        return tuple(k for k in sorted(source.kinds) if wanted is None or k in wanted)


def select(
    source: Snapshot, registry: Mapping[str, EntityKind], selection: Selection
) -> tuple[str, ...]:
    """The selected kinds the source snapshot holds. Raises ``PlanError`` for a kind the
    registry does not know."""
    kinds = selection.kinds_in(source)
    for kind in kinds:
        if kind not in registry:
            raise PlanError(
                f"cannot plan {kind}: stagesync does not know the kind {kind!r}.",
            )
    return kinds


def unmatched(selection: Selection, source: Snapshot, destination: Snapshot) -> list[str]:
    """A warning for every ``--only`` pattern that matches no entity on either side."""
    warnings: list[str] = []
    for kind, pattern in selection.only:
        if not any(
            fnmatch.fnmatchcase(k, pattern)
            for k in (*source.records(kind), *destination.records(kind))
        ):
            warnings.append(f"--only {kind}:{pattern} matches no {kind} on either side.")
    return warnings
