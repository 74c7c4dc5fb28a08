"""B2B Edition companies (``/companies``), keyed by external ``uuid`` when set, else name.

The record holds the company's own fields, ``customerGroup`` and ``priceList`` (by key; the
company's customer group and catalog), ``parent`` (the parent company's key, for hierarchies)
and ``admin`` (email and names of the company's first admin user, which the platform creates
with the company). Read-only fields (``companyId``, ``bcGroupName``, ``catalogName``, dates) are
dropped. Push creates with the admin fields, then sets the parent (``POST
/companies/{id}/parent``); an update rewrites the fields and moves the company in the hierarchy.
The admin's store customer is referenced, so it is created first and linked, not duplicated.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from stagesync.entities.b2b_common import api, company_key, id_or_none, key_or_none
from stagesync.entities.base import EntityKind, Lookup, Raw
from stagesync.entities.common import unique_by_key, without
from stagesync.model import EntityKey, Record
from stagesync.ports import StoreApi

PATH = "/companies"
KIND_NAME = "b2b_companies"
READ_ONLY = (
    "companyId",
    "bcGroupName",
    "catalogName",
    "createdAt",
    "updatedAt",
    "parentCompany",
    "customerGroupId",
    "catalogId",
    "_admin",
)
ADMIN_FIELDS = ("email", "firstName", "lastName")


async def fetch(store: StoreApi) -> list[Raw]:
    companies, users = await asyncio.gather(api().get_all(PATH), api().get_all("/users"))
    admins: dict[int, Raw] = {}
    for user in sorted(users, key=lambda u: int(u["id"])):
        if user.get("role") == 0:
            admins.setdefault(int(user["companyId"]), user)
    for company in companies:
        admin = admins.get(int(company["companyId"]))
        company["_admin"] = {f: admin.get(f) for f in ADMIN_FIELDS} if admin else None
    return companies


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key(KIND_NAME, raws, company_key)


# ASSUMPTION_B2B_COMPANY_FIELD_TYPES: the fields read here have the types the probe checks.
def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = without(raw, READ_ONLY)
    record["customerGroup"] = key_or_none(lookup, "customer_groups", raw.get("customerGroupId"))
    record["priceList"] = key_or_none(lookup, "price_lists", raw.get("catalogId"))
    parent = raw.get("parentCompany")
    record["parent"] = key_or_none(lookup, KIND_NAME, parent.get("companyId")) if parent else None
    admin = raw.get("_admin")
    record["admin"] = dict(admin) if admin else None
    return record


def references(key: str, record: Record) -> Iterable[EntityKey]:
    if record.get("customerGroup"):
        yield EntityKey("customer_groups", record["customerGroup"])
    if record.get("priceList"):
        yield EntityKey("price_lists", record["priceList"])
    if record.get("parent"):
        yield EntityKey(KIND_NAME, record["parent"])
    admin = record.get("admin")
    if admin and admin.get("email"):
        yield EntityKey("customers", str(admin["email"]).casefold())


def _body(record: Record, lookup: Lookup) -> Record:
    body = without(record, ("customerGroup", "priceList", "parent", "admin"))
    body["customerGroupId"] = id_or_none(lookup, "customer_groups", record.get("customerGroup"))
    body["catalogId"] = id_or_none(lookup, "price_lists", record.get("priceList"))
    return {k: v for k, v in body.items() if v is not None}


async def _set_parent(
    company_id: int, parent: str | None, live: Raw | None, key: str, lookup: Lookup
) -> None:
    live_parent = (live or {}).get("parentCompany") or {}
    old = live_parent.get("companyId")
    new = id_or_none(lookup, KIND_NAME, parent)
    if old == new:
        return
    entity = f"B2B company {key}"
    if old:
        await api().delete(f"{PATH}/{old}/subsidiaries/{company_id}", entity=entity)
    if new:
        await api().post(f"{PATH}/{company_id}/parent", {"parentCompanyId": new}, entity=entity)


async def create(store: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    body = _body(record, lookup)
    admin = record.get("admin") or {}
    body["adminEmail"] = admin.get("email")
    body["adminFirstName"] = admin.get("firstName")
    body["adminLastName"] = admin.get("lastName")
    created = await api().post(PATH, body, entity=f"B2B company {key}")
    company_id = int(created["companyId"])
    await _set_parent(company_id, record.get("parent"), None, key, lookup)
    return company_id


async def update(store: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    company_id = int(live["companyId"])
    await api().put(f"{PATH}/{company_id}", _body(record, lookup), entity=f"B2B company {key}")
    await _set_parent(company_id, record.get("parent"), live, key, lookup)


async def delete(store: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await api().delete(f"{PATH}/{live['companyId']}", entity=f"B2B company {key}")


def warnings(key: str, after: Record, before: Record | None) -> list[str]:
    if before is not None and (before.get("admin") or {}) != (after.get("admin") or {}):
        return [
            f"B2B company {key}: its admin user is set only when the company is created; "
            "change the admin through B2B users."
        ]
    return []


KIND = EntityKind(
    name=KIND_NAME,
    singular="B2B company",
    display_name="B2B Companies",
    fetch=fetch,
    identify=identify,
    live_id=lambda raw: int(raw["companyId"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    warnings=warnings,
    pii_fields=(
        ("companyEmail", "email"),
        ("companyPhone", "phone"),
        ("email", "email"),
        ("firstName", "name"),
        ("lastName", "name"),
    ),
)
