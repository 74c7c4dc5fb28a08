"""Custom template associations (``/v3/storefront/custom-template-associations``): which custom
layout file (``custom-product-1.html``) a product, category, brand or web page uses. Keyed by
the entity, ``<kind>:<its key>`` (``products:SKU-1``); ``is_valid`` depends on the active theme
and is not compared."""

from __future__ import annotations

from collections.abc import Iterable

from stagesync.entities import channels
from stagesync.entities.base import EntityKind, Lookup, Raw
from stagesync.entities.common import unique_by_key, without
from stagesync.errors import StageSyncError
from stagesync.model import EntityKey, Record
from stagesync.ports import StoreApi

PATH = "/v3/storefront/custom-template-associations"
READ_ONLY = (
    "id",
    "entity_id",
    "entity_type",
    "channel_id",
    "is_valid",
    "date_created",
    "date_modified",
)
KINDS = {"product": "products", "category": "categories", "brand": "brands", "page": "pages"}
TYPES = {kind: entity_type for entity_type, kind in KINDS.items()}


async def fetch(api: StoreApi) -> list[Raw]:
    return await api.get_all(PATH)


def entity_of(raw: Raw, lookup: Lookup) -> EntityKey:
    kind = KINDS[str(raw["entity_type"])]
    return EntityKey(kind, lookup.key_of(kind, int(raw["entity_id"])))


def identify(raws: list[Raw], lookup: Lookup) -> dict[str, Raw]:
    return unique_by_key(
        "custom_template_associations", raws, lambda raw: str(entity_of(raw, lookup))
    )


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = without(raw, READ_ONLY)
    record["channel"] = channels.key_of(lookup, raw.get("channel_id"))
    return record


def entity_key(key: str) -> EntityKey:
    kind, _, rest = key.partition(":")
    if kind not in TYPES:
        raise StageSyncError(
            f'custom template association "{key}" does not name a product, category, brand or '
            "page (products:<sku>, categories:<path>, brands:<name>, pages:<url>)."
        )
    return EntityKey(kind, rest)


def references(key: str, record: Record) -> Iterable[EntityKey]:
    return (entity_key(key),)


async def upsert(api: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    entity = entity_key(key)
    body = {
        "channel_id": await channels.id_of(api, lookup, record.get("channel")),
        "entity_type": TYPES[entity.kind],
        "entity_id": lookup.id_of(entity.kind, entity.key),
        "file_name": record["file_name"],
    }
    written = await api.put(PATH, [body], entity=f"custom template association {key}")
    if isinstance(written, list) and written and "id" in written[0]:
        return int(written[0]["id"])
    found = await api.get_all(
        PATH, {"entity_id:in": body["entity_id"], "type": body["entity_type"]}
    )
    return int(found[0]["id"])


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    await upsert(api, key, record, lookup)


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await api.delete(PATH, {"id:in": live["id"]}, entity=f"custom template association {key}")


KIND = EntityKind(
    name="custom_template_associations",
    singular="custom template association",
    display_name="Custom Template Associations",
    fetch=fetch,
    identify=lambda raws: {str(raw["id"]): raw for raw in raws},
    identify_with=identify,
    live_id=lambda raw: int(raw["id"]),
    normalise=normalise,
    references=references,
    create=upsert,
    update=update,
    delete=delete,
)
