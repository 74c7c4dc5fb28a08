"""Orders, keyed by origin reference (``/v2/orders``): ``external_id`` if the order has one, else
``<store hash>:<order id>`` of the store it was first pulled from.

The record holds the order's own fields (status as ``status_id``; the v2 API exposes the current
status only, not its history), ``customer`` (by email key; ``null`` for a guest), the
``billing_address``, ``products`` (line items by SKU with name, quantity and prices; ``product``
names the catalogue product, ``null`` for a custom item), ``shipping_addresses`` and ``coupons``
(by code). Read-only and computed fields are dropped.

Push writes the origin reference to ``external_id`` (and ``external_order_id`` when the order has
none), and looks the reference up on the destination before creating, so a re-push never makes a
second order. Orders are created **Pending** unless the push was asked to keep the source status
(``--order-status keep``). The platform cannot attach coupons to an order through the API: the
plan warns about orders that used one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from stagesync.entities import channels
from stagesync.entities.base import EntityKind, Lookup, Raw, v2_pages
from stagesync.entities.common import unique_by_key, without
from stagesync.model import Action, EntityKey, Record, Snapshot
from stagesync.ports import StoreApi

PATH = "/v2/orders"
PENDING = 1
STATUS_SETTING = "order_status"
READ_ONLY = (
    "id",
    "is_deleted",
    "is_tax_inclusive_pricing",
    "currency_code",
    "store_default_currency_code",
    "store_default_to_transactional_exchange_rate",
    "total_tax",
    "consignments",
    "fees",
    "date_modified",
    "date_shipped",
    "status",
    "items_total",
    "items_shipped",
    "coupon_discount",
    "shipping_address_count",
    "payment_status",
    "currency_id",
    "currency_exchange_rate",
    "default_currency_id",
    "subtotal_tax",
    "shipping_cost_tax",
    "shipping_cost_tax_class_id",
    "handling_cost_tax",
    "handling_cost_tax_class_id",
    "wrapping_cost_tax",
    "wrapping_cost_tax_class_id",
    "store_credit_amount",
    "gift_certificate_amount",
    "is_email_opt_in",
    "cart_id",
    "order_source",
    "products",
    "shipping_addresses",
    "coupons",
    "external_id",
    "customer_id",
    "_origin",
    "_products",
    "_shipping_addresses",
    "_coupons",
)
ITEM_FIELDS = ("name", "sku", "quantity", "price_ex_tax", "price_inc_tax")
SHIPPING_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "street_1",
    "street_2",
    "city",
    "state",
    "zip",
    "country",
    "country_iso2",
    "phone",
    "email",
    "shipping_method",
    "cost_ex_tax",
    "cost_inc_tax",
)
"""What a shipping address is created with; the rest of what the API returns is computed."""
COUPON_FIELDS = ("code", "amount", "type", "discount")
CREATE_ONLY = ("products", "shipping_addresses")
PII = (
    ("email", "email"),
    ("customer", "email"),
    ("first_name", "name"),
    ("last_name", "name"),
    ("company", "name"),
    ("phone", "phone"),
    ("street_1", "address"),
    ("street_2", "address"),
    ("city", "address"),
    ("zip", "address"),
    ("ip_address", "text"),
    ("customer_message", "text"),
    ("staff_notes", "text"),
)


REUSED = ("_products", "_coupons")
"""Sub-resources an incremental pull may take from the earlier snapshot's cache (``Reusable``)."""


@dataclass(frozen=True)
class Reusable:
    """What an earlier pull of the same store read (``stagesync.order_cache``): per order id, its
    ``date_modified`` and the ``REUSED`` sub-resources, and the instant after which any order
    may have changed (the earlier pull's store time minus the overlap margin)."""

    since: datetime
    details: Mapping[str, Raw]


REUSE: ContextVar[Reusable | None] = ContextVar("stagesync_order_reuse", default=None)
"""Set by an incremental pull (``stages/pull/read.py``); None: read every order in full."""


