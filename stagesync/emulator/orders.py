"""Orders (``/v2/orders``) with their products, shipping addresses and coupons, as the platform
serves them: v2 bare arrays paged by ``page``/``limit`` with 204 past the end, ``[{status,
message}]`` errors, and a 400 naming the first read-only field a write carries.

Creating needs ``billing_address`` and ``products`` (catalog items by ``product_id`` and optional
``variant_id``, or custom items by ``name`` and prices); ``status_id`` defaults to 1 (Pending).
``external_id`` can be given on create only. Money is answered as strings with four decimals.
Orders created through the API send no order email.

Shipments (``/v2/orders/{id}/shipments``) ship quantities of an order's line items to one of its
shipping addresses, with tracking; the order then counts them as shipped and becomes Shipped (or
Partially Shipped). Deleting a shipment does not change the order's status.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .errors import ApiError, not_found
from .routes import (
    Call,
    Endpoint,
    FilterSpec,
    Handler,
    Reply,
    Table,
    apply_filters,
    refuse_unknown,
    register,
    stored_instant,
)
from .schema import BOOL, ID, array, integer, obj, string
from .store import Record, Store, now_rfc3339
from .v2 import refuse_read_only, require_object, state_of, v2_date, v2_date_in, v2_money, v2_page

STATUSES = {
    0: "Incomplete",
    1: "Pending",
    2: "Shipped",
    3: "Partially Shipped",
    4: "Refunded",
    5: "Cancelled",
    6: "Declined",
    7: "Awaiting Payment",
    8: "Awaiting Pickup",
    9: "Awaiting Shipment",
    10: "Completed",
    11: "Awaiting Fulfillment",
    12: "Manual Verification Required",
    13: "Disputed",
    14: "Partially Refunded",
}
STATUS_DESCRIPTIONS = {
    0: "An incomplete order happens when a shopper reached the payment page, but did not "
    "complete the transaction.",
    1: "Customer started the checkout process, but did not complete it.",
    2: "Order has been shipped, but receipt has not been confirmed; seller has used the Ship "
    "Items action.",
    3: "Only some items in the order have been shipped, due to some products being pre-order "
    "only or other reasons.",
    4: "Seller has used the Refund action.",
    5: "Seller has cancelled an order, due to a stock inconsistency or other reasons.",
    6: "Seller has marked the order as declined for lack of manual payment, or other reasons.",
    7: "Customer has completed checkout process, but payment has yet to be confirmed.",
    8: "Order has been pulled, and is awaiting customer pickup from a seller-specified location.",
    9: "Order has been pulled and packaged, and is awaiting collection from a shipping provider.",
    10: "Client has paid for their digital product and their file(s) are available for download.",
    11: "Customer has completed the checkout process and payment has been confirmed.",
    12: "Order is on hold while some aspect needs to be manually confirmed.",
    13: "Customer has initiated a dispute resolution process for the PayPal transaction that "
    "paid for the order.",
    14: "Seller has partially refunded the order.",
}
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
)
WRITABLE = (
    *MONEY,
    "customer_id",
    "status_id",
    "billing_address",
    "date_created",
    "payment_method",
    "payment_provider_id",
    "order_is_digital",
    "ip_address",
    "geoip_country",
    "geoip_country_iso2",
    "customer_message",
    "staff_notes",
    "channel_id",
    "external_source",
    "external_order_id",
    "customer_locale",
    "ebay_order_id",
    "default_currency_code",
    "external_merchant_id",
    "ip_address_v6",
    "tax_provider_id",
    "order_source",
)
CREATE_ONLY = ("external_id",)
OVERRIDE_PAIRS = (("subtotal_ex_tax", "subtotal_inc_tax"), ("total_ex_tax", "total_inc_tax"))
"""Overrides of computed money the platform takes only in pairs (order_Post)."""
READ_ONLY = (
    "id",
    "cart_id",
    "coupon_discount",
    "coupons",
    "currency_code",
    "currency_exchange_rate",
    "currency_id",
    "date_modified",
    "date_shipped",
    "default_currency_id",
    "gift_certificate_amount",
    "handling_cost_tax",
    "handling_cost_tax_class_id",
    "is_deleted",
    "is_email_opt_in",
    "is_tax_inclusive_pricing",
    "payment_status",
    "shipping_address_count",
    "shipping_cost_tax",
    "shipping_cost_tax_class_id",
    "status",
    "store_credit_amount",
    "store_default_currency_code",
    "store_default_to_transactional_exchange_rate",
    "subtotal_tax",
    "total_tax",
    "wrapping_cost_tax",
    "wrapping_cost_tax_class_id",
)
"""Response-only order fields: the spec's ``order_RespOnly`` minus what ``order_Post`` takes."""
IGNORED_ON_WRITE = ("items_total", "items_shipped", "consignments", "fees")
ADDRESS_FIELDS = (
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
)
LINE_ITEM_DEFAULTS: dict[str, Any] = {
    "applied_discounts": [],
    "base_cost_price": "0.0000",
    "base_total": "0.0000",
    "base_wrapping_cost": "0.0000",
    "bin_picking_number": "",
    "brand": "",
    "configurable_fields": [],
    "cost_price_ex_tax": "0.0000",
    "cost_price_inc_tax": "0.0000",
    "cost_price_tax": "0.0000",
    "depth": "0.0000",
    "discounted_total_inc_tax": "0.0000",
    "ebay_item_id": "",
    "ebay_transaction_id": "",
    "event_date": None,
    "event_name": None,
    "external_id": None,
    "fixed_shipping_cost": "0.0000",
    "gift_certificate_id": None,
    "height": "0.0000",
    "is_bundled_product": False,
    "is_refunded": False,
    "name_customer": "",
    "name_merchant": "",
    "option_set_id": None,
    "order_address_id": 0,
    "order_pickup_method_id": 0,
    "parent_order_product_id": None,
    "price_tax": "0.0000",
    "quantity_refunded": 0,
    "refund_amount": "0.0000",
    "return_id": 0,
    "total_tax": "0.0000",
    "upc": "",
    "weight": "0.0000",
    "width": "0.0000",
    "wrapping_cost_ex_tax": "0.0000",
    "wrapping_cost_inc_tax": "0.0000",
    "wrapping_cost_tax": "0.0000",
    "wrapping_id": None,
    "wrapping_message": "",
    "wrapping_name": None,
}
SHIPPING_EXTRA = ("shipping_method", "cost_ex_tax", "cost_inc_tax")


