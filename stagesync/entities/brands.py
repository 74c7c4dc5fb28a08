"""Brands, keyed by name (``/v3/catalog/brands``), with their metafields.

A brand's metafields live inside its record as ``metafields``: a list of ``{namespace, key,
value, permission_set, description}`` sorted by (namespace, key), absent when it has none. Pull
reads them for every brand at once through ``/v3/catalog/brands/metafields`` (pages of 250);
push writes them after the brand with the batch endpoints (``stagesync.entities.metafields``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

from stagesync.entities import metafields
from stagesync.entities.base import (
    EntityKind,
    LiveId,
    Lookup,
    Raw,
    TargetedRead,
    pages,
)
from stagesync.entities.common import ids_in, listed, one_each, unique_by_key, without
from stagesync.model import Action, EntityKey, Record, Snapshot
from stagesync.ports import StoreApi

PATH = "/v3/catalog/brands"
READ_ONLY = ("id",)
METAFIELDS = "metafields"
LIVE_METAFIELDS = "_metafields"
"""The annotation ``fetch`` adds to each raw brand: its raw metafields."""
OWNERS = "brands"


async def fetch(api: StoreApi) -> list[Raw]:
    raws, fields = await asyncio.gather(
        api.get_all(PATH), api.get_all(metafields.batch_path(OWNERS))
    )
    by_brand: dict[int, list[Raw]] = {}
    for field in fields:
        by_brand.setdefault(int(field["resource_id"]), []).append(field)
    for raw in raws:
        raw[LIVE_METAFIELDS] = by_brand.get(int(raw["id"]), [])
    return raws


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key("brands", raws, lambda raw: str(raw["name"]))


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = without(raw, (*READ_ONLY, LIVE_METAFIELDS))
    record["meta_keywords"] = sorted(record.get("meta_keywords") or [])
    fields = [metafields.entry(f) for f in raw.get(LIVE_METAFIELDS) or []]
    if fields:
        record[METAFIELDS] = sorted(fields, key=lambda f: (f["namespace"], f["key"]))
    return record


def _body(record: Record) -> Record:
    return without(record, (METAFIELDS,))


async def _sync_metafields(
    api: StoreApi, key: str, brand_id: int, record: Record, live: list[Raw]
) -> None:
    wanted = list(record.get(METAFIELDS) or [])
    await metafields.sync(api, OWNERS, brand_id, wanted, live, entity=f"brand {key} metafields")


def references(key: str, record: Record) -> Iterable[EntityKey]:
    return ()


async def find(api: StoreApi, key: str, lookup: Lookup) -> Raw | None:
    found = await api.get_all(PATH, {"name": key})
    raw = next((raw for raw in found if raw.get("name") == key), None)
    if raw is not None:
        raw[LIVE_METAFIELDS] = await api.get_all(f"{PATH}/{raw['id']}/metafields")
    return raw


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    created = await api.post(PATH, _body(record), entity=f"brand {key}")
    brand_id = int(created["id"])
    await _sync_metafields(api, key, brand_id, record, [])
    return brand_id


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    if _body(record) != normalise(key, {**live, LIVE_METAFIELDS: []}, lookup):
        await api.put(f"{PATH}/{live['id']}", _body(record), entity=f"brand {key}")
    await _sync_metafields(api, key, int(live["id"]), record, live.get(LIVE_METAFIELDS) or [])


def estimate(action: Action, record: Record | None) -> int:
    fields = list((record or {}).get(METAFIELDS) or [])
    writes = 2 if action is Action.REPLACE else 1
    return writes + (metafields.requests(fields, []) if action is not Action.UPDATE else 0)


def read_requests(count: int, destination: Snapshot) -> int:
    """The brands' pages, and the store's brand metafields' pages."""
    held = sum(len(r.get(METAFIELDS) or []) for r in destination.records("brands").values())
    return pages(count) + pages(held)


LEAN_FIELDS = "name"


async def lean_by_keys(api: StoreApi, keys: Sequence[str]) -> list[Raw]:
    """Brands named ``keys``, name and ID only: one ``name`` request each (brands have no
    ``name:in``; the platform may match a name whatever its letter case)."""
    return await listed(api, PATH, one_each("name", keys), {"include_fields": LEAN_FIELDS})


async def lean_by_ids(api: StoreApi, ids: Sequence[LiveId]) -> list[Raw]:
    """Brands of ``ids``, name and ID only, by ``id:in``."""
    return await listed(api, PATH, ids_in(ids), {"include_fields": LEAN_FIELDS})


TARGETED = TargetedRead(
    how="read whole when the plan writes brands; otherwise by `id:in` (brands live objects "
    "name) and `name` (brands the plan's records name), for their IDs",
    lean_by_keys=lean_by_keys,
    lean_key_requests=len,
    lean_by_ids=lean_by_ids,
)


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await api.delete(f"{PATH}/{live['id']}", entity=f"brand {key}")


KIND = EntityKind(
    name="brands",
    singular="brand",
    display_name="Brands",
    fetch=fetch,
    identify=identify,
    live_id=lambda raw: int(raw["id"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    find=find,
    estimate_requests=estimate,
    read_requests=read_requests,
    targeted=TARGETED,
)
