"""Price lists, keyed by name (``/v3/pricelists``): the record is ``name`` and ``active``.
Their records and assignments are kinds of their own."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from stagesync.entities.base import EntityKind, LiveId, Lookup, Raw, TargetedRead
from stagesync.entities.common import ids_in, listed, one_each, unique_by_key, without
from stagesync.model import EntityKey, Record, Snapshot
from stagesync.ports import StoreApi

PATH = "/v3/pricelists"
READ_ONLY = ("id", "date_created", "date_modified")


async def fetch(api: StoreApi) -> list[Raw]:
    return await api.get_all(PATH)


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key("price_lists", raws, lambda raw: str(raw["name"]))


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    return without(raw, READ_ONLY)


def references(key: str, record: Record) -> Iterable[EntityKey]:
    return ()


async def by_names(api: StoreApi, keys: Sequence[str]) -> list[Raw]:
    """Price lists named ``keys``, whole (a price list is its name and ``active``): one ``name``
    request each, as the list documents no ``name:in``."""
    # ASSUMPTION_PRICE_LISTS_FILTER_NAME: the filter answers the price list of that name.
    return await listed(api, PATH, one_each("name", keys))


def by_names_requests(keys: Sequence[str], destination: Snapshot) -> int:
    return len(keys)


async def by_ids(api: StoreApi, ids: Sequence[LiveId]) -> list[Raw]:
    """Price lists of ``ids`` by ``id:in``, 150 a request."""
    # ASSUMPTION_PRICE_LISTS_FILTER_ID_IN: the filter answers those price lists.
    return await listed(api, PATH, ids_in(ids))


TARGETED = TargetedRead(
    how="`name`, one request a price list (no `name:in`); those live objects name by `id:in`, "
    "150 a request",
    by_keys=by_names,
    requests=by_names_requests,
    lean_by_keys=by_names,
    lean_key_requests=len,
    lean_by_ids=by_ids,
)


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    created = await api.post(PATH, record, entity=f"price list {key}")
    return int(created["id"])


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    await api.put(f"{PATH}/{live['id']}", record, entity=f"price list {key}")


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await api.delete(f"{PATH}/{live['id']}", entity=f"price list {key}")


KIND = EntityKind(
    name="price_lists",
    singular="price list",
    display_name="Price Lists",
    fetch=fetch,
    identify=identify,
    live_id=lambda raw: int(raw["id"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    targeted=TARGETED,
)
