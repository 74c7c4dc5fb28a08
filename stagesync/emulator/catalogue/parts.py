"""Product sub-resources beyond variants, options, images and custom fields, as the platform
serves them: modifiers (and their values, adjusters included), videos, bulk pricing rules,
complex rules, reviews, product and variant metafields (per resource and store-wide batches), and
product channel assignments.

- Modifiers: ``required``, ``display_name`` and ``type`` on create; the ``name`` is generated
  (display name, a timestamp and the product id). A ``checkbox`` modifier is created with the two
  values the platform makes (``Yes`` checked, ``No``): values sent on create are ignored, so
  setting them takes a second request. ``date`` config dates must be ISO-8601 ATOM
  (``2024-05-01T00:00:00+00:00``). Choice types need values; at most 250 values a modifier.
- Videos: YouTube ids only (``type`` ``youtube``, an 11-character id); ``length`` is filled in.
- Bulk pricing rules: ``quantity_min``, ``quantity_max``, ``type`` (price|percent|fixed) and
  ``amount`` required; overlapping quantity ranges on one product are a 409.
- Complex rules: conditions name a modifier and one of its values, or a variant of the product;
  a rule created through v3 needs at least two conditions or a modifier value and a variant.
- Reviews: ``title`` and ``date_reviewed`` required; ``rating`` 0 to 5; ``status`` approved,
  disapproved or pending. ``reviews_count`` and ``reviews_rating_sum`` of the product follow.
- Metafields: ``permission_set``, ``namespace``, ``key`` and ``value`` required; unique per
  (namespace, key, resource): a duplicate is a 409. At most 250 a resource. The batch endpoints
  (``/v3/catalog/products/metafields``, ``/v3/catalog/variants/metafields``) list every
  metafield of the kind, create (with ``resource_id``), update (with ``id``) and delete (a body
  of ids) in one request, answering ``{data, errors, meta}``.
- Channel assignments: ``GET|PUT|DELETE /v3/catalog/products/channel-assignments``; a product
  created through the API is assigned to channel 1.

``include=`` on product reads carries ``bulk_pricing_rules``, ``modifiers``, ``videos``,
``reviews`` and ``channels`` through ``Store.render_product``'s hooks.
"""

from __future__ import annotations

import copy
import re
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stagesync.emulator.errors import ApiError, conflict, invalid, not_found
from stagesync.emulator.fields import OPTION_TYPES, FieldSpec, defaults, read_fields
from stagesync.emulator.routes import (
    ALL_METAFIELDS,
    OWN_METAFIELDS,
    SUBLIST,
    Call,
    Endpoint,
    FilterSpec,
    Handler,
    Listing,
    Reply,
    Table,
    apply_filters,
    listed,
    page_by,
    page_of,
    register,
    select_fields,
    single,
)
from stagesync.emulator.schema import ID, array, obj
from stagesync.emulator.store import (
    MAX_OPTION_VALUES,
    PRODUCT_DELETE_HOOKS,
    PRODUCT_RENDER_HOOKS,
    VARIANT_DELETE_HOOKS,
    Record,
    Store,
    now_rfc3339,
)
from stagesync.emulator.v2 import state_of

MODIFIER_TYPES = (
    "date",
    "checkbox",
    "file",
    "text",
    "multi_line_text",
    "numbers_only_text",
    *OPTION_TYPES,
)
CHOICE_TYPES = frozenset(OPTION_TYPES)
"""Modifier types that take values: the same choices a variant option offers."""
MODIFIER_FIELDS: dict[str, FieldSpec] = {
    "display_name": ("str", ""),
    "type": (MODIFIER_TYPES, "text"),
    "required": ("bool", False),
    "sort_order": ("int", 0),
    "config": ("obj", {}),
}
MODIFIER_VALUE_FIELDS: dict[str, FieldSpec] = {
    "label": ("str", ""),
    "sort_order": ("int", 0),
    "value_data": ("obj?", None),
    "is_default": ("bool", False),
    "adjusters": ("obj", {}),
}
ADJUSTER_DEFAULTS: Record = {
    "price": None,
    "weight": None,
    "image_url": "",
    "purchasing_disabled": {"status": False, "message": ""},
}
VIDEO_FIELDS: dict[str, FieldSpec] = {
    "video_id": ("str", ""),
    "title": ("str", ""),
    "description": ("str", ""),
    "sort_order": ("int", 0),
    "type": (("youtube",), "youtube"),
}
BULK_FIELDS: dict[str, FieldSpec] = {
    "quantity_min": ("int", 0),
    "quantity_max": ("int", 0),
    "type": (("price", "percent", "fixed"), "price"),
    "amount": ("num", 0),
}
RULE_FIELDS: dict[str, FieldSpec] = {
    "sort_order": ("int", 0),
    "enabled": ("bool", True),
    "stop": ("bool", False),
    "purchasing_disabled": ("bool", False),
    "purchasing_disabled_message": ("str", ""),
    "purchasing_hidden": ("bool", False),
    "image_url": ("str", ""),
    "price_adjuster": ("obj?", None),
    "weight_adjuster": ("obj?", None),
}
REVIEW_FIELDS: dict[str, FieldSpec] = {
    "title": ("str", ""),
    "text": ("str", ""),
    "status": (("approved", "disapproved", "pending"), "pending"),
    "rating": ("int", 0),
    "email": ("str", ""),
    "name": ("str", ""),
    "date_reviewed": ("str", ""),
}
PERMISSION_SETS = (
    "app_only",
    "read",
    "write",
    "read_and_sf_access",
    "write_and_sf_access",
)
METAFIELD_FIELDS: dict[str, FieldSpec] = {
    "namespace": ("str", ""),
    "key": ("str", ""),
    "value": ("str", ""),
    "permission_set": (PERMISSION_SETS, "app_only"),
    "description": ("str", ""),
}
METAFIELD_LIMITS = {"namespace": 64, "key": 64, "value": 65535, "description": 255}
MAX_METAFIELDS = 250
MAX_MODIFIER_VALUES = MAX_OPTION_VALUES
OWNER_CLIENT_ID = "stagesync-emulator"
ATOM = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
DATE_CONFIG = ("default_value", "date_earliest_value", "date_latest_value")


