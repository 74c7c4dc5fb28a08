"""The product sub-resources beyond variants, options, images and custom fields: modifiers (with
their values and adjusters), videos, complex rules and metafields (of the product and of its
variants). ``products`` nests them in the product's record; this module normalises them and
writes them back.

Keys inside a product: modifiers by display name and their values by label; videos by YouTube
id; complex rules by their conditions (``modifier`` display name + ``value`` label, or
``variant`` SKU); metafields by ``namespace`` and ``key``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from stagesync.entities.base import Raw
from stagesync.entities.common import sync_children, without
from stagesync.errors import StageSyncError
from stagesync.model import Record
from stagesync.ports import StoreApi

PATH = "/v3/catalog/products"
PRODUCT_METAFIELDS = "/v3/catalog/products/metafields"
VARIANT_METAFIELDS = "/v3/catalog/variants/metafields"
MODIFIER_READ_ONLY = ("id", "product_id", "name")
VALUE_READ_ONLY = ("id", "option_id")
VIDEO_READ_ONLY = ("id", "product_id", "length")
RULE_READ_ONLY = ("id", "product_id", "complex_rule_id", "conditions")
METAFIELD_READ_ONLY = (
    "id",
    "resource_id",
    "resource_type",
    "owner_client_id",
    "date_created",
    "date_modified",
)


class UnresolvedCondition(StageSyncError):
    """A complex rule names a modifier value or variant its product does not have."""


# -- normalise --------------------------------------------------------------------------------


def normalise_modifier(raw: Raw) -> Record:
    record = without(raw, MODIFIER_READ_ONLY)
    record["option_values"] = sorted(
        (without(v, VALUE_READ_ONLY) for v in raw.get("option_values") or []),
        key=lambda v: (v.get("sort_order") or 0, v["label"]),
    )
    return record


def normalise_modifiers(raws: Iterable[Raw]) -> list[Record]:
    modifiers = [normalise_modifier(raw) for raw in raws]
    return sorted(modifiers, key=lambda m: (m.get("sort_order") or 0, m["display_name"]))


def normalise_video(raw: Raw) -> Record:
    return without(raw, VIDEO_READ_ONLY)


def normalise_videos(raws: Iterable[Raw]) -> list[Record]:
    videos = [normalise_video(raw) for raw in raws]
    return sorted(videos, key=lambda v: str(v["video_id"]))


def normalise_metafield(raw: Raw) -> Record:
    return without(raw, METAFIELD_READ_ONLY)


def normalise_metafields(raws: Iterable[Raw]) -> list[Record]:
    return sorted((normalise_metafield(r) for r in raws), key=metafield_key)


def metafield_key(metafield: Mapping[str, Any]) -> str:
    return f"{metafield['namespace']}.{metafield['key']}"


def condition_names(
    raw_product: Raw,
) -> tuple[dict[int, str], dict[int, tuple[str, str]], dict[int, str]]:
    """Live ids -> natural keys of one product: modifiers, modifier values, variants."""
    modifiers = {int(m["id"]): str(m["display_name"]) for m in raw_product.get("modifiers") or []}
    values = {
        int(v["id"]): (str(m["display_name"]), str(v["label"]))
        for m in raw_product.get("modifiers") or []
        for v in m.get("option_values") or []
    }
    variants = {int(v["id"]): str(v["sku"]) for v in raw_product.get("variants") or []}
    return modifiers, values, variants


def normalise_rule(
    raw: Raw, names: tuple[dict[int, str], dict[int, tuple[str, str]], dict[int, str]]
) -> Record:
    modifiers, values, variants = names
    record = without(raw, RULE_READ_ONLY)
    conditions = []
    for condition in raw.get("conditions") or []:
        out: dict[str, str | None] = {"modifier": None, "value": None, "variant": None}
        if condition.get("modifier_value_id"):
            out["modifier"], out["value"] = values[int(condition["modifier_value_id"])]
        elif condition.get("modifier_id"):
            out["modifier"] = modifiers[int(condition["modifier_id"])]
        if condition.get("variant_id"):
            out["variant"] = variants[int(condition["variant_id"])]
        conditions.append(out)
    record["conditions"] = sorted(conditions, key=lambda c: json.dumps(c, sort_keys=True))
    return record


def rule_key(rule: Mapping[str, Any]) -> str:
    """A complex rule's key: its conditions, e.g. ``Engraving=Yes & variant=SHIRT-S``."""
    parts = []
    for condition in rule.get("conditions") or []:
        if condition.get("modifier"):
            parts.append(f"{condition['modifier']}={condition.get('value') or ''}")
        if condition.get("variant"):
            parts.append(f"variant={condition['variant']}")
    return " & ".join(sorted(parts))


