"""B2B Edition, as the platform serves it, on the emulator's own port.

- Login ``POST /api/io/auth/backend`` ``{storeHash, email, password, name}`` with a B2B admin
  user's credentials (``--b2b-user HASH=EMAIL:PASSWORD``) returns a token, then sent as
  ``authToken``. Or the store's own API token as ``X-Auth-Token`` plus ``X-Store-Hash``.
  A store without a registered B2B user has B2B Edition switched off (403).
- REST Management V3 at ``/api/v3/io/...``: companies (with hierarchy), addresses, users, orders,
  super admins (with company assignments), quotes (``/rfq``), shopping lists, and invoices
  (``/api/v3/io/ip/invoices``).
- ``{code, data, meta}`` envelopes; ``offset``/``limit`` paging (default 10, at most 250; 200 for
  orders and super admins) with ``meta.pagination.totalCount``; bulk creates of at most 10;
  errors as ``{code, data: {errMsg, errors}, meta: {message}}``. Each route's request
  body is checked against its schema first (wrong types: 422, nothing written).
- Rate limit: B2B Edition's own 150 requests per minute per store, reported as
  ``X-Requests-Allocated`` / ``X-Requests-Remaining`` / ``X-Request-Window-Resets-After`` /
  ``X-Requests-Window-Length``; enforced (429) only while the emulator has a quota switched on,
  so local runs stay fast, as for the store API.
- Rules: creating a company creates its admin user; creating a user creates (or links) the store
  customer with that email; the last user of a company cannot be deleted; a B2B order attaches
  B2B data (``poNumber``, ``extraFields``, company) to an existing store order; B2B orders cannot
  be deleted.

Deviation: the platform answers a token/``X-Store-Hash`` mismatch with a server error; the
emulator says 401, so clients fail fast instead of retrying.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

# isort: off
from .routes import Call, Endpoint, Reply, compile_template
from .errors import ApiError
from .schema import BOOL, ID, Schema, array, check, integer, number, obj, string
from . import customers as customer_domain
from . import orders as order_domain
from . import pricing as pricing_domain

# isort: on
from .store import PRODUCT_DELETE_HOOKS, VARIANT_DELETE_HOOKS, Record, Store
from .v2 import state_of

if TYPE_CHECKING:
    from .app import Emulator

PREFIXES = ("/api/io/", "/api/v3/io/")
LOGIN_PATH = "/api/io/auth/backend"
V3 = "/api/v3/io"
QUOTA = 150
WINDOW_S = 60
DEFAULT_LIMIT = 10
MAX_LIMIT = 250
BULK_MAX = 10


class B2BError(Exception):
    def __init__(self, status: int, message: str, errors: list[str] | None = None) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.errors = errors or []

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {"errMsg": self.message}
        if self.errors:
            data["errors"] = self.errors
        return {"code": self.status, "data": data, "meta": {"message": self.message}}


@dataclass
class B2BState:
    enabled: bool = False
    users_login: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Back-office users: casefolded email -> (email, password)."""
    tokens: dict[str, str] = field(default_factory=dict)
    """Login tokens -> the email they were issued to."""
    next_id: int = 1
    companies: dict[int, Record] = field(default_factory=dict)
    addresses: dict[int, Record] = field(default_factory=dict)
    users: dict[int, Record] = field(default_factory=dict)
    orders: dict[int, Record] = field(default_factory=dict)
    """By ``bcOrderId``."""
    super_admins: dict[int, Record] = field(default_factory=dict)
    assignments: dict[int, set[int]] = field(default_factory=dict)
    quotes: dict[int, Record] = field(default_factory=dict)
    shopping_lists: dict[int, Record] = field(default_factory=dict)
    invoices: dict[int, Record] = field(default_factory=dict)
    window_started: float = 0.0
    window_used: int = 0

    def new_id(self) -> int:
        value = self.next_id
        self.next_id += 1
        return value


_STATES: weakref.WeakKeyDictionary[Store, B2BState] = weakref.WeakKeyDictionary()


def state(store: Store) -> B2BState:
    return state_of(store, _STATES, B2BState)


def add_user(store: Store, email: str, password: str) -> None:
    """Switch B2B Edition on for ``store`` with a back-office admin user (``--b2b-user``)."""
    st = state(store)
    st.enabled = True
    st.users_login[email.casefold()] = (email, password)
    # Stores differ in their B2B ids as in their store ids.
    if st.next_id == 1:
        st.next_id = 1 + 1000 * (sum(store.store_hash.encode()) % 7)


def parse_user_arg(value: str) -> tuple[str, str, str]:
    """``HASH=EMAIL:PASSWORD`` -> (hash, email, password); ``ValueError`` saying what is wrong."""
    store_hash, sep, rest = value.partition("=")
    email, colon, password = rest.partition(":")
    if not sep or not colon or not store_hash.strip() or "@" not in email or not password:
        raise ValueError(
            f"invalid B2B user {value!r}: expected HASH=EMAIL:PASSWORD, e.g. "
            "--b2b-user staging=b2b@example.com:secret"
        )
    return store_hash.strip(), email.strip(), password


# ---- envelopes ------------------------------------------------------------------------------


def _ok(data: Any, status: int = 200) -> Reply:
    return Reply(status, {"code": status, "data": data, "meta": {"message": "SUCCESS"}})


def _page(call: Call, items: list[Record], max_limit: int = MAX_LIMIT) -> Reply:
    offset = _number(call.query, "offset", 0, 0)
    limit = _number(call.query, "limit", DEFAULT_LIMIT, 1)
    if limit > max_limit:
        raise B2BError(422, f"limit must be at most {max_limit}.", [f"limit: {limit}"])
    data = items[offset : offset + limit]
    meta = {
        "message": "SUCCESS",
        "pagination": {"limit": limit, "offset": offset, "totalCount": len(items)},
    }
    return Reply(200, {"code": 200, "data": data, "meta": meta})


def _number(query: Mapping[str, str], name: str, default: int, least: int) -> int:
    raw = query.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise B2BError(400, f"{name} must be an integer.", [f"{name}: {raw}"]) from None
    if value < least:
        raise B2BError(400, f"{name} must be at least {least}.", [f"{name}: {raw}"])
    return value