@dataclass
class PartState:
    modifiers: dict[int, Record] = field(default_factory=dict)
    videos: dict[int, Record] = field(default_factory=dict)
    bulk_rules: dict[int, Record] = field(default_factory=dict)
    complex_rules: dict[int, Record] = field(default_factory=dict)
    reviews: dict[int, Record] = field(default_factory=dict)
    metafields: dict[int, Record] = field(default_factory=dict)
    assignments: dict[int, set[int]] = field(default_factory=dict)
    """Product id -> the ids of the channels it is assigned to."""
    assigned: set[int] = field(default_factory=set)
    """Products that have had channel 1 assigned on creation (done once, lazily)."""


_STATES: weakref.WeakKeyDictionary[Store, PartState] = weakref.WeakKeyDictionary()


def state(store: Store) -> PartState:
    return state_of(store, _STATES, PartState)


def _of_product(items: dict[int, Record], product_id: int) -> list[Record]:
    return [item for item in items.values() if item["product_id"] == product_id]


def _fields(body: Any, spec: Mapping[str, FieldSpec], required: Iterable[str] = ()) -> Record:
    if not isinstance(body, dict):
        raise ApiError(400, "Input is invalid", detail="The request body must be an object.")
    errors: dict[str, str] = {}
    fields = read_fields(body, spec, errors)
    for name in required:
        if name not in body:
            errors[name] = f"The field '{name}' is required."
    if errors:
        raise invalid("The request is invalid.", errors)
    return fields


def _child(items: dict[int, Record], product_id: int, item_id: int, what: str) -> Record:
    item = items.get(item_id)
    if item is None or item["product_id"] != product_id:
        raise not_found(f"{what} {item_id} was not found.")
    return item


def _public(item: Record) -> Record:
    return copy.deepcopy(item)


# ---- modifiers ----------------------------------------------------------------------------------


def _check_config(kind: str, config: Mapping[str, Any]) -> None:
    if kind != "date":
        return
    for name in DATE_CONFIG:
        value = config.get(name)
        if value is not None and value != "" and not (isinstance(value, str) and ATOM.match(value)):
            raise invalid(
                "Date modifier values must be ISO-8601 ATOM dates.",
                {f"config.{name}": f"'{value}' is not like 2024-05-01T00:00:00+00:00."},
            )


def _value(body: Any, own: Record | None = None) -> Record:
    required = () if own is not None else ("label", "sort_order")
    fields = _fields(body, MODIFIER_VALUE_FIELDS, required)
    adjusters = {**copy.deepcopy(ADJUSTER_DEFAULTS), **(own or {}).get("adjusters", {})}
    for name, value in (fields.pop("adjusters", None) or {}).items():
        if name not in ADJUSTER_DEFAULTS:
            raise invalid("The request is invalid.", {f"adjusters.{name}": "Unknown adjuster."})
        if name in ("price", "weight") and value is not None:
            if not isinstance(value, dict) or value.get("adjuster") not in (
                "relative",
                "percentage",
            ):
                raise invalid(
                    "The request is invalid.",
                    {f"adjusters.{name}": "Give {adjuster: relative|percentage, adjuster_value}."},
                )
        adjusters[name] = copy.deepcopy(value)
    out = {**defaults(MODIFIER_VALUE_FIELDS), **(own or {}), **fields, "adjusters": adjusters}
    return out


