"""Products: rules, rendering and routes (``/v3/catalog/products``)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from stagesync.emulator.errors import ApiError, conflict, invalid, not_found
from stagesync.emulator.fields import (
    CUSTOM_FIELD_FIELDS,
    IMAGE_FIELDS,
    PRODUCT_FIELDS,
    PRODUCT_MAX_LENGTHS,
    VARIANT_FIELDS,
    defaults,
    read_fields,
)
from stagesync.emulator.routes import (
    IDS,
    Call,
    Endpoint,
    FilterSpec,
    Listing,
    Reply,
    Table,
    apply_filters,
    body_list,
    has_filter,
    keyword_filter,
    page_of,
    register,
    select_fields,
    single,
)

from .common import (
    MAX_VARIANTS,
    PRODUCT_DELETE_HOOKS,
    PRODUCT_RENDER_HOOKS,
    VARIANT_DELETE_HOOKS,
    Record,
    _missing,
    _require_object,
    _too_long,
    now_rfc3339,
    slugify,
)
from .variants import Variants


class Products(Variants):
    """Products: their rules and rendering (the top layer: the whole catalogue)."""

    # ---- products -------------------------------------------------------------------------------

    def _product_name_conflict(self, name: str, own_id: int | None) -> None:
        holder = self._product_names.get(name.casefold())
        if holder is not None and holder != own_id:
            raise conflict(
                "The product name is a duplicate",
                {"name": f"The product name '{name}' is already in use."},
            )

    def _check_references(self, fields: Mapping[str, Any]) -> None:
        brand_id = fields.get("brand_id")
        if brand_id and brand_id not in self.brands:
            raise conflict(
                f"Brand with id {brand_id} does not exist.",
                {"brand_id": f"Brand {brand_id} does not exist."},
            )
        for category_id in fields.get("categories", []):
            if category_id not in self.categories:
                raise conflict(
                    f"Category with id {category_id} does not exist.",
                    {"categories": f"Category {category_id} does not exist."},
                )

    def _validate_product_fields(
        self, body: Mapping[str, Any], own_id: int | None
    ) -> tuple[dict[str, Any], str | None, bool]:
        errors: dict[str, str] = {}
        fields = read_fields(body, PRODUCT_FIELDS, errors)
        _too_long(errors, fields, PRODUCT_MAX_LENGTHS)
        if "categories" in fields and len(fields["categories"]) > 1000:
            errors["categories"] = "A product can be in at most 1,000 categories."
        if "name" in fields and not fields["name"].strip():
            errors["name"] = "Please provide a name."
        owner = ("product", own_id) if own_id is not None else None
        url, customized = self._requested_url(body, "custom_url", "url", owner, errors)
        if errors:
            raise invalid("Input is invalid", errors)
        if "name" in fields:
            self._product_name_conflict(fields["name"], own_id)
        if "sku" in fields:
            self._sku_conflict(fields["sku"], owner)
        self._check_references(fields)
        return fields, url, customized

    def create_product(self, body: Any) -> Record:
        if not isinstance(body, dict):
            raise ApiError(400, "Input is invalid", detail="The request body must be one product.")
        missing = [name for name in ("name", "type", "weight", "price") if name not in body]
        if missing:
            raise _missing({}, missing)
        fields, url, customized = self._validate_product_fields(body, None)
        variant_plan = self._plan_inline_variants(body.get("variants"), fields.get("sku", ""))
        images = self._plan_children(body.get("images"), "images", IMAGE_FIELDS, ["image_url"])
        custom_fields = self._plan_children(
            body.get("custom_fields"), "custom_fields", CUSTOM_FIELD_FIELDS, ["name", "value"]
        )
        self._check_custom_field_set(custom_fields, [])
        # Everything is valid: apply.
        product_id = self.next_id()
        owner = ("product", product_id)
        stamp = now_rfc3339()
        product: Record = {
            "id": product_id,
            **defaults(PRODUCT_FIELDS),
            **fields,
            "date_created": stamp,
            "date_modified": stamp,
            "variant_ids": [],
            "option_ids": [],
            "image_ids": [],
            "custom_field_ids": [],
            "base_variant_id": None,
        }
        url = url or self._free_url(f"/{slugify(product['name'])}/", owner)
        product["custom_url"] = {"url": url, "is_customized": customized}
        self._set_url(owner, None, url)
        self.products[product_id] = product
        self._product_names[product["name"].casefold()] = product_id
        if product["sku"]:
            self._skus[product["sku"].casefold()] = owner
        if variant_plan:
            option_ids: dict[str, int] = {}
            value_ids: dict[tuple[str, str], int] = {}
            for display_name, labels in variant_plan["options"].items():
                option = self._add_option(
                    product,
                    {
                        "display_name": display_name,
                        "type": "rectangles",
                        "option_values": [
                            {"label": label, "sort_order": i} for i, label in enumerate(labels)
                        ],
                    },
                )
                option_ids[display_name] = option["id"]
                for value in option["option_values"]:
                    value_ids[(display_name, value["label"])] = value["id"]
            for variant_fields, pairs in variant_plan["variants"]:
                refs = [(option_ids[d], value_ids[(d, label)]) for d, label in pairs]
                self._add_variant(product, variant_fields, refs)
        else:
            self._ensure_base_variant(product)
        for image in images:
            self._add_image(product, image)
        for custom_field in custom_fields:
            self._add_custom_field(product, custom_field)
        return product

    def _plan_inline_variants(self, variants: Any, product_sku: str) -> Record | None:
        """Validate inline variants; return the options to create and the variants to add."""
        if variants is None:
            return None
        if not isinstance(variants, list):
            raise invalid(
                "Input is invalid", {"variants": "The field 'variants' must be an array."}
            )
        if len(variants) > MAX_VARIANTS:
            raise invalid("Input is invalid", {"variants": f"At most {MAX_VARIANTS} variants."})
        options: dict[str, list[str]] = {}
        planned: list[tuple[dict[str, Any], list[tuple[str, str]]]] = []
        seen_skus: set[str] = {product_sku.casefold()} if product_sku else set()
        seen_combos: set[tuple[tuple[str, str], ...]] = set()
        for index, variant in enumerate(variants):
            if not isinstance(variant, dict):
                raise invalid("Input is invalid", {f"variants[{index}]": "Must be an object."})
            errors: dict[str, str] = {}
            fields = read_fields(variant, VARIANT_FIELDS, errors)
            if not fields.get("sku"):
                raise _missing(errors, [f"variants[{index}].sku"])
            if errors:
                raise invalid("Input is invalid", errors)
            sku = fields["sku"]
            if sku.casefold() in seen_skus:
                raise conflict(f"Sku '{sku}' is not unique.", {"sku": f"Duplicate SKU '{sku}'."})
            self._sku_conflict(sku, None)
            seen_skus.add(sku.casefold())
            values = variant.get("option_values") or []
            pairs: list[tuple[str, str]] = []
            if not isinstance(values, list) or not values:
                raise invalid(
                    "Input is invalid",
                    {f"variants[{index}].option_values": "Each variant needs option values."},
                )
            for value in values:
                display = value.get("option_display_name") if isinstance(value, dict) else None
                label = value.get("label") if isinstance(value, dict) else None
                if not isinstance(display, str) or not isinstance(label, str) or not display:
                    raise invalid(
                        "Input is invalid",
                        {
                            f"variants[{index}].option_values": "Inline variant option values "
                            "need option_display_name and label."
                        },
                    )
                pairs.append((display, label))
                labels = options.setdefault(display, [])
                if label not in labels:
                    labels.append(label)
            combo = tuple(sorted(pairs))
            if combo in seen_combos or len({d for d, _ in pairs}) != len(pairs):
                raise conflict(
                    "A variant with the same option values already exists.",
                    {f"variants[{index}].option_values": "Duplicate option value combination."},
                )
            seen_combos.add(combo)
            planned.append((fields, pairs))
        if not planned:
            return None
        names = set(options)
        for index, (_, pairs) in enumerate(planned):
            if {d for d, _ in pairs} != names:
                raise invalid(
                    "Input is invalid",
                    {
                        f"variants[{index}].option_values": "Every variant needs a value for each "
                        f"option: {', '.join(sorted(names))}."
                    },
                )
        return {"options": options, "variants": planned}

    def update_product(self, product_id: int, body: Any) -> Record:
        apply = self.prepare_product_update(product_id, body)
        return apply()

    def prepare_product_update(self, product_id: int, body: Any) -> Callable[[], Record]:
        """Validate an update; return a function that applies it (batches validate all first)."""
        product = self.products.get(product_id)
        if product is None:
            raise not_found(f"Product {product_id} was not found.")
        _require_object(body)
        fields, url, customized = self._validate_product_fields(body, product_id)

        def apply() -> Record:
            owner = ("product", product_id)
            if "name" in fields:
                self._product_names.pop(product["name"].casefold(), None)
                self._product_names[fields["name"].casefold()] = product_id
            if "sku" in fields:
                if product["sku"] and self._skus.get(product["sku"].casefold()) == owner:
                    del self._skus[product["sku"].casefold()]
                if fields["sku"]:
                    self._skus[fields["sku"].casefold()] = owner
            product.update(fields)
            if url is not None:
                self._set_url(owner, product["custom_url"]["url"], url)
                product["custom_url"] = {"url": url, "is_customized": customized}
            product["date_modified"] = now_rfc3339()
            return product

        return apply

    def delete_product(self, product_id: int) -> None:
        product = self.products.pop(product_id, None)
        if product is None:
            raise not_found(f"Product {product_id} was not found.")
        owner = ("product", product_id)
        self._product_names.pop(product["name"].casefold(), None)
        if product["sku"] and self._skus.get(product["sku"].casefold()) == owner:
            del self._skus[product["sku"].casefold()]
        self._drop_url(owner, product["custom_url"]["url"])
        for variant_id in product["variant_ids"]:
            variant = self.variants.pop(variant_id)
            self._release_variant_sku(variant)
            for variant_hook in VARIANT_DELETE_HOOKS:
                variant_hook(self.as_store(), variant_id)
        for option_id in product["option_ids"]:
            self.options.pop(option_id, None)
        for image_id in product["image_ids"]:
            self.images.pop(image_id, None)
        for field_id in product["custom_field_ids"]:
            self.custom_fields.pop(field_id, None)
        for hook in PRODUCT_DELETE_HOOKS:
            hook(self.as_store(), product_id)
        for other in self.products.values():
            if product_id in other["related_products"]:
                other["related_products"] = [
                    p for p in other["related_products"] if p != product_id
                ]

    def render_product(self, product: Record, include: Iterable[str] = ()) -> Record:
        out: Record = {"id": product["id"]}
        for name in PRODUCT_FIELDS:
            out[name] = copy.deepcopy(product[name])
        sale = product["sale_price"]
        out.update(
            {
                "calculated_price": sale if sale and sale > 0 else product["price"],
                "option_set_id": None,
                "option_set_display": "right",
                "reviews_rating_sum": 0,
                "reviews_count": 0,
                "total_sold": 0,
                "view_count": 0,
                "date_last_imported": None,
                "date_created": product["date_created"],
                "date_modified": product["date_modified"],
                "custom_url": dict(product["custom_url"]),
                "base_variant_id": product["base_variant_id"],
            }
        )
        wanted = set(include)
        if "variants" in wanted:
            out["variants"] = [
                self.render_variant(self.variants[v]) for v in product["variant_ids"]
            ]
        if "images" in wanted:
            out["images"] = [self.render_image(self.images[i]) for i in product["image_ids"]]
        if "primary_image" in wanted:
            thumbs = [
                self.images[i] for i in product["image_ids"] if self.images[i]["is_thumbnail"]
            ]
            out["primary_image"] = self.render_image(thumbs[0]) if thumbs else None
        if "custom_fields" in wanted:
            out["custom_fields"] = [
                self.render_custom_field(self.custom_fields[c]) for c in product["custom_field_ids"]
            ]
        if "options" in wanted:
            out["options"] = [self.render_option(self.options[o]) for o in product["option_ids"]]
        if "parent_relations" in wanted:
            out["parent_relations"] = []
        for hook in PRODUCT_RENDER_HOOKS:
            hook(self.as_store(), product, out, wanted)
        return out


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

# ---- products ----------------------------------------------------------------------------------


def _product_filters(store: Products) -> FilterSpec:
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
        "price": ("num", lambda p: p["price"]),
        "date_modified": ("time", lambda p: p["date_modified"]),
        "inventory_level": ("int", lambda p: p["inventory_level"]),
        "weight": ("num", lambda p: p["weight"]),
        "condition": ("str", lambda p: p["condition"]),
        "is_free_shipping": ("bool", lambda p: p["is_free_shipping"]),
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


LIST_PARAMETERS = (
    "page",
    "limit",
    "include",
    "include_fields",
    "exclude_fields",
    "sort",
    "direction",
    "keyword",
)
"""What the product list takes besides its filters (anything else answers 400)."""

PRODUCTS = Listing(
    _product_filters(cast(Products, None)),
    f"{IDS} name mpn upc price weight condition brand_id date_modified date_modified:max "
    "date_modified:min is_visible is_featured is_free_shipping inventory_level "
    "inventory_level:in inventory_level:not_in inventory_level:min inventory_level:max "
    "inventory_level:greater inventory_level:less type categories categories:in availability "
    "sku sku:in",
    sorts=SORTABLE,
    others=[name for name in LIST_PARAMETERS if name not in ("sort", "direction")],
    missing="channel_id:in date_last_imported date_last_imported:max date_last_imported:min "
    "date_last_imported:not inventory_low keyword_context out_of_stock total_sold",
)
"""The product list's documented filters and sorts."""