def _check(schema: Schema, body: Any) -> None:
    """The route's request schema, answered in B2B Edition's error envelope."""
    try:
        check(schema, body)
    except ApiError as err:
        details = [f"{where}: {message}" for where, message in err.errors.items()]
        raise B2BError(err.status, err.detail or err.title, details) from None


def _body(call: Call) -> dict[str, Any]:
    if not isinstance(call.body, dict):
        raise B2BError(400, "The request body must be a JSON object.")
    return call.body


def _require(body: Mapping[str, Any], names: tuple[str, ...], what: str) -> None:
    missing = [n for n in names if body.get(n) in (None, "", [])]
    if missing:
        raise B2BError(
            422, f"The {what} could not be saved.", [f"{n} is required" for n in missing]
        )


def _found(table: Mapping[int, Record], key: int, what: str) -> Record:
    record = table.get(key)
    if record is None:
        raise B2BError(404, f"{what} {key} not found.")
    return record


def _stamp(record: Record, created: bool) -> None:
    now = int(time.time())
    if created:
        record["createdAt"] = now
    record["updatedAt"] = now


# ---- companies --------------------------------------------------------------------------------

COMPANY_FIELDS = (
    "companyName",
    "companyEmail",
    "companyPhone",
    "country",
    "state",
    "city",
    "addressLine1",
    "addressLine2",
    "zipCode",
    "companyStatus",
    "uuid",
    "customerGroupId",
    "catalogId",
    "extraFields",
    "description",
)
COMPANY_REQUIRED = (
    "companyName",
    "companyEmail",
    "companyPhone",
    "country",
    "adminFirstName",
    "adminLastName",
    "adminEmail",
)


def _check_company(store: Store, body: Mapping[str, Any], own: int | None) -> None:
    st = state(store)
    name = body.get("companyName")
    if isinstance(name, str):
        for other in st.companies.values():
            if other["companyId"] != own and other["companyName"].casefold() == name.casefold():
                raise B2BError(422, f"The company name {name} already exists.")
    uuid = body.get("uuid")
    if uuid:
        for other in st.companies.values():
            if other["companyId"] != own and other.get("uuid") == uuid:
                raise B2BError(422, f"A company with uuid {uuid} already exists.")
    group = body.get("customerGroupId")
    if group not in (None, 0) and group not in customer_domain.state(store).groups:
        raise B2BError(422, f"Customer group {group} does not exist.")
    catalog = body.get("catalogId")
    if catalog not in (None, 0) and catalog not in pricing_domain.state(store).lists:
        raise B2BError(422, f"Price list (catalog) {catalog} does not exist.")


def _render_company(store: Store, company: Record) -> Record:
    st = state(store)
    out = dict(company)
    groups = customer_domain.state(store).groups
    lists = pricing_domain.state(store).lists
    group = groups.get(company.get("customerGroupId") or 0)
    out["bcGroupName"] = group["name"] if group else ""
    catalog = lists.get(company.get("catalogId") or 0)
    out["catalogName"] = catalog["name"] if catalog else ""
    parent = st.companies.get(company.get("parentCompanyId") or 0)
    out["parentCompany"] = (
        {"companyId": parent["companyId"], "companyName": parent["companyName"]} if parent else None
    )
    out.pop("parentCompanyId", None)
    return out


def create_company(store: Store, body: Mapping[str, Any]) -> Record:
    st = state(store)
    _require(body, COMPANY_REQUIRED, "company")
    _check_company(store, body, None)
    admin_email = str(body["adminEmail"])
    _check_user_email(store, admin_email, None)
    company: Record = {"companyId": st.new_id(), "companyStatus": 1, "extraFields": []}
    company.update({k: body[k] for k in COMPANY_FIELDS if k in body})
    company.setdefault("uuid", "")
    company.setdefault("customerGroupId", 0)
    company.setdefault("catalogId", 0)
    company["parentCompanyId"] = 0
    _stamp(company, True)
    st.companies[company["companyId"]] = company
    _new_user(
        store,
        {
            "companyId": company["companyId"],
            "email": admin_email,
            "firstName": body["adminFirstName"],
            "lastName": body["adminLastName"],
            "phoneNumber": body.get("adminPhoneNumber", ""),
            "role": 0,
            "channelIds": body.get("channelIds") or [1],
        },
    )
    return company


def list_companies(store: Store, call: Call) -> Reply:
    items = sorted(state(store).companies.values(), key=lambda c: c["companyId"])
    if call.query.get("q"):
        items = [c for c in items if call.query["q"].casefold() in c["companyName"].casefold()]
    return _page(call, [_render_company(store, c) for c in items])


def _bulk(call: Call, noun: str, create: Callable[[Any], Any]) -> list[Any]:
    """A bulk create: a non-empty array of at most ``BULK_MAX`` items, each created in turn."""
    items = call.body
    if not isinstance(items, list) or not items:
        raise B2BError(400, f"Send a non-empty array of {noun}.")
    if len(items) > BULK_MAX:
        raise B2BError(422, f"At most {BULK_MAX} {noun} per request, got {len(items)}.")
    return [create(item) for item in items]


def post_company(store: Store, call: Call) -> Reply:
    return _ok(_render_company(store, create_company(store, _body(call))))


def post_companies_bulk(store: Store, call: Call) -> Reply:
    return _ok(
        _bulk(call, "companies", lambda item: _render_company(store, create_company(store, item)))
    )


def get_company(store: Store, call: Call) -> Reply:
    company = _found(state(store).companies, call.params["companyId"], "Company")
    return _ok(_render_company(store, company))


def put_company(store: Store, call: Call) -> Reply:
    company = _found(state(store).companies, call.params["companyId"], "Company")
    body = _body(call)
    _check_company(store, body, company["companyId"])
    company.update({k: body[k] for k in COMPANY_FIELDS if k in body})
    _stamp(company, False)
    return _ok(_render_company(store, company))


def delete_company(store: Store, call: Call) -> Reply:
    st = state(store)
    company = _found(st.companies, call.params["companyId"], "Company")
    company_id = company["companyId"]
    if any(c.get("parentCompanyId") == company_id for c in st.companies.values()):
        raise B2BError(422, "The company has subsidiaries; remove them from it first.")
    del st.companies[company_id]
    for table in (st.users, st.addresses):
        for key in [k for k, v in table.items() if v.get("companyId") == company_id]:
            del table[key]
    for assigned in st.assignments.values():
        assigned.discard(company_id)
    return _ok({})