def create_modifier(store: Store, product_id: int, body: Any) -> Record:
    product = store.get_product(product_id)
    parts = state(store)
    fields = _fields(body, MODIFIER_FIELDS, ("required", "display_name", "type"))
    if not fields["display_name"].strip():
        raise invalid("The request is invalid.", {"display_name": "Please provide a name."})
    if any(
        m["display_name"] == fields["display_name"]
        for m in _of_product(parts.modifiers, product_id)
    ):
        raise conflict(
            "A modifier with this display name already exists.",
            {"display_name": f"'{fields['display_name']}' is taken on this product."},
        )
    _check_config(fields["type"], fields.get("config") or {})
    raw_values = body.get("option_values") or []
    if not isinstance(raw_values, list):
        raise invalid("The request is invalid.", {"option_values": "Must be an array."})
    if fields["type"] == "checkbox":
        # Values sent with a new checkbox modifier are ignored: the platform makes its own pair.
        raw_values = [
            {"label": "Yes", "sort_order": 0, "value_data": {"checked_value": True}},
            {"label": "No", "sort_order": 1, "value_data": {"checked_value": False}},
        ]
    elif fields["type"] in CHOICE_TYPES and not raw_values:
        raise invalid("The request is invalid.", {"option_values": "Choice modifiers need values."})
    if len(raw_values) > MAX_MODIFIER_VALUES:
        raise invalid(
            "The request is invalid.",
            {"option_values": f"A modifier has at most {MAX_MODIFIER_VALUES} values."},
        )
    values = [_value(v) for v in raw_values]
    labels = [v["label"] for v in values]
    if len(set(labels)) != len(labels):
        raise conflict("Option value labels must be unique.", {"option_values": "Duplicate."})
    modifier_id = store.next_id()
    modifier: Record = {
        "id": modifier_id,
        "product_id": product_id,
        **defaults(MODIFIER_FIELDS),
        **fields,
        "name": f"{fields['display_name']}{now_rfc3339()}-{product_id}",
        "option_values": [],
    }
    for value in values:
        modifier["option_values"].append({"id": store.next_id(), "option_id": modifier_id, **value})
    parts.modifiers[modifier_id] = modifier
    store.touch(product)
    return modifier


def update_modifier(store: Store, product_id: int, modifier_id: int, body: Any) -> Record:
    product = store.get_product(product_id)
    parts = state(store)
    modifier = _child(parts.modifiers, product_id, modifier_id, "Modifier")
    fields = _fields(body, MODIFIER_FIELDS)
    if "type" in fields and fields["type"] != modifier["type"]:
        raise invalid("The request is invalid.", {"type": "A modifier's type cannot change."})
    _check_config(modifier["type"], fields.get("config") or {})
    name = fields.get("display_name")
    if name and any(
        m["display_name"] == name and m["id"] != modifier_id
        for m in _of_product(parts.modifiers, product_id)
    ):
        raise conflict("A modifier with this display name already exists.", {"display_name": name})
    if "option_values" in body:
        if not isinstance(body["option_values"], list):
            raise invalid("The request is invalid.", {"option_values": "Must be an array."})
        if len(body["option_values"]) > MAX_MODIFIER_VALUES:
            raise invalid(
                "The request is invalid.",
                {"option_values": f"A modifier has at most {MAX_MODIFIER_VALUES} values."},
            )
        by_id = {v["id"]: v for v in modifier["option_values"]}
        new_values = []
        for raw in body["option_values"]:
            own = by_id.get(raw.get("id")) if isinstance(raw, dict) else None
            value = _value({k: v for k, v in raw.items() if k not in ("id", "option_id")}, own)
            value_id = own["id"] if own else store.next_id()
            new_values.append({**value, "id": value_id, "option_id": modifier_id})
        modifier["option_values"] = new_values
    modifier.update(fields)
    store.touch(product)
    return modifier


def delete_modifier(store: Store, product_id: int, modifier_id: int) -> None:
    parts = state(store)
    _child(parts.modifiers, product_id, modifier_id, "Modifier")
    del parts.modifiers[modifier_id]
    _drop_rules(parts, lambda c: c.get("modifier_id") == modifier_id)
    store.touch_product(product_id)


def _modifier_value(store: Store, call: Call) -> tuple[Record, Record | None]:
    parts = state(store)
    store.get_product(call.params["product_id"])
    modifier = _child(
        parts.modifiers, call.params["product_id"], call.params["modifier_id"], "Modifier"
    )
    value_id = call.params.get("value_id")
    if value_id is None:
        return modifier, None
    value = next((v for v in modifier["option_values"] if v["id"] == value_id), None)
    if value is None:
        raise not_found(f"Modifier value {value_id} was not found.")
    return modifier, value


def _drop_rules(parts: PartState, hit: Any) -> None:
    for rule_id in [
        r["id"] for r in parts.complex_rules.values() if any(map(hit, r["conditions"]))
    ]:
        del parts.complex_rules[rule_id]


# ---- complex rules ------------------------------------------------------------------------------


