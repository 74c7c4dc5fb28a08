"""Brands, keyed by name (``/v3/catalog/brands``)."""

from __future__ import annotations

from collections.abc import Iterable

from stagesync.entities.base import EntityKind, Lookup, Raw
from stagesync.entities.common import unique_by_key, without
from stagesync.model import EntityKey, Record
from stagesync.ports import StoreApi

PATH = "/v3/catalog/brands"
READ_ONLY = ("id",)


async def fetch(api: StoreApi) -> list[Raw]:
    return await api.get_all(PATH)


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key("brands", raws, lambda raw: str(raw["name"]))


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = without(raw, READ_ONLY)
    record["meta_keywords"] = sorted(record.get("meta_keywords") or [])
    return record


def references(key: str, record: Record) -> Iterable[EntityKey]:
    return ()


async def find(api: StoreApi, key: str, lookup: Lookup) -> Raw | None:
    found = await api.get_all(PATH, {"name": key})
    return next((raw for raw in found if raw.get("name") == key), None)


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    created = await api.post(PATH, record, entity=f"brand {key}")
    return int(created["id"])


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    await api.put(f"{PATH}/{live['id']}", record, entity=f"brand {key}")


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await api.delete(f"{PATH}/{live['id']}", entity=f"brand {key}")


KIND = EntityKind(
    name="brands",
    singular="brand",
    display_name="Brands",
    fetch=fetch,
    identify=identify,
    live_id=lambda raw: int(raw["id"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    find=find,
)
