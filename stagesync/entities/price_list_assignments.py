"""Price-list assignments, keyed by (price list, customer group, channel):
``Wholesale/Trade/default``. An assignment without a customer group or a channel has an empty
part there (``Wholesale//default``). The record holds the same three names; it is never updated,
only created or deleted: push hands creates to ``create_many``, 25 to a ``POST`` (the platform's
limit)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from stagesync.entities import channels
from stagesync.entities.base import EntityKind, Lookup, Raw
from stagesync.entities.common import unique_by_key
from stagesync.errors import StageSyncError
from stagesync.keys import join_path, split_path
from stagesync.model import EntityKey, Record
from stagesync.ports import StoreApi

PATH = "/v3/pricelists/assignments"
MAX_CREATE = 25


async def fetch(api: StoreApi) -> list[Raw]:
    return await api.get_all(PATH)


def names(raw: Raw, lookup: Lookup) -> Record:
    """The price list, customer group and channel ``raw`` names, by key (empty: none)."""
    group_id, channel_id = raw.get("customer_group_id"), raw.get("channel_id")
    return {
        "price_list": lookup.key_of("price_lists", int(raw["price_list_id"])),
        "customer_group": lookup.key_of("customer_groups", int(group_id)) if group_id else "",
        "channel": channels.key_of(lookup, channel_id) if channel_id else "",
    }


def key_of(names: Record) -> str:
    return join_path([names["price_list"], names["customer_group"], names["channel"]])


def identify_with(raws: list[Raw], lookup: Lookup) -> dict[str, Raw]:
    """Keyed by names the lookup gives: price lists and customer groups are read before."""
    named = [{**raw, "_names": names(raw, lookup)} for raw in raws]
    return unique_by_key("price_list_assignments", named, lambda raw: key_of(raw["_names"]))


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key("price_list_assignments", raws, lambda raw: key_of(raw["_names"]))


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    return dict(raw["_names"])


def references(key: str, record: Record) -> Iterable[EntityKey]:
    yield EntityKey("price_lists", record["price_list"])
    if record.get("customer_group"):
        yield EntityKey("customer_groups", record["customer_group"])


async def body_of(api: StoreApi, record: Record, lookup: Lookup) -> dict[str, Any]:
    body: dict[str, Any] = {"price_list_id": lookup.id_of("price_lists", record["price_list"])}
    if record.get("customer_group"):
        body["customer_group_id"] = lookup.id_of("customer_groups", record["customer_group"])
    if record.get("channel"):
        body["channel_id"] = await channels.id_of(api, lookup, record["channel"])
    return body


async def find(api: StoreApi, key: str, lookup: Lookup) -> Raw | None:
    """The live assignment keyed ``key``: one request filtered by its price list."""
    price_list = split_path(key)[0]
    if not lookup.has("price_lists", price_list):
        return None
    query = {"price_list_id": lookup.id_of("price_lists", price_list)}
    return identify_with(await api.get_all(PATH, query), lookup).get(key)


async def create_many(api: StoreApi, items: list[tuple[str, Record]], lookup: Lookup) -> list[int]:
    """Up to 25 assignments in one ``POST``."""
    rows = [await body_of(api, record, lookup) for _, record in items]
    names = ", ".join(key for key, _ in items)
    created = await api.post(PATH, rows, entity=f"price list assignments {names}")
    if not isinstance(created, list) or len(created) != len(items):
        raise StageSyncError(f"the store created only some of the price list assignments {names}.")
    return [int(c["id"]) for c in created]


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    return (await create_many(api, [(key, record)], lookup))[0]


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    return None  # the key is the whole record: nothing to update


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await api.delete(PATH, {"id:in": int(live["id"])}, entity=f"price list assignment {key}")


KIND = EntityKind(
    name="price_list_assignments",
    singular="price list assignment",
    display_name="Price List Assignments",
    fetch=fetch,
    identify=identify,
    live_id=lambda raw: int(raw["id"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    identify_with=identify_with,
    find=find,
    create_many=create_many,
    batch_size=MAX_CREATE,
)