def _conditions(store: Store, product_id: int, raw: Any) -> list[Record]:
    if not isinstance(raw, list) or not raw:
        raise invalid("The request is invalid.", {"conditions": "A rule needs conditions."})
    parts = state(store)
    product = store.get_product(product_id)
    out = []
    for index, condition in enumerate(raw):
        if not isinstance(condition, dict):
            raise invalid("The request is invalid.", {f"conditions[{index}]": "Must be an object."})
        modifier_id = condition.get("modifier_id")
        value_id = condition.get("modifier_value_id")
        variant_id = condition.get("variant_id")
        if modifier_id is not None:
            modifier = parts.modifiers.get(modifier_id)
            if modifier is None or modifier["product_id"] != product_id:
                raise invalid(
                    "The request is invalid.",
                    {f"conditions[{index}].modifier_id": f"Modifier {modifier_id} not found."},
                )
            if value_id is not None and value_id not in {
                v["id"] for v in modifier["option_values"]
            }:
                raise invalid(
                    "The request is invalid.",
                    {f"conditions[{index}].modifier_value_id": f"Value {value_id} not found."},
                )
        if variant_id is not None and variant_id not in product["variant_ids"]:
            raise invalid(
                "The request is invalid.",
                {f"conditions[{index}].variant_id": f"Variant {variant_id} not found."},
            )
        if modifier_id is None and variant_id is None:
            raise invalid(
                "The request is invalid.",
                {f"conditions[{index}]": "Name a modifier value or a variant."},
            )
        out.append(
            {
                "modifier_id": modifier_id,
                "modifier_value_id": value_id,
                "variant_id": variant_id,
            }
        )
    values = [c for c in out if c["modifier_value_id"] is not None]
    variants = [c for c in out if c["variant_id"] is not None]
    if not (len(values) >= 2 or (values and variants)):
        raise invalid(
            "The request is invalid.",
            {
                "conditions": "Rules need several modifier values, or a modifier value and a "
                "variant."
            },
        )
    return out


def save_rule(store: Store, product_id: int, body: Any, rule_id: int | None) -> Record:
    product = store.get_product(product_id)
    parts = state(store)
    own = None if rule_id is None else _child(parts.complex_rules, product_id, rule_id, "Rule")
    fields = _fields(body, RULE_FIELDS, () if own else ("conditions",))
    conditions = (
        _conditions(store, product_id, body["conditions"])
        if "conditions" in body or own is None
        else own["conditions"]
    )
    if own is None:
        rule_id = store.next_id()
        own = {"id": rule_id, "product_id": product_id, **defaults(RULE_FIELDS)}
        parts.complex_rules[rule_id] = own
    own.update(fields)
    own["conditions"] = [
        {
            "id": c.get("id") or store.next_id(),
            "rule_id": own["id"],
            "combination_id": c.get("combination_id") or store.next_id(),
            "modifier_id": c["modifier_id"],
            "modifier_value_id": c["modifier_value_id"],
            "variant_id": c["variant_id"],
        }
        for c in conditions
    ]
    store.touch(product)
    return own


# ---- videos, bulk pricing rules, reviews -------------------------------------------------------


def save_video(store: Store, product_id: int, body: Any, video_id: int | None) -> Record:
    product = store.get_product(product_id)
    parts = state(store)
    own = None if video_id is None else _child(parts.videos, product_id, video_id, "Video")
    fields = _fields(body, VIDEO_FIELDS, () if own else ("video_id",))
    if "video_id" in fields and not YOUTUBE_ID.match(fields["video_id"]):
        raise invalid(
            "The request is invalid.",
            {"video_id": "Give a YouTube video id (11 characters), not a URL."},
        )
    if own is None:
        video_id = store.next_id()
        own = {"id": video_id, "product_id": product_id, **defaults(VIDEO_FIELDS), "length": ""}
        parts.videos[video_id] = own
    own.update(fields)
    # Blank titles and descriptions are filled from the host.
    own["title"] = own["title"] or f"Video {own['video_id']}"
    own["length"] = "01:30"
    store.touch(product)
    return own


def save_bulk_rule(store: Store, product_id: int, body: Any, rule_id: int | None) -> Record:
    product = store.get_product(product_id)
    parts = state(store)
    own = None if rule_id is None else _child(parts.bulk_rules, product_id, rule_id, "Rule")
    required = () if own else ("quantity_min", "quantity_max", "type", "amount")
    fields = _fields(body, BULK_FIELDS, required)
    merged = {**defaults(BULK_FIELDS), **(own or {}), **fields}
    low, high = merged["quantity_min"], merged["quantity_max"]
    if low < 1 or (high and high < low):
        raise invalid(
            "The request is invalid.",
            {"quantity_min": "quantity_min is at least 1 and at most quantity_max (0: no max)."},
        )
    for other in _of_product(parts.bulk_rules, product_id):
        if own is not None and other["id"] == own["id"]:
            continue
        other_high = other["quantity_max"] or 10**9
        if low <= other_high and other["quantity_min"] <= (high or 10**9):
            raise conflict(
                "The bulk pricing rule conflicts with another.",
                {"quantity_min": f"Overlaps the rule from {other['quantity_min']}."},
            )
    if own is None:
        rule_id = store.next_id()
        own = {"id": rule_id, "product_id": product_id}
        parts.bulk_rules[rule_id] = own
    own.update({k: merged[k] for k in BULK_FIELDS})
    store.touch(product)
    return own


def save_review(store: Store, product_id: int, body: Any, review_id: int | None) -> Record:
    store.get_product(product_id)
    parts = state(store)
    own = None if review_id is None else _child(parts.reviews, product_id, review_id, "Review")
    fields = _fields(body, REVIEW_FIELDS, () if own else ("title", "date_reviewed"))
    if "rating" in fields and not 0 <= fields["rating"] <= 5:
        raise invalid("The request is invalid.", {"rating": "A rating is 0 to 5."})
    stamp = now_rfc3339()
    if own is None:
        review_id = store.next_id()
        own = {
            "id": review_id,
            "product_id": product_id,
            **defaults(REVIEW_FIELDS),
            "date_created": stamp,
        }
        parts.reviews[review_id] = own
    own.update(fields)
    own["date_modified"] = stamp
    store.touch_product(product_id)
    return own


