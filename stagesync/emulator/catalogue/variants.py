"""Variants, options and option values: rules, rendering and routes."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from typing import Any

from stagesync.emulator.errors import ApiError, conflict, invalid, not_found
from stagesync.emulator.fields import (
    OPTION_FIELDS,
    OPTION_VALUE_FIELDS,
    SHARED_WITH_BASE_VARIANT,
    VARIANT_FIELDS,
    defaults,
    read_fields,
)
from stagesync.emulator.routes import (
    FIELDS,
    PAGING,
    SUBLIST,
    Call,
    Endpoint,
    FilterSpec,
    Listing,
    Reply,
    Table,
    body_list,
    listed,
    page_of,
    register,
    select_fields,
    single,
)

from .common import (
    MAX_OPTION_VALUES,
    MAX_VARIANTS,
    VARIANT_DELETE_HOOKS,
    Record,
    _missing,
    _owned,
    _require_object,
)
from .media import ProductMedia


class Variants(ProductMedia):
    """Variants, options and option values: their rules and rendering."""

    # ---- variants -------------------------------------------------------------------------------

    def _release_variant_sku(self, variant: Record) -> None:
        owner = ("variant", variant["id"])
        sku = variant.get("sku") or ""
        if sku and self._skus.get(sku.casefold()) == owner:
            del self._skus[sku.casefold()]

    def _ensure_base_variant(self, product: Record) -> None:
        if product["variant_ids"]:
            return
        variant_id = self.next_id()
        self.variants[variant_id] = {
            "id": variant_id,
            "product_id": product["id"],
            "is_base": True,
            "sku_id": None,
            "option_value_refs": [],
            "purchasing_disabled": False,
            "purchasing_disabled_message": "",
            "image_url": "",
        }
        product["variant_ids"].append(variant_id)
        product["base_variant_id"] = variant_id

    def _add_variant(
        self, product: Record, fields: Mapping[str, Any], refs: list[tuple[int, int]]
    ) -> Record:
        if product["base_variant_id"] is not None:
            base = self.variants.pop(product["base_variant_id"])
            product["variant_ids"].remove(base["id"])
            product["base_variant_id"] = None
        variant_id = self.next_id()
        variant: Record = {
            "id": variant_id,
            "product_id": product["id"],
            "is_base": False,
            "sku_id": self.next_id(),
            **defaults(VARIANT_FIELDS),
            **fields,
            "option_value_refs": list(refs),
        }
        self.variants[variant_id] = variant
        product["variant_ids"].append(variant_id)
        self._skus[variant["sku"].casefold()] = ("variant", variant_id)
        return variant

    def _resolve_option_values(self, product: Record, values: Any) -> list[tuple[int, int]]:
        if not isinstance(values, list) or not values:
            raise _missing({}, ["option_values"])
        refs: list[tuple[int, int]] = []
        for value in values:
            if not isinstance(value, dict):
                raise invalid("Input is invalid", {"option_values": "Must be objects."})
            ref = self._find_option_value(product, value)
            if ref is None:
                raise invalid(
                    "Input is invalid",
                    {"option_values": f"Option value {value} does not exist on this product."},
                )
            refs.append(ref)
        option_ids = [o for o, _ in refs]
        if len(set(option_ids)) != len(option_ids) or set(option_ids) != set(product["option_ids"]):
            raise invalid(
                "Input is invalid",
                {"option_values": "A variant needs exactly one value for each product option."},
            )
        for variant_id in product["variant_ids"]:
            if sorted(self.variants[variant_id]["option_value_refs"]) == sorted(refs):
                raise conflict(
                    "A variant with the same option values already exists.",
                    {"option_values": "Duplicate option value combination."},
                )
        return refs

    def _find_option_value(
        self, product: Record, value: Mapping[str, Any]
    ) -> tuple[int, int] | None:
        for option_id in product["option_ids"]:
            option = self.options[option_id]
            if "option_id" in value and value["option_id"] != option_id:
                continue
            if (
                "option_display_name" in value
                and value["option_display_name"] != option["display_name"]
            ):
                continue
            for option_value in option["option_values"]:
                if "id" in value and value["id"] == option_value["id"]:
                    return option_id, option_value["id"]
                if "id" not in value and value.get("label") == option_value["label"]:
                    return option_id, option_value["id"]
        return None

    def create_variant(self, product_id: int, body: Any) -> Record:
        product = self.get_product(product_id)
        if not isinstance(body, dict):
            raise ApiError(400, "Input is invalid", detail="The request body must be one variant.")
        errors: dict[str, str] = {}
        fields = read_fields(body, VARIANT_FIELDS, errors)
        missing = [n for n in ("sku",) if not fields.get("sku")]
        if "option_values" not in body:
            missing.append("option_values")
        if missing:
            raise _missing(errors, missing)
        if errors:
            raise invalid("Input is invalid", errors)
        if len(product["variant_ids"]) >= MAX_VARIANTS:
            raise invalid("Input is invalid", {"variants": f"At most {MAX_VARIANTS} variants."})
        self._sku_conflict(fields["sku"], None)
        refs = self._resolve_option_values(product, body.get("option_values"))
        variant = self._add_variant(product, fields, refs)
        self.touch(product)
        return variant

    def prepare_variant_update(
        self, variant_id: int, body: Any, product_id: int | None
    ) -> Callable[[], Record]:
        variant = self.variants.get(variant_id)
        if variant is None or (product_id is not None and variant["product_id"] != product_id):
            raise not_found(f"Variant {variant_id} was not found.")
        _require_object(body)
        product = self.products[variant["product_id"]]
        errors: dict[str, str] = {}
        fields = read_fields(body, VARIANT_FIELDS, errors)
        if "sku" in fields and not fields["sku"] and not variant["is_base"]:
            errors["sku"] = "Please provide a sku."
        if errors:
            raise invalid("Input is invalid", errors)
        if variant["is_base"]:
            shared = {k: v for k, v in fields.items() if k in SHARED_WITH_BASE_VARIANT}
            own = {k: v for k, v in fields.items() if k not in SHARED_WITH_BASE_VARIANT}
            # A base variant is the product's own row: nullable variant values mean "no change".
            shared = {k: v for k, v in shared.items() if v is not None}
            apply_product = self.prepare_product_update(product["id"], shared)

            def apply_base() -> Record:
                apply_product()
                variant.update(own)
                return variant

            return apply_base
        if "sku" in fields:
            self._sku_conflict(fields["sku"], ("variant", variant_id))
        refs = None
        if "option_values" in body:
            others = [v for v in product["variant_ids"] if v != variant_id]
            saved = product["variant_ids"]
            product["variant_ids"] = others
            try:
                refs = self._resolve_option_values(product, body["option_values"])
            finally:
                product["variant_ids"] = saved

        def apply() -> Record:
            if "sku" in fields:
                self._release_variant_sku(variant)
                self._skus[fields["sku"].casefold()] = ("variant", variant_id)
            variant.update(fields)
            if refs is not None:
                variant["option_value_refs"] = refs
            self.touch(product)
            return variant

        return apply

    def delete_variant(self, product_id: int, variant_id: int) -> None:
        product = self.get_product(product_id)
        variant = self.variants.get(variant_id)
        if variant is None or variant["product_id"] != product_id:
            raise not_found(f"Variant {variant_id} was not found.")
        if variant["is_base"]:
            raise invalid(
                "The base variant cannot be deleted.",
                {"id": "A product always has at least one variant."},
            )
        self._remove_variant(product, variant_id)
        self.touch(product)

    def _remove_variant(self, product: Record, variant_id: int) -> None:
        variant = self.variants.pop(variant_id)
        self._release_variant_sku(variant)
        product["variant_ids"].remove(variant_id)
        for hook in VARIANT_DELETE_HOOKS:
            hook(self.as_store(), variant_id)
        self._ensure_base_variant(product)

    def render_variant(self, variant: Record) -> Record:
        product = self.products[variant["product_id"]]
        out: Record = {"id": variant["id"], "product_id": variant["product_id"]}
        if variant["is_base"]:
            for name in VARIANT_FIELDS:
                if name in SHARED_WITH_BASE_VARIANT:
                    out[name] = copy.deepcopy(product[name])
                else:
                    out[name] = copy.deepcopy(variant.get(name, VARIANT_FIELDS[name][1]))
        else:
            for name in VARIANT_FIELDS:
                out[name] = copy.deepcopy(variant[name])
        out["sku_id"] = variant["sku_id"]
        price = out["price"] if out["price"] is not None else product["price"]
        sale = out["sale_price"] if out["sale_price"] is not None else product["sale_price"]
        out["calculated_price"] = sale if sale and sale > 0 else price
        out["calculated_weight"] = out["weight"] if out["weight"] is not None else product["weight"]
        out["map_price"] = product["map_price"]
        option_values = []
        for option_id, value_id in variant["option_value_refs"]:
            option = self.options[option_id]
            label = next(v["label"] for v in option["option_values"] if v["id"] == value_id)
            option_values.append(
                {
                    "id": value_id,
                    "label": label,
                    "option_id": option_id,
                    "option_display_name": option["display_name"],
                }
            )
        out["option_values"] = option_values
        return out

    # ---- options --------------------------------------------------------------------------------

    def _validate_option(
        self, product: Record, body: Any, own_id: int | None
    ) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
        if not isinstance(body, dict):
            raise ApiError(400, "Input is invalid", detail="The request body must be one option.")
        errors: dict[str, str] = {}
        fields = read_fields(body, OPTION_FIELDS, errors)
        if own_id is None:
            missing = [n for n in ("display_name", "type") if not body.get(n)]
            if "option_values" not in body:
                missing.append("option_values")
            if missing:
                raise _missing(errors, missing)
        if errors:
            raise invalid("Input is invalid", errors)
        if len(fields.get("display_name", "")) > 255:
            raise invalid("Input is invalid", {"display_name": "At most 255 characters."})
        if "display_name" in fields:
            for option_id in product["option_ids"]:
                other = self.options[option_id]
                if option_id != own_id and other["display_name"] == fields["display_name"]:
                    raise conflict(
                        f"The option '{fields['display_name']}' already exists on this product.",
                        {"display_name": "Option display names are unique within a product."},
                    )
        values = None
        if "option_values" in body:
            values = self._plan_children(
                body["option_values"], "option_values", OPTION_VALUE_FIELDS, ["label"]
            )
            labels = [v["label"] for v in values]
            if len(set(labels)) != len(labels):
                raise conflict(
                    "Option value labels must be unique.",
                    {"option_values": "Duplicate label."},
                )
            if len(values) > MAX_OPTION_VALUES:
                raise invalid("Input is invalid", {"option_values": "At most 250 values."})
        return fields, values

    def _add_option(self, product: Record, body: Mapping[str, Any]) -> Record:
        fields, values = self._validate_option(product, body, None)
        option_id = self.next_id()
        option: Record = {
            "id": option_id,
            "product_id": product["id"],
            **{k: copy.deepcopy(d) for k, (_, d) in OPTION_FIELDS.items()},
            **fields,
            "name": f"{fields['display_name']}{int(time.time())}-{product['id']}",
            "option_values": [],
        }
        for value in values or []:
            option["option_values"].append(
                {"id": self.next_id(), **defaults(OPTION_VALUE_FIELDS), **value}
            )
        self.options[option_id] = option
        product["option_ids"].append(option_id)
        return option

    def create_option(self, product_id: int, body: Any) -> Record:
        product = self.get_product(product_id)
        option = self._add_option(product, body)
        self.touch(product)
        return option

    def get_option(self, product_id: int, option_id: int) -> Record:
        return _owned(self.options, product_id, option_id, "Option")

    def update_option(self, product_id: int, option_id: int, body: Any) -> Record:
        product = self.get_product(product_id)
        option = self.get_option(product_id, option_id)
        fields, values = self._validate_option(product, body, option_id)
        option.update(fields)
        if values is not None:
            # Values with a known id or label are updated in place; others are added; values
            # left out are removed along with the variants that use them.
            kept: list[Record] = []
            for value in values:
                existing = next(
                    (v for v in option["option_values"] if v["label"] == value["label"]), None
                )
                if existing is None:
                    kept.append({"id": self.next_id(), **defaults(OPTION_VALUE_FIELDS), **value})
                else:
                    existing.update(value)
                    kept.append(existing)
            removed = {v["id"] for v in option["option_values"]} - {v["id"] for v in kept}
            option["option_values"] = kept
            self._drop_variants_using(product, removed)
        self.touch(product)
        return option

    def _drop_variants_using(self, product: Record, value_ids: set[int]) -> None:
        for variant_id in list(product["variant_ids"]):
            refs = self.variants[variant_id]["option_value_refs"]
            if any(value_id in value_ids for _, value_id in refs):
                self._remove_variant(product, variant_id)

    def delete_option(self, product_id: int, option_id: int) -> None:
        product = self.get_product(product_id)
        option = self.get_option(product_id, option_id)
        self._drop_variants_using(product, {v["id"] for v in option["option_values"]})
        del self.options[option_id]
        product["option_ids"].remove(option_id)
        self.touch(product)

    def render_option(self, option: Record) -> Record:
        out = copy.deepcopy(option)
        out["option_values"] = [self.render_option_value(v) for v in option["option_values"]]
        return out

    def render_option_value(self, value: Record) -> Record:
        return {
            "id": value["id"],
            "label": value["label"],
            "sort_order": value["sort_order"],
            "value_data": copy.deepcopy(value["value_data"]),
            "is_default": value["is_default"],
        }

    def create_option_value(self, product_id: int, option_id: int, body: Any) -> Record:
        option = self.get_option(product_id, option_id)
        values = self._plan_children([body], "option_value", OPTION_VALUE_FIELDS, ["label"])
        value = values[0]
        if "sort_order" not in body:
            raise _missing({}, ["sort_order"])
        if any(v["label"] == value["label"] for v in option["option_values"]):
            raise conflict(
                f"The option value '{value['label']}' already exists.",
                {"label": "Option value labels must be unique within an option."},
            )
        if len(option["option_values"]) >= MAX_OPTION_VALUES:
            raise invalid("Input is invalid", {"option_values": "At most 250 values."})
        record = {"id": self.next_id(), **defaults(OPTION_VALUE_FIELDS), **value}
        option["option_values"].append(record)
        self.touch(self.products[product_id])
        return record

    def get_option_value(self, product_id: int, option_id: int, value_id: int) -> Record:
        option = self.get_option(product_id, option_id)
        for value in option["option_values"]:
            if value["id"] == value_id:
                found: Record = value
                return found
        raise not_found(f"Option value {value_id} was not found.")

    def update_option_value(
        self, product_id: int, option_id: int, value_id: int, body: Any
    ) -> Record:
        option = self.get_option(product_id, option_id)
        value = self.get_option_value(product_id, option_id, value_id)
        _require_object(body)
        errors: dict[str, str] = {}
        fields = read_fields(body, OPTION_VALUE_FIELDS, errors)
        if errors:
            raise invalid("Input is invalid", errors)
        if "label" in fields and any(
            v["label"] == fields["label"] and v["id"] != value_id for v in option["option_values"]
        ):
            raise conflict(
                f"The option value '{fields['label']}' already exists.",
                {"label": "Option value labels must be unique within an option."},
            )
        value.update(fields)
        self.touch(self.products[product_id])
        return value

    def delete_option_value(self, product_id: int, option_id: int, value_id: int) -> None:
        option = self.get_option(product_id, option_id)
        self.get_option_value(product_id, option_id, value_id)
        product = self.products[product_id]
        self._drop_variants_using(product, {value_id})
        option["option_values"] = [v for v in option["option_values"] if v["id"] != value_id]
        self.touch(product)


# ---- variants ----------------------------------------------------------------------------------

VARIANT_FILTERS: FilterSpec = {
    "id": ("int", lambda v: v["id"]),
    "sku": ("istr", lambda v: v["sku"]),
    "product_id": ("int", lambda v: v["product_id"]),
    "upc": ("str", lambda v: v["upc"]),
}


VARIANTS = Listing(VARIANT_FILTERS, "id id:in sku upc product_id:in", others=(*PAGING, *FIELDS))
"""``id:in`` is not in the variants OpenAPI file (``id``, ``sku``, ``upc``, ``product_id:in``),
but stagesync reads promotions' variants by it, as the other catalogue lists document it."""