def post_parent(store: Store, call: Call) -> Reply:
    st = state(store)
    company = _found(st.companies, call.params["companyId"], "Company")
    parent_id = _body(call).get("parentCompanyId")
    if not isinstance(parent_id, int):
        raise B2BError(422, "parentCompanyId is required.")
    _found(st.companies, parent_id, "Company")
    walk: int = parent_id
    while walk:
        if walk == company["companyId"]:
            raise B2BError(422, "A company cannot be its own ancestor.")
        walk = st.companies[walk].get("parentCompanyId") or 0
    company["parentCompanyId"] = parent_id
    return _ok({})


def delete_subsidiary(store: Store, call: Call) -> Reply:
    st = state(store)
    parent = _found(st.companies, call.params["companyId"], "Company")
    child = _found(st.companies, call.params["childCompanyId"], "Company")
    if child.get("parentCompanyId") != parent["companyId"]:
        raise B2BError(404, "That company is not a subsidiary of this one.")
    child["parentCompanyId"] = 0
    return _ok({})


# ---- users ------------------------------------------------------------------------------------

USER_FIELDS = ("email", "firstName", "lastName", "phoneNumber", "role", "channelIds", "extraFields")
USER_REQUIRED = ("companyId", "email", "firstName", "lastName", "role")


def _check_user_email(store: Store, email: str, own: int | None) -> None:
    if "@" not in email:
        raise B2BError(422, f"'{email}' is not a valid email address.")
    for user in state(store).users.values():
        if user["id"] != own and user["email"].casefold() == email.casefold():
            raise B2BError(422, f"The email {email} is already used by a B2B user.")


def _new_user(store: Store, body: Mapping[str, Any]) -> Record:
    st = state(store)
    email = str(body["email"])
    customer_id = customer_domain._email_owner(store, email)
    if customer_id is None:
        company = st.companies[body["companyId"]]
        customer = customer_domain.create_customers(
            store,
            [
                {
                    "email": email,
                    "first_name": body["firstName"],
                    "last_name": body["lastName"],
                    "company": company["companyName"],
                }
            ],
        )[0]
        customer_id = int(customer["id"])
    user: Record = {
        "id": st.new_id(),
        "companyId": body["companyId"],
        "customerId": customer_id,
        "uuid": "",
        "phoneNumber": "",
        "channelIds": [1],
        "extraFields": [],
    }
    user.update({k: body[k] for k in USER_FIELDS if k in body})
    _stamp(user, True)
    st.users[user["id"]] = user
    return user


def create_user(store: Store, body: Mapping[str, Any]) -> Record:
    _require(body, USER_REQUIRED, "user")
    if body["companyId"] not in state(store).companies:
        raise B2BError(422, f"Company {body['companyId']} does not exist.")
    if body["role"] not in (0, 1, 2):
        raise B2BError(422, "role must be 0 (admin), 1 (senior buyer) or 2 (junior buyer).")
    _check_user_email(store, str(body["email"]), None)
    return _new_user(store, body)


def list_users(store: Store, call: Call) -> Reply:
    items = sorted(state(store).users.values(), key=lambda u: u["id"])
    if call.query.get("email"):
        items = [u for u in items if u["email"].casefold() == call.query["email"].casefold()]
    if call.query.get("companyId"):
        items = [u for u in items if str(u["companyId"]) == call.query["companyId"]]
    return _page(call, items)


def post_user(store: Store, call: Call) -> Reply:
    return _ok(create_user(store, _body(call)))


def post_users_bulk(store: Store, call: Call) -> Reply:
    return _ok(_bulk(call, "users", lambda item: create_user(store, item)))


def get_user(store: Store, call: Call) -> Reply:
    return _ok(_found(state(store).users, call.params["userId"], "User"))


def put_user(store: Store, call: Call) -> Reply:
    user = _found(state(store).users, call.params["userId"], "User")
    body = _body(call)
    if "companyId" in body and body["companyId"] != user["companyId"]:
        raise B2BError(422, "companyId cannot be changed after a user is created.")
    if "email" in body:
        _check_user_email(store, str(body["email"]), user["id"])
    user.update({k: body[k] for k in USER_FIELDS if k in body})
    _stamp(user, False)
    return _ok(user)


def delete_user(store: Store, call: Call) -> Reply:
    st = state(store)
    user = _found(st.users, call.params["userId"], "User")
    others = [u for u in st.users.values() if u["companyId"] == user["companyId"]]
    if len(others) <= 1:
        raise B2BError(422, "The last user of a company cannot be deleted.")
    del st.users[user["id"]]
    return _ok({})


# ---- addresses --------------------------------------------------------------------------------

ADDRESS_FIELDS = (
    "companyId",
    "firstName",
    "lastName",
    "addressLine1",
    "addressLine2",
    "city",
    "stateName",
    "stateCode",
    "countryName",
    "countryCode",
    "zipCode",
    "phoneNumber",
    "isShipping",
    "isBilling",
    "isDefaultShipping",
    "isDefaultBilling",
    "label",
    "externalId",
    "extraFields",
)
ADDRESS_REQUIRED = ("companyId", "firstName", "lastName", "addressLine1", "city", "countryName")


def create_address(store: Store, body: Mapping[str, Any]) -> Record:
    st = state(store)
    _require(body, ADDRESS_REQUIRED, "address")
    if body["companyId"] not in st.companies:
        raise B2BError(422, f"Company {body['companyId']} does not exist.")
    address: Record = {
        "id": st.new_id(),
        "addressLine2": "",
        "stateName": "",
        "stateCode": "",
        "countryCode": "",
        "zipCode": "",
        "phoneNumber": "",
        "isShipping": False,
        "isBilling": False,
        "isDefaultShipping": False,
        "isDefaultBilling": False,
        "label": "",
        "externalId": "",
        "extraFields": [],
    }
    address.update({k: body[k] for k in ADDRESS_FIELDS if k in body})
    _stamp(address, True)
    st.addresses[address["id"]] = address
    return address


def list_addresses(store: Store, call: Call) -> Reply:
    items = sorted(state(store).addresses.values(), key=lambda a: a["id"])
    if call.query.get("companyId"):
        items = [a for a in items if str(a["companyId"]) == call.query["companyId"]]
    return _page(call, items)