# ---- metafields ---------------------------------------------------------------------------------


def _metafield_owner_exists(store: Store, resource_type: str, resource_id: int) -> bool:
    if resource_type == "product":
        return resource_id in store.products
    variant = store.variants.get(resource_id)
    return variant is not None


def prepare_metafield(
    store: Store, resource_type: str, resource_id: int, body: Any, own: Record | None
) -> Record:
    """Validate a metafield write; returns the full metafield (not stored yet)."""
    parts = state(store)
    if not _metafield_owner_exists(store, resource_type, resource_id):
        raise not_found(f"The {resource_type} {resource_id} was not found.")
    required = () if own else ("permission_set", "namespace", "key", "value")
    fields = _fields(body, METAFIELD_FIELDS, required)
    errors = {
        name: f"At most {limit} characters."
        for name, limit in METAFIELD_LIMITS.items()
        if len(fields.get(name, "")) > limit
    }
    if errors:
        raise invalid("The request is invalid.", errors)
    merged = {**(own or {}), **fields}
    clash = [
        m
        for m in parts.metafields.values()
        if m["resource_type"] == resource_type
        and m["resource_id"] == resource_id
        and m["namespace"] == merged["namespace"]
        and m["key"] == merged["key"]
        and (own is None or m["id"] != own["id"])
    ]
    if clash:
        raise conflict(
            "A metafield with this namespace and key already exists on this resource.",
            {"key": f"{merged['namespace']}.{merged['key']} is taken."},
        )
    if own is None:
        count = sum(
            1
            for m in parts.metafields.values()
            if m["resource_type"] == resource_type and m["resource_id"] == resource_id
        )
        if count >= MAX_METAFIELDS:
            raise invalid(
                "The request is invalid.",
                {"resource_id": f"A resource has at most {MAX_METAFIELDS} metafields."},
            )
        stamp = now_rfc3339()
        return {
            **defaults(METAFIELD_FIELDS),
            **merged,
            "id": 0,
            "resource_type": resource_type,
            "resource_id": resource_id,
            "owner_client_id": OWNER_CLIENT_ID,
            "date_created": stamp,
            "date_modified": stamp,
        }
    return {**merged, "date_modified": now_rfc3339()}


def store_metafield(store: Store, metafield: Record) -> Record:
    if not metafield["id"]:
        metafield["id"] = store.next_id()
    state(store).metafields[metafield["id"]] = metafield
    touch_owner(store, metafield)
    return metafield


def touch_owner(store: Store, metafield: Record) -> None:
    """A metafield write moves its product's ``date_modified`` (a variant's: its product's)."""
    if metafield["resource_type"] == "product":
        store.touch_product(metafield["resource_id"])
    else:
        variant = store.variants.get(metafield["resource_id"])
        if variant is not None:
            store.touch_product(variant["product_id"])


# ---- hooks into products ------------------------------------------------------------------------


def render_parts(store: Store, product: Record, out: Record, include: set[str]) -> None:
    parts = state(store)
    product_id = product["id"]
    _ensure_default_channel(store, product_id)
    reviews = [r for r in _of_product(parts.reviews, product_id) if r["status"] == "approved"]
    out["reviews_count"] = len(reviews)
    out["reviews_rating_sum"] = sum(r["rating"] for r in reviews)
    if "modifiers" in include:
        out["modifiers"] = [_public(m) for m in _of_product(parts.modifiers, product_id)]
    if "bulk_pricing_rules" in include:
        out["bulk_pricing_rules"] = [
            _without_product(r) for r in _of_product(parts.bulk_rules, product_id)
        ]
    if "videos" in include:
        out["videos"] = [_public(v) for v in _of_product(parts.videos, product_id)]
    if "reviews" in include:
        out["reviews"] = [_public(r) for r in _of_product(parts.reviews, product_id)]
    if "channels" in include:
        out["channels"] = sorted(parts.assignments.get(product_id, ()))


def _without_product(item: Record) -> Record:
    return {k: copy.deepcopy(v) for k, v in item.items() if k != "product_id"}


def _ensure_default_channel(store: Store, product_id: int) -> None:
    parts = state(store)
    if product_id not in parts.assigned:
        parts.assigned.add(product_id)
        parts.assignments.setdefault(product_id, set()).add(1)


def drop_product(store: Store, product_id: int) -> None:
    parts = state(store)
    for items in (
        parts.modifiers,
        parts.videos,
        parts.bulk_rules,
        parts.complex_rules,
        parts.reviews,
    ):
        for item_id in [i["id"] for i in _of_product(items, product_id)]:
            del items[item_id]
    for metafield_id in [
        m["id"]
        for m in parts.metafields.values()
        if m["resource_type"] == "product" and m["resource_id"] == product_id
    ]:
        del parts.metafields[metafield_id]
    parts.assignments.pop(product_id, None)


