"""Customer groups (``/v2/customer_groups``) and customers (``/v3/customers`` with addresses,
attributes, attribute values and form-field values), as the platform serves them.

- Customer groups are v2: bare arrays, 204 past the end, ``[{status, message}]`` errors, and a 400
  for any read-only field (``id``, ``date_created``, ``date_modified``) in a write. A ``price_list``
  discount rule must be the only rule; only one group may be the guest group; referenced
  categories, products and price lists must exist.
- Customers are v3: ``POST``/``PUT /v3/customers`` take arrays of at most 10 (413 above), ``PUT``
  needs ``id`` and cannot change sub-resources; emails are unique case-insensitively (422). A
  customer created without a password must reset it at first login
  (``authentication.force_password_reset``); passwords are never returned.
- Documented concurrency limits (429 when exceeded): ``PUT /v3/customers`` 3, ``POST`` addresses
  10, ``PUT`` addresses / attributes / attribute values 3, customer groups 40.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, invalid, not_found
from .routes import (
    PAGING,
    Call,
    Endpoint,
    FilterSpec,
    Listing,
    Reply,
    Table,
    apply_filters,
    cursor_page_of,
    listed,
    page_of,
    register,
    single,
    stored_instant,
)
from .schema import BOOL, ID, MONEY, array, integer, obj, string
from .store import (
    CATEGORY_DELETE_HOOKS,
    PRODUCT_DELETE_HOOKS,
    Record,
    Store,
    now_rfc3339,
)
from .v2 import limit, refuse_read_only, require_object, state_of, too_large, v2_count, v2_page

MAX_BATCH = 10
GROUP_READ_ONLY = ("id", "date_created", "date_modified")
GROUP_FIELDS = ("name", "is_default", "category_access", "discount_rules", "is_group_for_guests")
CUSTOMER_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "company",
    "phone",
    "notes",
    "tax_exempt_category",
    "customer_group_id",
    "accepts_product_review_abandoned_cart_emails",
    "store_credit_amounts",
    "channel_ids",
    "form_fields",
)
ADDRESS_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "address1",
    "address2",
    "city",
    "state_or_province",
    "postal_code",
    "country_code",
    "phone",
    "address_type",
)
ADDRESS_REQUIRED = ("first_name", "last_name", "city", "country_code", "address1")
RULE_TYPES = {"price_list", "all", "category", "product"}
RULE_METHODS = {"percent", "fixed", "price"}
ATTRIBUTE_TYPES = {"string", "number", "date"}
MAX_ATTRIBUTES = 50


@dataclass
class CustomerState:
    groups: dict[int, Record] = field(default_factory=dict)
    customers: dict[int, Record] = field(default_factory=dict)
    addresses: dict[int, Record] = field(default_factory=dict)
    attributes: dict[int, Record] = field(default_factory=dict)
    attribute_values: dict[int, Record] = field(default_factory=dict)


_STATES: weakref.WeakKeyDictionary[Store, CustomerState] = weakref.WeakKeyDictionary()


def state(store: Store) -> CustomerState:
    return state_of(store, _STATES, CustomerState)


# ---- customer groups ---------------------------------------------------------------------------


def _check_group(store: Store, body: Mapping[str, Any], own_id: int | None) -> None:
    from .pricing import state as pricing_state

    name = body.get("name")
    if own_id is None and not (isinstance(name, str) and name.strip()):
        raise ApiError(400, "The required field 'name' was not supplied.")
    if "name" in body and not (isinstance(name, str) and name.strip()):
        raise ApiError(400, "The field 'name' must be a non-empty string.")
    access = body.get("category_access")
    if access is not None:
        if not isinstance(access, dict) or access.get("type") not in ("all", "specific", "none"):
            raise ApiError(400, "The field 'category_access.type' must be all, specific or none.")
        for category_id in access.get("categories") or []:
            if category_id not in store.categories:
                raise ApiError(400, f"The category {category_id} does not exist.")
    rules = body.get("discount_rules")
    if rules is not None:
        if not isinstance(rules, list):
            raise ApiError(400, "The field 'discount_rules' must be an array.")
        for rule in rules:
            if not isinstance(rule, dict) or rule.get("type") not in RULE_TYPES:
                raise ApiError(
                    400, "Each discount rule needs a type: price_list, all, category or product."
                )
            if rule["type"] == "price_list":
                if len(rules) > 1:
                    raise ApiError(
                        400, "A price_list discount rule must be the only rule of a group."
                    )
                if rule.get("price_list_id") not in pricing_state(store).lists:
                    raise ApiError(
                        400, f"The price list {rule.get('price_list_id')} does not exist."
                    )
                continue
            if rule.get("method") not in RULE_METHODS:
                raise ApiError(400, "A discount rule's method must be percent, fixed or price.")
            if rule["type"] == "category" and rule.get("category_id") not in store.categories:
                raise ApiError(400, f"The category {rule.get('category_id')} does not exist.")
            if rule["type"] == "product" and rule.get("product_id") not in store.products:
                raise ApiError(400, f"The product {rule.get('product_id')} does not exist.")
    if body.get("is_group_for_guests"):
        for group in state(store).groups.values():
            if group["is_group_for_guests"] and group["id"] != own_id:
                raise ApiError(
                    400,
                    f"The customer group '{group['name']}' is already the group for guests; only "
                    "one group can be.",
                )


def create_group(store: Store, body: Any) -> Record:
    body = require_object(body, "customer group")
    refuse_read_only(body, GROUP_READ_ONLY)
    _check_group(store, body, None)
    now = now_rfc3339()
    group: Record = {
        "id": store.next_id(),
        "name": "",
        "is_default": False,
        "category_access": {"type": "all"},
        "discount_rules": [],
        "is_group_for_guests": False,
        "date_created": now,
        "date_modified": now,
    }
    group.update({k: v for k, v in body.items() if k in GROUP_FIELDS})
    _take_default(store, group)
    state(store).groups[group["id"]] = group
    return group


def _take_default(store: Store, group: Record) -> None:
    if group.get("is_default"):
        for other in state(store).groups.values():
            if other["id"] != group["id"]:
                other["is_default"] = False


def _group(store: Store, call: Call) -> Record:
    group = state(store).groups.get(call.params["group_id"])
    if group is None:
        raise not_found("The customer group was not found.")
    return group


def _get(name: str) -> Any:
    return lambda record: record.get(name)


_DATES = (
    "date_created date_created:min date_created:max date_modified date_modified:min "
    "date_modified:max"
)
_DATE_FILTERS: FilterSpec = {
    "date_created": ("time", _get("date_created")),
    "date_modified": ("time", _get("date_modified")),
}
GROUPS = Listing(
    {
        "name": ("str", _get("name")),
        "is_default": ("bool", _get("is_default")),
        "is_group_for_guests": ("bool", _get("is_group_for_guests")),
        **_DATE_FILTERS,
    },
    f"name name:like is_default is_group_for_guests {_DATES}",
)
ADDRESSES = Listing(
    {
        "id": ("int", _get("id")),
        "customer_id": ("int", _get("customer_id")),
        "company": ("str", _get("company")),
    },
    "id:in customer_id:in company:in",
    others=(*PAGING, "include"),
    missing="name:in",
)
ATTRIBUTES = Listing(
    {"name": ("str", _get("name")), "type": ("str", _get("type")), **_DATE_FILTERS},
    f"name name:like type {_DATES}",
)
ATTRIBUTE_VALUE_LIST = Listing(
    {
        "customer_id": ("int", _get("customer_id")),
        "attribute_id": ("int", _get("attribute_id")),
        **_DATE_FILTERS,
    },
    f"customer_id:in attribute_id:in {_DATES}",
    missing="name",
)
"""Attribute values; ``name`` is missing: the reference does not say what it matches."""


def list_groups(store: Store, call: Call) -> Reply:
    groups = listed(call, sorted(state(store).groups.values(), key=lambda g: g["id"]))
    status, body = v2_page([dict(g) for g in groups], call.query)
    return Reply(status, body)


def count_groups(store: Store, call: Call) -> Reply:
    """``GET /v2/customer_groups/count``."""
    return Reply(200, v2_count(len(state(store).groups)))


def post_group(store: Store, call: Call) -> Reply:
    return Reply(201, dict(create_group(store, call.body)))


def get_group(store: Store, call: Call) -> Reply:
    return Reply(200, dict(_group(store, call)))


def put_group(store: Store, call: Call) -> Reply:
    group = _group(store, call)
    body = require_object(call.body, "customer group")
    refuse_read_only(body, GROUP_READ_ONLY)
    _check_group(store, body, group["id"])
    group.update({k: v for k, v in body.items() if k in GROUP_FIELDS})
    group["date_modified"] = now_rfc3339()
    _take_default(store, group)
    return Reply(200, dict(group))


def delete_group(store: Store, call: Call) -> Reply:
    from .pricing import state as pricing_state

    group = _group(store, call)
    del state(store).groups[group["id"]]
    for customer in state(store).customers.values():  # deleting a group unassigns its customers
        if customer["customer_group_id"] == group["id"]:
            customer["customer_group_id"] = 0
    pricing = pricing_state(store)
    for assignment_id in [
        a["id"] for a in pricing.assignments.values() if a.get("customer_group_id") == group["id"]
    ]:
        del pricing.assignments[assignment_id]
    for hook in GROUP_DELETE_HOOKS:
        hook(store, group["id"])
    return Reply(204)


GROUP_DELETE_HOOKS: list[Callable[[Store, int], None]] = []
"""Called with the id of a customer group just deleted (areas naming groups register here)."""


def _forget_in_groups(store: Store, kind: str, entity_id: int) -> None:
    """ASSUMPTION_DELETE_DROPS_GROUP_DISCOUNT_RULES: a deleted product (or category) takes the
    customer groups' discount rules naming it, and a category leaves the groups' category
    access lists."""
    for group in state(store).groups.values():
        rules = group.get("discount_rules") or []
        kept = [
            r for r in rules if not (r.get("type") == kind and r.get(f"{kind}_id") == entity_id)
        ]
        access = group.get("category_access") or {}
        listed = access.get("categories") or []
        if kind == "category" and entity_id in listed:
            access["categories"] = [c for c in listed if c != entity_id]
        elif len(kept) == len(rules):
            continue
        group["discount_rules"] = kept
        group["date_modified"] = now_rfc3339()


PRODUCT_DELETE_HOOKS.append(
    lambda store, product_id: _forget_in_groups(store, "product", product_id)
)
CATEGORY_DELETE_HOOKS.append(
    lambda store, category_id: _forget_in_groups(store, "category", category_id)
)


# ---- customers ---------------------------------------------------------------------------------


def _batch(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise ApiError(
            400, "Input is invalid", detail="The request body must be an array of objects."
        )
    if len(body) > MAX_BATCH:
        raise too_large(MAX_BATCH)
    return body


def _email_owner(store: Store, email: str) -> int | None:
    folded = email.casefold()
    for customer in state(store).customers.values():
        if customer["email"].casefold() == folded:
            return int(customer["id"])
    return None


def _check_customer(
    store: Store, index: int, body: Mapping[str, Any], own_id: int | None, seen: set[str]
) -> dict[str, str]:
    errors: dict[str, str] = {}
    required = ("email", "first_name", "last_name") if own_id is None else ()
    for name in required:
        if not isinstance(body.get(name), str) or not body[name].strip():
            errors[f"[{index}].{name}"] = f"{name} is required"
    email = body.get("email")
    if isinstance(email, str) and email:
        if "@" not in email:
            errors[f"[{index}].email"] = f"'{email}' is not a valid email address"
        owner = _email_owner(store, email)
        if (owner is not None and owner != own_id) or email.casefold() in seen:
            errors[f"[{index}].email"] = f"The email address {email} is already in use."
        seen.add(email.casefold())
    group_id = body.get("customer_group_id")
    if group_id not in (None, 0) and group_id not in state(store).groups:
        errors[f"[{index}].customer_group_id"] = f"customer group {group_id} does not exist"
    channel_ids = body.get("channel_ids")
    if channel_ids is not None:
        if not isinstance(channel_ids, list) or not channel_ids:
            errors[f"[{index}].channel_ids"] = "channel_ids must be null or a non-empty array"
        else:
            for channel_id in channel_ids:
                if channel_id not in store.channels:
                    errors[f"[{index}].channel_ids"] = f"channel {channel_id} does not exist"
    for i, address in enumerate(body.get("addresses") or []):
        missing = [f for f in ADDRESS_REQUIRED if not address.get(f)]
        if missing:
            errors[f"[{index}].addresses[{i}]"] = "missing " + ", ".join(missing)
    for i, value in enumerate(body.get("attributes") or []):
        if value.get("attribute_id") not in state(store).attributes:
            errors[f"[{index}].attributes[{i}]"] = (
                f"attribute {value.get('attribute_id')} does not exist"
            )
    return errors


def create_customers(store: Store, body: Any) -> list[Record]:
    items = _batch(body)
    errors: dict[str, str] = {}
    seen: set[str] = set()
    for index, item in enumerate(items):
        errors.update(_check_customer(store, index, item, None, seen))
    if errors:
        raise invalid("The customers could not be created.", errors)
    created = []
    st = state(store)
    for item in items:
        now = now_rfc3339()
        auth = item.get("authentication") or {}
        customer: Record = {
            "id": store.next_id(),
            "company": "",
            "phone": "",
            "notes": "",
            "tax_exempt_category": "",
            "customer_group_id": 0,
            "accepts_product_review_abandoned_cart_emails": False,
            "store_credit_amounts": [{"amount": 0}],
            "channel_ids": None,
            "form_fields": [],
            "registration_ip_address": "",
            "origin_channel_id": int(item.get("origin_channel_id") or 1),
            "date_created": now,
            "date_modified": now,
            # No password given: the customer must set one at first login.
            "force_password_reset": bool(
                auth.get("force_password_reset", not auth.get("new_password"))
            ),
        }
        customer.update({k: v for k, v in item.items() if k in CUSTOMER_FIELDS})
        st.customers[customer["id"]] = customer
        for address in item.get("addresses") or []:
            _add_address(store, customer["id"], address)
        for value in item.get("attributes") or []:
            _set_attribute_value(
                store, customer["id"], value["attribute_id"], str(value["attribute_value"])
            )
        created.append(customer)
    return created


def render_customer(store: Store, customer: Record, include: set[str]) -> Record:
    st = state(store)
    out = {
        k: v
        for k, v in customer.items()
        if k not in ("store_credit_amounts", "form_fields", "force_password_reset")
    }
    addresses = [a for a in st.addresses.values() if a["customer_id"] == customer["id"]]
    values = [v for v in st.attribute_values.values() if v["customer_id"] == customer["id"]]
    out["address_count"] = len(addresses)
    out["attribute_count"] = len(values)
    out["authentication"] = {"force_password_reset": customer["force_password_reset"]}
    if "addresses" in include:
        out["addresses"] = [dict(a) for a in sorted(addresses, key=lambda a: a["id"])]
    if "attributes" in include:
        out["attributes"] = [dict(v) for v in sorted(values, key=lambda v: v["id"])]
    if "storecredit" in include:
        out["store_credit_amounts"] = customer["store_credit_amounts"]
    if "formfields" in include:
        out["form_fields"] = list(customer["form_fields"])
    return out


CUSTOMER_FILTERS: FilterSpec = {
    "id": ("int", lambda c: c["id"]),
    "email": ("istr", lambda c: c["email"]),
    "customer_group_id": ("int", lambda c: c["customer_group_id"]),
    "company": ("str", lambda c: c["company"]),
    "phone": ("str", lambda c: c["phone"]),
    "name": ("istr", lambda c: f"{c['first_name']} {c['last_name']}"),
    "date_created": ("time", lambda c: c["date_created"]),
    "date_modified": ("time", lambda c: c["date_modified"]),
}
CUSTOMER_FILTER_PARAMS = (
    "id:in",
    "email:in",
    "customer_group_id:in",
    "company:in",
    "phone:in",
    "name:in",
    "name:like",
    "date_created:min",
    "date_created:max",
    "date_modified:min",
    "date_modified:max",
)
"""The filters of ``GET /v3/customers`` the emulator implements (customers.v3.yml); any other
parameter but paging, ``include`` and ``sort`` is a 400."""
CUSTOMER_SORTS: dict[str, Callable[[Record], Any]] = {
    "date_created": lambda c: stored_instant(c["date_created"]),
    "date_modified": lambda c: stored_instant(c["date_modified"]),
    "last_name": lambda c: c["last_name"].casefold(),
}
LIST_PARAMS = ("page", "limit", "include", "sort", "after", "before")


def list_customers(store: Store, call: Call) -> Reply:
    """Filters as ``CUSTOMER_FILTER_PARAMS``: ``name:in`` matches "first last" exactly,
    ``name:like`` any of its comma-separated parts within it (both ignoring case); dates are
    instants (``date_created:min`` includes that instant). ``sort`` is
    ``date_created``, ``date_modified`` or ``last_name``, ``:asc`` or ``:desc``, ties by id."""
    query = call.query
    for key in query:
        if key not in CUSTOMER_FILTER_PARAMS and key not in LIST_PARAMS:
            raise ApiError(
                400,
                f"The filter(s): {key} are not valid.",
                {key: "GET /v3/customers does not take this parameter."},
            )
    include = {part.strip() for part in query.get("include", "").split(",") if part.strip()}
    items = sorted(state(store).customers.values(), key=lambda c: c["id"])
    like = query.get("name:like")
    plain = {k: v for k, v in query.items() if k != "name:like"}
    items = apply_filters(items, plain, CUSTOMER_FILTERS)
    if like is not None:
        parts = [part.strip().casefold() for part in like.split(",") if part.strip()]
        items = [
            c
            for c in items
            if any(part in f"{c['first_name']} {c['last_name']}".casefold() for part in parts)
        ]
    sort = query.get("sort")
    if sort is not None:
        field, _, direction = sort.partition(":")
        if field not in CUSTOMER_SORTS or direction not in ("asc", "desc"):
            raise ApiError(
                400,
                f"The sort: {sort} is not valid.",
                {"sort": "Sort by date_created, date_modified or last_name, :asc or :desc."},
            )
        items.sort(key=CUSTOMER_SORTS[field], reverse=direction == "desc")
    return cursor_page_of(items, query, lambda c: render_customer(store, c, include))


def post_customers(store: Store, call: Call) -> Reply:
    created = create_customers(store, call.body)
    return Reply(
        200,
        {
            "data": [render_customer(store, c, {"addresses", "attributes"}) for c in created],
            "meta": {},
        },
    )


def put_customers(store: Store, call: Call) -> Reply:
    items = _batch(call.body)
    st = state(store)
    errors: dict[str, str] = {}
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.get("id") not in st.customers:
            errors[f"[{index}].id"] = f"customer {item.get('id')} does not exist"
            continue
        if "addresses" in item or "attributes" in item:
            errors[f"[{index}]"] = (
                "Subresource updates are not supported; use the addresses and "
                "attribute-values endpoints."
            )
        for name in (
            "registration_ip_address",
            "origin_channel_id",
            "date_created",
            "date_modified",
        ):
            if name in item:
                errors[f"[{index}].{name}"] = f"{name} is read-only"
        errors.update(_check_customer(store, index, item, item["id"], seen))
    if errors:
        raise invalid("The customers could not be updated.", errors)
    for item in items:
        customer = st.customers[item["id"]]
        customer.update({k: v for k, v in item.items() if k in CUSTOMER_FIELDS})
        auth = item.get("authentication") or {}
        if "force_password_reset" in auth:
            customer["force_password_reset"] = bool(auth["force_password_reset"])
        customer["date_modified"] = now_rfc3339()
    return Reply(
        200,
        {"data": [render_customer(store, st.customers[i["id"]], set()) for i in items], "meta": {}},
    )


def _id_in(query: Mapping[str, str], name: str = "id:in") -> list[int]:
    raw = query.get(name)
    if not raw:
        return []
    try:
        return [int(part) for part in raw.split(",") if part]
    except ValueError:
        raise invalid(f"The filter {name} is not valid.", {name: "Use integers."}) from None


def delete_customers(store: Store, call: Call) -> Reply:
    st = state(store)
    for customer_id in _id_in(call.query):  # without id:in: 204 and nothing deleted
        if st.customers.pop(customer_id, None) is not None:
            for table in (st.addresses, st.attribute_values):
                for key in [k for k, v in table.items() if v["customer_id"] == customer_id]:
                    del table[key]
    return Reply(204)


# ---- addresses ---------------------------------------------------------------------------------


def _address_identity(address: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(address.get(f) or "") for f in ("customer_id", *ADDRESS_FIELDS))


def _add_address(store: Store, customer_id: int, body: Mapping[str, Any]) -> Record | None:
    st = state(store)
    address: Record = {
        "id": store.next_id(),
        "customer_id": customer_id,
        "company": "",
        "address2": "",
        "state_or_province": "",
        "postal_code": "",
        "phone": "",
        "address_type": "residential",
    }
    address.update({k: v for k, v in body.items() if k in ADDRESS_FIELDS})
    address["country"] = str(address["country_code"]).upper()
    address.setdefault("form_fields", [])
    identity = _address_identity(address)
    if any(_address_identity(a) == identity for a in st.addresses.values()):
        return None  # a duplicate is silently not created
    st.addresses[address["id"]] = address
    return address


def list_addresses(store: Store, call: Call) -> Reply:
    items = listed(call, sorted(state(store).addresses.values(), key=lambda a: a["id"]))
    return page_of([dict(a) for a in items], call.query)


def post_addresses(store: Store, call: Call) -> Reply:
    items = _batch(call.body)
    for index, item in enumerate(items):
        if item.get("customer_id") not in state(store).customers:
            raise invalid(
                "The addresses could not be created.",
                {f"[{index}].customer_id": "unknown customer"},
            )
        missing = [
            f for f in (*ADDRESS_REQUIRED, "state_or_province", "postal_code") if not item.get(f)
        ]
        if missing:
            raise invalid(
                "The addresses could not be created.",
                {f"[{index}]": "missing " + ", ".join(missing)},
            )
    created = [_add_address(store, int(i["customer_id"]), i) for i in items]
    return Reply(200, {"data": [dict(a) for a in created if a is not None], "meta": {}})


def put_addresses(store: Store, call: Call) -> Reply:
    items = _batch(call.body)
    st = state(store)
    for index, item in enumerate(items):
        if item.get("id") not in st.addresses:
            raise invalid(
                "The addresses could not be updated.", {f"[{index}].id": "unknown address"}
            )
    for item in items:
        address = st.addresses[item["id"]]
        candidate = {**address, **{k: v for k, v in item.items() if k in ADDRESS_FIELDS}}
        identity = _address_identity(candidate)
        if any(
            _address_identity(a) == identity
            for a in st.addresses.values()
            if a["id"] != address["id"]
        ):
            continue  # updating into a duplicate is silently a no-op
        address.update(candidate)
        address["country"] = str(address["country_code"]).upper()
    return Reply(200, {"data": [dict(st.addresses[i["id"]]) for i in items], "meta": {}})


def delete_addresses(store: Store, call: Call) -> Reply:
    for address_id in _id_in(call.query):
        state(store).addresses.pop(address_id, None)
    return Reply(204)


# ---- attributes and their values ---------------------------------------------------------------


def list_attributes(store: Store, call: Call) -> Reply:
    items = listed(call, sorted(state(store).attributes.values(), key=lambda a: a["id"]))
    return page_of([dict(a) for a in items], call.query)


def post_attributes(store: Store, call: Call) -> Reply:
    items = _batch(call.body)
    st = state(store)
    if len(st.attributes) + len(items) > MAX_ATTRIBUTES:
        raise invalid(
            "Too many attributes.", {"attributes": f"A store can have at most {MAX_ATTRIBUTES}."}
        )
    for index, item in enumerate(items):
        if not item.get("name") or item.get("type") not in ATTRIBUTE_TYPES:
            raise invalid(
                "The attributes could not be created.",
                {f"[{index}]": "name and type (string, number or date) are required"},
            )
    created = []
    for item in items:
        now = now_rfc3339()
        attribute = {
            "id": store.next_id(),
            "name": item["name"],
            "type": item["type"],
            "date_created": now,
            "date_modified": now,
        }
        st.attributes[attribute["id"]] = attribute
        created.append(dict(attribute))
    return Reply(200, {"data": created, "meta": {}})


def _set_attribute_value(store: Store, customer_id: int, attribute_id: int, value: str) -> Record:
    st = state(store)
    now = now_rfc3339()
    for existing in st.attribute_values.values():
        if existing["customer_id"] == customer_id and existing["attribute_id"] == attribute_id:
            existing.update({"attribute_value": value, "date_modified": now})
            return existing
    record: Record = {
        "id": store.next_id(),
        "customer_id": customer_id,
        "attribute_id": attribute_id,
        "attribute_value": value,
        "date_created": now,
        "date_modified": now,
    }
    st.attribute_values[record["id"]] = record
    return record


def list_attribute_values(store: Store, call: Call) -> Reply:
    values = sorted(state(store).attribute_values.values(), key=lambda v: v["id"])
    items = listed(call, values)
    return page_of([dict(v) for v in items], call.query)


def put_attribute_values(store: Store, call: Call) -> Reply:
    items = _batch(call.body)
    st = state(store)
    for index, item in enumerate(items):
        if (
            item.get("customer_id") not in st.customers
            or item.get("attribute_id") not in st.attributes
        ):
            raise invalid(
                "The attribute values could not be saved.",
                {f"[{index}]": "customer_id and attribute_id must exist"},
            )
    saved = [
        _set_attribute_value(
            store, int(i["customer_id"]), int(i["attribute_id"]), str(i.get("value", ""))
        )
        for i in items
    ]
    return Reply(200, {"data": [dict(v) for v in saved], "meta": {}})


def delete_attribute_values(store: Store, call: Call) -> Reply:
    for value_id in _id_in(call.query):
        state(store).attribute_values.pop(value_id, None)
    return Reply(204)


# ---- request schemas (checked by the router before a handler runs) ------------------------------

_FORM_FIELD = obj(
    {"name": string(), "value": {"type": ["string", "number", "array"]}}, required=("name", "value")
)
_ADDRESS_FIELDS = {
    "first_name": string(255),
    "last_name": string(255),
    "company": string(255),
    "address1": string(),
    "address2": string(),
    "city": string(100),
    "state_or_province": string(100),
    "postal_code": string(30),
    "country_code": string(2),
    "phone": string(50),
    "address_type": string(enum=("residential", "commercial")),
    "form_fields": array(_FORM_FIELD),
}
_CUSTOMER_FIELDS = {
    "email": string(255),
    "first_name": string(100),
    "last_name": string(100),
    "company": string(255),
    "phone": string(50),
    "registration_ip_address": string(30),
    "notes": string(),
    "tax_exempt_category": string(255),
    "customer_group_id": integer(0, 2**31 - 1, nullable=True),
    "authentication": obj({"force_password_reset": BOOL, "new_password": string()}),
    "accepts_product_review_abandoned_cart_emails": BOOL,
    "store_credit_amounts": array(obj({"amount": MONEY})),
    "origin_channel_id": integer(0, 2**31 - 1, nullable=True),
    "channel_ids": {"type": ["array", "null"], "items": ID},
    "form_fields": array(_FORM_FIELD),
    "trigger_account_created_notification": BOOL,
}
NEW_CUSTOMERS = array(
    obj(
        {
            **_CUSTOMER_FIELDS,
            "addresses": array(obj(_ADDRESS_FIELDS), max_items=10),
            "attributes": array(
                obj({"attribute_id": ID, "attribute_value": string(255)}), max_items=10
            ),
        }
    )
)
CUSTOMER_UPDATES = array(obj({**_CUSTOMER_FIELDS, "id": ID}, required=("id",)))
NEW_ADDRESSES = array(obj({**_ADDRESS_FIELDS, "customer_id": ID}))
ADDRESS_UPDATES = array(obj({**_ADDRESS_FIELDS, "id": ID}, required=("id",)))
NEW_ATTRIBUTES = array(
    obj(
        {"name": string(255, min_length=1), "type": string(enum=("string", "number", "date"))},
        required=("name", "type"),
    )
)
ATTRIBUTE_VALUES = array(
    obj(
        {"id": ID, "attribute_id": ID, "value": string(255), "customer_id": ID},
        required=("attribute_id", "value", "customer_id"),
    )
)
_DISCOUNT_RULE = obj(
    {
        "type": string(enum=sorted(RULE_TYPES)),
        "method": string(enum=sorted(RULE_METHODS)),
        "amount": {"type": ["string", "number"]},
        "price_list_id": ID,
        "category_id": ID,
        "product_id": ID,
    },
    required=("type",),
)
CUSTOMER_GROUP = obj(
    {
        "name": string(255),
        "is_default": BOOL,
        "category_access": obj(
            {"type": string(enum=("all", "specific", "none")), "categories": array(ID)}
        ),
        "discount_rules": array(_DISCOUNT_RULE),
        "is_group_for_guests": BOOL,
    }
)

TABLE: Table = [
    (
        "/v2/customer_groups",
        {
            "GET": Endpoint(list_groups, listing=GROUPS),
            "POST": Endpoint(post_group, CUSTOMER_GROUP),
        },
    ),
    ("/v2/customer_groups/count", {"GET": count_groups}),
    (
        "/v2/customer_groups/{group_id}",
        {"GET": get_group, "PUT": Endpoint(put_group, CUSTOMER_GROUP), "DELETE": delete_group},
    ),
    (
        "/v3/customers",
        {
            "GET": list_customers,
            "POST": Endpoint(post_customers, NEW_CUSTOMERS),
            "PUT": Endpoint(put_customers, CUSTOMER_UPDATES),
            "DELETE": delete_customers,
        },
    ),
    (
        "/v3/customers/addresses",
        {
            "GET": Endpoint(list_addresses, listing=ADDRESSES),
            "POST": Endpoint(post_addresses, NEW_ADDRESSES),
            "PUT": Endpoint(put_addresses, ADDRESS_UPDATES),
            "DELETE": delete_addresses,
        },
    ),
    (
        "/v3/customers/attributes",
        {
            "GET": Endpoint(list_attributes, listing=ATTRIBUTES),
            "POST": Endpoint(post_attributes, NEW_ATTRIBUTES),
        },
    ),
    (
        "/v3/customers/attribute-values",
        {
            "GET": Endpoint(list_attribute_values, listing=ATTRIBUTE_VALUE_LIST),
            "PUT": Endpoint(put_attribute_values, ATTRIBUTE_VALUES),
            "DELETE": delete_attribute_values,
        },
    ),
]
register(TABLE)

for _method, _template, _most in (
    ("PUT", "/v3/customers", 3),
    ("POST", "/v3/customers/addresses", 10),
    ("PUT", "/v3/customers/addresses", 3),
    ("POST", "/v3/customers/attributes", 3),
    ("PUT", "/v3/customers/attribute-values", 3),
    ("GET", "/v2/customer_groups", 40),
    ("POST", "/v2/customer_groups", 40),
    ("DELETE", "/v2/customer_groups/{id}", 40),
):
    limit(_method, _template, _most)

__all__ = ["TABLE", "state", "create_group", "create_customers", "single"]
