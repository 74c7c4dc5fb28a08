"""B2B Edition super admins (``/companies/super-admins``), keyed by email (case-folded).

The record holds the super admin's fields and ``companies``: the keys of the companies assigned
to them, sorted. Push creates with ``POST /super-admins``, assigns companies with the
non-destructive ``PUT /super-admins/{id}`` (only the companies named change), and updates the
details with ``PUT /super-admins/info/{id}`` (the email cannot change). B2B Edition has no API to
delete a super admin: a delete is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from stagesync.entities.b2b_common import api, email_key
from stagesync.entities.base import EntityKind, Lookup, Raw
from stagesync.entities.common import unique_by_key, without
from stagesync.errors import StageSyncError
from stagesync.model import EntityKey, Record
from stagesync.ports import StoreApi

LIST_PATH = "/companies/super-admins"
PATH = "/super-admins"
READ_ONLY = ("id", "createdAt", "updatedAt", "companyCount", "uuid", "_companies")


async def _companies(admin_id: int) -> list[int]:
    assigned = await api().get_all(f"{PATH}/{admin_id}/companies")
    return sorted(int(c["companyId"]) for c in assigned)


async def fetch(store: StoreApi) -> list[Raw]:
    admins = await api().get_all(LIST_PATH, limit=200)
    assigned = await asyncio.gather(*(_companies(int(a["id"])) for a in admins))
    for admin, companies in zip(admins, assigned, strict=True):
        admin["_companies"] = companies
    return admins


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key("b2b_super_admins", raws, email_key)


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = without(raw, READ_ONLY)
    record["companies"] = sorted(
        lookup.key_of("b2b_companies", c) for c in raw.get("_companies") or []
    )
    return record


def references(key: str, record: Record) -> Iterable[EntityKey]:
    for company in record.get("companies") or []:
        yield EntityKey("b2b_companies", company)


async def _assign(admin_id: int, want: set[int], have: set[int], entity: str) -> None:
    changes = [{"companyId": c, "isAssigned": True} for c in sorted(want - have)]
    changes += [{"companyId": c, "isAssigned": False} for c in sorted(have - want)]
    if changes:
        await api().put(f"{PATH}/{admin_id}", {"companies": changes}, entity=entity)


def _wanted(record: Record, lookup: Lookup) -> set[int]:
    return {lookup.id_of("b2b_companies", c) for c in record.get("companies") or []}


async def create(store: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    entity = f"B2B super admin {key}"
    created = await api().post(PATH, without(record, ("companies",)), entity=entity)
    admin_id = int(created["id"])
    await _assign(admin_id, _wanted(record, lookup), set(), entity)
    return admin_id


async def update(store: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    entity = f"B2B super admin {key}"
    admin_id = int(live["id"])
    details = without(record, ("companies", "email"))
    await api().put(f"{PATH}/info/{admin_id}", details, entity=entity)
    await _assign(admin_id, _wanted(record, lookup), set(live.get("_companies") or []), entity)


async def delete(store: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    raise StageSyncError(
        f"B2B super admin {key}: B2B Edition has no API to delete a super admin; remove them "
        "in the B2B control panel."
    )


KIND = EntityKind(
    name="b2b_super_admins",
    singular="B2B super admin",
    display_name="B2B Super Admins",
    fetch=fetch,
    identify=identify,
    live_id=lambda raw: int(raw["id"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    estimate_requests=lambda action, record: 2,
    pii_fields=(
        ("email", "email"),
        ("firstName", "name"),
        ("lastName", "name"),
        ("phone", "phone"),
    ),
    pii_key="email",
)