def drop_variant(store: Store, variant_id: int) -> None:
    parts = state(store)
    for metafield_id in [
        m["id"]
        for m in parts.metafields.values()
        if m["resource_type"] == "variant" and m["resource_id"] == variant_id
    ]:
        del parts.metafields[metafield_id]
    _drop_rules(parts, lambda c: c.get("variant_id") == variant_id)


PRODUCT_RENDER_HOOKS.append(render_parts)
PRODUCT_DELETE_HOOKS.append(drop_product)
VARIANT_DELETE_HOOKS.append(drop_variant)


# ---- handlers -----------------------------------------------------------------------------------


def _listing(store: Store, call: Call, items: dict[int, Record]) -> Reply:
    store.get_product(call.params["product_id"])
    found = _of_product(items, call.params["product_id"])
    return page_of([select_fields(_public(i), call.query) for i in found], call.query)


def _sub(
    kind: str, id_param: str, what: str, save: Any, listing: Listing = SUBLIST
) -> list[tuple[str, dict[str, Handler | Endpoint]]]:
    base = f"/v3/catalog/products/{{product_id}}/{kind}"

    def items(store: Store) -> dict[int, Record]:
        parts = state(store)
        return {
            "videos": parts.videos,
            "bulk-pricing-rules": parts.bulk_rules,
            "complex-rules": parts.complex_rules,
            "reviews": parts.reviews,
        }[kind]

    def list_(store: Store, call: Call) -> Reply:
        return _listing(store, call, items(store))

    def create(store: Store, call: Call) -> Reply:
        return single(_public(save(store, call.params["product_id"], call.body, None)))

    def get(store: Store, call: Call) -> Reply:
        store.get_product(call.params["product_id"])
        return single(
            _public(_child(items(store), call.params["product_id"], call.params[id_param], what))
        )

    def put(store: Store, call: Call) -> Reply:
        item_id = call.params[id_param]
        return single(_public(save(store, call.params["product_id"], call.body, item_id)))

    def delete(store: Store, call: Call) -> Reply:
        store.get_product(call.params["product_id"])
        _child(items(store), call.params["product_id"], call.params[id_param], what)
        del items(store)[call.params[id_param]]
        store.touch_product(call.params["product_id"])
        return Reply(204)

    return [
        (base, {"GET": Endpoint(list_, listing=listing), "POST": create}),
        (f"{base}/{{{id_param}}}", {"GET": get, "PUT": put, "DELETE": delete}),
    ]


def list_modifiers(store: Store, call: Call) -> Reply:
    return _listing(store, call, state(store).modifiers)


def post_modifier(store: Store, call: Call) -> Reply:
    return single(_public(create_modifier(store, call.params["product_id"], call.body)))


def get_modifier(store: Store, call: Call) -> Reply:
    return single(_public(_modifier_value(store, call)[0]))


def put_modifier(store: Store, call: Call) -> Reply:
    product_id, modifier_id = call.params["product_id"], call.params["modifier_id"]
    return single(_public(update_modifier(store, product_id, modifier_id, call.body)))


def del_modifier(store: Store, call: Call) -> Reply:
    delete_modifier(store, call.params["product_id"], call.params["modifier_id"])
    return Reply(204)


def list_modifier_values(store: Store, call: Call) -> Reply:
    modifier, _ = _modifier_value(store, call)
    values = modifier["option_values"]
    return page_of([select_fields(_public(v), call.query) for v in values], call.query)


def post_modifier_value(store: Store, call: Call) -> Reply:
    modifier, _ = _modifier_value(store, call)
    if len(modifier["option_values"]) >= MAX_MODIFIER_VALUES:
        raise invalid(
            "The request is invalid.",
            {"option_values": f"A modifier has at most {MAX_MODIFIER_VALUES} values."},
        )
    value = _value(call.body)
    if any(v["label"] == value["label"] for v in modifier["option_values"]):
        raise conflict("Option value labels must be unique.", {"label": value["label"]})
    value = {"id": store.next_id(), "option_id": modifier["id"], **value}
    modifier["option_values"].append(value)
    store.touch_product(call.params["product_id"])
    return single(_public(value))


def get_modifier_value(store: Store, call: Call) -> Reply:
    value = _modifier_value(store, call)[1]
    assert value is not None
    return single(_public(value))


def put_modifier_value(store: Store, call: Call) -> Reply:
    modifier, value = _modifier_value(store, call)
    assert value is not None
    updated = _value(call.body, value)
    label = updated["label"]
    if any(v["label"] == label and v["id"] != value["id"] for v in modifier["option_values"]):
        raise conflict("Option value labels must be unique.", {"label": label})
    value.update(updated)
    store.touch_product(call.params["product_id"])
    return single(_public(value))


def del_modifier_value(store: Store, call: Call) -> Reply:
    modifier, value = _modifier_value(store, call)
    assert value is not None
    modifier["option_values"].remove(value)
    _drop_rules(state(store), lambda c: c.get("modifier_value_id") == value["id"])
    store.touch_product(call.params["product_id"])
    return Reply(204)


# metafields