@dataclass
class OrderState:
    orders: dict[int, Record] = field(default_factory=dict)
    products: dict[int, list[Record]] = field(default_factory=dict)
    addresses: dict[int, list[Record]] = field(default_factory=dict)
    coupons: dict[int, list[Record]] = field(default_factory=dict)
    shipments: dict[int, list[Record]] = field(default_factory=dict)
    given: dict[int, set[str]] = field(default_factory=dict)
    """Per order, the money fields a client wrote: they override the computed values."""


_STATES: weakref.WeakKeyDictionary[Store, OrderState] = weakref.WeakKeyDictionary()


def state(store: Store) -> OrderState:
    return state_of(store, _STATES, OrderState)


def money(value: Any) -> str:
    """v2 money (``v2_money``): ``None`` counts as zero."""
    return v2_money(0 if value is None else value) or "0.0000"


def _address(raw: Any, what: str) -> Record:
    if not isinstance(raw, dict):
        raise ApiError(400, f"The field '{what}' must be an object.")
    for name in ("first_name", "last_name", "street_1", "city", "zip", "country"):
        if not raw.get(name):
            raise ApiError(400, f"The field '{what}.{name}' is required.")
    return {name: str(raw.get(name) or "") for name in ADDRESS_FIELDS} | {
        k: v for k, v in raw.items() if k == "form_fields"
    }


def _line_prices(line: Record, ex_tax: Any, inc_tax: Any) -> None:
    """A line item's prices and the amounts computed from them and its quantity."""
    ex, inc = money(ex_tax), money(inc_tax)
    quantity = line["quantity"]
    line.update(
        {
            "base_price": ex,
            "price_ex_tax": ex,
            "price_inc_tax": inc,
            "price_tax": money(float(inc) - float(ex)),
            "base_total": money(float(ex) * quantity),
            "total_ex_tax": money(float(ex) * quantity),
            "total_inc_tax": money(float(inc) * quantity),
            "total_tax": money((float(inc) - float(ex)) * quantity),
            "discounted_total_inc_tax": money(float(inc) * quantity),
        }
    )


def _line_item(store: Store, order_id: int, raw: Any) -> Record:
    from .pricing import sku_of

    if not isinstance(raw, dict):
        raise ApiError(400, "Each product must be an object.")
    refuse_read_only(raw, ("id", "order_id", "total_ex_tax", "total_inc_tax", "base_price"))
    quantity = raw.get("quantity")
    if not isinstance(quantity, int) or quantity < 1:
        raise ApiError(400, "The field 'quantity' must be a positive integer.")
    product_id = int(raw.get("product_id") or 0)
    variant_id = int(raw.get("variant_id") or 0)
    if product_id:
        product = store.products.get(product_id)
        if product is None:
            raise ApiError(400, f"The product {product_id} does not exist.")
        if variant_id:
            found = store.variants.get(variant_id)
            if found is None or found["product_id"] != product_id:
                raise ApiError(
                    400, f"The variant {variant_id} does not belong to product {product_id}."
                )
        else:
            variant_id = product["variant_ids"][0] if len(product["variant_ids"]) == 1 else 0
            if not variant_id:
                raise ApiError(
                    400, f"Product {product_id} has variants: give variant_id or product_options."
                )
        name = str(raw.get("name") or product["name"])
        variant = store.variants[variant_id]
        sku = sku_of(store, variant)
        own_price = None if variant.get("is_base") else variant.get("price")
        price = raw.get("price_ex_tax", product["price"] if own_price is None else own_price)
    else:
        for needed in ("name", "price_ex_tax", "price_inc_tax"):
            if needed not in raw:
                raise ApiError(400, f"A custom product needs '{needed}'.")
        name, sku, price = str(raw["name"]), str(raw.get("sku") or ""), raw["price_ex_tax"]
    line: Record = {
        "id": store.next_id(),
        "order_id": order_id,
        "product_id": product_id,
        "variant_id": variant_id,
        "name": name,
        "sku": sku,
        "quantity": quantity,
        "quantity_shipped": 0,
        "product_options": [],
        "type": "physical" if product_id else "custom",
        **LINE_ITEM_DEFAULTS,
    }
    _line_prices(line, price, raw.get("price_inc_tax", price))
    return line


def _changed_line(line: Record, raw: Record) -> Record | None:
    """``line`` as a PUT of the order writes it (``raw`` names it by ``id``): its quantity,
    prices, name or SKU; None when the quantity is 0 (the line item is removed)."""
    refuse_read_only(raw, ("order_id", "total_ex_tax", "total_inc_tax", "base_price"))
    quantity = raw.get("quantity", line["quantity"])
    if not isinstance(quantity, int) or quantity < 0:
        raise ApiError(400, "The field 'quantity' must be a non-negative integer.")
    if quantity < line["quantity_shipped"]:
        raise ApiError(
            400, f"Order product {line['id']} has {line['quantity_shipped']} shipped already."
        )
    if quantity == 0:
        return None
    out = dict(line, quantity=quantity)
    out.update({k: str(raw[k]) for k in ("name", "sku") if k in raw})
    ex = raw.get("price_ex_tax", line["price_ex_tax"])
    _line_prices(
        out,
        ex,
        raw.get("price_inc_tax", line["price_inc_tax"] if "price_ex_tax" not in raw else ex),
    )
    return out