def list_product_variants(store: Variants, call: Call) -> Reply:
    product = store.get_product(call.params["product_id"])
    rendered = [store.render_variant(store.variants[v]) for v in product["variant_ids"]]
    return page_of([select_fields(v, call.query) for v in rendered], call.query)


def list_variants(store: Variants, call: Call) -> Reply:
    rendered = [store.render_variant(v) for v in store.variants.values()]
    items = listed(call, rendered)
    return page_of([select_fields(v, call.query) for v in items], call.query)


def create_variant(store: Variants, call: Call) -> Reply:
    variant = store.create_variant(call.params["product_id"], call.body)
    return single(store.render_variant(variant))


def _variant(store: Variants, call: Call) -> Record:
    store.get_product(call.params["product_id"])
    variant = store.variants.get(call.params["variant_id"])
    if variant is None or variant["product_id"] != call.params["product_id"]:
        raise not_found(f"Variant {call.params['variant_id']} was not found.")
    return variant


def get_variant(store: Variants, call: Call) -> Reply:
    return single(select_fields(store.render_variant(_variant(store, call)), call.query))


def update_variant(store: Variants, call: Call) -> Reply:
    variant = _variant(store, call)
    apply = store.prepare_variant_update(variant["id"], call.body, call.params["product_id"])
    return single(store.render_variant(apply()))


