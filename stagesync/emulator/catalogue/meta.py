"""Category and brand metafields, product sort order inside a category, channel writes, and the
GraphQL Admin API's locales and product translations.

Routes (relative to ``/stores/{hash}``):

- ``GET|POST|PUT|DELETE /v3/catalog/{categories,brands}/metafields`` (the store-wide batch
  endpoints: list all, create an array with ``resource_id``, update an array with ``id``, delete
  an array of ids) and ``GET|POST /v3/catalog/{categories,brands}/{id}/metafields``.
- The same for channels (``/v3/channels/metafields``, ``/v3/channels/{id}/metafields``), where
  the push lock lives; ``PUT /v3/{...}/{id}/metafields/{metafield_id}`` updates one.
- ``GET|PUT /v3/catalog/categories/{id}/products/sort-order``.
- ``POST /v3/channels``, ``PUT /v3/channels/{id}`` (channels cannot be deleted).
- ``POST /graphql``: the part of the Admin GraphQL API stagesync uses (see ``docs/emulator.md``).

The state lives beside the store (``meta_of``); metafields and sort orders of a deleted category,
brand or product are dropped when next read, as the platform deletes them with their owner.
"""

from __future__ import annotations

import copy
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stagesync.emulator.errors import ApiError, conflict, invalid, not_found
from stagesync.emulator.routes import (
    ALL_METAFIELDS,
    OWN_METAFIELDS,
    PAGED,
    Call,
    Endpoint,
    Handler,
    Reply,
    Table,
    body_list,
    page_by,
    page_of,
    register,
    single,
)
from stagesync.emulator.schema import BOOL, Schema, obj, string
from stagesync.emulator.store import PRODUCT_DELETE_HOOKS, Record, Store, now_rfc3339

PERMISSION_SETS = (
    "app_only",
    "read",
    "write",
    "read_and_sf_access",
    "write_and_sf_access",
)
MAX_METAFIELDS_PER_RESOURCE = 250
"""Per resource and client ID (reference §6.11)."""
METAFIELD_LIMITS = {"key": 64, "namespace": 64, "value": 65535, "description": 255}
OWNER_CLIENT_ID = "stagesync-emulator-client"
CHANNEL_TYPES = ("pos", "marketplace", "storefront", "marketing")
CHANNEL_STATUSES = (
    "prelaunch",
    "active",
    "inactive",
    "connected",
    "disconnected",
    "archived",
    "deleted",
    "terminated",
)
CHANNEL_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
CHANNEL_WRITABLE = ("name", "external_id", "status", "is_listable_from_ui", "is_visible")
TRANSLATABLE_FIELDS = ("name", "description", "page_title", "meta_description", "search_keywords")
"""Product fields the emulated translations API accepts (name, description and SEO fields)."""
LOCALE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
MAX_PAGE = 50
"""Most nodes one GraphQL connection page returns (``first``)."""


@dataclass
class MetaState:
    metafields: dict[int, Record] = field(default_factory=dict)
    sort_orders: dict[int, dict[int, int | None]] = field(default_factory=dict)
    """category id -> product id -> sort order."""
    locales: dict[int, dict[str, bool]] = field(default_factory=dict)
    """channel id -> locale code -> is default (channel 1 starts with ``en``)."""
    translations: dict[tuple[int, str, int], dict[str, str]] = field(default_factory=dict)
    """(channel id, locale, product id) -> field -> translated text."""


_STATES: weakref.WeakKeyDictionary[Store, MetaState] = weakref.WeakKeyDictionary()


def meta_of(store: Store) -> MetaState:
    state = _STATES.get(store)
    if state is None:
        state = _STATES[store] = MetaState(locales={1: {"en": True}})
    return state


# ---- metafields ----------------------------------------------------------------------------------

RESOURCES: dict[str, Callable[[Store], dict[int, Record]]] = {
    "category": lambda store: store.categories,
    "brand": lambda store: store.brands,
    "channel": lambda store: store.channels,
}
METAFIELD_FIELDS: dict[str, Schema] = {
    "namespace": string(METAFIELD_LIMITS["namespace"], min_length=1),
    "key": string(METAFIELD_LIMITS["key"], min_length=1),
    "value": string(METAFIELD_LIMITS["value"]),
    "description": string(METAFIELD_LIMITS["description"]),
    "permission_set": string(enum=PERMISSION_SETS),
}
METAFIELD_POST = obj(METAFIELD_FIELDS, required=("permission_set", "namespace", "key", "value"))
METAFIELD_PUT = obj(METAFIELD_FIELDS)


