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
from collections.abc import Callable
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
from .v2 import refuse_read_only, require_object, state_of, v2_page

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
CREATE_ONLY = ("external_id", "products", "shipping_addresses")
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


_STATES: weakref.WeakKeyDictionary[Store, OrderState] = weakref.WeakKeyDictionary()


def state(store: Store) -> OrderState:
    return state_of(store, _STATES, OrderState)


def money(value: Any) -> str:
    try:
        return f"{float(value):.4f}"
    except (TypeError, ValueError):
        raise ApiError(400, f"'{value}' is not a valid amount.") from None


def _address(raw: Any, what: str) -> Record:
    if not isinstance(raw, dict):
        raise ApiError(400, f"The field '{what}' must be an object.")
    for name in ("first_name", "last_name", "street_1", "city", "zip", "country"):
        if not raw.get(name):
            raise ApiError(400, f"The field '{what}.{name}' is required.")
    return {name: str(raw.get(name) or "") for name in ADDRESS_FIELDS} | {
        k: v for k, v in raw.items() if k == "form_fields"
    }


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
    ex_tax = money(price)
    inc_tax = money(raw.get("price_inc_tax", price))
    return {
        "id": store.next_id(),
        "order_id": order_id,
        "product_id": product_id,
        "variant_id": variant_id,
        "name": name,
        "sku": sku,
        "quantity": quantity,
        "base_price": ex_tax,
        "price_ex_tax": ex_tax,
        "price_inc_tax": inc_tax,
        "total_ex_tax": money(float(ex_tax) * quantity),
        "total_inc_tax": money(float(inc_tax) * quantity),
        "quantity_shipped": 0,
        "product_options": [],
        "type": "physical" if product_id else "custom",
        **LINE_ITEM_DEFAULTS,
    }


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


def create_order(store: Store, body: Any) -> Record:
    body = require_object(body, "order")
    refuse_read_only(body, READ_ONLY)
    _check_common(store, body)
    products = body.get("products")
    if not isinstance(products, list) or not products:
        raise ApiError(
            400, "The field 'products' is required: an order needs at least one product."
        )
    order_id = store.next_id()
    items = [_line_item(store, order_id, raw) for raw in products]
    billing = _address(body.get("billing_address"), "billing_address")
    shipping = [
        {
            "id": store.next_id(),
            "order_id": order_id,
            **_address(raw, "shipping_addresses"),
            **{k: raw[k] for k in SHIPPING_EXTRA if k in raw},
            "items_total": sum(i["quantity"] for i in items),
            "items_shipped": 0,
        }
        for raw in body.get("shipping_addresses") or []
    ]
    for address in shipping:
        address.setdefault("shipping_method", "")
        address.setdefault("cost_ex_tax", 0)
        address.setdefault("cost_inc_tax", address["cost_ex_tax"])
        address.update(
            {
                "base_cost": address["cost_ex_tax"],
                "cost_tax": 0,
                "cost_tax_class_id": 2,
                "base_handling_cost": 0,
                "handling_cost_ex_tax": 0,
                "handling_cost_inc_tax": 0,
                "handling_cost_tax": 0,
                "handling_cost_tax_class_id": 2,
                "shipping_zone_id": 0,
                "shipping_zone_name": "",
                "form_fields": [],
                "shipping_quotes": {"url": "", "resource": f"/orders/{order_id}/shipping_quotes"},
            }
        )
    for address in shipping:
        for name in (
            "cost_ex_tax",
            "cost_inc_tax",
            "base_cost",
            "cost_tax",
            "base_handling_cost",
            "handling_cost_ex_tax",
            "handling_cost_inc_tax",
            "handling_cost_tax",
        ):
            address[name] = money(address[name])
    subtotal = sum(float(i["total_ex_tax"]) for i in items)
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
        }
    )
    order["subtotal_ex_tax"] = order["subtotal_inc_tax"] = money(subtotal)
    order["total_ex_tax"] = order["total_inc_tax"] = money(subtotal)
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
    return order


def render_order(store: Store, order: Record) -> Record:
    st = state(store)
    items = st.products[order["id"]]
    base = f"https://{store.info()['domain']}/api/v2/orders/{order['id']}"
    zero = money(0)
    return {
        **order,
        "cart_id": "",
        "currency_code": "USD",
        "currency_id": 1,
        "date_shipped": "",
        "default_currency_id": 1,
        "gift_certificate_amount": zero,
        "handling_cost_tax": zero,
        "handling_cost_tax_class_id": 2,
        "is_deleted": False,
        "is_email_opt_in": False,
        "is_tax_inclusive_pricing": False,
        "shipping_cost_tax": zero,
        "shipping_cost_tax_class_id": 2,
        "store_credit_amount": zero,
        "store_default_currency_code": "USD",
        "store_default_to_transactional_exchange_rate": "1.0000000000",
        "subtotal_tax": zero,
        "total_tax": zero,
        "wrapping_cost_tax": zero,
        "wrapping_cost_tax_class_id": 3,
        "status": STATUSES[order["status_id"]],
        "items_total": sum(i["quantity"] for i in items),
        "items_shipped": sum(i["quantity_shipped"] for i in items),
        "shipping_address_count": len(st.addresses[order["id"]]),
        "coupon_discount": money(sum(float(c["discount"]) for c in st.coupons[order["id"]])),
        "payment_status": "",
        "currency_exchange_rate": "1.0000000000",
        "products": {"url": f"{base}/products", "resource": f"/orders/{order['id']}/products"},
        "shipping_addresses": {
            "url": f"{base}/shipping_addresses",
            "resource": f"/orders/{order['id']}/shipping_addresses",
        },
        "coupons": {"url": f"{base}/coupons", "resource": f"/orders/{order['id']}/coupons"},
        "consignments": {
            "url": f"{base}/consignments",
            "resource": f"/orders/{order['id']}/consignments",
        },
        "fees": {"url": f"{base}/fees", "resource": f"/orders/{order['id']}/fees"},
    }


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
    if order is None:
        raise not_found("The requested order was not found.")
    return order


