"""Price lists, their records and their assignments (``/v3/pricelists``), as the platform serves
them.

- Price list names are unique (422). Deleting a list deletes its records and assignments.
- Records are keyed by (list, variant, currency) and written through the bulk upsert
  ``PUT /v3/pricelists/{id}/records``: at most 1,000 records per request (413 above), and one upsert
  at a time per list (a second concurrent one is answered 429). A record names its variant by
  ``variant_id`` or ``sku``; ``calculated_price``, ``product_id`` and dates are computed.
- Assignments ``{price_list_id, customer_group_id, channel_id}``: ``POST`` takes at most 25;
  ``DELETE`` needs a filter.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, invalid, not_found
from .routes import (
    CURSORS,
    PAGING,
    Call,
    Endpoint,
    Listing,
    Reply,
    Table,
    apply_filters,
    listed,
    page_by,
    page_of,
    register,
    single,
)
from .schema import BOOL, ID, array, integer, number, obj, string
from .store import VARIANT_DELETE_HOOKS, Record, Store, now_rfc3339
from .v2 import limit, state_of, too_large

MAX_UPSERT = 1000
MAX_ASSIGNMENTS = 25
RECORD_FIELDS = ("price", "sale_price", "retail_price", "map_price", "bulk_pricing_tiers")
CURRENCY = re.compile(r"^[A-Za-z]{3}$")


@dataclass
class PricingState:
    lists: dict[int, Record] = field(default_factory=dict)
    records: dict[tuple[int, int, str], Record] = field(default_factory=dict)
    assignments: dict[int, Record] = field(default_factory=dict)


_STATES: weakref.WeakKeyDictionary[Store, PricingState] = weakref.WeakKeyDictionary()


def state(store: Store) -> PricingState:
    return state_of(store, _STATES, PricingState)


# ---- price lists -------------------------------------------------------------------------------


def _check_name(store: Store, name: Any, own_id: int | None) -> None:
    if not isinstance(name, str) or not name.strip():
        raise invalid("Missing Required Fields", {"name": "Please provide a name."})
    for other in state(store).lists.values():
        if other["name"] == name and other["id"] != own_id:
            raise invalid(
                "Price list name must be unique.", {"name": f"'{name}' is already in use."}
            )


def create_list(store: Store, body: Any) -> Record:
    if not isinstance(body, dict):
        raise ApiError(400, "Input is invalid", detail="The request body must be one price list.")
    _check_name(store, body.get("name"), None)
    now = now_rfc3339()
    price_list = {
        "id": store.next_id(),
        "name": body["name"],
        "active": bool(body.get("active", True)),
        "date_created": now,
        "date_modified": now,
    }
    state(store).lists[price_list["id"]] = price_list
    return price_list


def _list(store: Store, call: Call) -> Record:
    found = state(store).lists.get(call.params["price_list_id"])
    if found is None:
        raise not_found("The price list was not found.")
    return found


def _get(name: str) -> Any:
    return lambda record: record.get(name)


_DATES = (
    "date_created date_created:min date_created:max date_modified date_modified:min "
    "date_modified:max"
)
PRICE_LISTS = Listing(
    {
        "id": ("int", _get("id")),
        "name": ("str", _get("name")),
        "date_created": ("time", _get("date_created")),
        "date_modified": ("time", _get("date_modified")),
    },
    f"id:in name name:like {_DATES}",
    others=(*PAGING, *CURSORS),
)


def list_lists(store: Store, call: Call) -> Reply:
    return page_by(call, sorted(state(store).lists.values(), key=lambda p: p["id"]), dict)


def post_list(store: Store, call: Call) -> Reply:
    return single(dict(create_list(store, call.body)))


def get_list(store: Store, call: Call) -> Reply:
    return single(dict(_list(store, call)))


def put_list(store: Store, call: Call) -> Reply:
    price_list = _list(store, call)
    if not isinstance(call.body, dict):
        raise ApiError(400, "Input is invalid", detail="The request body must be one price list.")
    if "name" in call.body:
        _check_name(store, call.body["name"], price_list["id"])
        price_list["name"] = call.body["name"]
    if "active" in call.body:
        price_list["active"] = bool(call.body["active"])
    price_list["date_modified"] = now_rfc3339()
    return single(dict(price_list))


def delete_list(store: Store, call: Call) -> Reply:
    price_list = _list(store, call)
    st = state(store)
    del st.lists[price_list["id"]]
    for key in [k for k in st.records if k[0] == price_list["id"]]:
        del st.records[key]
    for assignment_id in [
        k for k, a in st.assignments.items() if a["price_list_id"] == price_list["id"]
    ]:
        del st.assignments[assignment_id]
    return Reply(204)


# ---- records -----------------------------------------------------------------------------------


def sku_of(store: Store, variant: Record) -> str:
    """A variant's SKU (a base variant shares its product's)."""
    if variant.get("is_base"):
        return str(store.products[variant["product_id"]].get("sku") or "")
    return str(variant.get("sku") or "")


def _variant_of(store: Store, item: Mapping[str, Any]) -> Record | None:
    if item.get("variant_id") is not None:
        return store.variants.get(item["variant_id"])
    sku = str(item.get("sku") or "").casefold()
    for variant in store.variants.values():
        if sku and sku_of(store, variant).casefold() == sku:
            return variant
    return None


def render_record(store: Store, record: Record) -> Record:
    variant = store.variants.get(record["variant_id"])
    price = record.get("sale_price") or record.get("price")
    sku = sku_of(store, variant) if variant else ""
    product_id = variant["product_id"] if variant else None
    return {**record, "sku": sku, "product_id": product_id, "calculated_price": price}


_PRICES = ("price", "sale_price", "retail_price", "map_price", "calculated_price")
RECORDS_LIST = Listing(
    {
        "variant_id": ("int", _get("variant_id")),
        "product_id": ("int", _get("product_id")),
        "currency": ("istr", _get("currency")),
        "sku": ("istr", _get("sku")),
        "date_created": ("time", _get("date_created")),
        "date_modified": ("time", _get("date_modified")),
        **{name: ("num", _get(name)) for name in _PRICES},
    },
    "variant_id:in product_id:in currency currency:in sku sku:in "
    + " ".join(f"{n} {n}:min {n}:max" for n in _PRICES)
    + f" {_DATES}",
    others=(*PAGING, "include"),
    missing="before after",
)
"""A price list's records: the ``before``/``after`` cursors are missing (records have no id for
a cursor to name)."""


def list_records(store: Store, call: Call) -> Reply:
    price_list = _list(store, call)
    rows = [
        render_record(store, r)
        for k, r in sorted(state(store).records.items())
        if k[0] == price_list["id"]
    ]
    return page_of(listed(call, rows), call.query)


def upsert_records(store: Store, price_list_id: int, body: Any) -> None:
    if not isinstance(body, list) or not all(isinstance(i, dict) for i in body):
        raise ApiError(
            400, "Input is invalid", detail="The request body must be an array of records."
        )
    if len(body) > MAX_UPSERT:
        raise too_large(MAX_UPSERT)
    errors: dict[str, str] = {}
    resolved = []
    for index, item in enumerate(body):
        variant = _variant_of(store, item)
        if variant is None:
            errors[f"[{index}]"] = (
                f"variant {item.get('variant_id') or item.get('sku')!r} does not exist"
            )
            continue
        if not CURRENCY.match(str(item.get("currency") or "")):
            errors[f"[{index}].currency"] = "currency must be a 3-letter ISO code"
            continue
        if not isinstance(item.get("price"), int | float):
            errors[f"[{index}].price"] = "price is required"
            continue
        resolved.append((variant, item))
    if errors:
        raise invalid("The price list records could not be saved.", errors)
    st = state(store)
    for variant, item in resolved:
        key = (price_list_id, int(variant["id"]), str(item["currency"]).lower())
        now = now_rfc3339()
        record = st.records.get(key) or {
            "price_list_id": price_list_id,
            "variant_id": int(variant["id"]),
            "currency": key[2],
            "date_created": now,
            "sale_price": None,
            "retail_price": None,
            "map_price": None,
            "bulk_pricing_tiers": [],
        }
        record.update({k: v for k, v in item.items() if k in RECORD_FIELDS})
        record["date_modified"] = now
        st.records[key] = record


def put_records(store: Store, call: Call) -> Reply:
    upsert_records(store, _list(store, call)["id"], call.body)
    return Reply(200, {"data": {}, "meta": {}})


def delete_records(store: Store, call: Call) -> Reply:
    price_list = _list(store, call)
    skus = {s.casefold() for s in call.query.get("sku:in", "").split(",") if s}
    currency = call.query.get("currency", "").lower()
    st = state(store)
    for key, record in list(st.records.items()):
        if key[0] != price_list["id"]:
            continue
        variant = store.variants.get(record["variant_id"])
        sku = sku_of(store, variant).casefold() if variant else ""
        if (not skus or sku in skus) and (not currency or key[2] == currency):
            del st.records[key]
    return Reply(204)


# ---- assignments -------------------------------------------------------------------------------


_ASSIGNED = ("id", "price_list_id", "customer_group_id", "channel_id")
ASSIGNMENTS_LIST = Listing(
    {name: ("int", _get(name)) for name in _ASSIGNED},
    " ".join(f"{n} {n}:in" for n in _ASSIGNED),
    others=(*PAGING, *CURSORS),
)


def list_assignments(store: Store, call: Call) -> Reply:
    items = sorted(state(store).assignments.values(), key=lambda a: a["id"])
    return page_by(call, items, dict)


def create_assignments(store: Store, body: Any) -> list[Record]:
    from .customers import state as customer_state

    if not isinstance(body, list) or not all(isinstance(i, dict) for i in body):
        raise ApiError(
            400, "Input is invalid", detail="The request body must be an array of assignments."
        )
    if len(body) > MAX_ASSIGNMENTS:
        raise too_large(MAX_ASSIGNMENTS)
    st = state(store)
    for index, item in enumerate(body):
        if item.get("price_list_id") not in st.lists:
            raise invalid(
                "The assignments could not be created.",
                {f"[{index}].price_list_id": "unknown price list"},
            )
        group = item.get("customer_group_id")
        if group is not None and group not in customer_state(store).groups:
            raise invalid(
                "The assignments could not be created.",
                {f"[{index}].customer_group_id": "unknown customer group"},
            )
        channel = item.get("channel_id")
        if channel is not None and channel not in store.channels:
            raise invalid(
                "The assignments could not be created.",
                {f"[{index}].channel_id": "unknown channel"},
            )
        if group is None and channel is None:
            raise invalid(
                "The assignments could not be created.",
                {f"[{index}]": "name a customer group, a channel or both"},
            )
        for other in st.assignments.values():
            if other["customer_group_id"] == group and other["channel_id"] == channel:
                raise invalid(
                    "The assignments could not be created.",
                    {f"[{index}]": "this customer group and channel already have a price list"},
                )
    created = []
    for item in body:
        assignment = {
            "id": store.next_id(),
            "price_list_id": item["price_list_id"],
            "customer_group_id": item.get("customer_group_id"),
            "channel_id": item.get("channel_id"),
        }
        st.assignments[assignment["id"]] = assignment
        created.append(assignment)
    return created


def post_assignments(store: Store, call: Call) -> Reply:
    return Reply(200, {"data": [dict(a) for a in create_assignments(store, call.body)], "meta": {}})


def delete_assignments(store: Store, call: Call) -> Reply:
    spec = {
        "id": ("int", lambda a: a["id"]),
        "price_list_id": ("int", lambda a: a["price_list_id"]),
        "customer_group_id": ("int", lambda a: a["customer_group_id"]),
        "channel_id": ("int", lambda a: a["channel_id"]),
    }
    if not any(key.partition(":")[0] in spec for key in call.query):
        raise invalid("A filter is required.", {"id:in": "Provide at least one filter."})
    st = state(store)
    for assignment in apply_filters(list(st.assignments.values()), call.query, spec):
        del st.assignments[assignment["id"]]
    return Reply(204)


def _drop_variant_records(store: Store, variant_id: int) -> None:
    """A deleted variant takes its price list records with it."""
    records = state(store).records
    for key in [k for k in records if k[1] == variant_id]:
        del records[key]


VARIANT_DELETE_HOOKS.append(_drop_variant_records)

# ---- request schemas (checked by the router before a handler runs) ------------------------------

PRICE_LIST = obj({"name": string(255), "active": BOOL})
_PRICE = number(-1e12, 1e12)
_OPTIONAL_PRICE = number(0, 1e12, nullable=True)
RECORDS = array(
    obj(
        {
            "variant_id": ID,
            "sku": string(255),
            "currency": string(3),
            "price": _PRICE,
            "sale_price": _OPTIONAL_PRICE,
            "retail_price": _OPTIONAL_PRICE,
            "map_price": _OPTIONAL_PRICE,
            "bulk_pricing_tiers": array(
                obj(
                    {
                        "quantity_min": integer(0, 2**31 - 1),
                        "quantity_max": integer(0, 2**31 - 1),
                        "type": string(enum=("fixed", "price", "percent")),
                        "amount": _PRICE,
                    }
                )
            ),
        }
    )
)
ASSIGNMENTS = array(
    obj(
        {"price_list_id": ID, "customer_group_id": ID, "channel_id": ID},
        required=("price_list_id",),
    )
)

TABLE: Table = [
    (
        "/v3/pricelists",
        {"GET": Endpoint(list_lists, listing=PRICE_LISTS), "POST": Endpoint(post_list, PRICE_LIST)},
    ),
    (
        "/v3/pricelists/assignments",
        {
            "GET": Endpoint(list_assignments, listing=ASSIGNMENTS_LIST),
            "POST": Endpoint(post_assignments, ASSIGNMENTS),
            "DELETE": delete_assignments,
        },
    ),
    (
        "/v3/pricelists/{price_list_id}",
        {"GET": get_list, "PUT": Endpoint(put_list, PRICE_LIST), "DELETE": delete_list},
    ),
    (
        "/v3/pricelists/{price_list_id}/records",
        {
            "GET": Endpoint(list_records, listing=RECORDS_LIST),
            "PUT": Endpoint(put_records, RECORDS),
            "DELETE": delete_records,
        },
    ),
]
register(TABLE)

for _method, _template, _most in (
    ("DELETE", "/v3/pricelists/{id}", 1),
    ("PUT", "/v3/pricelists/{id}/records", 1),
    ("GET", "/v3/pricelists/{id}/records", 10),
    ("POST", "/v3/pricelists/assignments", 25),
):
    limit(_method, _template, _most)