def _live_metafields(store: Store, resource_type: str) -> list[Record]:
    state = meta_of(store)
    owners = RESOURCES[resource_type](store)
    for mid in [
        m
        for m, f in state.metafields.items()
        if f["resource_type"] == resource_type and f["resource_id"] not in owners
    ]:
        del state.metafields[mid]
    return sorted(
        (f for f in state.metafields.values() if f["resource_type"] == resource_type),
        key=lambda f: int(f["id"]),
    )


def _check_metafield(
    store: Store, resource_type: str, body: Any, own: Record | None
) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid("Input is invalid", {"metafield": "Each metafield must be an object."})
    errors: dict[str, str] = {}
    fields: dict[str, Any] = {}
    for name in ("key", "value", "namespace", "description", "permission_set"):
        if name in body:
            value = body[name]
            if not isinstance(value, str):
                errors[name] = f"The field '{name}' must be a string."
                continue
            fields[name] = value
    if own is None:
        missing = [n for n in ("permission_set", "namespace", "key", "value") if not fields.get(n)]
        if missing:
            raise ApiError(
                422,
                "Missing Required Fields",
                {n: f"Please provide a {n}." for n in missing},
            )
    for name, limit in METAFIELD_LIMITS.items():
        if len(fields.get(name, "")) > limit:
            errors[name] = f"The field '{name}' must be at most {limit} characters."
    if "permission_set" in fields and fields["permission_set"] not in PERMISSION_SETS:
        errors["permission_set"] = f"The field 'permission_set' must be one of: {PERMISSION_SETS}."
    if errors:
        raise invalid("Input is invalid", errors)
    return fields


def _create_metafield(store: Store, resource_type: str, resource_id: Any, body: Any) -> Record:
    owners = RESOURCES[resource_type](store)
    if not isinstance(resource_id, int) or resource_id not in owners:
        raise not_found(f"The {resource_type} {resource_id} was not found.")
    fields = _check_metafield(store, resource_type, body, None)
    mine = [f for f in _live_metafields(store, resource_type) if f["resource_id"] == resource_id]
    if any(f["namespace"] == fields["namespace"] and f["key"] == fields["key"] for f in mine):
        raise conflict(
            "Metafield with the same namespace and key already exists.",
            {"key": f"{fields['namespace']}.{fields['key']} is already set on this resource."},
        )
    if len(mine) >= MAX_METAFIELDS_PER_RESOURCE:
        raise invalid(
            "Metafield limit reached",
            {"resource_id": f"A resource may have at most {MAX_METAFIELDS_PER_RESOURCE}."},
        )
    stamp = now_rfc3339()
    metafield: Record = {
        "id": store.next_id(),
        "description": "",
        **fields,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "date_created": stamp,
        "date_modified": stamp,
        "owner_client_id": OWNER_CLIENT_ID,
    }
    meta_of(store).metafields[metafield["id"]] = metafield
    return metafield


def _update_metafield(store: Store, resource_type: str, body: Any) -> Record:
    if not isinstance(body, dict) or not isinstance(body.get("id"), int):
        raise invalid("Input is invalid", {"id": "Each metafield needs its id."})
    current = next(
        (f for f in _live_metafields(store, resource_type) if f["id"] == body["id"]), None
    )
    if current is None:
        raise not_found(f"Metafield {body['id']} was not found.")
    fields = _check_metafield(store, resource_type, body, current)
    namespace = fields.get("namespace", current["namespace"])
    key = fields.get("key", current["key"])
    for other in _live_metafields(store, resource_type):
        if (
            other["id"] != current["id"]
            and other["resource_id"] == current["resource_id"]
            and (other["namespace"], other["key"]) == (namespace, key)
        ):
            raise conflict(
                "Metafield with the same namespace and key already exists.",
                {"key": f"{namespace}.{key} is already set on this resource."},
            )
    current.update(fields)
    current["date_modified"] = now_rfc3339()
    return current


def _batch_reply(done: list[Record], errors: list[dict[str, Any]], total: int) -> Reply:
    meta = {"total": total, "success": len(done), "failed": len(errors)}
    body = {"data": copy.deepcopy(done), "errors": errors, "meta": meta}
    return Reply(200 if not errors else 422, body)