def list_products(store: Products, call: Call) -> Reply:
    items = apply_filters(store.products.values(), call.query, _product_filters(store))
    items = keyword_filter(items, call.query, ("name", "sku", "description", "search_keywords"))
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
        select_fields(store.render_product(p, include), call.query, include)
        for p in reply.body["data"]
    ]
    return reply


def create_product(store: Products, call: Call) -> Reply:
    if isinstance(call.body, list):
        raise ApiError(
            400, "Input is invalid", detail="Create one product per request (send an object)."
        )
    product = store.create_product(call.body)
    include = {"variants", "images", "custom_fields"} & set(call.body)
    return single(store.render_product(product, include))


def update_products(store: Products, call: Call) -> Reply:
    items = body_list(call.body, 10, "products")
    appliers = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("id"), int):
            raise ApiError(422, "Missing Required Fields", {f"{index}.id": "Please provide an id."})
        appliers.append(store.prepare_product_update(item["id"], item))
    products = [apply() for apply in appliers]
    return Reply(200, {"data": [store.render_product(p) for p in products], "meta": {}})


def delete_products(store: Products, call: Call) -> Reply:
    filters = _product_filters(store)
    if not has_filter(call.query, filters):
        raise invalid("A filter is required.", {"id:in": "Provide a filter such as id:in."})
    ids = call.query.get("id:in")
    if ids and len(ids.split(",")) > 250:
        raise invalid("Too many IDs.", {"id:in": "Delete at most 250 products per request."})
    for product in apply_filters(list(store.products.values()), call.query, filters):
        store.delete_product(product["id"])
    return Reply(204)


def get_product(store: Products, call: Call) -> Reply:
    product = store.get_product(call.params["product_id"])
    include = _includes(call.query)
    return single(select_fields(store.render_product(product, include), call.query, include))


def update_product(store: Products, call: Call) -> Reply:
    product = store.update_product(call.params["product_id"], call.body)
    return single(store.render_product(product))


def delete_product(store: Products, call: Call) -> Reply:
    store.delete_product(call.params["product_id"])
    return Reply(204)


PRODUCT_ROUTES: Table = [
    (
        "/v3/catalog/products",
        {
            "GET": Endpoint(list_products, listing=PRODUCTS),
            "POST": create_product,
            "PUT": update_products,
            "DELETE": delete_products,
        },
    ),
    (
        "/v3/catalog/products/{product_id}",
        {"GET": get_product, "PUT": update_product, "DELETE": delete_product},
    ),
]
register(PRODUCT_ROUTES)
