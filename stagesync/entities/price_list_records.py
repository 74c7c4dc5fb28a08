"""Price-list records, keyed by (price list, variant SKU, currency): ``Wholesale/SKU-1/usd``.

The record names its price list and the product the variant belongs to (``product``, by key, so
the plan orders it after that product); prices, ``bulk_pricing_tiers`` and unknown fields are kept,
``calculated_price`` and ids dropped. Writes go through the bulk upsert
``PUT /v3/pricelists/{id}/records``: push hands creates and updates to ``create_many`` /
``update_many`` up to 1,000 at a time, which send one upsert per price list; the client sends one
upsert at a time per list, as the platform requires.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable

from stagesync.entities.base import EntityKind, Lookup, Raw, pages
from stagesync.entities.common import unique_by_key, without
from stagesync.keys import join_path, split_path
from stagesync.model import Action, EntityKey, Record, Snapshot
from stagesync.ports import StoreApi

KIND_NAME = "price_list_records"
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


async def records_of(api: StoreApi, price_list: Raw, query: dict[str, str]) -> list[Raw]:
    rows = await api.get_all(f"{LISTS}/{price_list['id']}/records", {"include": "sku", **query})
    return [{**row, "_price_list": str(price_list["name"])} for row in rows]


async def fetch(api: StoreApi) -> list[Raw]:
    lists = await api.get_all(LISTS)
    found = await asyncio.gather(*(records_of(api, p, {}) for p in lists))
    return [row for rows in found for row in rows]


async def find(api: StoreApi, key: str, lookup: Lookup) -> Raw | None:
    """The live record keyed ``key``: one filtered request on its price list."""
    price_list, sku, currency = split_path(key)
    if not lookup.has("price_lists", price_list):
        return None
    found = await records_of(
        api,
        {"id": lookup.id_of("price_lists", price_list), "name": price_list},
        {"sku": sku, "currency": currency},
    )
    return identify(found).get(key)


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


async def upsert(api: StoreApi, records: list[Record], lookup: Lookup) -> None:
    """One ``PUT /v3/pricelists/{id}/records`` per price list (push hands at most 1,000)."""
    by_list: dict[str, list[Record]] = {}
    for record in records:
        by_list.setdefault(record["price_list"], []).append(
            without(record, ("price_list", "product"))
        )
    await asyncio.gather(
        *(
            api.put(
                f"{LISTS}/{lookup.id_of('price_lists', name)}/records",
                rows,
                entity=f"price list {name} records",
            )
            for name, rows in sorted(by_list.items())
        )
    )


async def create_many(api: StoreApi, items: list[tuple[str, Record]], lookup: Lookup) -> list[int]:
    await upsert(api, [record for _, record in items], lookup)
    return [0] * len(items)  # records have no id of their own (they are keyed by variant)


async def update_many(api: StoreApi, items: list[tuple[str, Record, Raw]], lookup: Lookup) -> None:
    await upsert(api, [record for _, record, _ in items], lookup)


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    return (await create_many(api, [(key, record)], lookup))[0]


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    await upsert(api, [record], lookup)


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    list_id = int(live["price_list_id"])
    await api.delete(
        f"{LISTS}/{list_id}/records",
        {"sku:in": str(live["sku"]), "currency": str(live["currency"])},
        entity=f"price list record {key}",
    )


def read_requests(count: int, destination: Snapshot) -> int:
    """Each list's records (a page at least, even when it has none). The listing of the price
    lists themselves is shared with the ``price_lists`` kind, always read alongside."""
    per_list = Counter(str(r["price_list"]) for r in destination.records(KIND_NAME).values())
    lists = set(destination.records("price_lists")) | set(per_list)
    return sum(pages(per_list[name]) for name in lists)


def estimate(action: Action, record: Record | None) -> int:
    return 1  # upserts are shared by up to 1,000 records; this is the ceiling


KIND = EntityKind(
    name=KIND_NAME,
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
    read_requests=read_requests,
    find=find,
    create_many=create_many,
    update_many=update_many,
    batch_size=MAX_UPSERT,
)