def _batch(store: Store, resource_type: str, items: list[Any], create: bool) -> Reply:
    done: list[Record] = []
    errors: list[dict[str, Any]] = []
    for item in items:
        try:
            if create:
                rid = item.get("resource_id") if isinstance(item, dict) else None
                done.append(_create_metafield(store, resource_type, rid, item))
            else:
                done.append(_update_metafield(store, resource_type, item))
        except ApiError as err:
            errors.append({"status": err.status, "title": err.title, "errors": err.errors})
    return _batch_reply(done, errors, len(items))


def _metafield_routes(
    resource_type: str, base: str, *, checked: bool = False
) -> list[tuple[str, dict[str, Handler | Endpoint]]]:
    """The metafield routes of the resources at ``base``; ``checked`` declares the body schemas
    of the per-resource writes."""
    id_name = f"{resource_type}_id"

    def list_all(store: Store, call: Call) -> Reply:
        return page_by(call, _live_metafields(store, resource_type), copy.deepcopy)

    def create_many(store: Store, call: Call) -> Reply:
        return _batch(store, resource_type, body_list(call.body, None, "metafields"), True)

    def update_many(store: Store, call: Call) -> Reply:
        return _batch(store, resource_type, body_list(call.body, None, "metafields"), False)

    def delete_many(store: Store, call: Call) -> Reply:
        ids = body_list(call.body, None, "metafield ids")
        known = {f["id"] for f in _live_metafields(store, resource_type)}
        unknown = [i for i in ids if not isinstance(i, int) or i not in known]
        if unknown:
            raise not_found(f"Metafields {unknown} were not found.")
        for mid in ids:
            meta_of(store).metafields.pop(mid, None)
        meta = {"total": len(ids), "success": len(ids), "failed": 0}
        return Reply(200, {"data": ids, "errors": [], "meta": meta})

    def list_own(store: Store, call: Call) -> Reply:
        rid = call.params[id_name]
        if rid not in RESOURCES[resource_type](store):
            raise not_found(f"The {resource_type} was not found.")
        own = [f for f in _live_metafields(store, resource_type) if f["resource_id"] == rid]
        return page_by(call, own, copy.deepcopy)

    def _own(store: Store, call: Call) -> Record:
        rid, mid = call.params[id_name], call.params["metafield_id"]
        found = meta_of(store).metafields.get(mid)
        live = {f["id"] for f in _live_metafields(store, resource_type)}
        if found is None or mid not in live or found["resource_id"] != rid:
            raise not_found("The metafield was not found.")
        return found

    def get_one(store: Store, call: Call) -> Reply:
        return single(copy.deepcopy(_own(store, call)))

    def delete_one(store: Store, call: Call) -> Reply:
        meta_of(store).metafields.pop(_own(store, call)["id"])
        return Reply(204)

    def create_own(store: Store, call: Call) -> Reply:
        created = _create_metafield(store, resource_type, call.params[id_name], call.body)
        return single(copy.deepcopy(created))

    def update_one(store: Store, call: Call) -> Reply:
        own = _own(store, call)
        body = call.body if isinstance(call.body, dict) else {}
        updated = _update_metafield(store, resource_type, {**body, "id": own["id"]})
        return single(copy.deepcopy(updated))

    post, put = (METAFIELD_POST, METAFIELD_PUT) if checked else (None, None)
    return [
        (
            f"{base}/metafields",
            {
                "GET": Endpoint(list_all, listing=ALL_METAFIELDS),
                "POST": create_many,
                "PUT": update_many,
                "DELETE": delete_many,
            },
        ),
        (
            f"{base}/{{{id_name}}}/metafields",
            {
                "GET": Endpoint(list_own, listing=OWN_METAFIELDS[resource_type]),
                "POST": Endpoint(create_own, post),
            },
        ),
        (
            f"{base}/{{{id_name}}}/metafields/{{metafield_id}}",
            {"GET": get_one, "PUT": Endpoint(update_one, put), "DELETE": delete_one},
        ),
    ]


# ---- product sort order inside a category ----------------------------------------------------


def _category(store: Store, call: Call) -> Record:
    category = store.categories.get(call.params["category_id"])
    if category is None:
        raise not_found("The requested category was not found.")
    return category