def _shipping_address(store: Store, order_id: int, raw: Any, items_total: int) -> Record:
    address: Record = {
        "id": store.next_id(),
        "order_id": order_id,
        **_address(raw, "shipping_addresses"),
        "items_total": items_total,
        "items_shipped": 0,
        "shipping_method": str(raw.get("shipping_method") or ""),
        "base_handling_cost": "0.0000",
        "handling_cost_ex_tax": "0.0000",
        "handling_cost_inc_tax": "0.0000",
        "handling_cost_tax": "0.0000",
        "handling_cost_tax_class_id": 2,
        "cost_tax_class_id": 2,
        "shipping_zone_id": 0,
        "shipping_zone_name": "",
        "form_fields": raw.get("form_fields") or [],
    }
    _address_costs(address, raw.get("cost_ex_tax", 0), raw.get("cost_inc_tax"))
    return address


def _address_costs(address: Record, ex_tax: Any, inc_tax: Any) -> None:
    ex = money(ex_tax)
    inc = ex if inc_tax is None else money(inc_tax)
    address.update(
        {
            "base_cost": ex,
            "cost_ex_tax": ex,
            "cost_inc_tax": inc,
            "cost_tax": money(float(inc) - float(ex)),
        }
    )


def _changed_address(address: Record, raw: Record) -> Record:
    """``address`` as a write names it (``PUT`` of the order with its ``id``, or of the address):
    the fields given replace the stored ones; costs stay unless given."""
    refuse_read_only(raw, ("order_id", "items_total", "items_shipped"))
    out = dict(address)
    merged = {**{k: address.get(k, "") for k in ADDRESS_FIELDS}, **raw}
    out.update(_address(merged, "shipping_addresses"))
    if "shipping_method" in raw:
        out["shipping_method"] = str(raw["shipping_method"] or "")
    if "cost_ex_tax" in raw or "cost_inc_tax" in raw:
        ex = raw.get("cost_ex_tax", address["cost_ex_tax"])
        _address_costs(
            out,
            ex,
            raw.get("cost_inc_tax", ex if "cost_ex_tax" in raw else address["cost_inc_tax"]),
        )
    return out


def _check_common(store: Store, body: dict[str, Any]) -> None:
    from .customers import state as customer_state

    status = body.get("status_id")
    if status is not None and status not in STATUSES:
        raise ApiError(400, f"The status_id {status} is not a valid order status.")
    customer_id = body.get("customer_id")
    if customer_id not in (None, 0) and customer_id not in customer_state(store).customers:
        raise ApiError(400, f"The customer {customer_id} does not exist.")
    channel_id = body.get("channel_id")
    if channel_id is not None and channel_id not in store.channels:
        raise ApiError(400, f"The channel {channel_id} does not exist.")
    for first, second in OVERRIDE_PAIRS:
        if (first in body) != (second in body):
            given, missing = (first, second) if first in body else (second, first)
            raise ApiError(400, f"The field '{missing}' is required when '{given}' is given.")
    if "date_created" in body:
        body["date_created"] = v2_date_in(body["date_created"], "date_created")


def _sum(rows: list[Record], name: str, times: str | None = None) -> float:
    return sum(float(r[name]) * (r[times] if times else 1) for r in rows)


def compute_totals(store: Store, order: Record) -> None:
    """The order's money computed from its line items and shipping addresses, as the platform
    does (``ASSUMPTION_ORDER_TOTALS``): subtotals from ``price_ex_tax``/``price_inc_tax`` x
    quantity, shipping from the addresses' costs, totals = subtotal + shipping + handling +
    wrapping - discount. A value the client gave (``subtotal_*``, ``total_*``, ``shipping_cost_*``
    ...) overrides the computed one until written again."""
    st = state(store)
    given = st.given.setdefault(order["id"], set())
    items, addresses = st.products[order["id"]], st.addresses[order["id"]]
    computed = {
        "subtotal_ex_tax": _sum(items, "price_ex_tax", "quantity"),
        "subtotal_inc_tax": _sum(items, "price_inc_tax", "quantity"),
        "shipping_cost_ex_tax": _sum(addresses, "cost_ex_tax"),
        "shipping_cost_inc_tax": _sum(addresses, "cost_inc_tax"),
    }
    computed["base_shipping_cost"] = computed["shipping_cost_ex_tax"]
    for name, value in computed.items():
        if name not in given:
            order[name] = money(value)
    for suffix in ("ex_tax", "inc_tax"):
        if f"total_{suffix}" in given:
            continue
        parts = ("subtotal", "shipping_cost", "handling_cost", "wrapping_cost")
        total = sum(float(order[f"{p}_{suffix}"]) for p in parts) - float(order["discount_amount"])
        order[f"total_{suffix}"] = money(max(total, 0.0))


def _taxes(order: Record) -> Record:
    """The tax amounts of an order, each the difference of its inc- and ex-tax money."""
    out = {}
    for name in ("subtotal", "shipping_cost", "handling_cost", "wrapping_cost", "total"):
        tax = float(order[f"{name}_inc_tax"]) - float(order[f"{name}_ex_tax"])
        out["total_tax" if name == "total" else f"{name}_tax"] = money(tax)
    return out