def post_address(store: Store, call: Call) -> Reply:
    return _ok(create_address(store, _body(call)))


def post_addresses_bulk(store: Store, call: Call) -> Reply:
    return _ok(_bulk(call, "addresses", lambda item: create_address(store, item)))


def get_address(store: Store, call: Call) -> Reply:
    return _ok(_found(state(store).addresses, call.params["addressId"], "Address"))


def put_address(store: Store, call: Call) -> Reply:
    address = _found(state(store).addresses, call.params["addressId"], "Address")
    body = _body(call)
    if "companyId" in body and body["companyId"] not in state(store).companies:
        raise B2BError(422, f"Company {body['companyId']} does not exist.")
    address.update({k: body[k] for k in ADDRESS_FIELDS if k in body})
    _stamp(address, False)
    return _ok(address)


def delete_address(store: Store, call: Call) -> Reply:
    address = _found(state(store).addresses, call.params["addressId"], "Address")
    del state(store).addresses[address["id"]]
    return _ok({})


# ---- orders -----------------------------------------------------------------------------------


def _render_order(store: Store, order: Record) -> Record:
    out = dict(order)
    live = order_domain.state(store).orders.get(order["bcOrderId"])
    if live is not None:
        out["totalIncTax"] = float(live.get("total_inc_tax") or 0)
        out["currencyCode"] = live.get("currency_code", "")
        out["status"] = live.get("status", "")
    return out


def list_orders(store: Store, call: Call) -> Reply:
    items = sorted(state(store).orders.values(), key=lambda o: o["bcOrderId"])
    if call.query.get("companyId"):
        items = [o for o in items if str(o["companyId"]) == call.query["companyId"]]
    return _page(call, [_render_order(store, o) for o in items], 200)


def post_order(store: Store, call: Call) -> Reply:
    st = state(store)
    body = _body(call)
    _require(body, ("bcOrderId",), "order")
    order_id = body["bcOrderId"]
    live = order_domain.state(store).orders.get(order_id)
    if live is None:
        raise B2BError(404, f"Order {order_id} does not exist in the store.")
    if order_id in st.orders:
        raise B2BError(422, f"Order {order_id} already has B2B data.")
    company_id = body.get("companyId")
    if company_id is None:
        customer = live.get("customer_id") or 0
        company_id = next(
            (u["companyId"] for u in st.users.values() if u["customerId"] == customer), None
        )
    if company_id not in st.companies:
        raise B2BError(422, "The order's company is unknown: give companyId.")
    order: Record = {
        "id": st.new_id(),
        "bcOrderId": order_id,
        "companyId": company_id,
        "poNumber": str(body.get("poNumber") or ""),
        "extraFields": body.get("extraFields") or [],
        "channelId": 1,
    }
    _stamp(order, True)
    st.orders[order_id] = order
    return _ok(_render_order(store, order))


def get_order(store: Store, call: Call) -> Reply:
    order = _found(state(store).orders, call.params["bcOrderId"], "B2B order")
    return _ok(_render_order(store, order))


def put_order(store: Store, call: Call) -> Reply:
    order = _found(state(store).orders, call.params["bcOrderId"], "B2B order")
    body = _body(call)
    for name in ("poNumber", "extraFields"):
        if name in body:
            order[name] = body[name]
    _stamp(order, False)
    return _ok(_render_order(store, order))


# ---- super admins -----------------------------------------------------------------------------

SUPER_ADMIN_FIELDS = ("email", "firstName", "lastName", "phone", "uuid", "extraFields")


def _create_super_admin(store: Store, body: Mapping[str, Any]) -> Record:
    st = state(store)
    _require(body, ("email", "firstName", "lastName"), "super admin")
    email = str(body["email"])
    if any(a["email"].casefold() == email.casefold() for a in st.super_admins.values()):
        raise B2BError(422, f"The super admin {email} already exists.")
    admin: Record = {"id": st.new_id(), "phone": "", "uuid": "", "extraFields": []}
    admin.update({k: body[k] for k in SUPER_ADMIN_FIELDS if k in body})
    _stamp(admin, True)
    st.super_admins[admin["id"]] = admin
    st.assignments[admin["id"]] = set()
    return admin


def _render_admin(store: Store, admin: Record) -> Record:
    return {**admin, "companyCount": len(state(store).assignments.get(admin["id"], ()))}


def list_super_admins(store: Store, call: Call) -> Reply:
    items = sorted(state(store).super_admins.values(), key=lambda a: a["id"])
    return _page(call, [_render_admin(store, a) for a in items], 200)


def post_super_admin(store: Store, call: Call) -> Reply:
    return _ok(_render_admin(store, _create_super_admin(store, _body(call))))


def post_super_admins_bulk(store: Store, call: Call) -> Reply:
    return _ok(
        _bulk(
            call,
            "super admins",
            lambda item: _render_admin(store, _create_super_admin(store, item)),
        )
    )


def get_super_admin(store: Store, call: Call) -> Reply:
    admin = _found(state(store).super_admins, call.params["superAdminId"], "Super admin")
    return _ok(_render_admin(store, admin))


def put_super_admin_info(store: Store, call: Call) -> Reply:
    admin = _found(state(store).super_admins, call.params["superAdminId"], "Super admin")
    body = _body(call)
    if "email" in body and body["email"] != admin["email"]:
        raise B2BError(422, "A super admin's email cannot be changed.")
    admin.update({k: body[k] for k in SUPER_ADMIN_FIELDS if k in body and k != "email"})
    _stamp(admin, False)
    return _ok(_render_admin(store, admin))


def put_super_admin_companies(store: Store, call: Call) -> Reply:
    st = state(store)
    admin = _found(st.super_admins, call.params["superAdminId"], "Super admin")
    entries = _body(call).get("companies")
    if not isinstance(entries, list):
        raise B2BError(422, "companies is required.")
    assigned = st.assignments.setdefault(admin["id"], set())
    for entry in entries:
        company_id = entry.get("companyId") if isinstance(entry, dict) else None
        if company_id not in st.companies:
            raise B2BError(404, f"Company {company_id} not found.")
    for entry in entries:
        if entry.get("isAssigned", True):
            assigned.add(entry["companyId"])
        else:
            assigned.discard(entry["companyId"])
    return _ok({})


