"""B2B Edition company addresses (``/addresses``), keyed by ``externalId`` when set, else by
company key and address fields: ``<company>/<first> <last>/<line 1>/<city>/<zip>/<country code>``.

The record holds the address fields with ``company`` by key; ``id`` and dates are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable

from stagesync.entities.b2b_common import api
from stagesync.entities.base import EntityKind, Lookup, Raw
from stagesync.entities.common import unique_by_key, without
from stagesync.model import EntityKey, Record
from stagesync.ports import StoreApi

PATH = "/addresses"
READ_ONLY = ("id", "companyId", "createdAt", "updatedAt")


async def fetch(store: StoreApi) -> list[Raw]:
    return await api().get_all(PATH)


def address_key(raw: Raw, company: str) -> str:
    external = str(raw.get("externalId") or "").strip()
    if external:
        return external
    name = f"{raw.get('firstName') or ''} {raw.get('lastName') or ''}".strip()
    parts = (raw.get(f) or "" for f in ("addressLine1", "city", "zipCode", "countryCode"))
    return "/".join([company, name, *map(str, parts)])


def identify_with(raws: list[Raw], lookup: Lookup) -> dict[str, Raw]:
    def key(raw: Raw) -> str:
        return address_key(raw, lookup.key_of("b2b_companies", int(raw["companyId"])))

    return unique_by_key("b2b_addresses", raws, key)


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key("b2b_addresses", raws, lambda raw: address_key(raw, str(raw["companyId"])))


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = without(raw, READ_ONLY)
    record["company"] = lookup.key_of("b2b_companies", int(raw["companyId"]))
    return record


def references(key: str, record: Record) -> Iterable[EntityKey]:
    yield EntityKey("b2b_companies", record["company"])


def _body(record: Record, lookup: Lookup) -> Record:
    body = without(record, ("company",))
    body["companyId"] = lookup.id_of("b2b_companies", record["company"])
    return body


async def create(store: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    created = await api().post(PATH, _body(record, lookup), entity=f"B2B address {key}")
    return int(created["id"])


async def update(store: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    await api().put(f"{PATH}/{live['id']}", _body(record, lookup), entity=f"B2B address {key}")


async def delete(store: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await api().delete(f"{PATH}/{live['id']}", entity=f"B2B address {key}")


async def find(store: StoreApi, key: str, lookup: Lookup) -> Raw | None:
    return identify_with(await api().get_all(PATH), lookup).get(key)


KIND = EntityKind(
    name="b2b_addresses",
    singular="B2B address",
    display_name="B2B Addresses",
    fetch=fetch,
    identify=identify,
    identify_with=identify_with,
    live_id=lambda raw: int(raw["id"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    find=find,
    pii_fields=(
        ("firstName", "name"),
        ("lastName", "name"),
        ("addressLine1", "address"),
        ("addressLine2", "address"),
        ("city", "address"),
        ("zipCode", "address"),
        ("phoneNumber", "phone"),
    ),
    redacted_key=lambda record: address_key(record, str(record["company"])),
)