def create_order(store: Store, body: Any) -> Record:
    body = require_object(body, "order")
    refuse_read_only(body, READ_ONLY)
    body = dict(body)
    _check_common(store, body)
    products = body.get("products")
    if not isinstance(products, list) or not products:
        raise ApiError(
            400, "The field 'products' is required: an order needs at least one product."
        )
    order_id = store.next_id()
    items = [_line_item(store, order_id, raw) for raw in products]
    billing = _address(body.get("billing_address"), "billing_address")
    count = sum(i["quantity"] for i in items)
    shipping = [
        _shipping_address(store, order_id, raw, count)
        for raw in body.get("shipping_addresses") or []
    ]
    now = now_rfc3339()
    order: Record = {name: money(0) for name in MONEY}
    order.update(
        {
            "id": order_id,
            "customer_id": 0,
            "status_id": 1,
            "date_created": now,
            "payment_method": "Manual",
            "payment_provider_id": "",
            "order_is_digital": False,
            "ip_address": "",
            "geoip_country": "",
            "geoip_country_iso2": "",
            "customer_message": "",
            "staff_notes": "",
            "channel_id": 1,
            "external_source": "",
            "external_order_id": "",
            "external_id": None,
            "customer_locale": "",
            "ebay_order_id": "0",
            "default_currency_code": "USD",
            "external_merchant_id": "",
            "ip_address_v6": "",
            "tax_provider_id": "",
            "order_source": "external",
            "is_deleted": False,
        }
    )
    order.update({k: v for k, v in body.items() if k in WRITABLE or k == "external_id"})
    order["billing_address"] = billing
    for name in MONEY:
        order[name] = money(order[name])
    order["date_modified"] = now
    st = state(store)
    st.orders[order_id] = order
    st.products[order_id] = items
    st.addresses[order_id] = shipping
    st.coupons[order_id] = []
    st.given[order_id] = {name for name in MONEY if name in body}
    compute_totals(store, order)
    return order


API_BASE = "https://api.bigcommerce.com"
"""Where links point when a request did not come in over HTTP (an in-process client)."""


def order_url(store: Store, base_url: str, order_id: int) -> str:
    """An order's URL at the API base, as the reference writes its links
    (``{base}/stores/{store_hash}/v2/orders/{id}``)."""
    return f"{base_url or API_BASE}/stores/{store.store_hash}/v2/orders/{order_id}"


def link(store: Store, base_url: str, order_id: int, part: str) -> Record:
    """A v2 sub-resource link: ``{"url": <API base>/.../orders/{id}/{part}, "resource": ...}``."""
    return {
        "url": f"{order_url(store, base_url, order_id)}/{part}",
        "resource": f"/orders/{order_id}/{part}",
    }


def render_order(store: Store, order: Record, base_url: str = "") -> Record:
    st = state(store)
    items = st.products[order["id"]]
    zero = money(0)
    out = {
        **order,
        "date_created": v2_date(order["date_created"]),
        "date_modified": v2_date(order["date_modified"]),
        "cart_id": "",
        "currency_code": "USD",
        "currency_id": 1,
        "date_shipped": v2_date(order.get("date_shipped", "")),
        "default_currency_id": 1,
        "gift_certificate_amount": zero,
        "handling_cost_tax_class_id": 2,
        "is_email_opt_in": False,
        "is_tax_inclusive_pricing": False,
        "shipping_cost_tax_class_id": 2,
        "store_credit_amount": zero,
        "store_default_currency_code": "USD",
        "store_default_to_transactional_exchange_rate": "1.0000000000",
        "wrapping_cost_tax_class_id": 3,
        **_taxes(order),
        "status": STATUSES[order["status_id"]],
        "items_total": sum(i["quantity"] for i in items),
        "items_shipped": sum(i["quantity_shipped"] for i in items),
        "shipping_address_count": len(st.addresses[order["id"]]),
        "coupon_discount": money(sum(float(c["discount"]) for c in st.coupons[order["id"]])),
        "payment_status": "",
        "currency_exchange_rate": "1.0000000000",
    }
    for part in ("products", "shipping_addresses", "coupons", "consignments", "fees"):
        out[part] = link(store, base_url, order["id"], part)
    return out


def add_coupon(store: Store, order_id: int, code: str, amount: float, kind: int = 0) -> Record:
    """What checkout records when a coupon is used (no API writes coupons onto an order)."""
    coupon = {
        "id": store.next_id(),
        "coupon_id": store.next_id(),
        "order_id": order_id,
        "code": code,
        "amount": money(amount),
        "type": kind,
        "discount": money(amount),
    }
    state(store).coupons[order_id].append(coupon)
    return coupon


def _order(store: Store, call: Call) -> Record:
    order = state(store).orders.get(call.params["order_id"])
    if order is None or order.get("is_deleted"):
        raise not_found("The requested order was not found.")
    return order


ORDER_FILTERS = {
    "customer_id": "customer_id",
    "status_id": "status_id",
    "channel_id": "channel_id",
    "external_order_id": "external_order_id",
    "payment_method": "payment_method",
    "cart_id": "cart_id",
    "is_deleted": "is_deleted",
}
"""v2 order filters that match a field exactly (``email`` matches the billing email)."""
ORDER_KINDS = {
    "external_order_id": "str",
    "payment_method": "istr",
    "cart_id": "str",
    "is_deleted": "bool",
}
ORDER_RANGES = {"id": "int", "total": "num", "date_created": "time", "date_modified": "time"}
"""``min_NAME`` / ``max_NAME`` filters: the field and how it compares (instants, numbers)."""
ORDER_SORTS = (
    "id",
    "customer_id",
    "date_created",
    "date_modified",
    "status_id",
    "channel_id",
    "external_id",
)
ORDER_PARAMETERS = ("page", "limit", "sort", "email", "include", "consignment_structure")
INCLUDES = ("consignments", "consignments.line_items", "fees")