def delete_variant(store: Variants, call: Call) -> Reply:
    store.delete_variant(call.params["product_id"], call.params["variant_id"])
    return Reply(204)


def update_variants(store: Variants, call: Call) -> Reply:
    items = body_list(call.body, 50, "variants")
    appliers = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("id"), int):
            raise ApiError(422, "Missing Required Fields", {f"{index}.id": "Please provide an id."})
        appliers.append(store.prepare_variant_update(item["id"], item, None))
    variants = [apply() for apply in appliers]
    return Reply(200, {"data": [store.render_variant(v) for v in variants], "meta": {}})


# ---- options and option values -----------------------------------------------------------------


def list_options(store: Variants, call: Call) -> Reply:
    product = store.get_product(call.params["product_id"])
    return page_of(
        [
            select_fields(store.render_option(store.options[o]), call.query)
            for o in product["option_ids"]
        ],
        call.query,
    )


def create_option(store: Variants, call: Call) -> Reply:
    option = store.create_option(call.params["product_id"], call.body)
    return single(store.render_option(option))


def get_option(store: Variants, call: Call) -> Reply:
    store.get_product(call.params["product_id"])
    option = store.get_option(call.params["product_id"], call.params["option_id"])
    return single(store.render_option(option))


def update_option(store: Variants, call: Call) -> Reply:
    option = store.update_option(call.params["product_id"], call.params["option_id"], call.body)
    return single(store.render_option(option))


