"""The BigCommerce endpoints the emulator serves, as plain functions over one ``Store``.

A handler takes the store and a ``Call`` (path parameters, query, parsed JSON body) and returns a
``Reply`` (status and JSON body, or no body). It raises ``ApiError`` for the platform's error
answers. Handlers never sleep or await: each request's mutation is atomic.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, invalid, not_found
from .store import Record, Store

DEFAULT_LIMIT = 50
MAX_LIMIT = 250
INCLUDE_LIMITED = {"options", "modifiers"}
PRODUCT_INCLUDES = {
    "bulk_pricing_rules",
    "channels",
    "custom_fields",
    "images",
    "modifiers",
    "options",
    "parent_relations",
    "primary_image",
    "reviews",
    "variants",
    "videos",
}


@dataclass
class Call:
    params: dict[str, Any]
    """Path parameters: ints, except ``*uuid`` and ``job_id`` ones (strings)."""
    query: Mapping[str, str]
    body: Any
    base_url: str = ""
    """The URL the request came in on, up to the host (for links the store hands out)."""


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    """A non-JSON body (a file), sent as it is instead of ``body``."""


Handler = Callable[[Store, Call], Reply]


# ---- envelopes, paging, filters ---------------------------------------------------------------


def single(data: Any, status: int = 200) -> Reply:
    return Reply(status, {"data": data, "meta": {}})


def _int_param(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(
            f"The '{name}' parameter is invalid.", {name: f"'{raw}' is not an integer."}
        ) from None
    if value < 1:
        raise invalid(f"The '{name}' parameter is invalid.", {name: "Must be at least 1."})
    return value


def page_of(
    items: list[Any], query: Mapping[str, str], *, max_per_page: int | None = None
) -> Reply:
    """A v3 list envelope for one page of ``items`` (``page``/``limit``, default 50, max 250)."""
    page = _int_param(query, "page", 1)
    limit = _int_param(query, "limit", DEFAULT_LIMIT)
    if limit > MAX_LIMIT:
        raise ApiError(
            413,
            f"The limit parameter exceeded the maximum of {MAX_LIMIT}.",
            {"limit": f"Use a limit of at most {MAX_LIMIT}."},
        )
    if max_per_page is not None:
        limit = min(limit, max_per_page)
    total = len(items)
    total_pages = (total + limit - 1) // limit
    chunk = items[(page - 1) * limit : page * limit]
    links: dict[str, str] = {"current": f"?page={page}&limit={limit}"}
    if page > 1:
        links["previous"] = f"?page={page - 1}&limit={limit}"
    if page < total_pages:
        links["next"] = f"?page={page + 1}&limit={limit}"
    pagination = {
        "total": total,
        "count": len(chunk),
        "per_page": limit,
        "current_page": page,
        "total_pages": total_pages,
        "links": links,
    }
    return Reply(200, {"data": chunk, "meta": {"pagination": pagination}})


FilterSpec = dict[str, tuple[str, Callable[[Record], Any]]]


def _parse(kind: str, raw: str, name: str) -> Any:
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise invalid(
                f"The filter(s): {name} are not valid.", {name: f"'{raw}' is not an integer."}
            ) from None
    if kind == "bool":
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise invalid(f"The filter(s): {name} are not valid.", {name: "Use true or false."})
    return raw


def apply_filters(
    items: Iterable[Record], query: Mapping[str, str], spec: FilterSpec
) -> list[Record]:
    """Filter by ``name``, ``name:in``, ``name:not_in``, ``:min``/``:max``/``:greater``/``:less``,
    ``:like`` for each field in ``spec`` (kind ``int``, ``str``, ``istr`` case-insensitive,
    ``bool``, ``ints`` for list membership)."""
    result = list(items)
    for key, raw in query.items():
        base, _, op = key.partition(":")
        if base not in spec:
            continue
        kind, getter = spec[base]
        scalar_kind = "int" if kind in ("int", "ints") else ("bool" if kind == "bool" else "str")
        if op in ("in", "not_in"):
            wanted = [_parse(scalar_kind, part, key) for part in raw.split(",") if part != ""]
        else:
            wanted = [_parse(scalar_kind, raw, key)]

        def norm(value: Any, kind: str = kind) -> Any:
            return value.casefold() if kind == "istr" and isinstance(value, str) else value

        wanted_set = {norm(w) for w in wanted}

        def keep(
            item: Record,
            op: str = op,
            getter: Any = getter,
            kind: str = kind,
            wanted: list[Any] = wanted,
            wanted_set: set[Any] = wanted_set,
        ) -> bool:
            value = getter(item)
            values = set(value) if kind == "ints" else {norm(value)}
            if op in ("", "in"):
                return bool(values & wanted_set)
            if op == "not_in":
                return not values & wanted_set
            if op == "like":
                return any(str(wanted[0]).casefold() in str(v).casefold() for v in values)
            first = wanted[0]
            if op in ("min", "max", "greater", "less"):
                try:
                    return bool(
                        {
                            "min": value >= first,
                            "max": value <= first,
                            "greater": value > first,
                            "less": value < first,
                        }[op]
                    )
                except TypeError:
                    return False
            return True

        result = [item for item in result if keep(item)]
    return result


def _has_filter(query: Mapping[str, str], spec: FilterSpec) -> bool:
    return any(key.partition(":")[0] in spec for key in query)


def _body_list(body: Any, limit: int | None, what: str) -> list[Any]:
    if not isinstance(body, list):
        raise ApiError(
            400, "Input is invalid", detail=f"The request body must be an array of {what}."
        )
    if limit is not None and len(body) > limit:
        raise ApiError(
            413,
            f"The request payload is too large. The maximum items allowed in the array is {limit}.",
        )
    return body


def _select_fields(record: Record, query: Mapping[str, str], keep: Iterable[str] = ()) -> Record:
    include_fields = query.get("include_fields")
    exclude_fields = query.get("exclude_fields")
    if include_fields:
        wanted = {f.strip() for f in include_fields.split(",")} | {"id"} | set(keep)
        record = {k: v for k, v in record.items() if k in wanted}
    if exclude_fields:
        unwanted = {f.strip() for f in exclude_fields.split(",")} - {"id"}
        record = {k: v for k, v in record.items() if k not in unwanted}
    return record


# ---- store information, channels ---------------------------------------------------------------


def get_store(store: Store, call: Call) -> Reply:
    return Reply(200, store.info())


def get_time(store: Store, call: Call) -> Reply:
    return Reply(200, {"time": int(time.time())})


def list_channels(store: Store, call: Call) -> Reply:
    spec: FilterSpec = {
        "id": ("int", lambda c: c["id"]),
        "type": ("str", lambda c: c["type"]),
        "platform": ("str", lambda c: c["platform"]),
        "status": ("str", lambda c: c["status"]),
    }
    items = apply_filters(store.channels.values(), call.query, spec)
    return page_of([dict(c) for c in items], call.query)


def get_channel(store: Store, call: Call) -> Reply:
    channel = store.channels.get(call.params["channel_id"])
    if channel is None:
        raise not_found("The channel was not found.")
    return single(dict(channel))


# ---- brands ------------------------------------------------------------------------------------

BRAND_FILTERS: FilterSpec = {
    "id": ("int", lambda b: b["id"]),
    "name": ("istr", lambda b: b["name"]),
    "page_title": ("str", lambda b: b["page_title"]),
}


def list_brands(store: Store, call: Call) -> Reply:
    items = apply_filters(store.brands.values(), call.query, BRAND_FILTERS)
    return page_of([_select_fields(store.render_brand(b), call.query) for b in items], call.query)


def create_brand(store: Store, call: Call) -> Reply:
    if not isinstance(call.body, dict):
        raise ApiError(400, "Input is invalid", detail="The request body must be one brand.")
    return single(store.render_brand(store.create_brand(call.body)))


def delete_brands(store: Store, call: Call) -> Reply:
    if not _has_filter(call.query, BRAND_FILTERS):
        raise invalid("A filter is required.", {"name": "Provide a filter such as name."})
    for brand in apply_filters(list(store.brands.values()), call.query, BRAND_FILTERS):
        store.delete_brand(brand["id"])
    return Reply(204)


def _brand(store: Store, call: Call) -> Record:
    brand = store.brands.get(call.params["brand_id"])
    if brand is None:
        raise not_found("The brand was not found.")
    return brand


def get_brand(store: Store, call: Call) -> Reply:
    return single(_select_fields(store.render_brand(_brand(store, call)), call.query))


def update_brand(store: Store, call: Call) -> Reply:
    if not isinstance(call.body, dict):
        raise ApiError(400, "Input is invalid", detail="The request body must be an object.")
    return single(store.render_brand(store.update_brand(call.params["brand_id"], call.body)))


def delete_brand(store: Store, call: Call) -> Reply:
    store.delete_brand(_brand(store, call)["id"])
    return Reply(204)


# ---- legacy categories -------------------------------------------------------------------------

LEGACY_CATEGORY_FILTERS: FilterSpec = {
    "id": ("int", lambda c: c["id"]),
    "name": ("str", lambda c: c["name"]),
    "parent_id": ("int", lambda c: c["parent_id"]),
    "page_title": ("str", lambda c: c["page_title"]),
    "is_visible": ("bool", lambda c: c["is_visible"]),
}


def _keyword(items: list[Record], query: Mapping[str, str], fields: Iterable[str]) -> list[Record]:
    keyword = query.get("keyword")
    if not keyword:
        return items
    needle = keyword.casefold()
    names = list(fields)
    return [i for i in items if any(needle in str(i.get(n, "")).casefold() for n in names)]


def _default_tree_categories(store: Store) -> list[Record]:
    return [c for c in store.categories.values() if c["tree_id"] == store.default_tree_id]


def list_categories(store: Store, call: Call) -> Reply:
    items = apply_filters(_default_tree_categories(store), call.query, LEGACY_CATEGORY_FILTERS)
    items = _keyword(items, call.query, ("name", "description", "search_keywords"))
    rendered = [_select_fields(store.render_category_legacy(c), call.query) for c in items]
    return page_of(rendered, call.query)


def create_category(store: Store, call: Call) -> Reply:
    if not isinstance(call.body, dict):
        raise ApiError(400, "Input is invalid", detail="The request body must be one category.")
    return single(store.render_category_legacy(store.create_category(call.body)))


def delete_categories(store: Store, call: Call) -> Reply:
    if not _has_filter(call.query, LEGACY_CATEGORY_FILTERS):
        raise invalid("A filter is required.", {"id:in": "Provide a filter such as id:in."})
    items = apply_filters(_default_tree_categories(store), call.query, LEGACY_CATEGORY_FILTERS)
    store.delete_categories(c["id"] for c in items)
    return Reply(204)


def _legacy_category(store: Store, call: Call) -> Record:
    category = store.categories.get(call.params["category_id"])
    if category is None or category["tree_id"] != store.default_tree_id:
        raise not_found("The category was not found.")
    return category


def get_category(store: Store, call: Call) -> Reply:
    category = _legacy_category(store, call)
    return single(_select_fields(store.render_category_legacy(category), call.query))


def update_category(store: Store, call: Call) -> Reply:
    category = _legacy_category(store, call)
    if not isinstance(call.body, dict):
        raise ApiError(400, "Input is invalid", detail="The request body must be an object.")
    return single(store.render_category_legacy(store.update_category(category["id"], call.body)))


def delete_category(store: Store, call: Call) -> Reply:
    store.delete_categories([_legacy_category(store, call)["id"]])
    return Reply(204)


# ---- trees and tree categories -----------------------------------------------------------------

TREE_FILTERS: FilterSpec = {
    "id": ("int", lambda t: t["id"]),
    "channel_id": ("ints", lambda t: t["channels"]),
}

TREE_CATEGORY_FILTERS: FilterSpec = {
    "category_id": ("int", lambda c: c["id"]),
    "category_uuid": ("str", lambda c: c["category_uuid"]),
    "tree_id": ("int", lambda c: c["tree_id"]),
    "parent_id": ("int", lambda c: c["parent_id"]),
    "name": ("str", lambda c: c["name"]),
    "page_title": ("str", lambda c: c["page_title"]),
    "is_visible": ("bool", lambda c: c["is_visible"]),
}


def _batch_meta(total: int, success: int) -> dict[str, int]:
    return {"total": total, "success": success, "failed": total - success}


def list_trees(store: Store, call: Call) -> Reply:
    items = apply_filters(store.trees.values(), call.query, TREE_FILTERS)
    return page_of([dict(t, channels=list(t["channels"])) for t in items], call.query)


def upsert_trees(store: Store, call: Call) -> Reply:
    items = _body_list(call.body, 50, "trees")
    trees = [store.upsert_tree(item) for item in items]
    data = [dict(t, channels=list(t["channels"])) for t in trees]
    return Reply(200, {"data": data, "meta": _batch_meta(len(items), len(items))})


def delete_trees(store: Store, call: Call) -> Reply:
    if not _has_filter(call.query, {"id": TREE_FILTERS["id"]}):
        raise invalid("A filter is required.", {"id:in": "Provide the id:in filter."})
    for tree in apply_filters(list(store.trees.values()), call.query, TREE_FILTERS):
        store.delete_tree(tree["id"])
    return Reply(204)


def get_tree_categories(store: Store, call: Call) -> Reply:
    tree_id = call.params["tree_id"]
    if tree_id not in store.trees:
        raise not_found("The tree was not found.")
    depth = call.query.get("depth")
    depth_limit = _int_param(call.query, "depth", 0) if depth else None
    roots = sorted(
        (c for c in store.categories.values() if c["tree_id"] == tree_id and not c["parent_id"]),
        key=lambda c: (c["sort_order"], c["id"]),
    )
    return single([store.category_node(c, depth_limit) for c in roots])


def list_tree_categories(store: Store, call: Call) -> Reply:
    items = apply_filters(store.categories.values(), call.query, TREE_CATEGORY_FILTERS)
    items = _keyword(items, call.query, ("name", "description", "search_keywords"))
    rendered = [_select_fields(store.render_category_tree(c), call.query) for c in items]
    return page_of(rendered, call.query)


def _partial(
    results: list[Record], failures: list[tuple[int, ApiError]], total: int, status: int, data: bool
) -> Reply:
    if failures and not results:
        if total == 1:
            raise failures[0][1]
        first = failures[0][1]
        errors = {f"{index}": f"{err.title} {err.errors}" for index, err in failures}
        raise ApiError(first.status, first.title, errors)
    body: dict[str, Any] = {}
    if data:
        body["data"] = results
    if failures:
        body["errors"] = {
            "status": failures[0][1].status,
            "title": failures[0][1].title,
            "type": failures[0][1].body()["type"],
            "errors": {f"{i}": f"{e.title} {e.errors}" for i, e in failures},
        }
    body["meta"] = _batch_meta(total, len(results))
    return Reply(207 if failures else status, body)


def create_tree_categories(store: Store, call: Call) -> Reply:
    items = _body_list(call.body, None, "categories")
    results: list[Record] = []
    failures: list[tuple[int, ApiError]] = []
    for index, item in enumerate(items):
        try:
            results.append(store.render_category_tree(store.create_category(item, tree_api=True)))
        except ApiError as err:
            failures.append((index, err))
    return _partial(results, failures, len(items), 201, data=True)


def update_tree_categories(store: Store, call: Call) -> Reply:
    items = _body_list(call.body, None, "categories")
    results: list[Record] = []
    failures: list[tuple[int, ApiError]] = []
    for index, item in enumerate(items):
        try:
            if not isinstance(item, dict) or not isinstance(item.get("category_id"), int):
                raise ApiError(
                    422,
                    "Missing Required Fields",
                    {"category_id": "Please provide a category_id."},
                )
            store.update_category(item["category_id"], item, tree_api=True)
            results.append({})
        except ApiError as err:
            failures.append((index, err))
    return _partial(results, failures, len(items), 200, data=False)


def delete_tree_categories(store: Store, call: Call) -> Reply:
    allowed = {
        k: TREE_CATEGORY_FILTERS[k]
        for k in ("category_id", "category_uuid", "tree_id", "parent_id")
    }
    if not _has_filter(call.query, allowed):
        raise invalid(
            "A filter is required.",
            {
                "category_id:in": "Provide category_uuid:in, category_id:in, tree_id:in or "
                "parent_id:in."
            },
        )
    items = apply_filters(list(store.categories.values()), call.query, allowed)
    store.delete_categories(c["id"] for c in items)
    return Reply(202, {"meta": _batch_meta(len(items), len(items))})


# ---- products ----------------------------------------------------------------------------------


def _product_filters(store: Store) -> FilterSpec:
    return {
        "id": ("int", lambda p: p["id"]),
        "sku": ("istr", lambda p: p["sku"]),
        "name": ("str", lambda p: p["name"]),
        "upc": ("str", lambda p: p["upc"]),
        "mpn": ("str", lambda p: p["mpn"]),
        "type": ("str", lambda p: p["type"]),
        "brand_id": ("int", lambda p: p["brand_id"]),
        "categories": ("ints", lambda p: p["categories"]),
        "is_visible": ("bool", lambda p: p["is_visible"]),
        "is_featured": ("bool", lambda p: p["is_featured"]),
        "availability": ("str", lambda p: p["availability"]),
        "price": ("str", lambda p: p["price"]),
        "date_modified": ("str", lambda p: p["date_modified"]),
        "inventory_level": ("int", lambda p: p["inventory_level"]),
    }


def _includes(query: Mapping[str, str]) -> set[str]:
    raw = query.get("include", "")
    return {part.strip() for part in raw.split(",") if part.strip()} & PRODUCT_INCLUDES


SORTABLE = {
    "id",
    "name",
    "sku",
    "price",
    "date_modified",
    "inventory_level",
    "is_visible",
    "calculated_price",
}


def list_products(store: Store, call: Call) -> Reply:
    items = apply_filters(store.products.values(), call.query, _product_filters(store))
    items = _keyword(items, call.query, ("name", "sku", "description", "search_keywords"))
    sort = call.query.get("sort")
    if sort:
        if sort not in SORTABLE:
            raise invalid("The sort parameter is invalid.", {"sort": f"Cannot sort by '{sort}'."})
        items.sort(
            key=lambda p: (
                (p["sale_price"] or p["price"]) if sort == "calculated_price" else p[sort]
            ),
            reverse=call.query.get("direction") == "desc",
        )
    include = _includes(call.query)
    limited = 10 if include & INCLUDE_LIMITED else None
    reply = page_of(items, call.query, max_per_page=limited)
    reply.body["data"] = [
        _select_fields(store.render_product(p, include), call.query, include)
        for p in reply.body["data"]
    ]
    return reply


def create_product(store: Store, call: Call) -> Reply:
    if isinstance(call.body, list):
        raise ApiError(
            400, "Input is invalid", detail="Create one product per request (send an object)."
        )
    product = store.create_product(call.body)
    include = {"variants", "images", "custom_fields"} & set(call.body)
    return single(store.render_product(product, include))


def update_products(store: Store, call: Call) -> Reply:
    items = _body_list(call.body, 10, "products")
    appliers = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("id"), int):
            raise ApiError(422, "Missing Required Fields", {f"{index}.id": "Please provide an id."})
        appliers.append(store.prepare_product_update(item["id"], item))
    products = [apply() for apply in appliers]
    return Reply(200, {"data": [store.render_product(p) for p in products], "meta": {}})


def delete_products(store: Store, call: Call) -> Reply:
    filters = _product_filters(store)
    if not _has_filter(call.query, filters):
        raise invalid("A filter is required.", {"id:in": "Provide a filter such as id:in."})
    ids = call.query.get("id:in")
    if ids and len(ids.split(",")) > 250:
        raise invalid("Too many IDs.", {"id:in": "Delete at most 250 products per request."})
    for product in apply_filters(list(store.products.values()), call.query, filters):
        store.delete_product(product["id"])
    return Reply(204)


def get_product(store: Store, call: Call) -> Reply:
    product = store.get_product(call.params["product_id"])
    include = _includes(call.query)
    return single(_select_fields(store.render_product(product, include), call.query, include))


def update_product(store: Store, call: Call) -> Reply:
    product = store.update_product(call.params["product_id"], call.body)
    return single(store.render_product(product))


def delete_product(store: Store, call: Call) -> Reply:
    store.delete_product(call.params["product_id"])
    return Reply(204)


# ---- variants ----------------------------------------------------------------------------------

VARIANT_FILTERS: FilterSpec = {
    "id": ("int", lambda v: v["id"]),
    "sku": ("istr", lambda v: v["sku"]),
    "product_id": ("int", lambda v: v["product_id"]),
    "upc": ("str", lambda v: v["upc"]),
}


def list_product_variants(store: Store, call: Call) -> Reply:
    product = store.get_product(call.params["product_id"])
    rendered = [store.render_variant(store.variants[v]) for v in product["variant_ids"]]
    items = apply_filters(rendered, call.query, VARIANT_FILTERS)
    return page_of([_select_fields(v, call.query) for v in items], call.query)


def list_variants(store: Store, call: Call) -> Reply:
    rendered = [store.render_variant(v) for v in store.variants.values()]
    items = apply_filters(rendered, call.query, VARIANT_FILTERS)
    return page_of([_select_fields(v, call.query) for v in items], call.query)


def create_variant(store: Store, call: Call) -> Reply:
    variant = store.create_variant(call.params["product_id"], call.body)
    return single(store.render_variant(variant))


def _variant(store: Store, call: Call) -> Record:
    store.get_product(call.params["product_id"])
    variant = store.variants.get(call.params["variant_id"])
    if variant is None or variant["product_id"] != call.params["product_id"]:
        raise not_found(f"Variant {call.params['variant_id']} was not found.")
    return variant


def get_variant(store: Store, call: Call) -> Reply:
    return single(_select_fields(store.render_variant(_variant(store, call)), call.query))


def update_variant(store: Store, call: Call) -> Reply:
    variant = _variant(store, call)
    apply = store.prepare_variant_update(variant["id"], call.body, call.params["product_id"])
    return single(store.render_variant(apply()))


def delete_variant(store: Store, call: Call) -> Reply:
    store.delete_variant(call.params["product_id"], call.params["variant_id"])
    return Reply(204)


def update_variants(store: Store, call: Call) -> Reply:
    items = _body_list(call.body, 50, "variants")
    appliers = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("id"), int):
            raise ApiError(422, "Missing Required Fields", {f"{index}.id": "Please provide an id."})
        appliers.append(store.prepare_variant_update(item["id"], item, None))
    variants = [apply() for apply in appliers]
    return Reply(200, {"data": [store.render_variant(v) for v in variants], "meta": {}})


# ---- options and option values -----------------------------------------------------------------


def list_options(store: Store, call: Call) -> Reply:
    product = store.get_product(call.params["product_id"])
    return page_of(
        [store.render_option(store.options[o]) for o in product["option_ids"]], call.query
    )


def create_option(store: Store, call: Call) -> Reply:
    option = store.create_option(call.params["product_id"], call.body)
    return single(store.render_option(option))


def get_option(store: Store, call: Call) -> Reply:
    store.get_product(call.params["product_id"])
    option = store.get_option(call.params["product_id"], call.params["option_id"])
    return single(store.render_option(option))


def update_option(store: Store, call: Call) -> Reply:
    option = store.update_option(call.params["product_id"], call.params["option_id"], call.body)
    return single(store.render_option(option))


def delete_option(store: Store, call: Call) -> Reply:
    store.delete_option(call.params["product_id"], call.params["option_id"])
    return Reply(204)


def list_option_values(store: Store, call: Call) -> Reply:
    store.get_product(call.params["product_id"])
    option = store.get_option(call.params["product_id"], call.params["option_id"])
    return page_of([store.render_option_value(v) for v in option["option_values"]], call.query)


def create_option_value(store: Store, call: Call) -> Reply:
    store.get_product(call.params["product_id"])
    value = store.create_option_value(
        call.params["product_id"], call.params["option_id"], call.body
    )
    return single(store.render_option_value(value))


def get_option_value(store: Store, call: Call) -> Reply:
    store.get_product(call.params["product_id"])
    p = call.params
    return single(
        store.render_option_value(
            store.get_option_value(p["product_id"], p["option_id"], p["value_id"])
        )
    )


def update_option_value(store: Store, call: Call) -> Reply:
    store.get_product(call.params["product_id"])
    p = call.params
    value = store.update_option_value(p["product_id"], p["option_id"], p["value_id"], call.body)
    return single(store.render_option_value(value))


def delete_option_value(store: Store, call: Call) -> Reply:
    store.get_product(call.params["product_id"])
    p = call.params
    store.delete_option_value(p["product_id"], p["option_id"], p["value_id"])
    return Reply(204)


# ---- images and custom fields ------------------------------------------------------------------


def list_images(store: Store, call: Call) -> Reply:
    product = store.get_product(call.params["product_id"])
    return page_of([store.render_image(store.images[i]) for i in product["image_ids"]], call.query)


def create_image(store: Store, call: Call) -> Reply:
    return single(store.render_image(store.create_image(call.params["product_id"], call.body)))


def get_image(store: Store, call: Call) -> Reply:
    store.get_product(call.params["product_id"])
    return single(
        store.render_image(store.get_image(call.params["product_id"], call.params["image_id"]))
    )


def update_image(store: Store, call: Call) -> Reply:
    image = store.update_image(call.params["product_id"], call.params["image_id"], call.body)
    return single(store.render_image(image))


def delete_image(store: Store, call: Call) -> Reply:
    store.delete_image(call.params["product_id"], call.params["image_id"])
    return Reply(204)


def list_custom_fields(store: Store, call: Call) -> Reply:
    product = store.get_product(call.params["product_id"])
    rendered = [
        store.render_custom_field(store.custom_fields[c]) for c in product["custom_field_ids"]
    ]
    return page_of(rendered, call.query)


def create_custom_field(store: Store, call: Call) -> Reply:
    record = store.create_custom_field(call.params["product_id"], call.body)
    return single(store.render_custom_field(record))


def get_custom_field(store: Store, call: Call) -> Reply:
    store.get_product(call.params["product_id"])
    record = store.get_custom_field(call.params["product_id"], call.params["custom_field_id"])
    return single(store.render_custom_field(record))


def update_custom_field(store: Store, call: Call) -> Reply:
    p = call.params
    record = store.update_custom_field(p["product_id"], p["custom_field_id"], call.body)
    return single(store.render_custom_field(record))


def delete_custom_field(store: Store, call: Call) -> Reply:
    store.delete_custom_field(call.params["product_id"], call.params["custom_field_id"])
    return Reply(204)


# ---- the route table ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern[str]
    methods: dict[str, Handler]


def _text_param(name: str) -> bool:
    return name.endswith("uuid") or name == "job_id"


def _compile(template: str) -> re.Pattern[str]:
    def group(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"(?P<{name}>[A-Za-z0-9_-]+)" if _text_param(name) else f"(?P<{name}>[0-9]+)"

    regex = re.sub(r"\{(\w+)\}", group, template)
    return re.compile(f"^{regex}/?$")


_TABLE: list[tuple[str, dict[str, Handler]]] = [
    ("/v2/store", {"GET": get_store}),
    ("/v2/time", {"GET": get_time}),
    ("/v3/channels", {"GET": list_channels}),
    ("/v3/channels/{channel_id}", {"GET": get_channel}),
    ("/v3/catalog/brands", {"GET": list_brands, "POST": create_brand, "DELETE": delete_brands}),
    (
        "/v3/catalog/brands/{brand_id}",
        {"GET": get_brand, "PUT": update_brand, "DELETE": delete_brand},
    ),
    (
        "/v3/catalog/categories",
        {"GET": list_categories, "POST": create_category, "DELETE": delete_categories},
    ),
    (
        "/v3/catalog/categories/{category_id}",
        {"GET": get_category, "PUT": update_category, "DELETE": delete_category},
    ),
    ("/v3/catalog/trees", {"GET": list_trees, "PUT": upsert_trees, "DELETE": delete_trees}),
    (
        "/v3/catalog/trees/categories",
        {
            "GET": list_tree_categories,
            "POST": create_tree_categories,
            "PUT": update_tree_categories,
            "DELETE": delete_tree_categories,
        },
    ),
    ("/v3/catalog/trees/{tree_id}/categories", {"GET": get_tree_categories}),
    (
        "/v3/catalog/products",
        {
            "GET": list_products,
            "POST": create_product,
            "PUT": update_products,
            "DELETE": delete_products,
        },
    ),
    (
        "/v3/catalog/products/{product_id}",
        {"GET": get_product, "PUT": update_product, "DELETE": delete_product},
    ),
    (
        "/v3/catalog/products/{product_id}/variants",
        {"GET": list_product_variants, "POST": create_variant},
    ),
    (
        "/v3/catalog/products/{product_id}/variants/{variant_id}",
        {"GET": get_variant, "PUT": update_variant, "DELETE": delete_variant},
    ),
    ("/v3/catalog/variants", {"GET": list_variants, "PUT": update_variants}),
    ("/v3/catalog/products/{product_id}/options", {"GET": list_options, "POST": create_option}),
    (
        "/v3/catalog/products/{product_id}/options/{option_id}",
        {"GET": get_option, "PUT": update_option, "DELETE": delete_option},
    ),
    (
        "/v3/catalog/products/{product_id}/options/{option_id}/values",
        {"GET": list_option_values, "POST": create_option_value},
    ),
    (
        "/v3/catalog/products/{product_id}/options/{option_id}/values/{value_id}",
        {"GET": get_option_value, "PUT": update_option_value, "DELETE": delete_option_value},
    ),
    ("/v3/catalog/products/{product_id}/images", {"GET": list_images, "POST": create_image}),
    (
        "/v3/catalog/products/{product_id}/images/{image_id}",
        {"GET": get_image, "PUT": update_image, "DELETE": delete_image},
    ),
    (
        "/v3/catalog/products/{product_id}/custom-fields",
        {"GET": list_custom_fields, "POST": create_custom_field},
    ),
    (
        "/v3/catalog/products/{product_id}/custom-fields/{custom_field_id}",
        {"GET": get_custom_field, "PUT": update_custom_field, "DELETE": delete_custom_field},
    ),
]

# Domains in their own modules (they import this module's helpers, hence the late import).
from . import customers, orders, pricing, shipping  # noqa: E402

_TABLE += customers.TABLE + pricing.TABLE + shipping.TABLE + orders.TABLE

ROUTES = [Route(_compile(template), methods) for template, methods in _TABLE]


def register(table: Iterable[tuple[str, dict[str, Handler]]]) -> None:
    """Add a domain module's routes (``content``, ``themes``); each registers itself on import."""
    ROUTES.extend(Route(_compile(template), methods) for template, methods in table)


def resolve(method: str, path: str) -> tuple[Handler, dict[str, Any]]:
    """The handler for ``method`` on ``path`` (relative to ``/stores/{hash}``), or 404/405."""
    matched = False
    for route in ROUTES:
        match = route.pattern.match(path)
        if match is None:
            continue
        handler = route.methods.get(method)
        if handler is None:
            matched = True  # another domain may add this method to the same path
            continue
        return handler, {k: v if _text_param(k) else int(v) for k, v in match.groupdict().items()}
    if matched:
        raise ApiError(405, "Method Not Allowed", {"method": f"{method} is not supported here."})
    raise not_found("The requested resource was not found.")
