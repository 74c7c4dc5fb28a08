"""Small pieces every entity module uses: dropping fields, keying lists, syncing child lists."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from stagesync.entities.base import IDS_PER_REQUEST, LiveId, Raw, packed
from stagesync.errors import StageSyncError
from stagesync.model import Record, digest
from stagesync.ports import Params, StoreApi

T = TypeVar("T")


def chunked(items: Sequence[T], size: int) -> list[list[T]]:
    """Consecutive lists of at most ``size`` items (a batch endpoint's limit)."""
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, got {size}")
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


Query = dict[str, str]


async def listed(
    api: StoreApi, path: str, queries: Iterable[Query], extra: Params | None = None
) -> list[Raw]:
    """Every object ``path`` lists under each of ``queries`` (each with ``extra``), read
    concurrently, in one list (an object two filters match comes twice)."""
    found = await asyncio.gather(
        *(api.get_all(path, {**query, **(extra or {})}) for query in queries)
    )
    return [raw for raws in found for raw in raws]


def in_queries(name: str, values: Sequence[str], most: int) -> list[Query]:
    """The filters that find objects whose ``name`` is one of ``values``: ``name:in`` packed
    ``most`` to a request inside the URL budget (``packed``), and ``name`` alone for a value with
    a comma, which ``:in`` would split."""
    plain = [v for v in values if "," not in v]
    return [{f"{name}:in": ",".join(group)} for group in packed(plain, most)] + [
        {name: v} for v in values if "," in v
    ]


def one_each(name: str, values: Iterable[str]) -> list[Query]:
    """One ``name`` filter per value: for lists that document no ``name:in``."""
    return [{name: value} for value in values]


def ids_in(ids: Sequence[LiveId]) -> list[Query]:
    """``id:in`` filters for ``ids``, ``IDS_PER_REQUEST`` a request."""
    return [{"id:in": ",".join(map(str, group))} for group in chunked(ids, IDS_PER_REQUEST)]


class DuplicateKey(StageSyncError):
    """Two live objects of one kind share a natural key, so neither can be addressed by it."""


def without(obj: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """A copy of ``obj`` minus ``fields`` (read-only, ID or separately handled fields)."""
    drop = set(fields)
    return {name: value for name, value in obj.items() if name not in drop}


def unique_by_key(
    kind: str, raws: Iterable[Raw], key_of: Callable[[Raw], str], store: str = "the store"
) -> dict[str, Raw]:
    """Key -> raw object; a duplicate key is an error naming both objects."""
    out: dict[str, Raw] = {}
    for raw in raws:
        key = key_of(raw)
        if key in out:
            raise DuplicateKey(
                f'{kind} "{key}" appears twice on {store} (ids {out[key].get("id")} and '
                f"{raw.get('id')}): stagesync addresses {kind} by this key, so it must be unique. "
                f"Rename one of them in the store, then pull again."
            )
        out[key] = raw
    return out


async def sync_children(
    desired: Mapping[str, Record],
    live: Mapping[str, tuple[int, Record]],
    *,
    create: Callable[[str, Record], Awaitable[None]],
    update: Callable[[int, str, Record], Awaitable[None]],
    delete: Callable[[int, str], Awaitable[None]],
) -> None:
    """Make a live child list (id, normalised record by key) match ``desired`` with the fewest
    writes: delete what is gone, update what differs, create what is new, in that order (so a
    freed unique value can be reused)."""
    for key in sorted(set(live) - set(desired)):
        await delete(live[key][0], key)
    for key in sorted(set(desired) & set(live)):
        live_id, live_record = live[key]
        if digest(live_record) != digest(desired[key]):
            await update(live_id, key, desired[key])
    for key in sorted(set(desired) - set(live)):
        await create(key, desired[key])