def _getter(field: str) -> Callable[[Record], Any]:
    return lambda order: order.get(field, "")


def _order_spec() -> FilterSpec:
    fields = {**ORDER_FILTERS, "total": "total_inc_tax"}
    kinds = {name: ORDER_KINDS.get(name, ORDER_RANGES.get(name, "int")) for name in fields}
    spec: FilterSpec = {name: (kinds[name], _getter(field)) for name, field in fields.items()}
    for name, kind in ORDER_RANGES.items():
        spec.setdefault(name, (kind, _getter(name)))
    return spec


def _sort_key(field: str) -> Callable[[Record], Any]:
    if ORDER_RANGES.get(field) == "time":
        return lambda order: stored_instant(order[field]) or datetime.min.replace(tzinfo=UTC)
    if field == "external_id":
        return lambda order: str(order.get(field) or "")
    return lambda order: order[field] or 0


def _check_include(query: Mapping[str, str]) -> None:
    for part in (query.get("include") or "").split(","):
        if part and part not in INCLUDES:
            raise ApiError(400, f"The include '{part}' is not valid.")


def filtered_orders(
    store: Store, query: Mapping[str, str], parameters: tuple[str, ...] = ORDER_PARAMETERS
) -> list[Record]:
    """The orders a ``GET /v2/orders`` (or ``/count``) query selects, in its order: exact
    filters, ``min_``/``max_`` ranges compared as instants or numbers, ``email`` (the billing
    address's), ``is_deleted`` (archived orders, hidden otherwise), ``sort=field[:asc|:desc]``;
    any other parameter answers 400."""
    query = dict(query)
    ranges = {}
    for key in list(query):
        bound, _, name = key.partition("_")
        if bound in ("min", "max") and name in ORDER_RANGES:
            ranges[f"{name}:{bound}"] = query.pop(key)
    spec = _order_spec()
    refuse_unknown(query, {n: spec[n] for n in ORDER_FILTERS}, parameters, "order")
    _check_include(query)
    exact = {name: query[name] for name in ORDER_FILTERS if name in query}
    exact.setdefault("is_deleted", "false")
    orders = apply_filters(state(store).orders.values(), {**exact, **ranges}, spec)
    orders.sort(key=lambda o: o["id"])
    if "email" in query:
        wanted = query["email"].casefold()
        orders = [o for o in orders if o["billing_address"]["email"].casefold() == wanted]
    if query.get("sort"):
        field, _, direction = query["sort"].partition(":")
        if field not in ORDER_SORTS or direction not in ("", "asc", "desc"):
            raise ApiError(400, f"The sort '{query['sort']}' is not valid.")
        orders.sort(key=_sort_key(field), reverse=direction == "desc")
    return orders


def _with_includes(store: Store, call: Call, order: Record) -> Record:
    from .order_parts import consignments, fees

    out = render_order(store, order, call.base_url)
    wanted = set((call.query.get("include") or "").split(","))
    if wanted & {"consignments", "consignments.line_items"}:
        out["consignments"] = [consignments(store, order, call.base_url)]
    if "fees" in wanted:
        out["fees"] = fees(store, order)
    return out


def list_orders(store: Store, call: Call) -> Reply:
    """``GET /v2/orders`` (``filtered_orders``)."""
    orders = filtered_orders(store, call.query)
    status, body = v2_page([_with_includes(store, call, o) for o in orders], call.query)
    return Reply(status, body)


def _one_order_query(call: Call) -> None:
    """What a single order's URL takes: ``include`` and ``consignment_structure``."""
    refuse_unknown(call.query, {}, ("include", "consignment_structure"), "order")
    _check_include(call.query)


def post_order(store: Store, call: Call) -> Reply:
    _one_order_query(call)
    return Reply(201, _with_includes(store, call, create_order(store, call.body)))


def get_order(store: Store, call: Call) -> Reply:
    _one_order_query(call)
    return Reply(200, _with_includes(store, call, _order(store, call)))


def _edited(
    current: list[Record],
    raws: Any,
    field: str,
    what: str,
    change: Callable[[Record, dict[str, Any]], Record | None],
    add: Callable[[Any], Record],
) -> list[Record]:
    """``current`` after a PUT's list ``field``, as the platform treats it: an item with an
    ``id`` changes that one (``change`` answering None removes it), one without is added."""
    if not isinstance(raws, list):
        raise ApiError(400, f"The field '{field}' must be an array.")
    kept = {item["id"]: item for item in current}
    added = []
    for raw in raws:
        if isinstance(raw, dict) and "id" in raw:
            item = kept.get(raw["id"])
            if item is None:
                raise ApiError(400, f"The {what} {raw['id']} is not in this order.")
            changed = change(item, raw)
            if changed is None:
                del kept[item["id"]]
            else:
                kept[item["id"]] = changed
        else:
            added.append(add(raw))
    return [*kept.values(), *added]


def _put_lines(store: Store, order: Record, raws: Any) -> list[Record]:
    """The order's line items after a PUT's ``products`` (``quantity`` 0 removes one)."""
    lines = _edited(
        state(store).products[order["id"]],
        raws,
        "products",
        "order product",
        _changed_line,
        lambda raw: _line_item(store, order["id"], raw),
    )
    if not lines:
        raise ApiError(400, "An order needs at least one product.")
    return lines