ORDER_FILTERS = {
    "customer_id": "customer_id",
    "status_id": "status_id",
    "channel_id": "channel_id",
    "external_order_id": "external_order_id",
}
"""v2 order filters that match a field exactly (``email`` matches the billing email)."""
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
ORDER_PARAMETERS = ("page", "limit", "sort", "email")


def _getter(field: str) -> Callable[[Record], Any]:
    return lambda order: order[field]


def _order_spec() -> FilterSpec:
    fields = {**ORDER_FILTERS, "total": "total_inc_tax"}
    kinds = {name: ORDER_RANGES.get(name, "int") for name in fields}
    kinds["external_order_id"] = "str"
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


def list_orders(store: Store, call: Call) -> Reply:
    """``GET /v2/orders``: exact filters, ``min_``/``max_`` ranges compared as instants or
    numbers, ``sort=field[:asc|:desc]``; any other parameter answers 400."""
    query = dict(call.query)
    ranges = {}
    for key in list(query):
        bound, _, name = key.partition("_")
        if bound in ("min", "max") and name in ORDER_RANGES:
            ranges[f"{name}:{bound}"] = query.pop(key)
    spec = _order_spec()
    refuse_unknown(query, {n: spec[n] for n in ORDER_FILTERS}, ORDER_PARAMETERS, "order")
    exact = {name: query[name] for name in ORDER_FILTERS if name in query}
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
    status, body = v2_page([render_order(store, o) for o in orders], call.query)
    return Reply(status, body)


def post_order(store: Store, call: Call) -> Reply:
    return Reply(201, render_order(store, create_order(store, call.body)))


def get_order(store: Store, call: Call) -> Reply:
    return Reply(200, render_order(store, _order(store, call)))


def put_order(store: Store, call: Call) -> Reply:
    order = _order(store, call)
    body = require_object(call.body, "order")
    refuse_read_only(body, READ_ONLY + ("external_id", "shipping_addresses"))
    body = {k: v for k, v in body.items() if k not in IGNORED_ON_WRITE}
    _check_common(store, body)
    if "products" in body:
        raise ApiError(400, "Updating line items is not supported by this emulator.")
    changes = {k: v for k, v in body.items() if k in WRITABLE}
    if "billing_address" in changes:
        changes["billing_address"] = _address(changes["billing_address"], "billing_address")
    for name in MONEY:
        if name in changes:
            changes[name] = money(changes[name])
    order.update(changes)
    order["date_modified"] = now_rfc3339()
    return Reply(200, render_order(store, order))


def delete_order(store: Store, call: Call) -> Reply:
    order = _order(store, call)
    st = state(store)
    for table in (st.orders, st.products, st.addresses, st.coupons):
        table.pop(order["id"], None)
    return Reply(204)


def _sub(table_name: str) -> Handler:
    def handler(store: Store, call: Call) -> Reply:
        order = _order(store, call)
        rows: list[Record] = getattr(state(store), table_name)[order["id"]]
        status, body = v2_page([dict(r) for r in rows], call.query)
        return Reply(status, body)

    return handler


# ---- request schemas (checked by the router before a handler runs) ------------------------------

_AMOUNT = {"type": ["string", "number"]}
"""v2 money: the platform writes it as a string (``"5.0000"``) and reads a number as well."""
_ADDRESS = obj(
    {
        **{name: string(255) for name in ADDRESS_FIELDS},
        "form_fields": array(obj({"name": string()})),
        "shipping_method": string(),
        "cost_ex_tax": _AMOUNT,
        "cost_inc_tax": _AMOUNT,
    }
)
_LINE_ITEM = obj(
    {
        "product_id": ID,
        "variant_id": ID,
        "quantity": integer(1, 2**31 - 1),
        "name": string(255),
        "sku": string(255),
        "price_ex_tax": _AMOUNT,
        "price_inc_tax": _AMOUNT,
        "product_options": array(obj({"id": ID, "value": {"type": ["string", "integer"]}})),
    }
)
ORDER = obj(
    {
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
)

TABLE: Table = [
    ("/v2/orders", {"GET": list_orders, "POST": Endpoint(post_order, ORDER)}),
    (
        "/v2/orders/{order_id}",
        {"GET": get_order, "PUT": Endpoint(put_order, ORDER), "DELETE": delete_order},
    ),
    ("/v2/orders/{order_id}/products", {"GET": _sub("products")}),
    ("/v2/orders/{order_id}/shipping_addresses", {"GET": _sub("addresses")}),
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
    "merchant_shipping_cost": string(),
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