def get_super_admin_companies(store: Store, call: Call) -> Reply:
    st = state(store)
    admin = _found(st.super_admins, call.params["superAdminId"], "Super admin")
    ids = sorted(st.assignments.get(admin["id"], ()))
    items = [
        {"companyId": i, "companyName": st.companies[i]["companyName"]}
        for i in ids
        if i in st.companies
    ]
    return _page(call, items)


# ---- quotes -----------------------------------------------------------------------------------

QUOTE_FIELDS = (
    "quoteTitle",
    "referenceNumber",
    "userEmail",
    "companyId",
    "channelId",
    "contactInfo",
    "productList",
    "grandTotal",
    "subtotal",
    "discount",
    "currency",
    "expiredAt",
    "notes",
    "legalTerms",
    "status",
    "orderId",
    "extraFields",
)
QUOTE_REQUIRED = (
    "grandTotal",
    "discount",
    "subtotal",
    "userEmail",
    "expiredAt",
    "contactInfo",
    "productList",
)


def _check_quote(store: Store, body: Mapping[str, Any], own: int | None) -> None:
    st = state(store)
    products = store.products
    for index, item in enumerate(body.get("productList") or []):
        if not isinstance(item, dict) or item.get("productId") not in products:
            raise B2BError(
                422, "The quote could not be saved.", [f"productList[{index}]: unknown product"]
            )
    company = body.get("companyId")
    if company not in (None, 0) and company not in st.companies:
        raise B2BError(422, f"Company {company} does not exist.")
    order_id = body.get("orderId")
    if order_id not in (None, 0, "") and order_id not in order_domain.state(store).orders:
        raise B2BError(422, f"Order {order_id} does not exist.")
    reference = body.get("referenceNumber")
    if reference and any(
        q["referenceNumber"] == reference and q["quoteId"] != own for q in st.quotes.values()
    ):
        raise B2BError(422, f"A quote with reference number {reference} already exists.")


def list_quotes(store: Store, call: Call) -> Reply:
    return _page(call, sorted(state(store).quotes.values(), key=lambda q: q["quoteId"]))


def post_quote(store: Store, call: Call) -> Reply:
    st = state(store)
    body = _body(call)
    _require(body, QUOTE_REQUIRED, "quote")
    _check_quote(store, body, None)
    quote_id = st.new_id()
    quote: Record = {
        "quoteId": quote_id,
        "quoteNumber": f"Q{quote_id:06d}",
        "referenceNumber": "",
        "quoteTitle": "",
        "status": 0,
        "companyId": 0,
        "channelId": 1,
        "orderId": "",
        "currency": {},
        "notes": "",
        "legalTerms": "",
        "extraFields": [],
    }
    quote.update({k: body[k] for k in QUOTE_FIELDS if k in body})
    _stamp(quote, True)
    st.quotes[quote_id] = quote
    return _ok({"quoteId": quote_id, "quoteNumber": quote["quoteNumber"]})


def get_quote(store: Store, call: Call) -> Reply:
    return _ok(_found(state(store).quotes, call.params["quote_id"], "Quote"))


def put_quote(store: Store, call: Call) -> Reply:
    quote = _found(state(store).quotes, call.params["quote_id"], "Quote")
    body = _body(call)
    _check_quote(store, body, quote["quoteId"])
    quote.update({k: body[k] for k in QUOTE_FIELDS if k in body})
    _stamp(quote, False)
    return _ok({"quoteId": quote["quoteId"]})


def delete_quote(store: Store, call: Call) -> Reply:
    quote = _found(state(store).quotes, call.params["quote_id"], "Quote")
    del state(store).quotes[quote["quoteId"]]
    return _ok({})


# ---- shopping lists ---------------------------------------------------------------------------

LIST_FIELDS = ("name", "description", "status", "userId", "channelId", "items")


def _check_list(store: Store, body: Mapping[str, Any], own: int | None) -> None:
    st = state(store)
    user_id = body.get("userId")
    if user_id is not None and user_id not in st.users:
        raise B2BError(422, f"User {user_id} does not exist.")
    for index, item in enumerate(body.get("items") or []):
        if not isinstance(item, dict) or item.get("productId") not in store.products:
            raise B2BError(
                422, "The shopping list could not be saved.", [f"items[{index}]: unknown product"]
            )


def _render_list(store: Store, shopping: Record) -> Record:
    user = state(store).users.get(shopping.get("userId") or 0)
    return {**shopping, "companyId": user["companyId"] if user else 0}


def list_shopping_lists(store: Store, call: Call) -> Reply:
    items = sorted(state(store).shopping_lists.values(), key=lambda s: s["id"])
    return _page(call, [_render_list(store, s) for s in items])


def post_shopping_list(store: Store, call: Call) -> Reply:
    st = state(store)
    body = _body(call)
    _require(body, ("name", "userId"), "shopping list")
    _check_list(store, body, None)
    shopping: Record = {"id": st.new_id(), "description": "", "status": 0, "channelId": 1}
    shopping.update({k: body[k] for k in LIST_FIELDS if k in body})
    shopping["items"] = [i for i in shopping.get("items") or [] if i.get("quantity", 1) != 0]
    _stamp(shopping, True)
    st.shopping_lists[shopping["id"]] = shopping
    return _ok(_render_list(store, shopping))


def get_shopping_list(store: Store, call: Call) -> Reply:
    found = _found(state(store).shopping_lists, call.params["shoppingListId"], "Shopping list")
    return _ok(_render_list(store, found))


def put_shopping_list(store: Store, call: Call) -> Reply:
    shopping = _found(state(store).shopping_lists, call.params["shoppingListId"], "Shopping list")
    body = _body(call)
    _check_list(store, body, shopping["id"])
    items = body.get("items")
    shopping.update({k: body[k] for k in LIST_FIELDS if k in body and k != "items"})
    if isinstance(items, list):
        # Items are merged by product and variant; quantity 0 removes one.
        merged = {(i["productId"], i.get("variantId")): i for i in shopping.get("items") or []}
        for item in items:
            slot = (item["productId"], item.get("variantId"))
            if item.get("quantity", 1) == 0:
                merged.pop(slot, None)
            else:
                merged[slot] = item
        shopping["items"] = list(merged.values())
    _stamp(shopping, False)
    return _ok(_render_list(store, shopping))


