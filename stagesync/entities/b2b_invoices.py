"""B2B Edition invoices (invoice management, ``/ip/invoices``), keyed by invoice number.

The record holds the invoice's fields with ``company`` (the invoiced company, ``customerId`` in
the API) and ``order`` (the store order, ``orderNumber``) by key; line items in
``details.details.lineItems`` name their product by SKU, which is the products key. ``id``,
``customerName`` (the company's name) and dates are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from stagesync.entities.b2b_common import api, id_or_none, key_or_none
from stagesync.entities.base import EntityKind, Lookup, Raw
from stagesync.entities.common import unique_by_key, without
from stagesync.model import EntityKey, Record
from stagesync.ports import StoreApi

PATH = "/ip/invoices"
READ_ONLY = ("id", "customerId", "customerName", "orderNumber", "createdAt", "updatedAt")


async def fetch(store: StoreApi) -> list[Raw]:
    return await api().get_all(PATH)


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key("b2b_invoices", raws, lambda raw: str(raw["invoiceNumber"]))


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = without(raw, READ_ONLY)
    record["company"] = key_or_none(lookup, "b2b_companies", raw.get("customerId"))
    record["order"] = key_or_none(lookup, "orders", raw.get("orderNumber"))
    for item in _line_items(record):  # a document: a SKU no product has any more stays as text
        if isinstance(item, dict) and item.get("sku") and not lookup.has("products", item["sku"]):
            lookup.note_gone(f"b2b_invoices {key}", f"products {item['sku']}", "kept as text")
    return record


def _line_items(record: Record) -> list[Any]:
    details = record.get("details")
    inner = details.get("details") if isinstance(details, dict) else None
    items = inner.get("lineItems") if isinstance(inner, dict) else None
    return items if isinstance(items, list) else []


def references(key: str, record: Record) -> Iterable[EntityKey]:
    if record.get("company"):
        yield EntityKey("b2b_companies", record["company"])
    if record.get("order"):
        yield EntityKey("orders", record["order"])
    for item in _line_items(record):
        if isinstance(item, dict) and item.get("sku"):
            yield EntityKey("products", str(item["sku"]))


def _body(record: Record, lookup: Lookup) -> Record:
    body = without(record, ("company", "order"))
    company = id_or_none(lookup, "b2b_companies", record.get("company"))
    order = id_or_none(lookup, "orders", record.get("order"))
    body["customerId"] = "" if company is None else str(company)
    body["orderNumber"] = "" if order is None else str(order)
    return body


async def create(store: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    created = await api().post(PATH, _body(record, lookup), entity=f"B2B invoice {key}")
    return int(created["id"])


async def update(store: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    await api().put(f"{PATH}/{live['id']}", _body(record, lookup), entity=f"B2B invoice {key}")


async def delete(store: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await api().delete(f"{PATH}/{live['id']}", entity=f"B2B invoice {key}")


KIND = EntityKind(
    name="b2b_invoices",
    singular="B2B invoice",
    display_name="B2B Invoices",
    fetch=fetch,
    identify=identify,
    live_id=lambda raw: int(raw["id"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    belongs_to_people=True,
)
