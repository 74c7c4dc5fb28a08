"""Widget placements (``/v3/content/placements``), keyed by
``<template file>|<region>|<widget>|<entity>``, e.g.
``pages/product|product_below_content|Promo Banner|products:SKU-1``.

The entity a placement targets (``entity_id`` on product, category, brand and web page
templates) is named by *its* natural key and resolved to the destination's id on push. A
placement without a region sits in a Page Builder layout, a position the API cannot express:
the plan warns about it instead of losing it silently.
"""

from __future__ import annotations

from collections.abc import Iterable

from stagesync.entities import channels
from stagesync.entities.base import EntityKind, Lookup, Raw
from stagesync.entities.common import unique_by_key, without
from stagesync.model import EntityKey, Record
from stagesync.ports import StoreApi

PATH = "/v3/content/placements"
READ_ONLY = (
    "uuid",
    "date_created",
    "date_modified",
    "widget",
    "widget_uuid",
    "entity_id",
    "channel_id",
)
ENTITY_KINDS = {
    "pages/product": "products",
    "pages/category": "categories",
    "pages/brand": "brands",
    "pages/page": "pages",
}
"""Template files whose placements target one entity, and that entity's kind."""


async def fetch(api: StoreApi) -> list[Raw]:
    return await api.get_all(PATH)


def _escape(part: str) -> str:
    return part.replace("\\", "\\\\").replace("|", "\\|")


def entity_of(raw: Raw, lookup: Lookup) -> EntityKey | None:
    entity_id = raw.get("entity_id")
    kind = ENTITY_KINDS.get(str(raw.get("template_file")))
    if entity_id in (None, "") or kind is None:
        return None
    return EntityKey(kind, lookup.key_of(kind, int(str(entity_id))))


def make_key(template_file: str, region: str | None, widget: str, entity: str | None) -> str:
    parts = (template_file, region or "", widget, entity or "")
    return "|".join(_escape(part) for part in parts)


def identify(raws: list[Raw], lookup: Lookup) -> dict[str, Raw]:
    def key_of(raw: Raw) -> str:
        widget = lookup.key_of("widgets", str(raw["widget_uuid"]))
        entity = entity_of(raw, lookup)
        region = raw.get("region") or None
        return make_key(str(raw["template_file"]), region, widget, str(entity) if entity else None)

    return unique_by_key("placements", raws, key_of)


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = without(raw, READ_ONLY)
    record["widget"] = lookup.key_of("widgets", str(raw["widget_uuid"]))
    entity = entity_of(raw, lookup)
    record["entity"] = str(entity) if entity else None
    record["region"] = raw.get("region") or None
    record["channel"] = channels.key_of(lookup, raw.get("channel_id"))
    return record


def references(key: str, record: Record) -> Iterable[EntityKey]:
    refs = [EntityKey("widgets", record["widget"])]
    if record.get("entity"):
        kind, _, entity_key = str(record["entity"]).partition(":")
        refs.append(EntityKey(kind, entity_key))
    return refs


def warnings(key: str, after: Record, before: Record | None) -> list[str]:
    if after.get("region"):
        return []
    return [
        f"placement {key} has no region: it sits in a Page Builder layout, which the API "
        "cannot express. It is pushed without a layout position; place it in Page Builder on "
        "the destination after pushing."
    ]


def payload(record: Record, lookup: Lookup) -> Record:
    body = without(record, ("widget", "entity", "channel"))
    body["widget_uuid"] = lookup.uuid_of("widgets", record["widget"])
    if record.get("entity"):
        kind, _, entity_key = str(record["entity"]).partition(":")
        body["entity_id"] = str(lookup.id_of(kind, entity_key))
    if not record.get("region"):
        body.pop("region", None)
    return body


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> str:
    body = payload(record, lookup)
    body["channel_id"] = await channels.id_of(api, lookup, record.get("channel"))
    created = await api.post(PATH, body, entity=f"placement {key}")
    return str(created["uuid"])


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    await api.put(f"{PATH}/{live['uuid']}", payload(record, lookup), entity=f"placement {key}")


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await api.delete(f"{PATH}/{live['uuid']}", entity=f"placement {key}")


KIND = EntityKind(
    name="placements",
    singular="placement",
    display_name="Placements",
    fetch=fetch,
    identify=lambda raws: {str(raw["uuid"]): raw for raw in raws},
    identify_with=identify,
    live_id=lambda raw: str(raw["uuid"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    warnings=warnings,
)
