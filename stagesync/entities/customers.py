"""Customers, keyed by email, case-insensitively (``/v3/customers``).

The record holds the profile and contact fields, ``customer_group`` (by name), ``channels`` (by
key; ``null`` = every channel), ``origin_channel``, ``addresses`` (keyed by their fields, since they
have no name), ``attributes`` (``{name, type, value}``, by attribute name), ``form_fields`` (by
name) and ``store_credit_amounts``. Passwords are never read or written: a pushed customer gets
the platform's default (a password reset at first login), and the plan says so.

Push hands creates to ``create_many`` and updates to ``update_many`` in batches of at most 10, the
platform's limit for ``POST`` / ``PUT /v3/customers`` (a create carries up to 10 addresses inline).
The client keeps every customer endpoint within its documented concurrency limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from stagesync.entities import channels
from stagesync.entities.base import EntityKind, Lookup, Raw, pages
from stagesync.entities.common import chunked, unique_by_key, without
from stagesync.errors import StageSyncError
from stagesync.model import Action, EntityKey, Record
from stagesync.ports import StoreApi

PATH = "/v3/customers"
INCLUDE = "addresses,storecredit,attributes,formfields"
MAX_BATCH = 10
READ_ONLY = (
    "id",
    "registration_ip_address",
    "date_created",
    "date_modified",
    "address_count",
    "attribute_count",
    "authentication",
    "customer_group_id",
    "channel_ids",
    "origin_channel_id",
    "addresses",
    "attributes",
    "_attributes",
)
ADDRESS_READ_ONLY = ("id", "customer_id", "country")
PII = (
    ("email", "email"),
    ("first_name", "name"),
    ("last_name", "name"),
    ("company", "name"),
    ("phone", "phone"),
    ("address1", "address"),
    ("address2", "address"),
    ("city", "address"),
    ("postal_code", "address"),
    ("notes", "text"),
)


async def fetch(api: StoreApi, query: dict[str, Any] | None = None) -> list[Raw]:
    customers, attributes = await asyncio.gather(
        api.get_all(PATH, {"include": INCLUDE, **(query or {})}),
        api.get_all(f"{PATH}/attributes"),
    )
    definitions = {int(a["id"]): a for a in attributes}
    out = []
    for raw in customers:
        values = []
        for value in raw.get("attributes") or []:
            definition = definitions.get(int(value["attribute_id"]), {})
            values.append(
                {
                    "name": definition.get("name", f"#{value['attribute_id']}"),
                    "type": definition.get("type", "string"),
                    "value": value.get("attribute_value"),
                }
            )
        out.append({**raw, "_attributes": values})
    return out


async def find(api: StoreApi, key: str, lookup: Lookup) -> Raw | None:
    """The live customer with email ``key``: one filtered request (and the attribute names)."""
    return identify(await fetch(api, {"email:in": key})).get(key)


def customer_key(raw: Raw) -> str:
    return str(raw["email"]).casefold()


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key("customers", raws, customer_key)


def address_order(address: Record) -> tuple[str, ...]:
    return tuple(str(address.get(f) or "") for f in sorted(address))


def normalise_address(raw: Raw) -> Record:
    return without(raw, ADDRESS_READ_ONLY)


# ASSUMPTION_CUSTOMER_FIELD_TYPES: the fields read here have the types the probe checks.
def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = without(raw, READ_ONLY)
    group_id = int(raw.get("customer_group_id") or 0)
    record["customer_group"] = lookup.key_of("customer_groups", group_id) if group_id else None
    ids = raw.get("channel_ids")
    record["channels"] = None if ids is None else channels.keys_of(lookup, ids)
    origin = raw.get("origin_channel_id")
    record["origin_channel"] = channels.key_of(lookup, origin) if origin else None
    record["addresses"] = sorted(
        (normalise_address(a) for a in raw.get("addresses") or []), key=address_order
    )
    record["attributes"] = sorted(raw.get("_attributes") or [], key=lambda a: str(a["name"]))
    record["form_fields"] = sorted(
        raw.get("form_fields") or [], key=lambda f: str(f.get("name", ""))
    )
    return record


def references(key: str, record: Record) -> Iterable[EntityKey]:
    if record.get("customer_group"):
        yield EntityKey("customer_groups", record["customer_group"])


# -- writes ------------------------------------------------------------------------------------


async def attribute_ids(api: StoreApi, lookup: Lookup, wanted: list[Record]) -> dict[str, int]:
    """Ids of the attribute definitions ``wanted`` names, creating the missing ones (once)."""
    slot = "customer_attributes"
    async with lookup.lock(slot):
        if not lookup.ids(slot):
            for attribute in await api.get_all(f"{PATH}/attributes"):
                lookup.add(slot, str(attribute["name"]), int(attribute["id"]))
        missing = [a for a in wanted if not lookup.has(slot, str(a["name"]))]
        for batch in chunked(missing, MAX_BATCH):
            body = [{"name": a["name"], "type": a.get("type", "string")} for a in batch]
            for created in await api.post(f"{PATH}/attributes", body, entity="customer attributes"):
                lookup.add(slot, str(created["name"]), int(created["id"]))
    return {str(a["name"]): lookup.id_of(slot, str(a["name"])) for a in wanted}


async def profile(api: StoreApi, record: Record, lookup: Lookup) -> dict[str, Any]:
    """The customer's own fields as the API takes them (no sub-resources)."""
    body = without(
        record, ("customer_group", "channels", "origin_channel", "addresses", "attributes")
    )
    group = record.get("customer_group")
    body["customer_group_id"] = lookup.id_of("customer_groups", group) if group else 0
    wanted = record.get("channels")
    body["channel_ids"] = None if wanted is None else await channels.ids_of(api, lookup, wanted)
    return body


