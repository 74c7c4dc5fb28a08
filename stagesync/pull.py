"""Read a live store into ID-free records. Pull writes them as a snapshot; push checks its plan's
preconditions against them and resolves natural keys to live IDs with the same lookup.

Memory: a store can hold 100,000 products, so nothing here needs a whole kind in memory as raw API
objects and records at once. Kinds with ``fetch_pages`` are read page by page: each page is
identified as it arrives, its keys and IDs go into the lookup, and each raw object is then either
kept (``keep``: the entities a push touches), stored as compact JSON bytes to be normalised later
one at a time (``LiveState.iter_records``: what pull writes), or dropped (kinds read only for
their IDs). Normalising waits until every kind is read, because records name other entities (and
other products) by key through the lookup.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from stagesync.entities import REGISTRY, with_dependencies
from stagesync.entities.base import Lookup, Raw
from stagesync.entities.common import DuplicateKey
from stagesync.model import KindSnapshot, Record
from stagesync.ports import NoProgress, Params, Progress, ProgressStats, StoreApi, tallying

Keep = Mapping[str, Collection[str] | None]
"""Kind -> the keys whose raw objects and records ``read_live`` keeps (None: every key)."""


@dataclass(repr=False)
class LiveState:
    """One store as it is now: the ID lookup, and raw objects and records by kind and key."""

    lookup: Lookup
    raws: dict[str, dict[str, Raw]]
    """Raw objects kept (every fetched kind without ``keep``; with it, only the keys it names)."""
    records: dict[str, dict[str, Record]]
    """Normalised records of the kept raw objects, for the kinds asked for (not the ones fetched
    only for their IDs)."""
    stored: dict[str, dict[str, bytes]] = field(default_factory=dict)
    """Kinds asked for but not kept: each raw object as compact JSON, normalised on demand."""

    def __repr__(self) -> str:
        # Short on purpose: asyncio formats a finished task's result with repr, and the default
        # one would spell out every object of the store.
        counts = {kind: len(self.keys(kind)) for kind in sorted({*self.records, *self.stored})}
        return f"LiveState({counts})"

    def keys(self, kind: str) -> list[str]:
        """Every key of ``kind`` read (kept or stored), sorted."""
        return sorted(self.stored[kind] if kind in self.stored else self.records.get(kind, {}))

    def iter_records(self, kind: str) -> Iterator[tuple[str, Record]]:
        """(key, record) of every entity of ``kind``, in key order, normalised one at a time."""
        if kind not in self.stored:
            records = self.records.get(kind, {})
            for key in sorted(records):
                yield key, records[key]
            return
        entity, stored = REGISTRY[kind], self.stored[kind]
        for key in sorted(stored):
            yield key, entity.normalise(key, orjson.loads(stored[key]), self.lookup)

    def iter_raws(self, kind: str) -> Iterator[Raw]:
        """Every raw object of ``kind`` read (kept or stored), one at a time."""
        if kind in self.stored:
            yield from (orjson.loads(data) for data in self.stored[kind].values())
        else:
            yield from self.raws.get(kind, {}).values()

    def kinds(self) -> dict[str, KindSnapshot]:
        """Every kind asked for, as whole snapshots (holds every record in memory)."""
        names = sorted(set(self.records) | set(self.stored))
        return {kind: KindSnapshot(dict(self.iter_records(kind))) for kind in names}


def _compact(raw: Raw) -> bytes:
    """``raw`` as JSON, in a bytes object of its exact size (orjson hands out bytes with a 32 KiB
    allocation behind each, which held a whole kind would multiply memory several times)."""
    return bytes(memoryview(orjson.dumps(raw)))


class SharedReads:
    """The store API for one live read: a listing several kinds ask for (price lists, shipping
    zones, channels) goes to the store once, and every caller gets its own copy (fetches
    annotate the objects they get). Everything else goes straight through."""

    def __init__(self, api: StoreApi) -> None:
        self._api = api
        self._lists: dict[tuple[str, tuple[tuple[str, str], ...], int], asyncio.Task[bytes]] = {}
        self.store_hash = api.store_hash

    @property
    def requests_made(self) -> int:
        return self._api.requests_made

    async def get_all(
        self, path: str, params: Params | None = None, *, limit: int = 250
    ) -> list[Any]:
        key = (path, tuple(sorted((k, str(v)) for k, v in (params or {}).items())), limit)
        task = self._lists.get(key)
        if task is None:
            task = asyncio.ensure_future(self._listing(path, params, limit))
            self._lists[key] = task
        items: list[Any] = orjson.loads(await task)
        return items

    async def _listing(self, path: str, params: Params | None, limit: int) -> bytes:
        return orjson.dumps(await self._api.get_all(path, params, limit=limit))

    async def get(self, path: str, params: Params | None = None) -> Any:
        return await self._api.get(path, params)

    def pages(
        self, path: str, params: Params | None = None, *, limit: int = 250
    ) -> AsyncIterator[list[Any]]:
        return self._api.pages(path, params, limit=limit)

    async def post(self, path: str, json: Any, *, entity: str | None = None) -> Any:
        return await self._api.post(path, json, entity=entity)

    async def put(self, path: str, json: Any, *, entity: str | None = None) -> Any:
        return await self._api.put(path, json, entity=entity)

    async def delete(
        self,
        path: str,
        params: Params | None = None,
        *,
        entity: str | None = None,
        json: Any = None,
    ) -> None:
        await self._api.delete(path, params, entity=entity, json=json)

    async def upload(
        self, path: str, field: str, filename: str, content: bytes, *, entity: str | None = None
    ) -> Any:
        return await self._api.upload(path, field, filename, content, entity=entity)

    async def download(self, url: str) -> bytes:
        return await self._api.download(url)

    async def graphql(
        self, query: str, variables: Mapping[str, Any] | None = None, *, entity: str | None = None
    ) -> Any:
        return await self._api.graphql(query, variables, entity=entity)


async def read_live(
    api: StoreApi,
    kinds: Sequence[str],
    *,
    store: str,
    progress: Progress | None = None,
    verb: str = "pull",
    channel_names: Mapping[str, str] | None = None,
    keep: Keep | None = None,
    settings: Mapping[str, str] | None = None,
) -> LiveState:
    """Fetch ``kinds`` (and the kinds their records reference, for their IDs) and normalise them.
    Progress tasks are named ``<verb> <kind>``. ``channel_names`` (channel key -> name on this
    store, from ``[environments.NAME.channels]``) decides how channels are keyed.

    Without ``keep`` every raw object and every record of ``kinds`` is kept in memory. With it,
    only the raws and records of the keys it names are; the other kinds of ``kinds`` are stored
    compactly for ``LiveState.iter_records``, and kinds read for their IDs keep only the lookup.
    ``settings`` go to the lookup before anything is normalised (``stock``: record inventory).
    """
    progress = progress or NoProgress()
    needed = with_dependencies(kinds)
    shared: StoreApi = SharedReads(api)
    wanted = set(kinds)
    lookup = Lookup(store)
    lookup.channel_names.update(channel_names or {})
    lookup.settings.update(settings or {})
    raws: dict[str, dict[str, Raw]] = {}
    stored: dict[str, dict[str, bytes]] = {}
    later: dict[str, list[Raw]] = {}
    """Kinds identified with the lookup (``identify_with``): identified once every kind is read."""
    riders = {
        kind: listed
        for kind in needed
        if (listed := REGISTRY[kind].listed_with) is not None
        and listed.kind in needed
        and REGISTRY[listed.kind].fetch_pages is not None
    }
    """Kinds read with another kind's listing (``EntityKind.listed_with``), not on their own."""
    loop = asyncio.get_running_loop()
    ridden: dict[str, asyncio.Future[list[Raw]]] = {kind: loop.create_future() for kind in riders}

    def take(kind: str, identified: Mapping[str, Raw], *, across_pages: bool) -> None:
        entity = REGISTRY[kind]
        kept = keep.get(kind, ()) if keep is not None else None
        keeps_all = keep is None or (kind in keep and kept is None)
        retained = raws.setdefault(kind, {}) if keep is None or kind in keep else None
        store_raw = keep is not None and kind in wanted and kind not in keep
        compact = stored.setdefault(kind, {}) if store_raw else None
        for key, raw in identified.items():
            live_id = entity.live_id(raw)
            if across_pages and lookup.has(kind, key):
                raise DuplicateKey(
                    f'{kind} "{key}" appears twice on {store} (ids {lookup.live_id_of(kind, key)} '
                    f"and {live_id}): stagesync addresses {kind} by this key, so it must be "
                    f"unique. Rename one of them in the store, then pull again."
                )
            lookup.add(kind, key, live_id)
            if retained is not None and (keeps_all or (kept is not None and key in kept)):
                retained[key] = raw
            elif compact is not None:
                compact[key] = _compact(raw)

    async def fetch(kind: str) -> None:
        entity = REGISTRY[kind]
        task = f"{verb} {kind}"
        progress.start(task, None)
        count = 0
        with tallying() as tally:
            if entity.fetch_pages is not None and entity.identify_with is None:
                carried = {k: listed for k, listed in riders.items() if listed.kind == kind}
                taken: dict[str, list[Raw]] = {k: [] for k in carried}
                try:
                    also = [listed.include for listed in carried.values()]
                    async for page in entity.fetch_pages(shared, also):
                        for rider, listed in carried.items():
                            taken[rider] += listed.take(page)
                        take(kind, entity.identify(page), across_pages=True)
                        count += len(page)
                        progress.advance(task, len(page))
                except Exception as error:  # the kinds waiting for this listing fail with it
                    for rider in carried:
                        ridden[rider].set_exception(error)
                    raise
                for rider, items in taken.items():
                    ridden[rider].set_result(items)
            else:
                items = await (ridden[kind] if kind in ridden else entity.fetch(shared))
                count = len(items)
                if entity.identify_with is not None:
                    later[kind] = items
                else:
                    take(kind, entity.identify(items), across_pages=False)
                progress.advance(task, count)
        if isinstance(progress, ProgressStats):
            progress.stats(task, requests=tally.requests, throttled=tally.throttled)
        progress.advance(task, 0, count)
        progress.finish(task)

    await asyncio.gather(*(fetch(kind) for kind in needed))
    for kind in needed:  # in dependency order: a kind's identify_with sees its dependencies
        if kind in later:
            identify_with = REGISTRY[kind].identify_with
            assert identify_with is not None
            take(kind, identify_with(later.pop(kind), lookup), across_pages=False)
    records = {
        kind: {
            key: REGISTRY[kind].normalise(key, raw, lookup)
            for key, raw in raws.get(kind, {}).items()
        }
        for kind in kinds
        if kind not in stored
    }
    return LiveState(lookup=lookup, raws=raws, records=records, stored=stored)