def _put_addresses(store: Store, order: Record, raws: Any, count: int) -> list[Record]:
    """The order's shipping addresses after a PUT's ``shipping_addresses``."""
    return _edited(
        state(store).addresses[order["id"]],
        raws,
        "shipping_addresses",
        "shipping address",
        _changed_address,
        lambda raw: _shipping_address(store, order["id"], raw, count),
    )


def put_order(store: Store, call: Call) -> Reply:
    _one_order_query(call)
    order = _order(store, call)
    body = dict(require_object(call.body, "order"))
    refuse_read_only(body, READ_ONLY + ("external_id",))
    body = {k: v for k, v in body.items() if k not in IGNORED_ON_WRITE}
    _check_common(store, body)
    st = state(store)
    # Everything is checked before anything is written: a refused PUT changes nothing.
    lines = _put_lines(store, order, body["products"]) if "products" in body else None
    count = sum(i["quantity"] for i in (lines or st.products[order["id"]]))
    addresses = (
        _put_addresses(store, order, body["shipping_addresses"], count)
        if "shipping_addresses" in body
        else None
    )
    changes = {k: v for k, v in body.items() if k in WRITABLE}
    if "billing_address" in changes:
        merged = {
            **order["billing_address"],
            **require_object(changes["billing_address"], "address"),
        }
        changes["billing_address"] = _address(merged, "billing_address")
    for name in MONEY:
        if name in changes:
            changes[name] = money(changes[name])
    if lines is not None:
        st.products[order["id"]] = lines
    if addresses is not None:
        st.addresses[order["id"]] = addresses
    for address in st.addresses[order["id"]]:
        address["items_total"] = count
    order.update(changes)
    st.given[order["id"]] = st.given.get(order["id"], set()) | {n for n in MONEY if n in body}
    compute_totals(store, order)
    order["date_modified"] = now_rfc3339()
    return Reply(200, _with_includes(store, call, order))


def delete_order(store: Store, call: Call) -> Reply:
    """Archives the order: it leaves the lists (``is_deleted=true`` finds it) and its URLs."""
    order = _order(store, call)
    order["is_deleted"] = True
    order["date_modified"] = now_rfc3339()
    return Reply(204)


def delete_orders(store: Store, call: Call) -> Reply:
    """``DELETE /v2/orders``: archives every order."""
    refuse_unknown(call.query, {}, (), "order")
    now = now_rfc3339()
    for order in state(store).orders.values():
        if not order.get("is_deleted"):
            order["is_deleted"] = True
            order["date_modified"] = now
    return Reply(204)


def count_orders(store: Store, call: Call) -> Reply:
    """``GET /v2/orders/count``: the orders the list's filters select, and per status."""
    orders = filtered_orders(store, call.query, ("email",))
    statuses = [
        {
            **status_record(status_id),
            "count": sum(o["status_id"] == status_id for o in orders),
            "sort_order": status_id,
        }
        for status_id in STATUSES
    ]
    return Reply(200, {"statuses": statuses, "count": len(orders)})


def status_record(status_id: int) -> Record:
    name = STATUSES[status_id]
    return {
        "id": status_id,
        "name": name,
        "system_label": name,
        "custom_label": name,
        "system_description": STATUS_DESCRIPTIONS[status_id],
    }


def render_product(line: Record) -> Record:
    return dict(line)


def render_address(store: Store, address: Record, base_url: str) -> Record:
    quotes = link(
        store, base_url, address["order_id"], f"shipping_addresses/{address['id']}/shipping_quotes"
    )
    return {**address, "shipping_quotes": quotes}


def _sub(table_name: str) -> Handler:
    def handler(store: Store, call: Call) -> Reply:
        order = _order(store, call)
        rows: list[Record] = getattr(state(store), table_name)[order["id"]]
        if table_name == "addresses":
            rows = [render_address(store, r, call.base_url) for r in rows]
        status, body = v2_page([dict(r) for r in rows], call.query)
        return Reply(status, body)

    return handler


# ---- request schemas (checked by the router before a handler runs) ------------------------------

_AMOUNT = {"type": ["string", "number"]}
"""v2 money: the platform writes it as a string (``"5.0000"``) and reads a number as well."""
_ADDRESS_PROPERTIES = {
    **{name: string(255) for name in ADDRESS_FIELDS},
    "form_fields": array(obj({"name": string()})),
    "shipping_method": string(),
    "cost_ex_tax": _AMOUNT,
    "cost_inc_tax": _AMOUNT,
}
_ADDRESS = obj(_ADDRESS_PROPERTIES)
_LINE_ITEM_PROPERTIES = {
    "product_id": ID,
    "variant_id": ID,
    "quantity": integer(1, 2**31 - 1),
    "name": string(255),
    "sku": string(255),
    "price_ex_tax": _AMOUNT,
    "price_inc_tax": _AMOUNT,
    "product_options": array(obj({"id": ID, "value": {"type": ["string", "integer"]}})),
}
_LINE_ITEM = obj(_LINE_ITEM_PROPERTIES)
_ORDER_FIELDS = {
    **dict.fromkeys(MONEY, _AMOUNT),
    "customer_id": integer(0, 2**31 - 1),
    "status_id": integer(0, 2**31 - 1),
    "billing_address": _ADDRESS,
    "shipping_addresses": array(_ADDRESS),
    "products": array(_LINE_ITEM),
    "date_created": string(),
    "payment_method": string(255),
    "payment_provider_id": {"type": ["string", "number"]},
    "order_is_digital": BOOL,
    "ip_address": string(30),
    "ip_address_v6": string(39),
    "geoip_country": string(255),
    "geoip_country_iso2": string(2),
    "customer_message": string(65535),
    "staff_notes": string(65535),
    "channel_id": ID,
    "external_source": string(255, nullable=True),
    "external_order_id": string(255, nullable=True),
    "external_merchant_id": string(255, nullable=True),
    "customer_locale": string(255),
    "ebay_order_id": string(255),
    "default_currency_code": string(3),
    "tax_provider_id": string(255),
    "order_source": string(255),
}
ORDER = obj(_ORDER_FIELDS)
ORDER_PUT = obj(
    {
        **_ORDER_FIELDS,
        "products": array(
            obj({**_LINE_ITEM_PROPERTIES, "id": ID, "quantity": integer(0, 2**31 - 1)})
        ),
        "shipping_addresses": array(obj({**_ADDRESS_PROPERTIES, "id": ID})),
    }
)
"""A PUT names the line items and shipping addresses it changes by ``id`` (quantity 0 removes)."""
SHIPPING_ADDRESS_PUT = obj(_ADDRESS_PROPERTIES)