async def new_customer(api: StoreApi, record: Record, lookup: Lookup) -> dict[str, Any]:
    """The ``POST /v3/customers`` item for ``record`` (addresses beyond 10 are posted after)."""
    body = await profile(api, record, lookup)
    if record.get("origin_channel"):
        body["origin_channel_id"] = await channels.id_of(api, lookup, record["origin_channel"])
    addresses = record.get("addresses") or []
    body["addresses"] = addresses[:MAX_BATCH]
    attributes = record.get("attributes") or []
    ids = await attribute_ids(api, lookup, attributes)
    body["attributes"] = [
        {"attribute_id": ids[str(a["name"])], "attribute_value": str(a["value"])}
        for a in attributes
    ]
    # No password is sent: the platform's default applies (reset at first login).
    body["trigger_account_created_notification"] = False
    return body


async def create_many(api: StoreApi, items: list[tuple[str, Record]], lookup: Lookup) -> list[int]:
    """Up to 10 customers in one ``POST``, then the addresses past the 10 sent inline."""
    rows = [await new_customer(api, record, lookup) for _, record in items]
    names = ", ".join(key for key, _ in items)
    created = await api.post(PATH, rows, entity=f"customers {names}")
    by_email = {str(c["email"]).casefold(): int(c["id"]) for c in created}
    missing = [key for key, _ in items if key not in by_email]
    if missing:
        raise StageSyncError(f"the store created only some of the customers {names}.")
    for key, record in items:
        extra = (record.get("addresses") or [])[MAX_BATCH:]
        await post_addresses(api, key, by_email[key], extra)
    return [by_email[key] for key, _ in items]


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    return (await create_many(api, [(key, record)], lookup))[0]


async def update_many(api: StoreApi, items: list[tuple[str, Record, Raw]], lookup: Lookup) -> None:
    """Profiles of up to 10 customers in one ``PUT``; addresses and attributes customer by
    customer."""
    rows = [
        {**(await profile(api, record, lookup)), "id": int(live["id"])} for _, record, live in items
    ]
    await api.put(PATH, rows, entity=f"customers {', '.join(key for key, _, _ in items)}")
    for key, record, live in items:
        await sync_addresses(api, key, int(live["id"]), record, live, lookup)
        await sync_attributes(api, key, int(live["id"]), record, live, lookup)


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    await update_many(api, [(key, record, live)], lookup)


async def post_addresses(api: StoreApi, key: str, customer_id: int, rows: list[Record]) -> None:
    for batch in chunked(rows, MAX_BATCH):
        body = [{**a, "customer_id": customer_id} for a in batch]
        await api.post(f"{PATH}/addresses", body, entity=f"customer {key} addresses")


async def sync_addresses(
    api: StoreApi, key: str, customer_id: int, record: Record, live: Raw, lookup: Lookup
) -> None:
    desired = [dict(a) for a in record.get("addresses") or []]
    stale: list[int] = []
    for raw in live.get("addresses") or []:
        normalised = normalise_address(raw)
        if normalised in desired:
            desired.remove(normalised)
        else:
            stale.append(int(raw["id"]))
    if stale:
        ids = ",".join(str(i) for i in stale)
        await api.delete(f"{PATH}/addresses", {"id:in": ids}, entity=f"customer {key} addresses")
    await post_addresses(api, key, customer_id, desired)


async def sync_attributes(
    api: StoreApi, key: str, customer_id: int, record: Record, live: Raw, lookup: Lookup
) -> None:
    desired = {str(a["name"]): a for a in record.get("attributes") or []}
    current = {str(a["name"]): a for a in live.get("_attributes") or []}
    if any(current.get(name) != value for name, value in desired.items()):
        ids = await attribute_ids(api, lookup, list(desired.values()))
        rows = [
            {"attribute_id": ids[name], "value": str(a["value"]), "customer_id": customer_id}
            for name, a in sorted(desired.items())
        ]
        await api.put(f"{PATH}/attribute-values", rows, entity=f"customer {key} attributes")
    gone = set(current) - set(desired)
    if gone:
        live_ids = [
            int(v["id"])
            for v, a in zip(
                live.get("attributes") or [], live.get("_attributes") or [], strict=False
            )
            if a["name"] in gone
        ]
        if live_ids:
            await api.delete(
                f"{PATH}/attribute-values",
                {"id:in": ",".join(str(i) for i in live_ids)},
                entity=f"customer {key} attributes",
            )


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await api.delete(PATH, {"id:in": int(live["id"])}, entity=f"customer {key}")


def estimate(action: Action, record: Record | None) -> int:
    if action is Action.DELETE:
        return 1
    return 2 if action is Action.UPDATE else 1


def warnings(key: str, record: Record, before: Record | None) -> list[str]:
    if before is not None:
        return []  # an existing customer keeps its password
    return [
        "Customers are pushed without passwords (the platform never returns them): each pushed "
        "customer gets the platform's default, a password reset at first login."
    ]


KIND = EntityKind(
    name="customers",
    singular="customer",
    display_name="Customers",
    fetch=fetch,
    identify=identify,
    live_id=lambda raw: int(raw["id"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    estimate_requests=estimate,
    read_requests=lambda count, _: pages(count) + 1,  # the customers, then the attribute names
    find=find,
    create_many=create_many,
    update_many=update_many,
    batch_size=MAX_BATCH,
    pii_fields=PII,
    pii_key="email",
    notifies_customers=True,
    warnings=warnings,
)
