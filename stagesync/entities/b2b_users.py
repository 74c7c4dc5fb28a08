"""B2B Edition users (``/users``), keyed by email (case-folded).

The record holds the user's fields with ``company`` by key; ``id``, ``uuid``, ``customerId`` and
dates are dropped. The platform creates a store customer for every user (and the company's
first admin user with the company), so the record references the store customer by email and
push creates a user that already exists on the destination (the company's admin) by updating it.
``companyId`` cannot change after creation: moving a user to another company is a replace.
"""

from __future__ import annotations

from collections.abc import Iterable

from stagesync.entities.b2b_common import api, email_key
from stagesync.entities.base import EntityKind, Lookup, Raw
from stagesync.entities.common import unique_by_key, without
from stagesync.model import EntityKey, Record
from stagesync.ports import StoreApi

PATH = "/users"
READ_ONLY = ("id", "uuid", "customerId", "companyId", "createdAt", "updatedAt")


async def fetch(store: StoreApi) -> list[Raw]:
    return await api().get_all(PATH)


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key("b2b_users", raws, email_key)


# ASSUMPTION_B2B_USER_FIELD_TYPES: the fields read here have the types the probe checks.
def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = without(raw, READ_ONLY)
    record["company"] = lookup.key_of("b2b_companies", int(raw["companyId"]))
    record["channelIds"] = sorted(record.get("channelIds") or [])
    return record


def references(key: str, record: Record) -> Iterable[EntityKey]:
    yield EntityKey("b2b_companies", record["company"])
    yield EntityKey("customers", key)


def _body(record: Record, lookup: Lookup) -> Record:
    body = without(record, ("company",))
    body["companyId"] = lookup.id_of("b2b_companies", record["company"])
    return body


async def find(store: StoreApi, key: str, lookup: Lookup) -> Raw | None:
    found = await api().get_all(PATH, {"email": key})
    return next((raw for raw in found if email_key(raw) == key), None)


async def create(store: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    entity = f"B2B user {key}"
    existing = await find(store, key, lookup)
    if existing is not None:  # made with its company (the company's admin): adopt it
        await api().put(f"{PATH}/{existing['id']}", _body(record, lookup), entity=entity)
        return int(existing["id"])
    created = await api().post(PATH, _body(record, lookup), entity=entity)
    return int(created["id"])


async def update(store: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    await api().put(f"{PATH}/{live['id']}", _body(record, lookup), entity=f"B2B user {key}")


async def delete(store: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await api().delete(f"{PATH}/{live['id']}", entity=f"B2B user {key}")


def must_replace(key: str, before: Record, after: Record) -> str | None:
    if before.get("company") != after.get("company"):
        return "a B2B user's company cannot change after it is created"
    return None


KIND = EntityKind(
    name="b2b_users",
    singular="B2B user",
    display_name="B2B Users",
    fetch=fetch,
    identify=identify,
    live_id=lambda raw: int(raw["id"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    find=find,
    must_replace=must_replace,
    pii_fields=(
        ("email", "email"),
        ("firstName", "name"),
        ("lastName", "name"),
        ("phoneNumber", "phone"),
    ),
    pii_key="email",
)
