"""Widgets (``/v3/content/widgets``), keyed by name; their template is named by its key."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from stagesync.entities import channels
from stagesync.entities.base import PAGE_SIZE, EntityKind, LiveId, Lookup, Raw, TargetedRead
from stagesync.entities.common import in_queries, listed, unique_by_key, without
from stagesync.model import EntityKey, Record, Snapshot
from stagesync.ports import StoreApi

PATH = "/v3/content/widgets"
READ_ONLY = (
    "uuid",
    "version_uuid",
    "date_created",
    "date_modified",
    "widget_template",
    "widget_template_uuid",
    "channel_id",
)


async def fetch(api: StoreApi) -> list[Raw]:
    return await api.get_all(PATH)


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key("widgets", raws, lambda raw: str(raw["name"]))


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = without(raw, READ_ONLY)
    record["template"] = lookup.key_of("widget_templates", str(raw["widget_template_uuid"]))
    record["channel"] = channels.key_of(lookup, raw.get("channel_id"))
    return record


def references(key: str, record: Record) -> Iterable[EntityKey]:
    return (EntityKey("widget_templates", record["template"]),)


async def by_names(api: StoreApi, keys: Sequence[str]) -> list[Raw]:
    """The widgets named ``keys`` (and any the filter also matches), whole: ``name:in``, as
    many names a request as fit a page and the URL; ``name`` for a name with a comma."""
    # ASSUMPTION_WIDGETS_FILTER_NAME_IN: the filters answer the widgets of those names.
    return await listed(api, PATH, in_queries("name", keys, PAGE_SIZE))


def by_names_requests(keys: Sequence[str], destination: Snapshot) -> int:
    return len(in_queries("name", keys, PAGE_SIZE))


def names(raw: Raw) -> Iterable[tuple[str, LiveId]]:
    """The template and channel a live widget names by ID."""
    yield "widget_templates", str(raw["widget_template_uuid"])
    if raw.get("channel_id"):
        yield channels.NAME, int(raw["channel_id"])


TARGETED = TargetedRead(
    how="`name:in`, up to 250 names a request as the URL allows (`name` for a name with a comma)",
    by_keys=by_names,
    requests=by_names_requests,
    names=names,
)


def payload(record: Record, lookup: Lookup) -> Record:
    body = without(record, ("template", "channel"))
    body["widget_template_uuid"] = lookup.uuid_of("widget_templates", record["template"])
    return body


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> str:
    body = payload(record, lookup)
    body["channel_id"] = await channels.id_of(api, lookup, record.get("channel"))
    created = await api.post(PATH, body, entity=f"widget {key}")
    return str(created["uuid"])


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    await api.put(f"{PATH}/{live['uuid']}", payload(record, lookup), entity=f"widget {key}")


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await api.delete(f"{PATH}/{live['uuid']}", entity=f"widget {key}")


KIND = EntityKind(
    name="widgets",
    singular="widget",
    display_name="Widgets",
    fetch=fetch,
    identify=identify,
    live_id=lambda raw: str(raw["uuid"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    targeted=TARGETED,
)
