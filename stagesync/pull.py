"""Read a live store into ID-free records. Pull writes them as a snapshot; push checks its plan's
preconditions against them and resolves natural keys to live IDs with the same lookup."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from stagesync.entities import REGISTRY, with_dependencies
from stagesync.entities.base import Lookup, Raw
from stagesync.model import KindSnapshot, Record
from stagesync.ports import NoProgress, Progress, ProgressStats, StoreApi, tallying


@dataclass
class LiveState:
    """One store as it is now: raw objects and records by kind and key, and the ID lookup."""

    lookup: Lookup
    raws: dict[str, dict[str, Raw]]
    records: dict[str, dict[str, Record]]
    """Normalised records, for the kinds asked for (not the ones fetched only for their IDs)."""

    def kinds(self) -> dict[str, KindSnapshot]:
        return {kind: KindSnapshot(records) for kind, records in self.records.items()}


async def read_live(
    api: StoreApi,
    kinds: Sequence[str],
    *,
    store: str,
    progress: Progress | None = None,
    verb: str = "pull",
    channel_names: Mapping[str, str] | None = None,
) -> LiveState:
    """Fetch ``kinds`` (and the kinds their records reference, for their IDs) and normalise them.
    Progress tasks are named ``<verb> <kind>``. ``channel_names`` (channel key -> name on this
    store, from ``[environments.NAME.channels]``) decides how channels are keyed."""
    progress = progress or NoProgress()
    needed = with_dependencies(kinds)

    async def fetch(kind: str) -> list[Raw]:
        task = f"{verb} {kind}"
        progress.start(task, None)
        with tallying() as tally:
            raws = await REGISTRY[kind].fetch(api)
        if isinstance(progress, ProgressStats):
            progress.stats(task, requests=tally.requests, throttled=tally.throttled)
        progress.advance(task, len(raws), len(raws))
        progress.finish(task)
        return raws

    fetched = await asyncio.gather(*(fetch(kind) for kind in needed))
    lookup = Lookup(store)
    lookup.channel_names.update(channel_names or {})
    raws: dict[str, dict[str, Raw]] = {}
    for kind, items in zip(needed, fetched, strict=True):
        entity = REGISTRY[kind]
        if entity.identify_with is not None:
            raws[kind] = entity.identify_with(items, lookup)
        else:
            raws[kind] = entity.identify(items)
        for key, raw in raws[kind].items():
            lookup.add(kind, key, entity.live_id(raw))
    records = {
        kind: {key: REGISTRY[kind].normalise(key, raw, lookup) for key, raw in raws[kind].items()}
        for kind in kinds
    }
    return LiveState(lookup=lookup, raws=raws, records=records)