def reused(order: Raw, reusable: Reusable | None) -> Raw | None:
    """The cached sub-resources of ``order`` when they cannot have changed: the order is cached
    with the same ``date_modified``, and that is before ``reusable.since``. Relies on
    ``ASSUMPTION_ORDER_DATE_MODIFIED_MOVES_ON_ORDER_WRITE`` (stagesync.assumptions); shipping
    addresses have their own write endpoint and are always re-read
    (``ASSUMPTION_ORDER_DATE_MODIFIED_MOVES_ON_SHIPPING_ADDRESS_CHANGE`` is not promised)."""
    if reusable is None:
        return None
    cached = reusable.details.get(str(order["id"]))
    modified = instant(order.get("date_modified"))
    if cached is None or modified is None or cached.get("date_modified") != order["date_modified"]:
        return None
    return cached if modified < reusable.since else None


async def fetch(api: StoreApi) -> list[Raw]:
    orders = await api.get_all(PATH)
    reusable = REUSE.get()

    async def details(order: Raw) -> Raw:
        base = f"{PATH}/{order['id']}"
        cached = reused(order, reusable)
        if cached is not None:
            shipping = await api.get_all(f"{base}/shipping_addresses")
            items, coupons = cached["_products"], cached["_coupons"]
        else:
            items, shipping, coupons = await asyncio.gather(
                api.get_all(f"{base}/products"),
                api.get_all(f"{base}/shipping_addresses"),
                api.get_all(f"{base}/coupons"),
            )
        origin = order.get("external_id") or f"{api.store_hash}:{order['id']}"
        return {
            **order,
            "_origin": str(origin),
            "_products": items,
            "_shipping_addresses": shipping,
            "_coupons": coupons,
        }

    return list(await asyncio.gather(*(details(o) for o in orders)))