def _sort_order_rows(store: Store, category_id: int) -> list[Record]:
    """Every product assigned to the category, with its sort order in it (None: unset),
    ascending, unset ones last (then by product id)."""
    orders = meta_of(store).sort_orders.setdefault(category_id, {})
    rows = [
        {"product_id": pid, "sort_order": orders.get(pid)}
        for pid, product in store.products.items()
        if category_id in product["categories"]
    ]
    return sorted(
        rows,
        key=lambda r: (r["sort_order"] is None, r["sort_order"] or 0, r["product_id"]),
    )


def get_sort_order(store: Store, call: Call) -> Reply:
    category = _category(store, call)
    return page_of(_sort_order_rows(store, category["id"]), call.query)


def put_sort_order(store: Store, call: Call) -> Reply:
    category = _category(store, call)
    items = body_list(call.body, None, "sort orders")
    assigned = {r["product_id"] for r in _sort_order_rows(store, category["id"])}
    errors: dict[str, str] = {}
    for index, item in enumerate(items):
        pid = item.get("product_id") if isinstance(item, dict) else None
        order = item.get("sort_order") if isinstance(item, dict) else None
        if not isinstance(pid, int) or isinstance(pid, bool):
            errors[f"[{index}].product_id"] = "Please provide a product_id."
        elif pid not in assigned:
            errors[f"[{index}].product_id"] = (
                f"Product {pid} is not assigned to category {category['id']}."
            )
        if order is not None and (not isinstance(order, int) or isinstance(order, bool)):
            errors[f"[{index}].sort_order"] = "The sort_order must be an integer or null."
    if errors:
        raise invalid("Unprocessable entity", errors)
    orders = meta_of(store).sort_orders.setdefault(category["id"], {})
    for item in items:
        orders[item["product_id"]] = item.get("sort_order")
    return Reply(200, [dict(i) for i in items])


def _forget_sort_orders(store: Store, product_id: int) -> None:
    """A deleted product leaves every category's product sort order."""
    for orders in meta_of(store).sort_orders.values():
        orders.pop(product_id, None)


PRODUCT_DELETE_HOOKS.append(_forget_sort_orders)


# ---- channels ----------------------------------------------------------------------------------


CHANNEL = obj(
    {
        "name": string(255),
        "type": string(enum=CHANNEL_TYPES),
        "platform": string(255),
        "external_id": string(255),
        "status": string(enum=CHANNEL_STATUSES),
        "is_listable_from_ui": BOOL,
        "is_visible": BOOL,
    }
)


def _check_channel(store: Store, body: Any, own: Record | None) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "Input is invalid", detail="The request body must be an object.")
    errors: dict[str, str] = {}
    required = () if own is not None else ("name", "type", "platform")
    missing = [n for n in required if not body.get(n)]
    if missing:
        raise ApiError(
            422, "Missing Required Fields", {n: f"Please provide a {n}." for n in missing}
        )
    name = body.get("name")
    if name is not None and (not isinstance(name, str) or not CHANNEL_NAME.match(name)):
        errors["name"] = "Channel names use letters, digits, dashes and underscores only."
    elif name is not None:
        for other in store.channels.values():
            if other["name"] == name and (own is None or other["id"] != own["id"]):
                raise conflict(
                    "Channel name already in use.",
                    {"name": f"Another channel is already named {name}."},
                )
    if own is None and body.get("type") not in CHANNEL_TYPES:
        errors["type"] = f"The field 'type' must be one of: {', '.join(CHANNEL_TYPES)}."
    if "status" in body and body["status"] not in CHANNEL_STATUSES:
        errors["status"] = f"The field 'status' must be one of: {', '.join(CHANNEL_STATUSES)}."
    for flag in ("is_listable_from_ui", "is_visible"):
        if flag in body and not isinstance(body[flag], bool):
            errors[flag] = f"The field '{flag}' must be a boolean."
    if "external_id" in body and not isinstance(body["external_id"], str):
        errors["external_id"] = "The field 'external_id' must be a string."
    if own is not None and own["status"] in ("deleted", "terminated"):
        errors["status"] = f"A {own['status']} channel cannot be updated."
    if errors:
        raise invalid("Input is invalid", errors)
    return body


