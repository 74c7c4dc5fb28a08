"""Brands: their rules, rendering and routes (``/v3/catalog/brands``)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from stagesync.emulator.errors import ApiError, conflict, invalid, not_found
from stagesync.emulator.fields import (
    BRAND_FIELDS,
    defaults,
    read_fields,
)
from stagesync.emulator.routes import (
    FIELDS,
    PAGING,
    Call,
    Endpoint,
    FilterSpec,
    Listing,
    Reply,
    Table,
    apply_filters,
    has_filter,
    listed,
    page_of,
    register,
    select_fields,
    single,
)
from stagesync.emulator.schema import BOOL, array, obj, string

from .common import (
    BRAND_DELETE_HOOKS,
    Record,
    StoreCore,
    _missing,
    _too_long,
    slugify,
)


class Brands(StoreCore):
    """Brands: their rules and rendering."""

    # ---- brands ---------------------------------------------------------------------------------

    def render_brand(self, brand: Record) -> Record:
        return copy.deepcopy(brand)

    def find_brand_by_name(self, name: str) -> Record | None:
        for brand in self.brands.values():
            if brand["name"].casefold() == name.casefold():
                return brand
        return None

    def create_brand(self, body: Mapping[str, Any]) -> Record:
        errors: dict[str, str] = {}
        fields = read_fields(body, BRAND_FIELDS, errors)
        if not fields.get("name"):
            raise _missing(errors, ["name"])
        _too_long(errors, fields, {"name": 255, "page_title": 255, "search_keywords": 255})
        if errors:
            raise invalid("Input is invalid", errors)
        if self.find_brand_by_name(fields["name"]) is not None:
            raise conflict(
                f"Brand name '{fields['name']}' is not unique.",
                {"name": "Brand name must be unique."},
            )
        url, customized = self._requested_url(body, "custom_url", "url", None, errors)
        if errors:
            raise invalid("Input is invalid", errors)
        brand_id = self.next_id()
        owner = ("brand", brand_id)
        url = url or self._free_url(f"/{slugify(fields['name'])}/", owner)
        brand = {"id": brand_id, **defaults(BRAND_FIELDS), **fields}
        brand["custom_url"] = {"url": url, "is_customized": customized}
        self._set_url(owner, None, url)
        self.brands[brand_id] = brand
        return brand

    def update_brand(self, brand_id: int, body: Mapping[str, Any]) -> Record:
        brand = self.brands.get(brand_id)
        if brand is None:
            raise not_found("The brand was not found.")
        errors: dict[str, str] = {}
        fields = read_fields(body, BRAND_FIELDS, errors)
        if "name" in fields and not fields["name"]:
            errors["name"] = "Brand name must not be empty."
        _too_long(errors, fields, {"name": 255, "page_title": 255, "search_keywords": 255})
        if errors:
            raise invalid("Input is invalid", errors)
        if "name" in fields:
            other = self.find_brand_by_name(fields["name"])
            if other is not None and other["id"] != brand_id:
                raise conflict(
                    f"Brand name '{fields['name']}' is not unique.",
                    {"name": "Brand name must be unique."},
                )
        owner = ("brand", brand_id)
        url, customized = self._requested_url(body, "custom_url", "url", owner, errors)
        if errors:
            raise invalid("Input is invalid", errors)
        brand.update(fields)
        if url is not None:
            self._set_url(owner, brand["custom_url"]["url"], url)
            brand["custom_url"] = {"url": url, "is_customized": customized}
        return brand

    def delete_brand(self, brand_id: int) -> None:
        brand = self.brands.pop(brand_id, None)
        if brand is None:
            raise not_found("The brand was not found.")
        self._drop_url(("brand", brand_id), brand["custom_url"]["url"])
        for product in self.products.values():
            if product["brand_id"] == brand_id:
                product["brand_id"] = 0
        for hook in BRAND_DELETE_HOOKS:
            hook(self.as_store(), brand_id)

    def _requested_url(
        self,
        body: Mapping[str, Any],
        field: str,
        key: str,
        owner: tuple[str, int] | None,
        errors: dict[str, str],
    ) -> tuple[str | None, bool]:
        """A URL the client asked for (``custom_url.url`` or tree ``url.path``), if any."""
        value = body.get(field)
        if value is None:
            return None, False
        if not isinstance(value, dict) or key not in value:
            errors[field] = f"The field '{field}' must be an object with '{key}'."
            return None, False
        url = value[key]
        if not self._check_custom_url(url, owner, errors):
            return None, False
        customized = value.get("is_customized", True)
        return str(url), bool(customized)


# ---- brands ------------------------------------------------------------------------------------

BRAND_FILTERS: FilterSpec = {
    "id": ("int", lambda b: b["id"]),
    "name": ("istr", lambda b: b["name"]),
    "page_title": ("str", lambda b: b["page_title"]),
}


IDS = "id id:in id:not_in id:min id:max id:greater id:less"
"""The documented id filters of most catalogue lists."""

BRANDS = Listing(
    BRAND_FILTERS,
    f"{IDS} name name:like page_title",
    sorts=("name",),
    others=(*PAGING, *FIELDS),
)


def list_brands(store: Brands, call: Call) -> Reply:
    items = listed(call, store.brands.values())
    return page_of([select_fields(store.render_brand(b), call.query) for b in items], call.query)


def create_brand(store: Brands, call: Call) -> Reply:
    if not isinstance(call.body, dict):
        raise ApiError(400, "Input is invalid", detail="The request body must be one brand.")
    return single(store.render_brand(store.create_brand(call.body)))


def delete_brands(store: Brands, call: Call) -> Reply:
    if not has_filter(call.query, BRAND_FILTERS):
        raise invalid("A filter is required.", {"name": "Provide a filter such as name."})
    for brand in apply_filters(list(store.brands.values()), call.query, BRAND_FILTERS):
        store.delete_brand(brand["id"])
    return Reply(204)


def _brand(store: Brands, call: Call) -> Record:
    brand = store.brands.get(call.params["brand_id"])
    if brand is None:
        raise not_found("The brand was not found.")
    return brand


def get_brand(store: Brands, call: Call) -> Reply:
    return single(select_fields(store.render_brand(_brand(store, call)), call.query))


def update_brand(store: Brands, call: Call) -> Reply:
    if not isinstance(call.body, dict):
        raise ApiError(400, "Input is invalid", detail="The request body must be an object.")
    return single(store.render_brand(store.update_brand(call.params["brand_id"], call.body)))


def delete_brand(store: Brands, call: Call) -> Reply:
    store.delete_brand(_brand(store, call)["id"])
    return Reply(204)


BRAND = obj(
    {
        "name": string(255),
        "page_title": string(255),
        "meta_keywords": array(string(255)),
        "meta_description": string(65535),
        "search_keywords": string(65535),
        "image_url": string(),
        "custom_url": obj({"url": string(255), "is_customized": BOOL}),
    }
)

BRAND_ROUTES: Table = [
    (
        "/v3/catalog/brands",
        {
            "GET": Endpoint(list_brands, listing=BRANDS),
            "POST": Endpoint(create_brand, BRAND),
            "DELETE": delete_brands,
        },
    ),
    (
        "/v3/catalog/brands/{brand_id}",
        {"GET": get_brand, "PUT": Endpoint(update_brand, BRAND), "DELETE": delete_brand},
    ),
]
register(BRAND_ROUTES)
