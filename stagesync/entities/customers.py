"""Customers, keyed by email, case-insensitively (``/v3/customers``).

The record holds the profile and contact fields, ``customer_group`` (by name), ``channels`` (by
key; ``null`` = every channel), ``origin_channel``, ``addresses`` (keyed by their fields, since they
have no name), ``attributes`` (``{name, type, value}``, by attribute name), ``form_fields`` (by
name) and ``store_credit_amounts``. Passwords are never read or written: a pushed customer gets
the platform's default (a password reset at first login), and the plan says so.

Creates are gathered into ``POST /v3/customers`` batches of at most 10 (with up to 10 addresses
inline), updates into ``PUT`` batches of 10, one request at a time (the platform allows 3).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from stagesync.entities.base import EntityKind, Lookup, Raw
from stagesync.entities.batching import Batcher, batcher, chunked, limiter, lock
from stagesync.entities.channel_keys import channel_keys, ids_of, keys_of
from stagesync.entities.common import unique_by_key, without
from stagesync.model import Action, EntityKey, Record
from stagesync.ports import StoreApi

PATH = "/v3/customers"
INCLUDE = "addresses,storecredit,attributes,formfields"
MAX_BATCH = 10
ATTRIBUTE_VALUES_CONCURRENCY = 3
ADDRESS_WRITES_CONCURRENCY = 10
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
    "_channels",
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


async def fetch(api: StoreApi) -> list[Raw]:
    customers, attributes, channels = await asyncio.gather(
        api.get_all(PATH, {"include": INCLUDE}),
        api.get_all(f"{PATH}/attributes"),
        channel_keys(api),
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
        out.append({**raw, "_attributes": values, "_channels": channels})
    return out


def customer_key(raw: Raw) -> str:
    return str(raw["email"]).casefold()


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key("customers", raws, customer_key)


def address_order(address: Record) -> tuple[str, ...]:
    return tuple(str(address.get(f) or "") for f in sorted(address))


def normalise_address(raw: Raw) -> Record:
    return without(raw, ADDRESS_READ_ONLY)


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = without(raw, READ_ONLY)
    group_id = int(raw.get("customer_group_id") or 0)
    record["customer_group"] = lookup.key_of("customer_groups", group_id) if group_id else None
    channels: dict[int, str] = raw.get("_channels") or {}
    ids = raw.get("channel_ids")
    record["channels"] = None if ids is None else keys_of(ids, channels)
    origin = raw.get("origin_channel_id")
    record["origin_channel"] = keys_of([origin], channels)[0] if origin else None
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
    async with lock(lookup, slot):
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
    channels = record.get("channels")
    body["channel_ids"] = None if channels is None else await ids_of(api, lookup, channels)
    return body


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    body = await profile(api, record, lookup)
    if record.get("origin_channel"):
        body["origin_channel_id"] = (await ids_of(api, lookup, [record["origin_channel"]]))[0]
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

    async def send(rows: list[dict[str, Any]]) -> Sequence[int]:
        created = await api.post(PATH, rows, entity=f"customers ({len(rows)})")
        by_email = {str(c["email"]).casefold(): int(c["id"]) for c in created}
        return [by_email[str(row["email"]).casefold()] for row in rows]

    creator = batcher(lookup, "customers:create", lambda: Batcher(MAX_BATCH, send))
    customer_id = await creator.submit(body)
    extra = addresses[MAX_BATCH:]
    for batch in chunked(extra, MAX_BATCH):
        rows = [{**a, "customer_id": customer_id} for a in batch]
        async with limiter(lookup, "POST addresses", ADDRESS_WRITES_CONCURRENCY):
            await api.post(f"{PATH}/addresses", rows, entity=f"customer {key} addresses")
    return customer_id


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    customer_id = int(live["id"])
    body = {**(await profile(api, record, lookup)), "id": customer_id}

    async def send(rows: list[dict[str, Any]]) -> Sequence[None]:
        await api.put(PATH, rows, entity=f"customers ({len(rows)})")
        return [None] * len(rows)

    updater = batcher(lookup, "customers:update", lambda: Batcher(MAX_BATCH, send))
    await updater.submit(body)
    await sync_addresses(api, key, customer_id, record, live, lookup)
    await sync_attributes(api, key, customer_id, record, live, lookup)


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
    for batch in chunked(desired, MAX_BATCH):
        rows = [{**a, "customer_id": customer_id} for a in batch]
        async with limiter(lookup, "POST addresses", ADDRESS_WRITES_CONCURRENCY):
            await api.post(f"{PATH}/addresses", rows, entity=f"customer {key} addresses")


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
        async with limiter(lookup, "PUT attribute-values", ATTRIBUTE_VALUES_CONCURRENCY):
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
    pii_fields=PII,
    pii_key="email",
    notifies_customers=True,
    warnings=warnings,
)