def create_channel(store: Store, call: Call) -> Reply:
    body = _check_channel(store, call.body, None)
    stamp = now_rfc3339()
    channel: Record = {
        "id": store.next_id(),
        "name": body["name"],
        "type": body["type"],
        "platform": body["platform"],
        "status": body.get("status", "prelaunch"),
        "external_id": body.get("external_id", ""),
        "is_listable_from_ui": body.get("is_listable_from_ui", True),
        "is_visible": body.get("is_visible", True),
        "is_enabled": body.get("status", "prelaunch") in ("active", "connected"),
        "icon_url": "",
        "date_created": stamp,
        "date_modified": stamp,
    }
    store.channels[channel["id"]] = channel
    return single(dict(channel))


def update_channel(store: Store, call: Call) -> Reply:
    channel = store.channels.get(call.params["channel_id"])
    if channel is None:
        raise not_found("The channel was not found.")
    body = _check_channel(store, call.body, channel)
    for name in CHANNEL_WRITABLE:  # platform and type are immutable; others silently ignored
        if name in body:
            channel[name] = body[name]
    channel["is_enabled"] = channel["status"] in ("active", "connected")
    channel["date_modified"] = now_rfc3339()
    return single(dict(channel))


# ---- GraphQL: locales and product translations -------------------------------------------------

CHANNEL_GID = re.compile(r"^bc/store/channel/([0-9]+)$")
PRODUCT_GID = re.compile(r"^bc/store/product/([0-9]+)$")


class GraphQLError(Exception):
    pass


def _channel_of(store: Store, gid: Any) -> int:
    match = CHANNEL_GID.match(gid) if isinstance(gid, str) else None
    if match is None or int(match.group(1)) not in store.channels:
        raise GraphQLError(f"Channel {gid!r} does not exist (ids look like bc/store/channel/1).")
    return int(match.group(1))


def _locale_of(store: Store, channel_id: int, code: Any) -> str:
    if not isinstance(code, str) or code not in meta_of(store).locales.get(channel_id, {}):
        raise GraphQLError(
            f"Locale {code!r} is not enabled on channel bc/store/channel/{channel_id}. "
            "Add it with the addLocale mutation first."
        )
    return code


def _page(nodes: list[Record], variables: dict[str, Any]) -> Record:
    first = variables.get("first", MAX_PAGE)
    if not isinstance(first, int) or not 1 <= first <= MAX_PAGE:
        raise GraphQLError(f"first must be between 1 and {MAX_PAGE}.")
    after = variables.get("after")
    start = int(after) if isinstance(after, str) and after.isdigit() else 0
    chunk = nodes[start : start + first]
    end = start + len(chunk)
    return {
        "edges": [{"cursor": str(start + i + 1), "node": n} for i, n in enumerate(chunk)],
        "pageInfo": {"hasNextPage": end < len(nodes), "endCursor": str(end) if chunk else None},
    }


def _locales(store: Store, variables: dict[str, Any]) -> Record:
    channel_id = _channel_of(store, (variables.get("input") or {}).get("channelId"))
    found = meta_of(store).locales.get(channel_id, {})
    nodes = [
        {"code": code, "status": "ACTIVE", "isDefault": default}
        for code, default in sorted(found.items())
    ]
    return {"store": {"locales": {"edges": [{"node": n} for n in nodes]}}}


def _add_locale(store: Store, variables: dict[str, Any]) -> Record:
    data = variables.get("input") or {}
    channel_id = _channel_of(store, data.get("channelId"))
    code = data.get("code")
    if not isinstance(code, str) or not LOCALE_CODE.match(code):
        raise GraphQLError(f"Locale code {code!r} is not a language code such as fr or fr-CA.")
    locales = meta_of(store).locales.setdefault(channel_id, {})
    locales.setdefault(code, not locales)
    return {"locale": {"addLocale": {"locale": {"code": code}}}}


def _translation_scope(store: Store, filters: Any) -> tuple[int, str]:
    if not isinstance(filters, dict) or filters.get("resourceType") != "PRODUCTS":
        raise GraphQLError("Only resourceType PRODUCTS is supported by this emulator.")
    channel_id = _channel_of(store, filters.get("channelId"))
    return channel_id, _locale_of(store, channel_id, filters.get("localeId"))