def delete_shopping_list(store: Store, call: Call) -> Reply:
    found = _found(state(store).shopping_lists, call.params["shoppingListId"], "Shopping list")
    del state(store).shopping_lists[found["id"]]
    return _ok({})


def _forget_in_lists(field_name: str) -> Callable[[Store, int], None]:
    """ASSUMPTION_DELETE_DROPS_SHOPPING_LIST_ITEMS: a deleted product (or variant) leaves the
    shopping lists; quotes keep their lines, as orders do (pull keeps such a line without its
    product)."""

    def hook(store: Store, entity_id: int) -> None:
        for shopping in state(store).shopping_lists.values():
            items = shopping.get("items") or []
            kept = [i for i in items if i.get(field_name) != entity_id]
            if len(kept) != len(items):
                shopping["items"] = kept
                _stamp(shopping, False)

    return hook


def _forget_group(store: Store, group_id: int) -> None:
    """A deleted customer group leaves the companies it was given to, as it leaves customers
    (customers.v2.yml: customers are unassigned from a deleted group)."""
    for company in state(store).companies.values():
        if company.get("customerGroupId") == group_id:
            company["customerGroupId"] = 0


customer_domain.GROUP_DELETE_HOOKS.append(_forget_group)
PRODUCT_DELETE_HOOKS.append(_forget_in_lists("productId"))
VARIANT_DELETE_HOOKS.append(_forget_in_lists("variantId"))


# ---- invoices ---------------------------------------------------------------------------------

INVOICE_FIELDS = (
    "invoiceNumber",
    "customerId",
    "externalId",
    "externalCustomerId",
    "type",
    "dueDate",
    "status",
    "orderNumber",
    "purchaseOrderNumber",
    "details",
    "originalBalance",
    "openBalance",
    "channelId",
    "termsConditions",
    "source",
)


def _check_invoice(store: Store, body: Mapping[str, Any], own: int | None) -> None:
    st = state(store)
    number = body.get("invoiceNumber")
    if number and any(
        i["invoiceNumber"] == number and i["id"] != own for i in st.invoices.values()
    ):
        raise B2BError(422, f"Invoice number {number} already exists.")
    customer = body.get("customerId")
    if customer not in (None, "") and int(str(customer)) not in st.companies:
        raise B2BError(422, f"Company {customer} does not exist.")
    order = body.get("orderNumber")
    if order not in (None, "") and int(str(order)) not in order_domain.state(store).orders:
        raise B2BError(422, f"Order {order} does not exist.")


def list_invoices(store: Store, call: Call) -> Reply:
    return _page(call, sorted(state(store).invoices.values(), key=lambda i: i["id"]))


def post_invoice(store: Store, call: Call) -> Reply:
    st = state(store)
    body = _body(call)
    _require(body, ("invoiceNumber", "customerId", "originalBalance", "openBalance"), "invoice")
    _check_invoice(store, body, None)
    invoice: Record = {
        "id": st.new_id(),
        "externalId": "",
        "externalCustomerId": "",
        "type": "Invoice",
        "status": 0,
        "orderNumber": "",
        "purchaseOrderNumber": "",
        "details": {},
        "channelId": 1,
        "termsConditions": "",
        "source": 1,
        "dueDate": 0,
    }
    invoice.update({k: body[k] for k in INVOICE_FIELDS if k in body})
    invoice["customerName"] = st.companies[int(str(body["customerId"]))]["companyName"]
    _stamp(invoice, True)
    st.invoices[invoice["id"]] = invoice
    return _ok({"id": invoice["id"]})


def get_invoice(store: Store, call: Call) -> Reply:
    return _ok(_found(state(store).invoices, call.params["invoiceId"], "Invoice"))


def put_invoice(store: Store, call: Call) -> Reply:
    invoice = _found(state(store).invoices, call.params["invoiceId"], "Invoice")
    body = _body(call)
    _check_invoice(store, body, invoice["id"])
    invoice.update({k: body[k] for k in INVOICE_FIELDS if k in body})
    _stamp(invoice, False)
    return _ok({"id": invoice["id"]})


def delete_invoice(store: Store, call: Call) -> Reply:
    invoice = _found(state(store).invoices, call.params["invoiceId"], "Invoice")
    del state(store).invoices[invoice["id"]]
    return _ok({})


# ---- request schemas (checked before a handler runs; errors in B2B Edition's envelope) ---------