def normalise_rules(raw_product: Raw) -> list[Record]:
    names = condition_names(raw_product)
    rules = [normalise_rule(r, names) for r in raw_product.get("complex_rules") or []]
    return sorted(rules, key=lambda r: (r.get("sort_order") or 0, rule_key(r)))


# -- write ------------------------------------------------------------------------------------


async def sync_modifiers(
    api: StoreApi, entity: str, product_id: int, desired: list[Record], live: list[Raw]
) -> None:
    """Make the product's modifiers match ``desired``: create, update (values included, in one
    request per modifier), delete. A new checkbox modifier takes two requests (the platform makes
    its own values on create)."""
    base = f"{PATH}/{product_id}/modifiers"
    live_by_name = {str(m["display_name"]): m for m in live}

    def values_body(modifier: Record, current: Raw | None) -> list[dict[str, Any]]:
        ids = {v["label"]: v["id"] for v in (current or {}).get("option_values") or []}
        out = []
        for value in modifier.get("option_values") or []:
            body = dict(value)
            if value["label"] in ids:
                body["id"] = ids[value["label"]]
            out.append(body)
        return out

    async def create(name: str, modifier: Record) -> None:
        created = await api.post(base, modifier, entity=f"{entity} modifier {name}")
        if modifier.get("type") == "checkbox" and (
            normalise_modifier(created).get("option_values") != modifier.get("option_values")
        ):
            body = {"option_values": values_body(modifier, created)}
            await api.put(f"{base}/{created['id']}", body, entity=f"{entity} modifier {name}")

    async def update(modifier_id: int, name: str, modifier: Record) -> None:
        body = dict(modifier)
        body["option_values"] = values_body(modifier, live_by_name[name])
        body.pop("type", None)
        await api.put(f"{base}/{modifier_id}", body, entity=f"{entity} modifier {name}")

    async def delete(modifier_id: int, name: str) -> None:
        await api.delete(f"{base}/{modifier_id}", entity=f"{entity} modifier {name}")

    await sync_children(
        {str(m["display_name"]): m for m in desired},
        {str(m["display_name"]): (int(m["id"]), normalise_modifier(m)) for m in live},
        create=create,
        update=update,
        delete=delete,
    )


CHECKBOX_VALUES = [
    {
        "label": "Yes",
        "sort_order": 0,
        "value_data": {"checked_value": True},
        "is_default": False,
        "adjusters": {
            "price": None,
            "weight": None,
            "image_url": "",
            "purchasing_disabled": {"status": False, "message": ""},
        },
    },
    {
        "label": "No",
        "sort_order": 1,
        "value_data": {"checked_value": False},
        "is_default": False,
        "adjusters": {
            "price": None,
            "weight": None,
            "image_url": "",
            "purchasing_disabled": {"status": False, "message": ""},
        },
    },
]
"""The values the platform gives a new checkbox modifier."""


def create_requests(record: Record) -> int:
    """Requests ``sync_modifiers``, ``sync_videos``, ``sync_rules`` and the metafield batches
    take to add this record's extras to a new product."""
    count = 0
    for modifier in record.get("modifiers") or []:
        count += 1
        if modifier.get("type") == "checkbox" and modifier.get("option_values") != CHECKBOX_VALUES:
            count += 1
    count += len(record.get("videos") or [])
    rules = record.get("complex_rules") or []
    count += 2 + len(rules) if rules else 0
    variant_fields = any(v.get("metafields") for v in record.get("variants") or [])
    return count + metafield_requests(len(record.get("metafields") or []), int(variant_fields))


async def sync_videos(
    api: StoreApi, entity: str, product_id: int, desired: list[Record], live: list[Raw]
) -> None:
    base = f"{PATH}/{product_id}/videos"

    async def create(key: str, video: Record) -> None:
        await api.post(base, video, entity=f"{entity} video {key}")

    async def update(video_id: int, key: str, video: Record) -> None:
        await api.put(f"{base}/{video_id}", video, entity=f"{entity} video {key}")

    async def delete(video_id: int, key: str) -> None:
        await api.delete(f"{base}/{video_id}", entity=f"{entity} video {key}")

    await sync_children(
        {str(v["video_id"]): v for v in desired},
        {str(v["video_id"]): (int(v["id"]), normalise_video(v)) for v in live},
        create=create,
        update=update,
        delete=delete,
    )


