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
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from typing import Any

import orjson

from stagesync.entities import (
    REFERENCED,
    REGISTRY,
    TARGETED,
    TARGETED_KEYS,
    WHOLE,
    WHOLE_KEYS,
    push_reads,
    with_dependencies,
)
from stagesync.entities.base import ListedWith, LiveId, Lookup, Raw
from stagesync.entities.common import DuplicateKey
from stagesync.model import KindSnapshot, Record, held_json
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


class _Reader:
    """The lookup, raw objects and stored objects of one live read, filled kind by kind."""

    def __init__(
        self,
        api: StoreApi,
        *,
        store: str,
        progress: Progress | None,
        verb: str,
        channel_names: Mapping[str, str] | None,
        keep: Keep | None,
        settings: Mapping[str, str] | None,
        wanted: Collection[str],
    ) -> None:
        self.api: StoreApi = SharedReads(api)
        self.store = store
        self.progress = progress or NoProgress()
        self.verb = verb
        self.keep = keep
        self.wanted = wanted
        self.lookup = Lookup(store)
        self.lookup.channel_names.update(channel_names or {})
        self.lookup.settings.update(settings or {})
        self.raws: dict[str, dict[str, Raw]] = {}
        self.stored: dict[str, dict[str, bytes]] = {}
        self.later: dict[str, list[Raw]] = {}
        """Kinds identified with the lookup (``identify_with``): identified once every kind is
        read."""
        self.riders: dict[str, ListedWith] = {}
        """Kinds read with another kind's listing (``EntityKind.listed_with``), not on their
        own: what ``ride`` found."""
        self.ridden: dict[str, asyncio.Future[list[Raw]]] = {}

    def ride(self, kinds: Collection[str]) -> None:
        """Read each of ``kinds`` that can ride on another listed kind's listing with it."""
        for kind in kinds:
            listed = REGISTRY[kind].listed_with
            if (
                listed is not None
                and listed.kind in kinds
                and REGISTRY[listed.kind].fetch_pages is not None
            ):
                self.riders[kind] = listed
                self.ridden[kind] = asyncio.get_running_loop().create_future()

    def take(
        self, kind: str, identified: Mapping[str, Raw], *, across_pages: bool, lean: bool = False
    ) -> None:
        """Put ``identified`` (key -> raw) in the lookup, and keep or store each raw object as
        ``keep`` says (never a ``lean`` one: it holds only its key and ID). An object read twice
        (by two filters) is taken once."""
        entity, keep, lookup = REGISTRY[kind], self.keep, self.lookup
        kept = keep.get(kind, ()) if keep is not None else None
        keeps_all = keep is None or (kind in keep and kept is None)
        retained = self.raws.setdefault(kind, {}) if keep is None or kind in keep else None
        store_raw = keep is not None and kind in self.wanted and kind not in keep
        compact = self.stored.setdefault(kind, {}) if store_raw else None
        for key, raw in identified.items():
            live_id = entity.live_id(raw)
            if across_pages and lookup.has(kind, key) and lookup.live_id_of(kind, key) != live_id:
                raise DuplicateKey(
                    f'{kind} "{key}" appears twice on {self.store} (ids '
                    f"{lookup.live_id_of(kind, key)} and {live_id}): stagesync addresses {kind} "
                    f"by this key, so it must be unique. Rename one of them in the store, then "
                    f"pull again."
                )
            lookup.add(kind, key, live_id)
            if lean:
                continue
            if retained is not None and (keeps_all or (kept is not None and key in kept)):
                retained[key] = raw
            elif compact is not None:
                compact[key] = held_json(raw)

    async def fetch(
        self,
        kind: str,
        read: Callable[[StoreApi], Awaitable[list[Raw]]] | None = None,
        *,
        task: str = "",
        lean: bool = False,
    ) -> None:
        """Read ``kind`` whole (``fetch_pages`` or ``fetch``), or with ``read`` instead."""
        entity, progress = REGISTRY[kind], self.progress
        task = task or f"{self.verb} {kind}"
        progress.start(task, None)
        count = 0
        with tallying() as tally:
            if read is None and entity.fetch_pages is not None and entity.identify_with is None:
                carried = {k: listed for k, listed in self.riders.items() if listed.kind == kind}
                taken: dict[str, list[Raw]] = {k: [] for k in carried}
                try:
                    also = [listed.include for listed in carried.values()]
                    async for page in entity.fetch_pages(self.api, also):
                        for rider, listed in carried.items():
                            taken[rider] += listed.take(page)
                        self.take(kind, entity.identify(page), across_pages=True)
                        count += len(page)
                        progress.advance(task, len(page))
                except Exception as error:  # the kinds waiting for this listing fail with it
                    for rider in carried:
                        self.ridden[rider].set_exception(error)
                    raise
                for rider, items in taken.items():
                    self.ridden[rider].set_result(items)
            else:
                if read is None and kind in self.ridden:
                    items = await self.ridden[kind]
                else:
                    items = await (read or entity.fetch)(self.api)
                count = len(items)
                if entity.identify_with is not None:
                    self.later.setdefault(kind, []).extend(items)
                else:
                    self.take(
                        kind, entity.identify(items), across_pages=read is not None, lean=lean
                    )
                progress.advance(task, count)
        if isinstance(progress, ProgressStats):
            progress.stats(
                task, requests=tally.requests, throttled=tally.throttled, retries=tally.retries
            )
        progress.advance(task, 0, count)
        progress.finish(task)

    def state(
        self, kinds: Sequence[str], needed: Sequence[str], lean: Collection[str] = ()
    ) -> LiveState:
        """Identify the kinds that need the lookup (dependencies first), then normalise what
        was kept of ``kinds``; ``lean`` kinds were read for their keys only."""
        for kind in needed:  # in dependency order: a kind's identify_with sees its dependencies
            if kind in self.later:
                identify_with = REGISTRY[kind].identify_with
                assert identify_with is not None
                identified = identify_with(self.later.pop(kind), self.lookup)
                self.take(kind, identified, across_pages=False, lean=kind in lean)
        records = {
            kind: {
                key: REGISTRY[kind].normalise(key, raw, self.lookup)
                for key, raw in self.raws.get(kind, {}).items()
            }
            for kind in kinds
            if kind not in self.stored
        }
        return LiveState(lookup=self.lookup, raws=self.raws, records=records, stored=self.stored)


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
    needed = with_dependencies(kinds)
    reader = _Reader(
        api,
        store=store,
        progress=progress,
        verb=verb,
        channel_names=channel_names,
        keep=keep,
        settings=settings,
        wanted=set(kinds),
    )
    reader.ride(needed)
    await asyncio.gather(*(reader.fetch(kind) for kind in needed))
    return reader.state(kinds, needed)


