"""Legacy v2 endpoints the platform still serves and existing tools still call, read only here:
v2 customers (and their addresses) over the same customers as v3, v2 coupons over the coupon
codes of v3 promotions (the customer-group count is in customers.py).

v2 writes money as strings with four decimals and dates as RFC 2822 (``v2_money``, ``v2_date``);
lists are bare arrays paged by ``page``/``limit``, ``204`` past the end; ``/count`` answers
``{"count": n}``. Each list takes its documented filters and answers 400 for anything else.

- A v2 customer is the v3 customer's fields under v2 names: ``store_credit`` is the sum of its
  store credit amounts, ``reset_pass_on_login`` its ``force_password_reset``, ``addresses`` a
  link (``{url, resource}``) to ``/v2/customers/{id}/addresses``. Filters: ``first_name``,
  ``last_name``, ``company``, ``email``, ``phone``, ``customer_group_id``,
  ``tax_exempt_category``, ``min_id``/``max_id``, ``min_date_created``/``max_date_created``,
  ``min_date_modified``/``max_date_modified``.
- A v2 address is the v3 address under v2 names (``street_1``, ``state``, ``zip``,
  ``country_iso2``...).
- A v2 coupon is one code of a coupon promotion (``id`` the code's, ``name`` the promotion's,
  ``enabled`` while the promotion is ENABLED, ``expires`` its end date, ``num_uses`` the code's
  uses): the platform keeps coupons and promotions as one store of discounts; how it renders a
  promotion with several rules as one v2 coupon the reference does not say, so the first rule's
  action gives ``type`` and ``amount`` (``promotion`` when it is not a plain cart or shipping
  discount). Filters: ``id``, ``code``, ``name``, ``type``, ``min_id``/``max_id``,
  ``exclude_type``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .customers import state as customers_of
from .errors import not_found
from .promotions import state as promotions_of
from .routes import (
    Call,
    Endpoint,
    FilterSpec,
    Listing,
    Record,
    Reply,
    Table,
    apply_filters,
    listed,
    register,
)
from .store import Store
from .v2 import v2_count, v2_date, v2_money, v2_page

PAGING = ("page", "limit")
RANGES = {
    "min_id": "id:min",
    "max_id": "id:max",
    "min_date_created": "date_created:min",
    "max_date_created": "date_created:max",
    "min_date_modified": "date_modified:min",
    "max_date_modified": "date_modified:max",
}
"""v2's range filters as the filter operators ``apply_filters`` reads."""


def _field(name: str) -> Any:
    return lambda record: record.get(name)


def _ranged(call: Call, items: list[Record], spec: FilterSpec) -> list[Record]:
    """``items`` narrowed by the v2 range filters (``min_id``...) the query names."""
    ranges = {RANGES[k]: v for k, v in call.query.items() if k in RANGES}
    return apply_filters(items, ranges, spec) if ranges else items


def _page(items: list[Any], query: Mapping[str, str]) -> Reply:
    status, body = v2_page(items, query)
    return Reply(status, body)


# ---- customers ---------------------------------------------------------------------------------

CUSTOMER_FILTERS: FilterSpec = {
    name: ("istr" if name == "email" else "str", _field(name))
    for name in ("first_name", "last_name", "company", "email", "phone", "tax_exempt_category")
} | {
    "id": ("int", _field("id")),
    "customer_group_id": ("int", _field("customer_group_id")),
    "date_created": ("time", _field("date_created")),
    "date_modified": ("time", _field("date_modified")),
}
CUSTOMERS = Listing(
    CUSTOMER_FILTERS,
    "first_name last_name company email phone customer_group_id tax_exempt_category",
    others=(*PAGING, *RANGES),
    missing="store_credit",
)


def render_customer(store: Store, call: Call, customer: Record) -> Record:
    credit = sum(float(c.get("amount") or 0) for c in customer.get("store_credit_amounts") or [])
    resource = f"/customers/{customer['id']}/addresses"
    store_path = f"{call.base_url.rstrip('/')}/stores/{store.store_hash}"
    return {
        "id": customer["id"],
        "company": customer.get("company", ""),
        "first_name": customer.get("first_name", ""),
        "last_name": customer.get("last_name", ""),
        "email": customer.get("email", ""),
        "phone": customer.get("phone", ""),
        "form_fields": [
            {"name": f.get("name"), "value": f.get("value")}
            for f in customer.get("form_fields") or []
        ],
        "date_created": v2_date(customer.get("date_created")),
        "date_modified": v2_date(customer.get("date_modified")),
        "store_credit": v2_money(credit),
        "registration_ip_address": customer.get("registration_ip_address", ""),
        "customer_group_id": customer.get("customer_group_id", 0),
        "notes": customer.get("notes", ""),
        "tax_exempt_category": customer.get("tax_exempt_category", ""),
        "reset_pass_on_login": bool(customer.get("force_password_reset")),
        "accepts_marketing": bool(customer.get("accepts_product_review_abandoned_cart_emails")),
        "addresses": {"url": f"{store_path}/v2{resource}", "resource": resource},
    }


def _customers(store: Store) -> list[Record]:
    return sorted(customers_of(store).customers.values(), key=lambda c: c["id"])


def list_customers(store: Store, call: Call) -> Reply:
    found = _ranged(call, listed(call, _customers(store)), CUSTOMER_FILTERS)
    return _page([render_customer(store, call, c) for c in found], call.query)


def count_customers(store: Store, call: Call) -> Reply:
    return Reply(200, v2_count(len(_customers(store))))