def delete_option(store: Variants, call: Call) -> Reply:
    store.delete_option(call.params["product_id"], call.params["option_id"])
    return Reply(204)


def list_option_values(store: Variants, call: Call) -> Reply:
    store.get_product(call.params["product_id"])
    option = store.get_option(call.params["product_id"], call.params["option_id"])
    rendered = [store.render_option_value(v) for v in option["option_values"]]
    return page_of([select_fields(v, call.query) for v in rendered], call.query)


def create_option_value(store: Variants, call: Call) -> Reply:
    store.get_product(call.params["product_id"])
    value = store.create_option_value(
        call.params["product_id"], call.params["option_id"], call.body
    )
    return single(store.render_option_value(value))


def get_option_value(store: Variants, call: Call) -> Reply:
    store.get_product(call.params["product_id"])
    p = call.params
    return single(
        store.render_option_value(
            store.get_option_value(p["product_id"], p["option_id"], p["value_id"])
        )
    )


def update_option_value(store: Variants, call: Call) -> Reply:
    store.get_product(call.params["product_id"])
    p = call.params
    value = store.update_option_value(p["product_id"], p["option_id"], p["value_id"], call.body)
    return single(store.render_option_value(value))


def delete_option_value(store: Variants, call: Call) -> Reply:
    store.get_product(call.params["product_id"])
    p = call.params
    store.delete_option_value(p["product_id"], p["option_id"], p["value_id"])
    return Reply(204)