async def read_targeted(
    api: StoreApi,
    keys: Mapping[str, Collection[str]],
    references: Mapping[str, Collection[str]],
    *,
    absent: Mapping[str, Collection[str]] | None = None,
    store: str,
    progress: Progress | None = None,
    verb: str = "read",
    channel_names: Mapping[str, str] | None = None,
    settings: Mapping[str, str] | None = None,
) -> LiveState:
    """The live state of the entities ``keys`` names (kind -> keys: a push's operations), and
    the IDs of what they and ``references`` (kind -> keys the plan's records point at) need,
    each kind read as ``entities.push_reads`` decides. Of the keys in ``absent`` (ones that
    should not exist: creates) only whether they exist is read, where the kind can say so
    cheaply (``LiveState.lookup`` has them; no raw object or record):

    1. every kind read whole, and the named entities of targeted kinds, by key (all at once);
    2. the entities those objects reference by ID, for their keys (``TargetedRead.names``);
    3. the referenced keys still unknown, for their IDs.

    Only the named entities are kept and normalised. A key absent from what the filters answer
    does not exist on the store: the filters never answer less than asked for."""
    modes = push_reads(keys)
    touched = [kind for kind in modes if kind in keys]
    reader = _Reader(
        api,
        store=store,
        progress=progress,
        verb=verb,
        channel_names=channel_names,
        keep={kind: set(keys[kind]) for kind in touched},
        settings=settings,
        wanted=set(touched),
    )

    def by_keys(kind: str, wanted: list[str]) -> Callable[[StoreApi], Awaitable[list[Raw]]]:
        targeted = REGISTRY[kind].targeted
        assert targeted is not None and targeted.by_keys is not None
        read = targeted.by_keys
        return lambda store_api: read(store_api, wanted)

    def first(kind: str) -> list[Awaitable[None]]:
        mode = modes[kind]
        reads: list[Awaitable[None]] = []
        if mode in (TARGETED, TARGETED_KEYS):
            # Creates: the whole key listing (``TARGETED_KEYS``) or a lean read says if they exist.
            lean = mode == TARGETED_KEYS or REGISTRY[kind].referable
            creates = set((absent or {}).get(kind, ())) if lean else set()
            reads.append(reader.fetch(kind, by_keys(kind, sorted(set(keys[kind]) - creates))))
            if creates and mode == TARGETED:
                reads.append(_lean(reader, kind, keys=sorted(creates), label="absent"))
        if mode in (TARGETED_KEYS, WHOLE_KEYS):
            task = f"{verb} {kind} (keys)" if mode == TARGETED_KEYS else ""
            reads.append(reader.fetch(kind, REGISTRY[kind].fetch_keys, task=task, lean=True))
        if mode == WHOLE:
            reads.append(reader.fetch(kind))
        return reads

    await asyncio.gather(*(read for kind in modes for read in first(kind)))
    lean_kinds = {
        k for k, m in modes.items() if m in (REFERENCED, TARGETED) and REGISTRY[k].referable
    }
    named: dict[str, set[LiveId]] = {}
    for kind in touched:
        targeted = REGISTRY[kind].targeted
        if modes[kind] not in (TARGETED, TARGETED_KEYS) or targeted is None:
            continue
        for raw in reader.raws.get(kind, {}).values():
            for other, live_id in targeted.names(raw):
                if other in lean_kinds and not reader.lookup.has_id(other, live_id):
                    named.setdefault(other, set()).add(live_id)
    await asyncio.gather(
        *(_lean(reader, kind, ids=sorted(named[kind], key=str)) for kind in sorted(named))
    )
    unknown = {
        kind: sorted(
            key
            for key in references.get(kind, ())
            if not reader.lookup.has(kind, key) and key not in keys.get(kind, ())
        )
        for kind in lean_kinds
    }
    await asyncio.gather(
        *(_lean(reader, kind, keys=unknown[kind]) for kind in sorted(unknown) if unknown[kind])
    )
    lean = [kind for kind, mode in modes.items() if mode in (WHOLE_KEYS, REFERENCED)]
    return reader.state(touched, list(modes), lean=lean)


async def _lean(
    reader: _Reader,
    kind: str,
    *,
    ids: Sequence[LiveId] = (),
    keys: Sequence[str] = (),
    label: str = "referenced",
) -> None:
    """Read ``kind``'s entities of ``ids`` or ``keys`` for their keys and IDs only (progress
    task ``<verb> <kind> (<label>)``)."""
    targeted = REGISTRY[kind].targeted
    assert targeted is not None
    by_ids, by_keys = targeted.lean_by_ids, targeted.lean_by_keys
    assert by_ids is not None and by_keys is not None

    async def read(api: StoreApi) -> list[Raw]:
        return await (by_ids(api, ids) if ids else by_keys(api, keys))

    await reader.fetch(kind, read, task=f"{reader.verb} {kind} ({label})", lean=True)
