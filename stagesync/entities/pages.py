"""Web pages (``/v3/content/pages``), keyed by URL (a page without one, like a link, by
``name:<name>``). The parent page is named by its key and created first; the channel by name."""

from __future__ import annotations

from collections.abc import Iterable

from stagesync.entities import channels
from stagesync.entities.base import EntityKind, Lookup, Raw
from stagesync.entities.common import unique_by_key, without
from stagesync.model import EntityKey, Record
from stagesync.ports import StoreApi

PATH = "/v3/content/pages"
READ_ONLY = ("id", "channel_id", "parent_id")


async def fetch(api: StoreApi) -> list[Raw]:
    return await api.get_all(PATH, {"include": "body"})


def key_of(raw: Raw) -> str:
    return str(raw.get("url") or f"name:{raw['name']}")


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key("pages", raws, key_of)


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = without(raw, READ_ONLY)
    parent = int(raw.get("parent_id") or 0)
    record["parent"] = lookup.key_of("pages", parent) if parent else None
    record["channel"] = channels.key_of(lookup, raw.get("channel_id"))
    return record


def references(key: str, record: Record) -> Iterable[EntityKey]:
    return (EntityKey("pages", record["parent"]),) if record.get("parent") else ()


async def payload(api: StoreApi, record: Record, lookup: Lookup) -> Record:
    body = without(record, ("parent", "channel"))
    body["parent_id"] = lookup.id_of("pages", record["parent"]) if record.get("parent") else 0
    return body


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    body = await payload(api, record, lookup)
    body["channel_id"] = await channels.id_of(api, lookup, record.get("channel"))
    created = await api.post(PATH, body, entity=f"page {key}")
    return int(created["id"])


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    body = await payload(api, record, lookup)
    await api.put(f"{PATH}/{live['id']}", body, entity=f"page {key}")


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await api.delete(f"{PATH}/{live['id']}", entity=f"page {key}")


KIND = EntityKind(
    name="pages",
    singular="page",
    display_name="Pages",
    fetch=fetch,
    identify=identify,
    live_id=lambda raw: int(raw["id"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
)