VARIANT_ROUTES: Table = [
    (
        "/v3/catalog/products/{product_id}/variants",
        {"GET": Endpoint(list_product_variants, listing=SUBLIST), "POST": create_variant},
    ),
    (
        "/v3/catalog/products/{product_id}/variants/{variant_id}",
        {"GET": get_variant, "PUT": update_variant, "DELETE": delete_variant},
    ),
    (
        "/v3/catalog/variants",
        {"GET": Endpoint(list_variants, listing=VARIANTS), "PUT": update_variants},
    ),
    (
        "/v3/catalog/products/{product_id}/options",
        {"GET": Endpoint(list_options, listing=SUBLIST), "POST": create_option},
    ),
    (
        "/v3/catalog/products/{product_id}/options/{option_id}",
        {"GET": get_option, "PUT": update_option, "DELETE": delete_option},
    ),
    (
        "/v3/catalog/products/{product_id}/options/{option_id}/values",
        {"GET": Endpoint(list_option_values, listing=SUBLIST), "POST": create_option_value},
    ),
    (
        "/v3/catalog/products/{product_id}/options/{option_id}/values/{value_id}",
        {"GET": get_option_value, "PUT": update_option_value, "DELETE": delete_option_value},
    ),
]
register(VARIANT_ROUTES)