def _translations(store: Store, variables: dict[str, Any]) -> Record:
    channel_id, locale = _translation_scope(store, variables.get("filters"))
    nodes = []
    for (cid, code, pid), fields in sorted(meta_of(store).translations.items()):
        product = store.products.get(pid)
        if cid != channel_id or code != locale or product is None or not fields:
            continue
        nodes.append(
            {
                "resourceId": f"bc/store/product/{pid}",
                "fields": [
                    {"fieldName": name, "original": product.get(name, ""), "translation": text}
                    for name, text in sorted(fields.items())
                ],
            }
        )
    return {"store": {"translations": _page(nodes, variables)}}


def _product_of(store: Store, gid: Any) -> int:
    match = PRODUCT_GID.match(gid) if isinstance(gid, str) else None
    if match is None or int(match.group(1)) not in store.products:
        raise GraphQLError(f"Product {gid!r} does not exist (ids look like bc/store/product/1).")
    return int(match.group(1))


def _update_translations(store: Store, variables: dict[str, Any]) -> Record:
    data = variables.get("input") or {}
    channel_id, locale = _translation_scope(store, data)
    entities = data.get("entities")
    if not isinstance(entities, list) or not entities:
        raise GraphQLError("input.entities must list at least one resource.")
    if len(entities) > MAX_PAGE:
        raise GraphQLError(f"At most {MAX_PAGE} entities per updateTranslations.")
    staged: list[tuple[int, str, str]] = []
    for entity in entities:
        pid = _product_of(store, (entity or {}).get("resourceId"))
        for item in (entity or {}).get("fields") or []:
            name, value = (item or {}).get("fieldName"), (item or {}).get("value")
            if name not in TRANSLATABLE_FIELDS or not isinstance(value, str):
                raise GraphQLError(
                    f"Field {name!r} cannot be translated here; translatable product fields: "
                    f"{', '.join(TRANSLATABLE_FIELDS)} (value a string)."
                )
            staged.append((pid, name, value))
    for pid, name, value in staged:
        meta_of(store).translations.setdefault((channel_id, locale, pid), {})[name] = value
    return {"translation": {"updateTranslations": {"errors": []}}}


def _delete_translations(store: Store, variables: dict[str, Any]) -> Record:
    data = variables.get("input") or {}
    channel_id, locale = _translation_scope(store, data)
    for resource in data.get("resources") or []:
        pid = _product_of(store, (resource or {}).get("resourceId"))
        fields = meta_of(store).translations.get((channel_id, locale, pid), {})
        for name in (resource or {}).get("fields") or []:
            fields.pop(name, None)
    return {"translation": {"deleteTranslations": {"errors": []}}}


OPERATIONS: tuple[tuple[re.Pattern[str], Callable[[Store, dict[str, Any]], Record]], ...] = (
    (re.compile(r"\blocales\b"), _locales),
    (re.compile(r"\baddLocale\b"), _add_locale),
    (re.compile(r"\bupdateTranslations\b"), _update_translations),
    (re.compile(r"\bdeleteTranslations\b"), _delete_translations),
    (re.compile(r"\btranslations\b"), _translations),
)
"""The root fields the emulator answers, recognised in the query text; arguments come only from
``variables`` (see docs/emulator.md)."""


def graphql(store: Store, call: Call) -> Reply:
    body = call.body
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise ApiError(400, "Input is invalid", detail='Send {"query": "...", "variables": {}}.')
    variables = body.get("variables") or {}
    if not isinstance(variables, dict):
        return Reply(200, {"errors": [{"message": "variables must be an object."}]})
    for pattern, operation in OPERATIONS:
        if pattern.search(body["query"]):
            try:
                return Reply(200, {"data": operation(store, variables)})
            except GraphQLError as err:
                return Reply(200, {"data": None, "errors": [{"message": str(err)}]})
    return Reply(
        200,
        {"errors": [{"message": "This emulator answers only locales and product translations."}]},
    )


TABLE: Table = [
    *_metafield_routes("category", "/v3/catalog/categories"),
    *_metafield_routes("brand", "/v3/catalog/brands"),
    *_metafield_routes("channel", "/v3/channels", checked=True),
    (
        "/v3/catalog/categories/{category_id}/products/sort-order",
        {"GET": Endpoint(get_sort_order, listing=PAGED), "PUT": put_sort_order},
    ),
    ("/v3/channels", {"POST": Endpoint(create_channel, CHANNEL)}),
    ("/v3/channels/{channel_id}", {"PUT": Endpoint(update_channel, CHANNEL)}),
    ("/graphql", {"POST": graphql}),
]

register(TABLE)
