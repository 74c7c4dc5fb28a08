"""Orders, keyed by origin reference (``/v2/orders``): ``external_id`` if the order has one, else
``<store hash>:<order id>`` of the store it was first pulled from.

The record holds the order's own fields (status as ``status_id``; the v2 API exposes the current
status only, not its history), ``customer`` (by email key; ``null`` for a guest), the
``billing_address``, ``products`` (line items by SKU with name, quantity and prices; ``product``
names the catalogue product, ``null`` for a custom item), ``shipping_addresses``, ``coupons``
(by code) and ``shipments`` (each with its tracking, the position of its address in
``shipping_addresses`` and its items by line-item SKU, or name for a custom item). Read-only and
computed fields are dropped.

Push writes the origin reference to ``external_id`` (and ``external_order_id`` when the order has
none), and looks the reference up on the destination before creating, so a re-push never makes a
second order. Orders are created **Pending** unless the push was asked to keep the source status
(``--order-status keep``). Shipments are written once the order exists (the platform then marks it
Shipped or Partially Shipped; with ``keep`` the source status is written again after them); an
update deletes the destination's shipments the source lacks and creates the missing ones. The
platform cannot attach coupons to an order through the API, nor write its status history or
refunds: the plan warns about each.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from stagesync.entities import channels, v2_formats
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
    "_shipments",
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
MONEY = (
    "subtotal_ex_tax",
    "subtotal_inc_tax",
    "total_ex_tax",
    "total_inc_tax",
    "base_shipping_cost",
    "shipping_cost_ex_tax",
    "shipping_cost_inc_tax",
    "base_handling_cost",
    "handling_cost_ex_tax",
    "handling_cost_inc_tax",
    "base_wrapping_cost",
    "wrapping_cost_ex_tax",
    "wrapping_cost_inc_tax",
    "refunded_amount",
    "discount_amount",
    "price_ex_tax",
    "price_inc_tax",
    "cost_ex_tax",
    "cost_inc_tax",
    "amount",
    "discount",
    "merchant_shipping_cost",
)
"""v2 money in an order, its line items, addresses, coupons and shipments: written in the
snapshot in one form (``v2_formats.money``) whether the store answered a string or a number."""
DATES = ("date_created",)
"""v2 dates an order record keeps: ISO 8601 in the snapshot (``v2_formats.date``), RFC 2822 or
ISO 8601 from the store, RFC 2822 in a write."""
SHIPMENT_READ_ONLY = (
    "id",
    "order_id",
    "customer_id",
    "order_address_id",
    "date_created",
    "billing_address",
    "shipping_address",
    "items",
    "shipping_provider_display_name",
    "generated_tracking_link",
)
"""Computed, or replaced in the record: the address by its position, the items by line item."""
REFUNDED = (4, 14)
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
            # Addresses and shipments have endpoints of their own: the reference does not
            # promise that writing them moves the order's date_modified, so they are read again.
            shipping, shipments = await asyncio.gather(
                api.get_all(f"{base}/shipping_addresses"),
                api.get_all(f"{base}/shipments"),
            )
            items, coupons = cached["_products"], cached["_coupons"]
        else:
            items, shipping, coupons, shipments = await asyncio.gather(
                api.get_all(f"{base}/products"),
                api.get_all(f"{base}/shipping_addresses"),
                api.get_all(f"{base}/coupons"),
                api.get_all(f"{base}/shipments"),
            )
        origin = order.get("external_id") or f"{api.store_hash}:{order['id']}"
        return {
            **order,
            "_origin": str(origin),
            "_products": items,
            "_shipping_addresses": shipping,
            "_coupons": coupons,
            "_shipments": shipments,
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


def _item(raw: Raw, lookup: Lookup, owner: str) -> Record:
    """A line item; one whose product was deleted since (ASSUMPTION_ORDERS_KEEP_DELETED_IDS)
    keeps its name, SKU and amounts without a product, as a custom item."""
    item = v2_formats.amounts({name: raw.get(name) for name in ITEM_FIELDS}, MONEY)
    product_id = int(raw.get("product_id") or 0)
    item["product"] = lookup.key_or_gone("products", product_id, owner) if product_id else None
    return item


def _sorted(items: Iterable[Record]) -> list[Record]:
    return sorted(items, key=lambda i: tuple(str(i.get(k) or "") for k in sorted(i)))


def _address(raw: Raw) -> Record:
    return v2_formats.amounts({k: raw[k] for k in SHIPPING_FIELDS if k in raw}, MONEY)


def _line_key(line: Raw) -> str:
    """How a shipment names a line item: its SKU, or its name (a custom item)."""
    return str(line.get("sku") or line.get("name") or "")


def _address_ids(addresses: Iterable[Raw]) -> list[int]:
    """The addresses' ids in the order the record lists them (``shipping_addresses``)."""
    pairs = [(_address(a), int(a["id"])) for a in addresses]
    order = _sorted(address for address, _ in pairs)
    ids: list[int] = []
    for address in order:
        index = next(i for i, (a, _) in enumerate(pairs) if a == address)
        ids.append(pairs.pop(index)[1])
    return ids


