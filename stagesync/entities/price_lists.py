"""Price lists, keyed by name (``/v3/pricelists``): the record is ``name`` and ``active``.
Their records and assignments are kinds of their own."""

from __future__ import annotations

from collections.abc import Iterable

from stagesync.entities.base import EntityKind, Lookup, Raw
from stagesync.entities.common import unique_by_key, without
from stagesync.model import EntityKey, Record
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
)