def instant(value: Any) -> datetime | None:
    """A v2 date (RFC 2822, as the reference says, or ISO 8601) or a Unix timestamp as an aware
    instant; None when unset or unreadable (such an order is read in full)."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    text = str(value)
    try:
        found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            found = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key("orders", raws, lambda raw: str(raw["_origin"]))


def _item(raw: Raw, lookup: Lookup) -> Record:
    item = {name: raw.get(name) for name in ITEM_FIELDS}
    product_id = int(raw.get("product_id") or 0)
    item["product"] = lookup.key_of("products", product_id) if product_id else None
    return item


def _sorted(items: Iterable[Record]) -> list[Record]:
    return sorted(items, key=lambda i: tuple(str(i.get(k) or "") for k in sorted(i)))


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = without(raw, READ_ONLY)
    if record.get("external_order_id") in ("", None, key):
        record.pop("external_order_id", None)  # empty, or written by stagesync: the key
    customer_id = int(raw.get("customer_id") or 0)
    record["customer"] = lookup.key_of("customers", customer_id) if customer_id else None
    record.pop("channel_id", None)
    record["channel"] = channels.key_of(lookup, raw.get("channel_id"))
    record["products"] = _sorted(_item(i, lookup) for i in raw.get("_products") or [])
    record["shipping_addresses"] = _sorted(
        {k: a[k] for k in SHIPPING_FIELDS if k in a} for a in raw.get("_shipping_addresses") or []
    )
    record["coupons"] = sorted(
        ({k: c.get(k) for k in COUPON_FIELDS} for c in raw.get("_coupons") or []),
        key=lambda c: str(c["code"]),
    )
    return record


def references(key: str, record: Record) -> Iterable[EntityKey]:
    if record.get("customer"):
        yield EntityKey("customers", record["customer"])
    for item in record.get("products") or []:
        if item.get("product"):
            yield EntityKey("products", item["product"])


# -- writes ------------------------------------------------------------------------------------


def _status(record: Record, lookup: Lookup) -> int:
    if lookup.settings.get(STATUS_SETTING, "pending") == "keep":
        return int(record.get("status_id", PENDING))
    return PENDING


def _common(record: Record, lookup: Lookup) -> dict[str, Any]:
    body = without(
        record, ("customer", "products", "shipping_addresses", "coupons", "status_id", "channel")
    )
    customer = record.get("customer")
    body["customer_id"] = lookup.id_of("customers", customer) if customer else 0
    return body


async def _line_item(api: StoreApi, item: Record, lookup: Lookup) -> dict[str, Any]:
    row = {name: item[name] for name in ("quantity", "price_ex_tax", "price_inc_tax")}
    if not item.get("product"):
        return {**row, "name": item["name"], "sku": item.get("sku") or ""}
    row["product_id"] = lookup.id_of("products", item["product"])
    row["name"] = item["name"]
    if item.get("sku"):
        found = await api.get_all("/v3/catalog/variants", {"sku": str(item["sku"])})
        matching = [v for v in found if int(v["product_id"]) == row["product_id"]]
        if matching:
            row["variant_id"] = int(matching[0]["id"])
    return row


async def existing(api: StoreApi, key: str) -> int | None:
    """The destination's order already carrying this origin reference, if any."""
    found = await api.get(PATH, {"external_order_id": key})
    for order in found or []:
        if order.get("external_id") == key or order.get("external_order_id") == key:
            return int(order["id"])
    return None


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    already = await existing(api, key)
    if already is not None:
        return already  # a re-push: never a second order
    body = _common(record, lookup)
    body["channel_id"] = await channels.id_of(api, lookup, record.get("channel"))
    body["status_id"] = _status(record, lookup)
    body["external_id"] = key
    body["external_order_id"] = record.get("external_order_id") or key
    body["products"] = [await _line_item(api, i, lookup) for i in record.get("products") or []]
    body["shipping_addresses"] = list(record.get("shipping_addresses") or [])
    created = await api.post(PATH, body, entity=f"order {key}")
    return int(created["id"])


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    body = _common(record, lookup)
    body["channel_id"] = await channels.id_of(api, lookup, record.get("channel"))
    body["external_order_id"] = record.get("external_order_id") or key
    if lookup.settings.get(STATUS_SETTING, "pending") == "keep":
        body["status_id"] = int(record.get("status_id", PENDING))
    await api.put(f"{PATH}/{live['id']}", body, entity=f"order {key}")


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await api.delete(f"{PATH}/{live['id']}", entity=f"order {key}")  # archives it


def read_requests(count: int, destination: Snapshot) -> int:
    """The orders, then each order's products, shipping addresses and coupons (v2 lists)."""
    total = v2_pages(count)
    for record in destination.records("orders").values():
        for part in ("products", "shipping_addresses", "coupons"):
            total += v2_pages(len(record.get(part) or []))
    return total


def estimate(action: Action, record: Record | None) -> int:
    if action is Action.CREATE and record is not None:
        return 2 + len(record.get("products") or [])
    return 1


def warnings(key: str, record: Record, before: Record | None) -> list[str]:
    out = []
    codes = [str(c["code"]) for c in record.get("coupons") or []]
    if codes:
        out.append(
            f"order {key} used coupon(s) {', '.join(codes)}: the API cannot attach coupons to an "
            "order, so the destination's copy carries the amounts but not the coupon codes."
        )
    if record.get("status_id", PENDING) != PENDING:
        out.append(
            "Orders are created Pending on the destination unless you push with --order-status "
            "keep; the next diff then shows their status_id."
        )
    return out


KIND = EntityKind(
    name="orders",
    singular="order",
    display_name="Orders",
    fetch=fetch,
    identify=identify,
    live_id=lambda raw: int(raw["id"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    estimate_requests=estimate,
    pii_fields=PII,
    notifies_customers=True,
    warnings=warnings,
    read_requests=read_requests,
)