def _metafield_scope(call: Call) -> tuple[str, int]:
    if "variant_id" in call.params:
        return "variant", call.params["variant_id"]
    return "product", call.params["product_id"]


def _check_scope(store: Store, call: Call) -> tuple[str, int]:
    resource_type, resource_id = _metafield_scope(call)
    store.get_product(call.params["product_id"])
    if resource_type == "variant":
        variant = store.variants.get(resource_id)
        if variant is None or variant["product_id"] != call.params["product_id"]:
            raise not_found(f"Variant {resource_id} was not found.")
    return resource_type, resource_id


METAFIELD_FILTERS: FilterSpec = {
    "key": ("str", lambda m: m["key"]),
    "namespace": ("str", lambda m: m["namespace"]),
    "resource_id": ("int", lambda m: m["resource_id"]),
    "id": ("int", lambda m: m["id"]),
}


def _metafields_of(store: Store, resource_type: str) -> list[Record]:
    return [m for m in state(store).metafields.values() if m["resource_type"] == resource_type]


def list_own_metafields(store: Store, call: Call) -> Reply:
    resource_type, resource_id = _check_scope(store, call)
    items = [m for m in _metafields_of(store, resource_type) if m["resource_id"] == resource_id]
    return page_by(call, items, _public)


def post_own_metafield(store: Store, call: Call) -> Reply:
    resource_type, resource_id = _check_scope(store, call)
    metafield = prepare_metafield(store, resource_type, resource_id, call.body, None)
    return single(_public(store_metafield(store, metafield)))


def _own_metafield(store: Store, call: Call) -> Record:
    resource_type, resource_id = _check_scope(store, call)
    found = state(store).metafields.get(call.params["metafield_id"])
    if found is None or (found["resource_type"], found["resource_id"]) != (
        resource_type,
        resource_id,
    ):
        raise not_found(f"Metafield {call.params['metafield_id']} was not found.")
    return found


def get_own_metafield(store: Store, call: Call) -> Reply:
    return single(_public(_own_metafield(store, call)))


def put_own_metafield(store: Store, call: Call) -> Reply:
    own = _own_metafield(store, call)
    updated = prepare_metafield(store, own["resource_type"], own["resource_id"], call.body, own)
    own.update(updated)
    touch_owner(store, own)
    return single(_public(own))


def del_own_metafield(store: Store, call: Call) -> Reply:
    own = _own_metafield(store, call)
    del state(store).metafields[own["id"]]
    touch_owner(store, own)
    return Reply(204)


def _batch_reply(data: list[Any], errors: list[Record]) -> Reply:
    total = len(data) + len(errors)
    meta = {"total": total, "success": len(data), "failed": len(errors)}
    return Reply(
        422 if errors and not data else 200, {"data": data, "errors": errors, "meta": meta}
    )


def _batch_metafields(resource_type: str) -> dict[str, Handler | Endpoint]:
    def list_all(store: Store, call: Call) -> Reply:
        return page_by(call, _metafields_of(store, resource_type), _public)

    def body_list(call: Call) -> list[Any]:
        if not isinstance(call.body, list):
            raise ApiError(400, "Input is invalid", detail="The request body must be an array.")
        return call.body

    def create(store: Store, call: Call) -> Reply:
        data: list[Any] = []
        errors: list[Record] = []
        for index, item in enumerate(body_list(call)):
            try:
                if not isinstance(item, dict) or not isinstance(item.get("resource_id"), int):
                    raise invalid("The request is invalid.", {"resource_id": "Required."})
                metafield = prepare_metafield(store, resource_type, item["resource_id"], item, None)
                data.append(_public(store_metafield(store, metafield)))
            except ApiError as error:
                errors.append(_item_error(index, error))
        return _batch_reply(data, errors)

    def update(store: Store, call: Call) -> Reply:
        data: list[Any] = []
        errors: list[Record] = []
        for index, item in enumerate(body_list(call)):
            try:
                item_id = item.get("id") if isinstance(item, dict) else None
                own = state(store).metafields.get(item_id) if isinstance(item_id, int) else None
                if own is None or own["resource_type"] != resource_type:
                    raise not_found(f"Metafield {index} was not found.")
                body = {k: v for k, v in item.items() if k not in ("id", "resource_id")}
                own.update(prepare_metafield(store, resource_type, own["resource_id"], body, own))
                touch_owner(store, own)
                data.append(_public(own))
            except ApiError as error:
                errors.append(_item_error(index, error))
        return _batch_reply(data, errors)

    def delete(store: Store, call: Call) -> Reply:
        data: list[Any] = []
        errors: list[Record] = []
        metafields = state(store).metafields
        for index, metafield_id in enumerate(body_list(call)):
            own = metafields.get(metafield_id) if isinstance(metafield_id, int) else None
            if own is None or own["resource_type"] != resource_type:
                errors.append(_item_error(index, not_found(f"Metafield {metafield_id} not found.")))
                continue
            del metafields[metafield_id]
            touch_owner(store, own)
            data.append(metafield_id)
        return _batch_reply(data, errors)

    return {
        "GET": Endpoint(list_all, listing=ALL_METAFIELDS),
        "POST": create,
        "PUT": update,
        "DELETE": delete,
    }


