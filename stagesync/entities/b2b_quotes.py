"""B2B Edition quotes (``/rfq``), keyed by reference number (``quoteNumber`` when a quote has
none; push then writes that key as the new quote's reference number).

The record holds the quote's fields with ``company`` and ``order`` by key (``null`` when unset)
and ``productList`` lines naming their product by SKU (``product``), sorted by it. ``quoteId``,
``quoteNumber`` (numbered per store) and dates are dropped. An ordered quote references its store
order and that order's B2B data. A PUT resends every line, as the platform requires.
"""

from __future__ import annotations

from collections.abc import Iterable

from stagesync.entities.b2b_common import api, id_or_none, key_or_none
from stagesync.entities.base import EntityKind, Lookup, Raw
from stagesync.entities.common import unique_by_key, without
from stagesync.model import EntityKey, Record
from stagesync.ports import StoreApi

PATH = "/rfq"
READ_ONLY = ("quoteId", "quoteNumber", "createdAt", "updatedAt", "companyId", "orderId")


async def fetch(store: StoreApi) -> list[Raw]:
    return await api().get_all(PATH)


def quote_key(raw: Raw) -> str:
    return str(raw.get("referenceNumber") or "") or str(raw["quoteNumber"])


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key("b2b_quotes", raws, quote_key)


def _line(raw: Raw, lookup: Lookup, owner: str) -> Record:
    """A quote line; one whose product was deleted since (ASSUMPTION_ORDERS_KEEP_DELETED_IDS)
    keeps its SKU and prices without a product."""
    line = without(raw, ("productId", "variantId"))
    product_id = raw.get("productId")
    line["product"] = (
        None
        if product_id in (None, 0, "", "0")
        else lookup.key_or_gone("products", int(product_id), owner)
    )
    return line


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = without(raw, READ_ONLY)
    record["referenceNumber"] = key
    record["company"] = key_or_none(lookup, "b2b_companies", raw.get("companyId"))
    record["order"] = key_or_none(lookup, "orders", raw.get("orderId"))
    record["productList"] = sorted(
        (_line(line, lookup, f"b2b_quotes {key}") for line in raw.get("productList") or []),
        key=lambda line: (str(line.get("product") or ""), str(line.get("sku") or "")),
    )
    return record


def references(key: str, record: Record) -> Iterable[EntityKey]:
    for line in record.get("productList") or []:
        if line.get("product"):
            yield EntityKey("products", line["product"])
    if record.get("company"):
        yield EntityKey("b2b_companies", record["company"])
    if record.get("order"):
        yield EntityKey("orders", record["order"])
        yield EntityKey("b2b_orders", record["order"])


def _body(record: Record, lookup: Lookup) -> Record:
    body = without(record, ("company", "order", "productList"))
    body["companyId"] = id_or_none(lookup, "b2b_companies", record.get("company")) or 0
    body["orderId"] = id_or_none(lookup, "orders", record.get("order")) or ""
    body["productList"] = [
        {
            **without(line, ("product",)),
            "productId": id_or_none(lookup, "products", line.get("product")),
        }
        for line in record.get("productList") or []
    ]
    return body


async def create(store: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    created = await api().post(PATH, _body(record, lookup), entity=f"B2B quote {key}")
    return int(created["quoteId"])


async def update(store: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    await api().put(f"{PATH}/{live['quoteId']}", _body(record, lookup), entity=f"B2B quote {key}")


async def delete(store: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await api().delete(f"{PATH}/{live['quoteId']}", entity=f"B2B quote {key}")


KIND = EntityKind(
    name="b2b_quotes",
    singular="B2B quote",
    display_name="B2B Quotes",
    fetch=fetch,
    identify=identify,
    live_id=lambda raw: int(raw["quoteId"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    pii_fields=(
        ("userEmail", "email"),
        ("email", "email"),
        ("name", "name"),
        ("phoneNumber", "phone"),
    ),
)