def _customer(store: Store, call: Call) -> Record:
    found = customers_of(store).customers.get(call.params["customer_id"])
    if found is None:
        raise not_found("The requested customer was not found.")
    return found


def get_customer(store: Store, call: Call) -> Reply:
    return Reply(200, render_customer(store, call, _customer(store, call)))


# ---- customer addresses ------------------------------------------------------------------------

ADDRESS_NAMES = {
    "street_1": "address1",
    "street_2": "address2",
    "state": "state_or_province",
    "zip": "postal_code",
    "country_iso2": "country_code",
}


def render_address(address: Record) -> Record:
    out: Record = {
        "id": address["id"],
        "customer_id": address["customer_id"],
        "first_name": address.get("first_name", ""),
        "last_name": address.get("last_name", ""),
        "company": address.get("company", ""),
        "city": address.get("city", ""),
        "country": address.get("country", ""),
        "phone": address.get("phone", ""),
        "address_type": address.get("address_type", "residential"),
    }
    out.update({v2: address.get(v3, "") for v2, v3 in ADDRESS_NAMES.items()})
    return out


def _addresses(store: Store, customer_id: int) -> list[Record]:
    every = customers_of(store).addresses.values()
    return sorted((a for a in every if a["customer_id"] == customer_id), key=lambda a: a["id"])


def list_addresses(store: Store, call: Call) -> Reply:
    customer = _customer(store, call)
    return _page([render_address(a) for a in _addresses(store, customer["id"])], call.query)


def count_addresses(store: Store, call: Call) -> Reply:
    return Reply(200, v2_count(len(_addresses(store, _customer(store, call)["id"]))))


def get_address(store: Store, call: Call) -> Reply:
    customer = _customer(store, call)
    for address in _addresses(store, customer["id"]):
        if address["id"] == call.params["address_id"]:
            return Reply(200, render_address(address))
    raise not_found("The requested address was not found.")


# ---- customer groups ---------------------------------------------------------------------------


# ---- coupons -----------------------------------------------------------------------------------

COUPON_FILTERS: FilterSpec = {
    "id": ("int", _field("id")),
    "code": ("istr", _field("code")),
    "name": ("str", _field("name")),
    "type": ("str", _field("type")),
}
COUPONS = Listing(
    COUPON_FILTERS, "id code name type", others=(*PAGING, "min_id", "max_id", "exclude_type")
)


def _discount(promotion: Record) -> tuple[str, Any]:
    """The v2 coupon ``type`` and ``amount`` of a promotion's first rule."""
    rules = promotion.get("rules") or []
    action = rules[0].get("action", {}) if rules else {}
    if "cart_value" in action:
        discount = action["cart_value"].get("discount", {})
        if "percentage_amount" in discount:
            return "percentage_discount", discount["percentage_amount"]
        if "fixed_amount" in discount:
            return "per_total_discount", discount["fixed_amount"]
    if "shipping" in action and action["shipping"].get("free_shipping"):
        return "free_shipping", 0
    return "promotion", 0


def render_coupon(promotion: Record, code: Record) -> Record:
    kind, amount = _discount(promotion)
    return {
        "id": code["id"],
        "date_created": v2_date(code.get("created")),
        "num_uses": code.get("current_uses", 0),
        "name": promotion.get("name", ""),
        "type": kind,
        "amount": v2_money(amount),
        "min_purchase": v2_money(0),
        "expires": v2_date(promotion.get("end_date")) or "",
        "enabled": promotion.get("status") == "ENABLED",
        "code": code["code"],
        "applies_to": {"entity": "categories", "ids": [0]},
        "max_uses": code.get("max_uses", 0),
        "max_uses_per_customer": code.get("max_uses_per_customer", 0),
        "restricted_to": {},
        "shipping_methods": [],
    }


def _coupons(store: Store) -> list[Record]:
    state = promotions_of(store)
    return [
        render_coupon(state.promotions[code["promotion_id"]], code)
        for _, code in sorted(state.codes.items())
        if code["promotion_id"] in state.promotions
    ]


def list_coupons(store: Store, call: Call) -> Reply:
    found = _ranged(call, listed(call, _coupons(store)), COUPON_FILTERS)
    excluded = {t.strip() for t in call.query.get("exclude_type", "").split(",") if t.strip()}
    return _page([c for c in found if c["type"] not in excluded], call.query)


def count_coupons(store: Store, call: Call) -> Reply:
    return Reply(200, v2_count(len(_coupons(store))))


def get_coupon(store: Store, call: Call) -> Reply:
    for coupon in _coupons(store):
        if coupon["id"] == call.params["coupon_id"]:
            return Reply(200, coupon)
    raise not_found("The requested coupon was not found.")


ADDRESSES = Listing(others=PAGING)

TABLE: Table = [
    ("/v2/customers", {"GET": Endpoint(list_customers, listing=CUSTOMERS)}),
    ("/v2/customers/count", {"GET": count_customers}),
    ("/v2/customers/{customer_id}", {"GET": get_customer}),
    (
        "/v2/customers/{customer_id}/addresses",
        {"GET": Endpoint(list_addresses, listing=ADDRESSES)},
    ),
    ("/v2/customers/{customer_id}/addresses/count", {"GET": count_addresses}),
    ("/v2/customers/{customer_id}/addresses/{address_id}", {"GET": get_address}),
    ("/v2/coupons", {"GET": Endpoint(list_coupons, listing=COUPONS)}),
    ("/v2/coupons/count", {"GET": count_coupons}),
    ("/v2/coupons/{coupon_id}", {"GET": get_coupon}),
]
register(TABLE)
