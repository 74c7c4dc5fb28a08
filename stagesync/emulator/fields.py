"""Field tables: which writable fields each kind has, their type and the platform's default.

Kinds: ``str``, ``num``, ``int``, ``bool``, ``list_int``, ``list_str``, ``obj``, a tuple of enum
values; a trailing ``?`` means ``null`` is accepted. Unknown request fields are ignored, as the
platform does for v3 catalogue writes.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

FieldSpec = tuple[str | tuple[str, ...], Any]

OPEN_GRAPH_TYPES = ("product", "album", "book", "drink", "food", "game", "movie", "song", "tv_show")
CATEGORY_SORTS = (
    "use_store_settings",
    "featured",
    "newest",
    "best_selling",
    "alpha_asc",
    "alpha_desc",
    "avg_customer_review",
    "price_asc",
    "price_desc",
)
OPTION_TYPES = (
    "radio_buttons",
    "rectangles",
    "dropdown",
    "product_list",
    "product_list_with_images",
    "swatch",
)

PRODUCT_FIELDS: dict[str, FieldSpec] = {
    "name": ("str", ""),
    "type": (("physical", "digital"), "physical"),
    "sku": ("str", ""),
    "description": ("str", ""),
    "weight": ("num", 0),
    "width": ("num", 0),
    "depth": ("num", 0),
    "height": ("num", 0),
    "price": ("num", 0),
    "cost_price": ("num", 0),
    "retail_price": ("num", 0),
    "sale_price": ("num", 0),
    "map_price": ("num", 0),
    "tax_class_id": ("int", 0),
    "product_tax_code": ("str", ""),
    "categories": ("list_int", []),
    "brand_id": ("int", 0),
    "inventory_level": ("int", 0),
    "inventory_warning_level": ("int", 0),
    "inventory_tracking": (("none", "product", "variant"), "none"),
    "fixed_cost_shipping_price": ("num", 0),
    "is_free_shipping": ("bool", False),
    "is_visible": ("bool", True),
    "is_featured": ("bool", False),
    "related_products": ("list_int", [-1]),
    "warranty": ("str", ""),
    "bin_picking_number": ("str", ""),
    "layout_file": ("str", "product.html"),
    "upc": ("str", ""),
    "search_keywords": ("str", ""),
    "availability_description": ("str", ""),
    "availability": (("available", "disabled", "preorder"), "available"),
    "gift_wrapping_options_type": (("any", "none", "list"), "any"),
    "gift_wrapping_options_list": ("list_int", []),
    "sort_order": ("int", 0),
    "condition": (("New", "Used", "Refurbished"), "New"),
    "is_condition_shown": ("bool", False),
    "order_quantity_minimum": ("int", 0),
    "order_quantity_maximum": ("int", 0),
    "page_title": ("str", ""),
    "meta_keywords": ("list_str", []),
    "meta_description": ("str", ""),
    "preorder_release_date": ("str?", None),
    "preorder_message": ("str", ""),
    "is_preorder_only": ("bool", False),
    "is_price_hidden": ("bool", False),
    "price_hidden_label": ("str", ""),
    "open_graph_type": (OPEN_GRAPH_TYPES, "product"),
    "open_graph_title": ("str", ""),
    "open_graph_description": ("str", ""),
    "open_graph_use_meta_description": ("bool", True),
    "open_graph_use_product_name": ("bool", True),
    "open_graph_use_image": ("bool", True),
    "gtin": ("str", ""),
    "mpn": ("str", ""),
}
PRODUCT_MAX_LENGTHS = {"name": 250, "sku": 255, "upc": 14, "gtin": 14, "page_title": 255}

# Fields a simple product shares with its base variant (they are one row on the platform).
SHARED_WITH_BASE_VARIANT = (
    "sku",
    "price",
    "cost_price",
    "sale_price",
    "retail_price",
    "weight",
    "width",
    "height",
    "depth",
    "is_free_shipping",
    "fixed_cost_shipping_price",
    "upc",
    "inventory_level",
    "inventory_warning_level",
    "bin_picking_number",
    "mpn",
    "gtin",
)

VARIANT_FIELDS: dict[str, FieldSpec] = {
    "sku": ("str", ""),
    "cost_price": ("num?", None),
    "price": ("num?", None),
    "sale_price": ("num?", None),
    "retail_price": ("num?", None),
    "weight": ("num?", None),
    "width": ("num?", None),
    "height": ("num?", None),
    "depth": ("num?", None),
    "is_free_shipping": ("bool", False),
    "fixed_cost_shipping_price": ("num?", None),
    "purchasing_disabled": ("bool", False),
    "purchasing_disabled_message": ("str", ""),
    "upc": ("str?", ""),
    "image_url": ("str", ""),
    "inventory_level": ("int?", 0),
    "inventory_warning_level": ("int?", 0),
    "bin_picking_number": ("str?", ""),
    "mpn": ("str?", ""),
    "gtin": ("str?", ""),
}

OPTION_FIELDS: dict[str, FieldSpec] = {
    "display_name": ("str", ""),
    "type": (OPTION_TYPES, "radio_buttons"),
    "config": ("obj", {}),
    "sort_order": ("int", 0),
}

OPTION_VALUE_FIELDS: dict[str, FieldSpec] = {
    "label": ("str", ""),
    "sort_order": ("int", 0),
    "value_data": ("obj?", None),
    "is_default": ("bool", False),
}

IMAGE_FIELDS: dict[str, FieldSpec] = {
    "image_url": ("str", ""),
    "is_thumbnail": ("bool", False),
    "sort_order": ("int", 0),
    "description": ("str", ""),
}

CUSTOM_FIELD_FIELDS: dict[str, FieldSpec] = {"name": ("str", ""), "value": ("str", "")}

BRAND_FIELDS: dict[str, FieldSpec] = {
    "name": ("str", ""),
    "page_title": ("str", ""),
    "meta_keywords": ("list_str", []),
    "meta_description": ("str", ""),
    "search_keywords": ("str", ""),
    "image_url": ("str", ""),
}

CATEGORY_FIELDS: dict[str, FieldSpec] = {
    "name": ("str", ""),
    "description": ("str", ""),
    "views": ("int", 0),
    "sort_order": ("int", 0),
    "page_title": ("str", ""),
    "search_keywords": ("str", ""),
    "meta_keywords": ("list_str", []),
    "meta_description": ("str", ""),
    "layout_file": ("str", "category.html"),
    "is_visible": ("bool", True),
    "default_product_sort": (CATEGORY_SORTS, "use_store_settings"),
    "image_url": ("str", ""),
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def valid(kind: str | tuple[str, ...], value: Any) -> bool:
    if isinstance(kind, tuple):
        return isinstance(value, str) and value in kind
    if kind.endswith("?"):
        if value is None:
            return True
        kind = kind[:-1]
    if kind == "str":
        return isinstance(value, str)
    if kind == "num":
        return _is_number(value) and value >= 0
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "list_int":
        return isinstance(value, list) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        )
    if kind == "list_str":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "obj":
        return isinstance(value, dict)
    raise AssertionError(f"unknown field kind {kind}")


def defaults(spec: Mapping[str, FieldSpec]) -> dict[str, Any]:
    return {name: copy.deepcopy(default) for name, (_, default) in spec.items()}


def read_fields(
    body: Mapping[str, Any], spec: Mapping[str, FieldSpec], errors: dict[str, str]
) -> dict[str, Any]:
    """The known, valid fields of ``body``; invalid ones are reported in ``errors``."""
    out: dict[str, Any] = {}
    for name, (kind, _) in spec.items():
        if name not in body:
            continue
        value = body[name]
        if not valid(kind, value):
            if isinstance(kind, tuple):
                errors[name] = f"The field '{name}' must be one of: {', '.join(kind)}."
            else:
                errors[name] = f"The field '{name}' is invalid."
            continue
        out[name] = copy.deepcopy(value)
    return out
