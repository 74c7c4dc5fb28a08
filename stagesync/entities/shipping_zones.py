"""Shipping zones, keyed by name (``/v2/shipping/zones``), with their locations (sorted, ids
dropped) and settings (``type``, ``free_shipping``, ``handling_fees``, ``enabled``). Their methods
are the kind ``shipping_methods``."""

from __future__ import annotations

from collections.abc import Iterable

from stagesync.entities import v2_formats
from stagesync.entities.base import EntityKind, Lookup, Raw, v2_listing
from stagesync.entities.common import unique_by_key, without
from stagesync.model import EntityKey, Record
from stagesync.ports import StoreApi

PATH = "/v2/shipping/zones"
MONEY = {
    "free_shipping": ("minimum_sub_total",),
    "handling_fees": ("fixed_surcharge", "percentage_surcharge"),
}
"""v2 money in a zone's settings: one form in the snapshot (``v2_formats.money``)."""


async def fetch(api: StoreApi) -> list[Raw]:
    return await api.get_all(PATH)


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key("shipping_zones", raws, lambda raw: str(raw["name"]))


def _location_order(location: Record) -> tuple[str, str, str]:
    return tuple(str(location.get(f) or "") for f in ("country_iso2", "state_iso2", "zip"))  # type: ignore[return-value]


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = v2_formats.settings_money(without(raw, ("id",)), MONEY)
    record["locations"] = sorted(
        (without(loc, ("id",)) for loc in raw.get("locations") or []), key=_location_order
    )
    return record


def references(key: str, record: Record) -> Iterable[EntityKey]:
    return ()


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    created = await api.post(PATH, record, entity=f"shipping zone {key}")
    return int(created["id"])


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    await api.put(f"{PATH}/{live['id']}", record, entity=f"shipping zone {key}")


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await api.delete(f"{PATH}/{live['id']}", entity=f"shipping zone {key}")


KIND = EntityKind(
    name="shipping_zones",
    singular="shipping zone",
    display_name="Shipping Zones",
    fetch=fetch,
    identify=identify,
    live_id=lambda raw: int(raw["id"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    read_requests=v2_listing,
)
