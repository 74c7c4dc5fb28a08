"""Price-list records, keyed by (price list, variant SKU, currency): ``Wholesale/SKU-1/usd``.

The record names its price list and the product the variant belongs to (``product``, by key, so
the plan orders it after that product); prices, ``bulk_pricing_tiers`` and unknown fields are kept,
``calculated_price`` and ids dropped. Writes go through the bulk upsert
``PUT /v3/pricelists/{id}/records``: concurrent record writes of one list are gathered into upserts
of at most 1,000 records, one at a time per list, as the platform requires.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from stagesync.entities.base import EntityKind, Lookup, Raw
from stagesync.entities.batching import Batcher, batcher
from stagesync.entities.common import unique_by_key, without
from stagesync.keys import join_path
from stagesync.model import Action, EntityKey, Record
from stagesync.ports import StoreApi

LISTS = "/v3/pricelists"
MAX_UPSERT = 1000
READ_ONLY = (
    "price_list_id",
    "variant_id",
    "product_id",
    "calculated_price",
    "date_created",
    "date_modified",
    "_price_list",
)


async def fetch(api: StoreApi) -> list[Raw]:
    lists = await api.get_all(LISTS)

    async def records(price_list: Raw) -> list[Raw]:
        rows = await api.get_all(f"{LISTS}/{price_list['id']}/records", {"include": "sku"})
        return [{**row, "_price_list": str(price_list["name"])} for row in rows]

    found = await asyncio.gather(*(records(p) for p in lists))
    return [row for rows in found for row in rows]


def record_key(raw: Raw) -> str:
    return join_path([str(raw["_price_list"]), str(raw["sku"]), str(raw["currency"])])


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key("price_list_records", raws, record_key)


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = without(raw, READ_ONLY)
    record["price_list"] = raw["_price_list"]
    product_id = int(raw.get("product_id") or 0)
    record["product"] = lookup.key_of("products", product_id) if product_id else None
    return record


def references(key: str, record: Record) -> Iterable[EntityKey]:
    yield EntityKey("price_lists", record["price_list"])
    if record.get("product"):
        yield EntityKey("products", record["product"])


def _upserter(api: StoreApi, lookup: Lookup, price_list: str) -> Batcher[dict[str, Any], int]:
    async def send(rows: list[dict[str, Any]]) -> Sequence[int]:
        list_id = lookup.id_of("price_lists", price_list)
        await api.put(f"{LISTS}/{list_id}/records", rows, entity=f"price list {price_list} records")
        return [0] * len(rows)

    return batcher(lookup, f"price_list_records:{price_list}", lambda: Batcher(MAX_UPSERT, send))


async def _upsert(api: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    row = without(record, ("price_list", "product"))
    return await _upserter(api, lookup, record["price_list"]).submit(row)


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    return await _upsert(api, key, record, lookup)


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    await _upsert(api, key, record, lookup)


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    list_id = int(live["price_list_id"])
    await api.delete(
        f"{LISTS}/{list_id}/records",
        {"sku:in": str(live["sku"]), "currency": str(live["currency"])},
        entity=f"price list record {key}",
    )


def estimate(action: Action, record: Record | None) -> int:
    return 1  # upserts are shared by up to 1,000 records; this is the ceiling


KIND = EntityKind(
    name="price_list_records",
    singular="price list record",
    display_name="Price List Records",
    fetch=fetch,
    identify=identify,
    live_id=lambda raw: int(raw["variant_id"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    estimate_requests=estimate,
)