def get_product(store: Store, call: Call) -> Reply:
    order = _order(store, call)
    for line in state(store).products[order["id"]]:
        if line["id"] == call.params["product_id"]:
            return Reply(200, render_product(line))
    raise not_found("The requested order product was not found.")


def _one_address(store: Store, call: Call) -> Record:
    order = _order(store, call)
    for address in state(store).addresses[order["id"]]:
        if address["id"] == call.params["address_id"]:
            return address
    raise not_found("The requested shipping address was not found.")


def get_address(store: Store, call: Call) -> Reply:
    return Reply(200, render_address(store, _one_address(store, call), call.base_url))


def put_address(store: Store, call: Call) -> Reply:
    """Writes the address's fields; as the reference notes, shipping cost and tax are not
    computed again (the order's totals stay as they are)."""
    address = _one_address(store, call)
    body = require_object(call.body, "shipping address")
    refuse_read_only(body, ("id",))
    changed = _changed_address(address, body)
    address.clear()
    address.update(changed)
    return Reply(200, render_address(store, address, call.base_url))


TABLE: Table = [
    (
        "/v2/orders",
        {"GET": list_orders, "POST": Endpoint(post_order, ORDER), "DELETE": delete_orders},
    ),
    ("/v2/orders/count", {"GET": count_orders}),
    (
        "/v2/orders/{order_id}",
        {"GET": get_order, "PUT": Endpoint(put_order, ORDER_PUT), "DELETE": delete_order},
    ),
    ("/v2/orders/{order_id}/products", {"GET": _sub("products")}),
    ("/v2/orders/{order_id}/products/{product_id}", {"GET": get_product}),
    ("/v2/orders/{order_id}/shipping_addresses", {"GET": _sub("addresses")}),
    (
        "/v2/orders/{order_id}/shipping_addresses/{address_id}",
        {"GET": get_address, "PUT": Endpoint(put_address, SHIPPING_ADDRESS_PUT)},
    ),
    ("/v2/orders/{order_id}/coupons", {"GET": _sub("coupons")}),
]
register(TABLE)


# ---- shipments -------------------------------------------------------------------------------

SHIPPED, PARTIALLY_SHIPPED = 2, 3
PROVIDERS = {
    "auspost": "Australia Post",
    "canadapost": "Canada Post",
    "endicia": "Endicia",
    "usps": "USPS",
    "fedex": "FedEx",
    "ups": "UPS",
    "upsready": "UPS Ready",
    "upsonline": "UPS Online",
    "shipperhq": "ShipperHQ",
    "royalmail": "Royal Mail",
}
SHIPMENT_FIELDS = {
    "order_address_id": integer(1),
    "tracking_number": string(50),
    "tracking_link": string(500),
    "merchant_shipping_cost": _AMOUNT,
    "shipping_method": string(),
    "shipping_provider": string(),
    "tracking_carrier": string(),
    "comments": string(65535),
}
SHIPMENT_ITEM = obj(
    {"order_product_id": integer(1), "quantity": integer(1)},
    required=["order_product_id", "quantity"],
)
SHIPMENT_POST = obj(
    {**SHIPMENT_FIELDS, "items": array(SHIPMENT_ITEM, min_items=1)},
    required=["order_address_id", "items"],
)
SHIPMENT_PUT = obj(SHIPMENT_FIELDS)
SHIPMENT_READ_ONLY = (
    "id",
    "order_id",
    "customer_id",
    "date_created",
    "billing_address",
    "shipping_address",
    "shipping_provider_display_name",
    "generated_tracking_link",
)


def _shipments(store: Store, order_id: int) -> list[Record]:
    return state(store).shipments.setdefault(order_id, [])


def _check_address(store: Store, order: Record, address_id: int) -> Record:
    for address in state(store).addresses[order["id"]]:
        if address["id"] == address_id:
            return address
    raise ApiError(400, f"The order_address_id {address_id} is not an address of this order.")


def _shipped(store: Store, order_id: int) -> dict[int, int]:
    """Quantity shipped per order product id, over the order's shipments."""
    out: dict[int, int] = {}
    for shipment in _shipments(store, order_id):
        for item in shipment["items"]:
            out[item["order_product_id"]] = out.get(item["order_product_id"], 0) + item["quantity"]
    return out


def _count_shipped(store: Store, order: Record) -> None:
    """Line items' and addresses' shipped counts, from the order's shipments."""
    st = state(store)
    shipped = _shipped(store, order["id"])
    for line in st.products[order["id"]]:
        line["quantity_shipped"] = shipped.get(line["id"], 0)
    for address in st.addresses[order["id"]]:
        address["items_shipped"] = sum(
            i["quantity"]
            for s in _shipments(store, order["id"])
            if s["order_address_id"] == address["id"]
            for i in s["items"]
        )