_EXTRA_FIELDS = array(obj({"fieldName": string(), "fieldValue": {"type": ["string", "number"]}}))
_TEXT = string(255)
_COMPANY_FIELDS: dict[str, Schema] = {
    "companyName": string(200),
    "companyEmail": string(200),
    "companyPhone": string(50),
    "addressLine1": string(200),
    "addressLine2": string(200),
    "city": string(100),
    "state": string(50),
    "country": string(200),
    "zipCode": string(50),
    "companyStatus": integer(0, 3),
    "uuid": _TEXT,
    "customerGroupId": ID,
    "catalogId": {"type": ["string", "integer"]},  # the files say string; ids are numbers too
    "description": string(),
    "extraFields": _EXTRA_FIELDS,
    "userExtraFields": _EXTRA_FIELDS,
    "adminFirstName": string(100),
    "adminLastName": string(100),
    "adminEmail": string(100),
    "adminPhoneNumber": string(100),
    "acceptWelcomeEmail": BOOL,
    "priceListAssign": array(obj({"channelId": ID, "priceListId": ID})),
}
COMPANY = obj(_COMPANY_FIELDS)
COMPANIES = array(COMPANY)  # the handler answers over BULK_MAX
PARENT = obj({"parentCompanyId": ID}, required=("parentCompanyId",))
_USER_FIELDS: dict[str, Schema] = {
    "companyId": ID,
    "email": _TEXT,
    "firstName": _TEXT,
    "lastName": _TEXT,
    "phoneNumber": _TEXT,
    "role": integer(0, 3),
    "companyRoleId": ID,
    "uuid": _TEXT,
    "channelIds": array(ID),
    "originChannelId": ID,
    "acceptWelcomeEmail": BOOL,
    "extraFields": _EXTRA_FIELDS,
}
USER = obj(_USER_FIELDS)
USERS = array(USER)  # the handler answers over BULK_MAX
_ADDRESS_FIELDS: dict[str, Schema] = {
    **{name: _TEXT for name in ADDRESS_FIELDS if name != "companyId"},
    "companyId": ID,
    "isShipping": BOOL,
    "isBilling": BOOL,
    "isDefaultShipping": BOOL,
    "isDefaultBilling": BOOL,
    "extraFields": _EXTRA_FIELDS,
}
ADDRESS = obj(_ADDRESS_FIELDS)
ADDRESSES = array(ADDRESS)  # the handler answers over BULK_MAX
ORDER = obj({"bcOrderId": ID, "customerId": ID, "poNumber": _TEXT, "extraFields": _EXTRA_FIELDS})
_SUPER_ADMIN_FIELDS: dict[str, Schema] = {
    "email": _TEXT,
    "firstName": _TEXT,
    "lastName": _TEXT,
    "phone": _TEXT,
    "uuid": _TEXT,
    "originChannelId": ID,
    "channelIds": array(ID),
    "extraFields": _EXTRA_FIELDS,
}
SUPER_ADMIN = obj(_SUPER_ADMIN_FIELDS)
SUPER_ADMINS = array(SUPER_ADMIN)  # the handler answers over BULK_MAX
SUPER_ADMIN_COMPANIES = obj(
    {"companies": array(obj({"companyId": ID, "isAssigned": BOOL}, required=("companyId",)))},
    required=("companies",),
)
_AMOUNT = number(-1e12, 1e12)
QUOTE = obj(
    {
        "quoteTitle": _TEXT,
        "referenceNumber": _TEXT,
        "userEmail": _TEXT,
        "companyId": ID,
        "channelId": ID,
        "contactInfo": obj(
            {"name": _TEXT, "email": _TEXT, "companyName": _TEXT, "phoneNumber": _TEXT}
        ),
        "shippingAddress": obj(),
        "productList": array(
            obj(
                {
                    "productId": ID,
                    "variantId": ID,
                    "sku": _TEXT,
                    "productName": _TEXT,
                    "basePrice": {"type": ["number", "string"]},
                    "discount": {"type": ["number", "string"]},
                    "offeredPrice": {"type": ["number", "string"]},
                    "quantity": integer(0, 2**31 - 1),
                    "options": array(obj()),
                }
            )
        ),
        "grandTotal": _AMOUNT,
        "subtotal": _AMOUNT,
        "discount": _AMOUNT,
        "totalAmount": _AMOUNT,
        "currency": obj(),
        "expiredAt": {"type": ["string", "integer"]},
        "notes": string(),
        "legalTerms": string(),
        "status": integer(0, 10),
        "orderId": {"type": ["string", "integer"]},
        "displayDiscount": BOOL,
        "allowCheckout": BOOL,
        "extraFields": _EXTRA_FIELDS,
    }
)
SHOPPING_LIST = obj(
    {
        "name": _TEXT,
        "description": string(),
        "status": integer(0, 40),
        "userId": ID,
        "customerId": ID,
        "channelId": ID,
        "items": array(
            obj(
                {
                    "id": ID,
                    "productId": ID,
                    "variantId": ID,
                    "quantity": integer(0, 2**31 - 1),
                    "sortOrder": integer(0, 2**31 - 1),
                    "optionList": {"type": ["object", "array"]},
                    "productNote": string(),
                }
            )
        ),
    }
)
_BALANCE = obj({"code": string(3), "value": {"type": ["number", "string"]}})
INVOICE = obj(
    {
        "invoiceNumber": _TEXT,
        "customerId": {"type": ["string", "integer"]},
        "externalId": _TEXT,
        "externalCustomerId": _TEXT,
        "type": _TEXT,
        "dueDate": integer(0, 2**53),
        "issuedAt": number(0, 2**53),
        "status": integer(0, 2),
        "orderNumber": _TEXT,
        "purchaseOrderNumber": _TEXT,
        "details": obj(),
        "originalBalance": _BALANCE,
        "openBalance": _BALANCE,
        "source": integer(0, 10),
        "isPendingPayment": integer(0, 1),
    }
)

# ---- routing and the request pipeline ---------------------------------------------------------

Handler = Callable[[Store, Call], Reply]

TABLE: list[tuple[str, dict[str, Handler | Endpoint]]] = [
    ("/companies", {"GET": list_companies, "POST": Endpoint(post_company, COMPANY)}),
    ("/companies/bulk", {"POST": Endpoint(post_companies_bulk, COMPANIES)}),
    ("/companies/super-admins", {"GET": list_super_admins}),
    (
        "/companies/{companyId}",
        {"GET": get_company, "PUT": Endpoint(put_company, COMPANY), "DELETE": delete_company},
    ),
    ("/companies/{companyId}/parent", {"POST": Endpoint(post_parent, PARENT)}),
    ("/companies/{companyId}/subsidiaries/{childCompanyId}", {"DELETE": delete_subsidiary}),
    ("/users", {"GET": list_users, "POST": Endpoint(post_user, USER)}),
    ("/users/bulk", {"POST": Endpoint(post_users_bulk, USERS)}),
    (
        "/users/{userId}",
        {"GET": get_user, "PUT": Endpoint(put_user, USER), "DELETE": delete_user},
    ),
    ("/addresses", {"GET": list_addresses, "POST": Endpoint(post_address, ADDRESS)}),
    ("/addresses/bulk", {"POST": Endpoint(post_addresses_bulk, ADDRESSES)}),
    (
        "/addresses/{addressId}",
        {"GET": get_address, "PUT": Endpoint(put_address, ADDRESS), "DELETE": delete_address},
    ),
    ("/orders", {"GET": list_orders, "POST": Endpoint(post_order, ORDER)}),
    ("/orders/{bcOrderId}", {"GET": get_order, "PUT": Endpoint(put_order, ORDER)}),
    ("/super-admins", {"POST": Endpoint(post_super_admin, SUPER_ADMIN)}),
    ("/super-admins/bulk", {"POST": Endpoint(post_super_admins_bulk, SUPER_ADMINS)}),
    (
        "/super-admins/{superAdminId}",
        {"PUT": Endpoint(put_super_admin_companies, SUPER_ADMIN_COMPANIES)},
    ),
    ("/super-admins/{superAdminId}/companies", {"GET": get_super_admin_companies}),
    (
        "/super-admins/info/{superAdminId}",
        {"GET": get_super_admin, "PUT": Endpoint(put_super_admin_info, SUPER_ADMIN)},
    ),
    ("/rfq", {"GET": list_quotes, "POST": Endpoint(post_quote, QUOTE)}),
    (
        "/rfq/{quote_id}",
        {"GET": get_quote, "PUT": Endpoint(put_quote, QUOTE), "DELETE": delete_quote},
    ),
    (
        "/shopping-list",
        {"GET": list_shopping_lists, "POST": Endpoint(post_shopping_list, SHOPPING_LIST)},
    ),
    (
        "/shopping-list/{shoppingListId}",
        {
            "GET": get_shopping_list,
            "PUT": Endpoint(put_shopping_list, SHOPPING_LIST),
            "DELETE": delete_shopping_list,
        },
    ),
    ("/ip/invoices", {"GET": list_invoices, "POST": Endpoint(post_invoice, INVOICE)}),
    (
        "/ip/invoices/{invoiceId}",
        {"GET": get_invoice, "PUT": Endpoint(put_invoice, INVOICE), "DELETE": delete_invoice},
    ),
]