def _item_error(index: int, error: ApiError) -> Record:
    return {"status": error.status, "title": error.title, "index": index}


# channel assignments


ASSIGNMENT_FILTERS: FilterSpec = {
    "product_id": ("int", lambda a: a["product_id"]),
    "channel_id": ("int", lambda a: a["channel_id"]),
}


def _all_assignments(store: Store) -> list[Record]:
    for product_id in store.products:
        _ensure_default_channel(store, product_id)
    assignments = state(store).assignments
    return [
        {"product_id": p, "channel_id": c}
        for p in sorted(assignments)
        for c in sorted(assignments[p])
    ]


REVIEWS = Listing(others=SUBLIST.others, missing="status")

ASSIGNMENT_LISTING = Listing(ASSIGNMENT_FILTERS, "product_id:in channel_id:in")


def list_assignments(store: Store, call: Call) -> Reply:
    return page_of(listed(call, _all_assignments(store)), call.query)


ASSIGNMENTS = array(obj({"product_id": ID, "channel_id": ID}))


def put_assignments(store: Store, call: Call) -> Reply:
    if not isinstance(call.body, list) or not call.body:
        raise ApiError(400, "Input is invalid", detail="Send an array of {product_id, channel_id}.")
    pairs = []
    for index, item in enumerate(call.body):
        product_id = item.get("product_id") if isinstance(item, dict) else None
        channel_id = item.get("channel_id") if isinstance(item, dict) else None
        if product_id not in store.products:
            raise invalid("The request is invalid.", {f"{index}.product_id": "Unknown product."})
        if channel_id not in store.channels:
            raise invalid("The request is invalid.", {f"{index}.channel_id": "Unknown channel."})
        pairs.append((product_id, channel_id))
    for product_id, _ in pairs:
        _ensure_default_channel(store, product_id)
    for product_id, channel_id in pairs:
        state(store).assignments.setdefault(product_id, set()).add(channel_id)
    for product_id, _ in pairs:
        store.touch_product(product_id)
    return Reply(204)


def delete_assignments(store: Store, call: Call) -> Reply:
    if not any(k.partition(":")[0] in ASSIGNMENT_FILTERS for k in call.query):
        raise invalid(
            "A filter is required.",
            {"product_id:in": "Provide product_id:in and/or channel_id:in."},
        )
    gone = apply_filters(_all_assignments(store), call.query, ASSIGNMENT_FILTERS)
    for assignment in gone:
        state(store).assignments[assignment["product_id"]].discard(assignment["channel_id"])
    for product_id in {a["product_id"] for a in gone}:
        store.touch_product(product_id)
    return Reply(204)


PRODUCT = "/v3/catalog/products/{product_id}"
TABLE: Table = [
    ("/v3/catalog/products/metafields", _batch_metafields("product")),
    ("/v3/catalog/variants/metafields", _batch_metafields("variant")),
    (
        "/v3/catalog/products/channel-assignments",
        {
            "GET": Endpoint(list_assignments, listing=ASSIGNMENT_LISTING),
            "PUT": Endpoint(put_assignments, ASSIGNMENTS),
            "DELETE": delete_assignments,
        },
    ),
    (
        f"{PRODUCT}/modifiers",
        {"GET": Endpoint(list_modifiers, listing=SUBLIST), "POST": post_modifier},
    ),
    (
        f"{PRODUCT}/modifiers/{{modifier_id}}",
        {"GET": get_modifier, "PUT": put_modifier, "DELETE": del_modifier},
    ),
    (
        f"{PRODUCT}/modifiers/{{modifier_id}}/values",
        {"GET": Endpoint(list_modifier_values, listing=SUBLIST), "POST": post_modifier_value},
    ),
    (
        f"{PRODUCT}/modifiers/{{modifier_id}}/values/{{value_id}}",
        {"GET": get_modifier_value, "PUT": put_modifier_value, "DELETE": del_modifier_value},
    ),
    (
        f"{PRODUCT}/metafields",
        {
            "GET": Endpoint(list_own_metafields, listing=OWN_METAFIELDS["product"]),
            "POST": post_own_metafield,
        },
    ),
    (
        f"{PRODUCT}/metafields/{{metafield_id}}",
        {"GET": get_own_metafield, "PUT": put_own_metafield, "DELETE": del_own_metafield},
    ),
    (
        f"{PRODUCT}/variants/{{variant_id}}/metafields",
        {
            "GET": Endpoint(list_own_metafields, listing=OWN_METAFIELDS["variant"]),
            "POST": post_own_metafield,
        },
    ),
    (
        f"{PRODUCT}/variants/{{variant_id}}/metafields/{{metafield_id}}",
        {"GET": get_own_metafield, "PUT": put_own_metafield, "DELETE": del_own_metafield},
    ),
    *_sub("videos", "id", "Video", save_video),
    *_sub("bulk-pricing-rules", "bulk_pricing_rule_id", "Bulk pricing rule", save_bulk_rule),
    *_sub("complex-rules", "complex_rule_id", "Complex rule", save_rule),
    *_sub("reviews", "review_id", "Review", save_review, REVIEWS),
]

register(TABLE)