def _shipments(raw: Raw) -> list[tuple[Record, Raw]]:
    """Each of the order's shipments ID-free, with the shipment as the store has it: ``address``
    is its position in ``shipping_addresses``, ``items`` name line items (``_line_key``)."""
    lines = {int(line["id"]): _line_key(line) for line in raw.get("_products") or []}
    positions = {i: n for n, i in enumerate(_address_ids(raw.get("_shipping_addresses") or []))}
    out = []
    for shipment in raw.get("_shipments") or []:
        record = v2_formats.amounts(without(shipment, SHIPMENT_READ_ONLY), MONEY)
        record["address"] = positions.get(int(shipment.get("order_address_id") or 0))
        record["items"] = _sorted(
            {
                "item": lines.get(int(i["order_product_id"]), f"#{i['order_product_id']}"),
                "quantity": i["quantity"],
            }
            for i in shipment.get("items") or []
        )
        out.append((record, shipment))
    return out


# ASSUMPTION_ORDER_FIELD_TYPES: the fields read here have the types the probe checks.
def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = v2_formats.amounts(without(raw, READ_ONLY), MONEY)
    for name in DATES:
        if name in record:
            record[name] = v2_formats.date(record[name])
    if record.get("external_order_id") in ("", None, key):
        record.pop("external_order_id", None)  # empty, or written by stagesync: the key
    customer_id = int(raw.get("customer_id") or 0)
    owner = f"orders {key}"
    record["customer"] = (
        lookup.key_or_gone("customers", customer_id, owner) if customer_id else None
    )
    record.pop("channel_id", None)
    record["channel"] = channels.key_of(lookup, raw.get("channel_id"))
    record["products"] = _sorted(_item(i, lookup, owner) for i in raw.get("_products") or [])
    record["shipping_addresses"] = _sorted(
        _address(a) for a in raw.get("_shipping_addresses") or []
    )
    record["coupons"] = sorted(
        (
            v2_formats.amounts({k: c.get(k) for k in COUPON_FIELDS}, MONEY)
            for c in raw.get("_coupons") or []
        ),
        key=lambda c: str(c["code"]),
    )
    record["shipments"] = _sorted(shipment for shipment, _ in _shipments(raw))
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
        record,
        ("customer", "products", "shipping_addresses", "coupons", "shipments", "status_id")
        + ("channel",),
    )
    customer = record.get("customer")
    body["customer_id"] = lookup.id_of("customers", customer) if customer else 0
    for name in DATES:
        if name in body:
            body[name] = v2_formats.rfc2822(body[name])  # v2 takes dates in RFC 2822
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