def _shipment_out(store: Store, order: Record, shipment: Record) -> Record:
    address = _check_address(store, order, shipment["order_address_id"])
    tracking = ""
    carrier = shipment["shipping_provider"] or shipment["tracking_carrier"]
    if shipment["tracking_number"] and carrier and not shipment["tracking_link"]:
        tracking = f"https://track.aftership.com/{carrier}/{shipment['tracking_number']}"
    return {
        **shipment,
        "date_created": v2_date(shipment["date_created"]),
        "items": [dict(i) for i in shipment["items"]],
        "billing_address": dict(order["billing_address"]),
        "shipping_address": {k: address.get(k, "") for k in ADDRESS_FIELDS},
        "shipping_provider_display_name": PROVIDERS.get(shipment["shipping_provider"], ""),
        "generated_tracking_link": tracking,
    }


def create_shipment(store: Store, order: Record, body: Any) -> Record:
    """Ship quantities of the order's line items to one of its addresses (400 for an address or a
    line item the order lacks, or more than is left to ship); the order becomes Shipped, or
    Partially Shipped while items are left."""
    refuse_read_only(body, SHIPMENT_READ_ONLY)
    _check_address(store, order, body["order_address_id"])
    lines = {line["id"]: line for line in state(store).products[order["id"]]}
    shipped = _shipped(store, order["id"])
    items = []
    for item in body["items"]:
        line = lines.get(item["order_product_id"])
        if line is None:
            raise ApiError(
                400, f"The order_product_id {item['order_product_id']} is not in this order."
            )
        shipped[line["id"]] = shipped.get(line["id"], 0) + item["quantity"]
        if shipped[line["id"]] > line["quantity"]:
            raise ApiError(
                400,
                f"The quantity to ship of order product {line['id']} is more than is left to ship.",
            )
        items.append(
            {
                "order_product_id": line["id"],
                "product_id": line["product_id"],
                "quantity": item["quantity"],
            }
        )
    shipment: Record = {
        "id": store.next_id(),
        "order_id": order["id"],
        "customer_id": order["customer_id"],
        "order_address_id": body["order_address_id"],
        "date_created": now_rfc3339(),
        "tracking_number": "",
        "tracking_link": "",
        "shipping_method": "",
        "shipping_provider": "",
        "tracking_carrier": "",
        "comments": "",
        **{k: v for k, v in body.items() if k in SHIPMENT_FIELDS},
        "merchant_shipping_cost": money(body.get("merchant_shipping_cost", 0)),
        "items": items,
    }
    _shipments(store, order["id"]).append(shipment)
    _count_shipped(store, order)
    everything = all(shipped.get(i, 0) >= line["quantity"] for i, line in lines.items())
    order["status_id"] = SHIPPED if everything else PARTIALLY_SHIPPED
    order["date_modified"] = now_rfc3339()
    if everything:
        order["date_shipped"] = order["date_modified"]
    return shipment


def _shipment(store: Store, order: Record, call: Call) -> Record:
    for shipment in _shipments(store, order["id"]):
        if shipment["id"] == call.params["shipment_id"]:
            return shipment
    raise not_found("The requested shipment was not found.")


def list_shipments(store: Store, call: Call) -> Reply:
    order = _order(store, call)
    rows = [_shipment_out(store, order, s) for s in _shipments(store, order["id"])]
    status, body = v2_page(rows, call.query)
    return Reply(status, body)


def post_shipment(store: Store, call: Call) -> Reply:
    order = _order(store, call)
    return Reply(201, _shipment_out(store, order, create_shipment(store, order, call.body)))


def delete_shipments(store: Store, call: Call) -> Reply:
    order = _order(store, call)
    _shipments(store, order["id"]).clear()
    _count_shipped(store, order)
    return Reply(204)


def count_shipments(store: Store, call: Call) -> Reply:
    return Reply(200, {"count": len(_shipments(store, _order(store, call)["id"]))})


def get_shipment(store: Store, call: Call) -> Reply:
    order = _order(store, call)
    return Reply(200, _shipment_out(store, order, _shipment(store, order, call)))


def put_shipment(store: Store, call: Call) -> Reply:
    order = _order(store, call)
    shipment = _shipment(store, order, call)
    refuse_read_only(call.body, (*SHIPMENT_READ_ONLY, "items"))
    if "order_address_id" in call.body:
        _check_address(store, order, call.body["order_address_id"])
    shipment.update({k: v for k, v in call.body.items() if k in SHIPMENT_FIELDS})
    shipment["merchant_shipping_cost"] = money(shipment["merchant_shipping_cost"])
    _count_shipped(store, order)
    return Reply(200, _shipment_out(store, order, shipment))


def delete_shipment(store: Store, call: Call) -> Reply:
    order = _order(store, call)
    _shipments(store, order["id"]).remove(_shipment(store, order, call))
    _count_shipped(store, order)
    return Reply(204)


SHIPMENTS: Table = [
    (
        "/v2/orders/{order_id}/shipments",
        {
            "GET": list_shipments,
            "POST": Endpoint(post_shipment, body=SHIPMENT_POST),
            "DELETE": delete_shipments,
        },
    ),
    ("/v2/orders/{order_id}/shipments/count", {"GET": count_shipments}),
    (
        "/v2/orders/{order_id}/shipments/{shipment_id}",
        {
            "GET": get_shipment,
            "PUT": Endpoint(put_shipment, body=SHIPMENT_PUT),
            "DELETE": delete_shipment,
        },
    ),
]
register(SHIPMENTS)
