"""Price-list assignments, keyed by (price list, customer group, channel):
``Wholesale/Trade/default``. An assignment without a customer group or a channel has an empty
part there (``Wholesale//default``). The record holds the same three names; it is never updated,
only created or deleted."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from stagesync.entities.base import EntityKind, Lookup, Raw
from stagesync.entities.batching import Batcher, batcher
from stagesync.entities.channel_keys import channel_keys, ids_of
from stagesync.entities.common import unique_by_key
from stagesync.keys import join_path
from stagesync.model import EntityKey, Record
from stagesync.ports import StoreApi

PATH = "/v3/pricelists/assignments"
MAX_CREATE = 25


async def fetch(api: StoreApi) -> list[Raw]:
    assignments, lists, groups, channels = await asyncio.gather(
        api.get_all(PATH),
        api.get_all("/v3/pricelists"),
        api.get_all("/v2/customer_groups"),
        channel_keys(api),
    )
    list_names = {int(p["id"]): str(p["name"]) for p in lists}
    group_names = {int(g["id"]): str(g["name"]) for g in groups}
    out = []
    for raw in assignments:
        group_id, channel_id = raw.get("customer_group_id"), raw.get("channel_id")
        names = {
            "price_list": list_names.get(int(raw["price_list_id"]), f"#{raw['price_list_id']}"),
            "customer_group": group_names.get(int(group_id), f"#{group_id}") if group_id else "",
            "channel": channels.get(int(channel_id), f"#{channel_id}") if channel_id else "",
        }
        out.append({**raw, "_names": names})
    return out


def key_of(names: Record) -> str:
    return join_path([names["price_list"], names["customer_group"], names["channel"]])


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key("price_list_assignments", raws, lambda raw: key_of(raw["_names"]))


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    return dict(raw["_names"])


def references(key: str, record: Record) -> Iterable[EntityKey]:
    yield EntityKey("price_lists", record["price_list"])
    if record.get("customer_group"):
        yield EntityKey("customer_groups", record["customer_group"])


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    body: dict[str, Any] = {"price_list_id": lookup.id_of("price_lists", record["price_list"])}
    if record.get("customer_group"):
        body["customer_group_id"] = lookup.id_of("customer_groups", record["customer_group"])
    if record.get("channel"):
        body["channel_id"] = (await ids_of(api, lookup, [record["channel"]]))[0]

    async def send(rows: list[dict[str, Any]]) -> Sequence[int]:
        created = await api.post(PATH, rows, entity=f"price list assignments ({len(rows)})")
        return [int(c["id"]) for c in created]

    creator = batcher(lookup, "price_list_assignments", lambda: Batcher(MAX_CREATE, send))
    return await creator.submit(body)


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
)
