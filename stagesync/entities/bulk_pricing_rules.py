"""Bulk pricing rules, a part of products selectable on its own, keyed ``<product key>/<
quantity_min>`` (a product's rules never overlap, so the lowest quantity names one).

Pull and push read them with the product list they read anyway (``include=bulk_pricing_rules``,
250 a page: ``listed_with``); push writes one request per rule through its product."""

from __future__ import annotations

from stagesync.entities import product_parts as parts
from stagesync.entities.base import EntityKind, Lookup, Raw
from stagesync.entities.common import without
from stagesync.model import Record
from stagesync.ports import StoreApi

READ_ONLY = ("id", "product_id")


async def fetch(api: StoreApi) -> list[Raw]:
    return await parts.fetch_included(api, "bulk_pricing_rules")


def identify_with(raws: list[Raw], lookup: Lookup) -> dict[str, Raw]:
    return parts.identify_by("bulk_pricing_rules", raws, lookup, lambda r: r["quantity_min"])


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    return {"product": lookup.key_of("products", int(raw["product_id"])), **without(raw, READ_ONLY)}


def _path(record: Record, lookup: Lookup) -> str:
    return f"{parts.PRODUCTS}/{lookup.id_of('products', record['product'])}/bulk-pricing-rules"


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    body = without(record, ("product",))
    made = await api.post(_path(record, lookup), body, entity=f"bulk pricing rule {key}")
    return int(made["id"])


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    body = without(record, ("product",))
    path = f"{_path(record, lookup)}/{live['id']}"
    await api.put(path, body, entity=f"bulk pricing rule {key}")


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    path = f"{parts.PRODUCTS}/{live['product_id']}/bulk-pricing-rules/{live['id']}"
    await api.delete(path, entity=f"bulk pricing rule {key}")


KIND = EntityKind(
    name="bulk_pricing_rules",
    singular="bulk pricing rule",
    display_name="Bulk Pricing Rules",
    fetch=fetch,
    identify=lambda raws: {},
    identify_with=identify_with,
    find=parts.finder(fetch, identify_with),
    live_id=lambda raw: int(raw["id"]),
    normalise=normalise,
    references=lambda key, record: parts.owner(record),
    create=create,
    update=update,
    delete=delete,
    read_requests=parts.no_listing,
    listed_with=parts.listed_with("bulk_pricing_rules"),
)