def rule_body(
    rule: Record, modifiers: list[Raw], variants: Mapping[str, int], entity: str
) -> dict[str, Any]:
    """A complex rule for the API: conditions' natural keys -> this product's live ids."""
    by_name = {str(m["display_name"]): m for m in modifiers}
    conditions = []
    for condition in rule.get("conditions") or []:
        out: dict[str, int | None] = {
            "modifier_id": None,
            "modifier_value_id": None,
            "variant_id": None,
        }
        if condition.get("modifier"):
            modifier = by_name.get(str(condition["modifier"]))
            if modifier is None:
                raise UnresolvedCondition(
                    f'{entity}: a complex rule names modifier "{condition["modifier"]}", which '
                    "the product does not have. Add the modifier to the record or drop the rule."
                )
            out["modifier_id"] = int(modifier["id"])
            if condition.get("value") is not None:
                value = next(
                    (
                        v
                        for v in modifier.get("option_values") or []
                        if v["label"] == condition["value"]
                    ),
                    None,
                )
                if value is None:
                    raise UnresolvedCondition(
                        f'{entity}: a complex rule names value "{condition["value"]}" of modifier '
                        f'"{condition["modifier"]}", which does not exist.'
                    )
                out["modifier_value_id"] = int(value["id"])
        if condition.get("variant"):
            sku = str(condition["variant"]).casefold()
            if sku not in variants:
                raise UnresolvedCondition(
                    f'{entity}: a complex rule names variant "{condition["variant"]}", which the '
                    "product does not have."
                )
            out["variant_id"] = variants[sku]
        conditions.append(out)
    body = without(rule, ("conditions",))
    body["conditions"] = conditions
    return body


async def sync_rules(
    api: StoreApi,
    entity: str,
    product_id: int,
    desired: list[Record],
    live_product: Raw,
    *,
    fresh: bool,
    new: bool = False,
) -> None:
    """Complex rules, keyed by their conditions. With ``fresh`` the product's modifiers,
    variants and (unless the product is ``new``) rules are read again first: they were just
    written, their ids changed, and rules over removed modifiers went with them."""
    base = f"{PATH}/{product_id}/complex-rules"
    if fresh:
        modifiers = await api.get_all(f"{PATH}/{product_id}/modifiers")
        variants_raw = await api.get_all(f"{PATH}/{product_id}/variants")
        rules = [] if new else await api.get_all(base)
        live_product = {"modifiers": modifiers, "variants": variants_raw, "complex_rules": rules}
    else:
        modifiers = live_product.get("modifiers") or []
        variants_raw = live_product.get("variants") or []
    variants = {str(v["sku"]).casefold(): int(v["id"]) for v in variants_raw}
    names = condition_names(live_product)
    live = {}
    for raw in live_product.get("complex_rules") or []:
        rule = normalise_rule(raw, names)
        live[rule_key(rule)] = (int(raw["id"]), rule)

    async def create(key: str, rule: Record) -> None:
        body = rule_body(rule, modifiers, variants, entity)
        await api.post(base, body, entity=f"{entity} complex rule {key}")

    async def update(rule_id: int, key: str, rule: Record) -> None:
        body = rule_body(rule, modifiers, variants, entity)
        await api.put(f"{base}/{rule_id}", body, entity=f"{entity} complex rule {key}")

    async def delete(rule_id: int, key: str) -> None:
        await api.delete(f"{base}/{rule_id}", entity=f"{entity} complex rule {key}")

    await sync_children(
        {rule_key(r): r for r in desired},
        live,
        create=create,
        update=update,
        delete=delete,
    )


class MetafieldWrites:
    """Metafield creates, updates and deletes gathered over several products and variants, then
    written with the store-wide batch endpoints: at most three requests per resource type."""

    def __init__(self) -> None:
        self.creates: dict[str, list[dict[str, Any]]] = {"product": [], "variant": []}
        self.updates: dict[str, list[dict[str, Any]]] = {"product": [], "variant": []}
        self.deletes: dict[str, list[int]] = {"product": [], "variant": []}

    def plan(
        self, resource_type: str, resource_id: int, desired: list[Record], live: list[Raw]
    ) -> None:
        wanted = {metafield_key(m): m for m in desired}
        have = {metafield_key(m): m for m in live}
        for key, metafield in wanted.items():
            current = have.get(key)
            if current is None:
                self.creates[resource_type].append({**metafield, "resource_id": resource_id})
            elif normalise_metafield(current) != metafield:
                self.updates[resource_type].append({**metafield, "id": int(current["id"])})
        self.deletes[resource_type] += [int(have[k]["id"]) for k in sorted(set(have) - set(wanted))]

    async def write(self, api: StoreApi, entity: str) -> None:
        for resource_type, path in (
            ("product", PRODUCT_METAFIELDS),
            ("variant", VARIANT_METAFIELDS),
        ):
            label = f"{entity} {resource_type} metafields"
            if self.deletes[resource_type]:
                await api.delete(path, json=self.deletes[resource_type], entity=label)
            if self.updates[resource_type]:
                await api.put(path, self.updates[resource_type], entity=label)
            if self.creates[resource_type]:
                await api.post(path, self.creates[resource_type], entity=label)


def metafield_requests(count_product: int, count_variant: int) -> int:
    return int(count_product > 0) + int(count_variant > 0)
