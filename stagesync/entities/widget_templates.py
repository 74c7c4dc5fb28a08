"""Custom widget templates (``/v3/content/widget-templates``), keyed by name, with their schema,
template HTML and storefront query. The platform's own templates (kind other than ``custom``)
are left alone."""

from __future__ import annotations

from collections.abc import Iterable

from stagesync.entities import channels
from stagesync.entities.base import EntityKind, Lookup, Raw
from stagesync.entities.common import unique_by_key, without
from stagesync.model import EntityKey, Record
from stagesync.ports import StoreApi

PATH = "/v3/content/widget-templates"
READ_ONLY = (
    "uuid",
    "kind",
    "date_created",
    "date_modified",
    "current_version_uuid",
    "icon_name",
    "template_engine",
    "channel_id",
)


async def fetch(api: StoreApi) -> list[Raw]:
    return await api.get_all(PATH, {"widget_template_kind": "custom"})


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key("widget_templates", raws, lambda raw: str(raw["name"]))


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = without(raw, READ_ONLY)
    record["channel"] = channels.key_of(lookup, raw.get("channel_id"))
    return record


def references(key: str, record: Record) -> Iterable[EntityKey]:
    return ()


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> str:
    body = without(record, ("channel",))
    body["channel_id"] = await channels.id_of(api, lookup, record.get("channel"))
    created = await api.post(PATH, body, entity=f"widget template {key}")
    return str(created["uuid"])


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    body = without(record, ("channel",))
    await api.put(f"{PATH}/{live['uuid']}", body, entity=f"widget template {key}")


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await api.delete(f"{PATH}/{live['uuid']}", entity=f"widget template {key}")


KIND = EntityKind(
    name="widget_templates",
    singular="widget template",
    display_name="Widget Templates",
    fetch=fetch,
    identify=identify,
    live_id=lambda raw: str(raw["uuid"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
)
