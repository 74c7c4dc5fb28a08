"""Shipping methods, keyed by (zone, method name): ``Domestic/Flat rate``
(``/v2/shipping/zones/{id}/methods``). The record names its zone and its channels (by key); a
zone must exist before its methods.

Carrier methods (USPS, FedEx, UPS, …) quote rates through a carrier connection whose credentials
the platform never returns, so stagesync cannot copy them: the plan warns for each zone that uses
a carrier, and the connection must be made on the destination by hand.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable
from typing import Any

from stagesync.entities import channels, v2_formats
from stagesync.entities.base import EntityKind, Lookup, Raw, v2_pages
from stagesync.entities.common import unique_by_key, without
from stagesync.keys import join_path
from stagesync.model import EntityKey, Record, Snapshot
from stagesync.ports import StoreApi

ZONES = "/v2/shipping/zones"
CARRIERS = {
    "auspost": "Australia Post",
    "canadapost": "Canada Post",
    "endicia": "Endicia",
    "usps": "USPS",
    "fedex": "FedEx",
    "royalmail": "Royal Mail",
    "upsready": "UPS",
}
PRIVATE = ("_zone", "_zone_id")
MONEY = {"handling_fees": ("fixed_surcharge", "percentage_surcharge")}
"""v2 money in a method's settings: one form in the snapshot (``v2_formats.money``)."""


async def fetch(api: StoreApi) -> list[Raw]:
    zones = await api.get_all(ZONES)

    async def methods(zone: Raw) -> list[Raw]:
        rows = await api.get_all(f"{ZONES}/{zone['id']}/methods")
        return [
            {
                **row,
                "_zone": str(zone["name"]),
                "_zone_id": int(zone["id"]),
            }
            for row in rows
        ]

    found = await asyncio.gather(*(methods(z) for z in zones))
    return [row for rows in found for row in rows]


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key(
        "shipping_methods", raws, lambda raw: join_path([raw["_zone"], str(raw["name"])])
    )


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = v2_formats.settings_money(without(raw, ("id", "channel_ids", *PRIVATE)), MONEY)
    record["zone"] = raw["_zone"]
    record["channels"] = channels.keys_of(lookup, raw.get("channel_ids") or [])
    return record


def references(key: str, record: Record) -> Iterable[EntityKey]:
    yield EntityKey("shipping_zones", record["zone"])


async def payload(api: StoreApi, record: Record, lookup: Lookup) -> dict[str, Any]:
    body = without(record, ("zone", "channels"))
    body["channel_ids"] = await channels.ids_of(api, lookup, record.get("channels") or [])
    return body


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    zone_id = lookup.id_of("shipping_zones", record["zone"])
    body = await payload(api, record, lookup)
    created = await api.post(f"{ZONES}/{zone_id}/methods", body, entity=f"shipping method {key}")
    return int(created["id"])


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    body = await payload(api, record, lookup)
    path = f"{ZONES}/{live['_zone_id']}/methods/{live['id']}"
    await api.put(path, body, entity=f"shipping method {key}")


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    path = f"{ZONES}/{live['_zone_id']}/methods/{live['id']}"
    await api.delete(path, entity=f"shipping method {key}")


def read_requests(count: int, destination: Snapshot) -> int:
    """Each zone's methods (v2 lists: a page more than they fill). The listing of the zones is
    shared with the ``shipping_zones`` kind, always read alongside."""
    per_zone = Counter(str(r["zone"]) for r in destination.records("shipping_methods").values())
    zones = set(destination.records("shipping_zones")) | set(per_zone)
    return sum(v2_pages(per_zone[zone]) for zone in zones)


def warnings(key: str, record: Record, before: Record | None) -> list[str]:
    carrier = CARRIERS.get(str(record.get("type")))
    if carrier is None:
        return []
    return [
        f'shipping zone "{record["zone"]}" uses the {carrier} carrier: carrier connections '
        "(account credentials) cannot be read back from the platform, so stagesync does not copy "
        f"them. Connect {carrier} on the destination (Settings > Shipping) or its methods will "
        "not quote rates."
    ]


KIND = EntityKind(
    name="shipping_methods",
    singular="shipping method",
    display_name="Shipping Methods",
    fetch=fetch,
    identify=identify,
    live_id=lambda raw: int(raw["id"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    warnings=warnings,
    read_requests=read_requests,
)