_ROUTES = [
    (
        compile_template(template),
        {m: e if isinstance(e, Endpoint) else Endpoint(e) for m, e in methods.items()},
    )
    for template, methods in TABLE
]


def resolve(method: str, path: str) -> tuple[Endpoint, dict[str, Any]]:
    allowed = False
    for pattern, methods in _ROUTES:
        match = pattern.match(path)
        if match is None:
            continue
        endpoint = methods.get(method)
        if endpoint is None:
            allowed = True
            continue
        params = {k: int(v) for k, v in match.groupdict().items()}
        return endpoint, params
    if allowed:
        raise B2BError(405, f"Method {method} is not allowed here.")
    raise B2BError(404, f"No B2B Edition endpoint {method} {V3}{path}.")


@dataclass
class Served:
    """What the app logs about one B2B request (the body with any password masked)."""

    response: Response
    store_hash: str | None
    body: Any


def _json(body: Any, status: int, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        headers=dict(headers or {}),
        media_type="application/json",
    )


def _rate_headers(emulator: Emulator, st: B2BState) -> tuple[dict[str, str], bool]:
    now = time.monotonic()
    if now - st.window_started >= WINDOW_S:
        st.window_started, st.window_used = now, 0
    enforced = emulator.settings.quota > 0
    limited = enforced and st.window_used >= QUOTA
    if not limited:
        st.window_used += 1
    resets = max(1, int(WINDOW_S - (now - st.window_started) + 0.999))
    left = max(QUOTA - st.window_used, 0) if enforced else QUOTA
    headers = {
        "X-Requests-Allocated": f"{QUOTA} times/{WINDOW_S} s",
        "X-Requests-Remaining": str(left),
        "X-Request-Window-Resets-After": str(resets),
        "X-Requests-Window-Length": str(WINDOW_S),
    }
    if limited:
        headers["Retry-After"] = str(resets)
    return headers, limited


def _error(err: B2BError, headers: Mapping[str, str] | None = None) -> Response:
    return _json(err.body(), err.status, headers)


def _login(emulator: Emulator, body: Any) -> tuple[Response, str | None]:
    if not isinstance(body, dict):
        return _error(B2BError(400, "Send storeHash, email and password.")), None
    store_hash = str(body.get("storeHash") or "")
    store = emulator.stores.get(store_hash)
    if store is None or not state(store).enabled:
        return _error(B2BError(401, "Invalid storeHash, email or password.")), None
    st = state(store)
    login = st.users_login.get(str(body.get("email") or "").casefold())
    if login is None or login[1] != body.get("password"):
        return _error(B2BError(401, "Invalid email or password.")), store_hash
    token = f"b2b-{secrets.token_hex(16)}"
    st.tokens[token] = login[0]
    data = [{"name": str(body.get("name") or ""), "token": token}]
    return _json({"code": 200, "data": data, "meta": {"message": "SUCCESS"}}, 200), store_hash


def _authenticate(emulator: Emulator, request: Request) -> Store:
    legacy = request.headers.get("authtoken")
    if legacy:
        for store in emulator.stores.values():
            if legacy in state(store).tokens:
                return store
        raise B2BError(401, "The authToken is invalid or has been deleted.")
    token = request.headers.get("x-auth-token")
    if not token:
        raise B2BError(401, "Send X-Auth-Token and X-Store-Hash, or authToken.")
    found = emulator.stores.get(request.headers.get("x-store-hash") or "")
    if found is None or found.token != token:
        raise B2BError(401, "The X-Auth-Token does not belong to the store in X-Store-Hash.")
    if not state(found).enabled:
        raise B2BError(403, "B2B Edition is not activated on this store.")
    return found


async def serve(emulator: Emulator, request: Request, path: str) -> Served:
    """Answer one request under ``/api/io`` or ``/api/v3/io``."""
    raw = await request.body()
    try:
        body: Any = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return Served(_error(B2BError(400, "The request body is not valid JSON.")), None, None)
    if emulator.settings.latency_ms:
        await asyncio.sleep(emulator.settings.latency_ms / 1000)
    if path.rstrip("/") == LOGIN_PATH:
        logged = {**body, "password": "***"} if isinstance(body, dict) else body
        if request.method != "POST":
            return Served(_error(B2BError(405, "Use POST to log in.")), None, logged)
        response, store_hash = _login(emulator, body)
        return Served(response, store_hash, logged)
    if not path.startswith(V3 + "/"):
        return Served(_error(B2BError(404, f"No B2B Edition endpoint {path}.")), None, body)
    try:
        store = _authenticate(emulator, request)
    except B2BError as err:
        return Served(_error(err), None, body)
    st = state(store)
    headers, limited = _rate_headers(emulator, st)
    if limited:
        busy = B2BError(429, "Too many requests: B2B Edition allows 150 per minute.")
        return Served(_error(busy, headers), store.store_hash, body)
    try:
        endpoint, params = resolve(request.method, path[len(V3) :].rstrip("/") or "/")
        if endpoint.body is not None:
            _check(endpoint.body, body)
        call = Call(params=params, query=dict(request.query_params), body=body)
        reply = endpoint.handler(store, call)
        response = _json(reply.body, reply.status, {**headers, **reply.headers})
    except B2BError as err:
        response = _error(err, headers)
    return Served(response, store.store_hash, body)