async def _create_shipments(
    api: StoreApi,
    key: str,
    order_id: int,
    shipments: list[Record],
    lines: list[Raw],
    addresses: list[Raw],
) -> None:
    """POST each shipment, its address and items named by the destination order's ids."""
    line_ids: dict[str, int] = {}
    for line in lines:
        line_ids.setdefault(_line_key(line), int(line["id"]))
    address_ids = _address_ids(addresses)
    for shipment in shipments:
        body = without(shipment, ("address", "items"))
        position = shipment.get("address")
        if isinstance(position, int) and 0 <= position < len(address_ids):
            body["order_address_id"] = address_ids[position]
        else:
            body["order_address_id"] = 0  # no such address: the store refuses it, naming it
        body["items"] = [
            {"order_product_id": line_ids.get(str(i["item"]), 0), "quantity": i["quantity"]}
            for i in shipment.get("items") or []
        ]
        await api.post(f"{PATH}/{order_id}/shipments", body, entity=f"shipment of order {key}")


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
    order_id = int(created["id"])
    shipments = list(record.get("shipments") or [])
    if shipments:
        lines, addresses = await asyncio.gather(
            api.get_all(f"{PATH}/{order_id}/products"),
            api.get_all(f"{PATH}/{order_id}/shipping_addresses"),
        )
        await _create_shipments(api, key, order_id, shipments, lines, addresses)
        if lookup.settings.get(STATUS_SETTING, "pending") == "keep":
            # Shipments made the order Shipped: give it the source's status back.
            await api.put(
                f"{PATH}/{order_id}", {"status_id": body["status_id"]}, entity=f"order {key}"
            )
    return order_id


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    body = _common(record, lookup)
    body["channel_id"] = await channels.id_of(api, lookup, record.get("channel"))
    body["external_order_id"] = record.get("external_order_id") or key
    if lookup.settings.get(STATUS_SETTING, "pending") == "keep":
        body["status_id"] = int(record.get("status_id", PENDING))
    order_id = int(live["id"])
    missing = list(record.get("shipments") or [])
    for shipment, current in _shipments(live):
        if shipment in missing:
            missing.remove(shipment)
        else:
            await api.delete(
                f"{PATH}/{order_id}/shipments/{current['id']}", entity=f"shipment of order {key}"
            )
    lines, addresses = live.get("_products") or [], live.get("_shipping_addresses") or []
    await _create_shipments(api, key, order_id, missing, lines, addresses)
    await api.put(f"{PATH}/{order_id}", body, entity=f"order {key}")


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await api.delete(f"{PATH}/{live['id']}", entity=f"order {key}")  # archives it


def read_requests(count: int, destination: Snapshot) -> int:
    """The orders, then each order's products, shipping addresses, coupons and shipments (v2
    lists)."""
    total = v2_pages(count)
    for record in destination.records("orders").values():
        for part in ("products", "shipping_addresses", "coupons", "shipments"):
            total += v2_pages(len(record.get(part) or []))
    return total


def estimate(action: Action, record: Record | None) -> int:
    """A create: the look-up, the order, a variant look-up per line item, then with shipments
    the order's products and addresses, each shipment, and the status again. An update: the
    order, and at most each shipment."""
    shipments = len((record or {}).get("shipments") or [])
    if action is Action.CREATE and record is not None:
        return 2 + len(record.get("products") or []) + (3 + shipments if shipments else 0)
    return 1 + shipments


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
    if record.get("shipments") and (
        before is None or before.get("shipments") != record["shipments"]
    ):
        out.append(
            "Writing an order's shipments makes the platform mark the order Shipped (or Partially "
            "Shipped) and may email the customer a shipment notification."
        )
    if before is not None:
        return out
    refunded = int(record.get("status_id", PENDING)) in REFUNDED
    if refunded or _amount(record.get("refunded_amount")):
        out.append(
            f"order {key} was refunded ({record.get('refunded_amount')}): the platform's API "
            "cannot write refunds, so the destination's copy records the amount but no refund."
        )
    out.append(
        "The platform's API cannot write an order's status history: a copied order has its "
        "current status only."
    )
    return out


def _amount(value: Any) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


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
