"""Customers, keyed by email, case-insensitively (``/v3/customers``).

The record holds the profile and contact fields, ``customer_group`` (by name), ``channels`` (by
key; ``null`` = every channel), ``origin_channel``, ``addresses`` (keyed by their fields, since they
have no name), ``attributes`` (``{name, type, value}``, by attribute name), ``form_fields`` (by
name) and ``store_credit_amounts``. Passwords are never read or written: a pushed customer gets
the platform's default (a password reset at first login), and the plan says so.

Push hands creates to ``create_many`` and updates to ``update_many`` in batches of at most 10, the
platform's limit for ``POST`` / ``PUT /v3/customers`` (a create carries up to 10 addresses inline).
The client keeps every customer endpoint within its documented concurrency limit.

Push reads only the plan's customers (``TARGETED``): ``email:in`` with every sub-resource, as
many emails a request as fit the URL once percent-encoded; the platform matches emails whatever
their letter case, and keys are case-folded emails, so what comes back is identified by key as
a whole read identifies it. An email with a comma (``"a,b"@example.com``), which ``email:in``
would split, is found by v2's ``email`` filter. Customers are referable: kinds that name them
can have them read by ``id:in`` or ``email:in`` for their IDs only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from stagesync.entities import channels
from stagesync.entities.base import (
    IDS_PER_REQUEST,
    PAGE_SIZE,
    EntityKind,
    LiveId,
    Lookup,
    Raw,
    TargetedRead,
    encoded_length,
    id_requests,
    packed,
    pages,
)
from stagesync.entities.common import chunked, unique_by_key, without
from stagesync.errors import StageSyncError
from stagesync.model import Action, EntityKey, Record, Snapshot
from stagesync.ports import Params, StoreApi

NAME = "customers"
PATH = "/v3/customers"
INCLUDE = "addresses,storecredit,attributes,formfields"
ATTRIBUTES = f"{PATH}/attributes"
V2_PATH = "/v2/customers"
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


async def fetch(api: StoreApi) -> list[Raw]:
    customers, attributes = await asyncio.gather(
        api.get_all(PATH, {"include": INCLUDE}), api.get_all(ATTRIBUTES)
    )
    return with_attribute_names(customers, attributes)


def with_attribute_names(customers: list[Raw], attributes: list[Raw]) -> list[Raw]:
    """``customers`` (read with ``include=attributes``) each annotated with its attribute values
    by name (``_attributes``): the values name their definition only by ID."""
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
    return identify(await read_by_keys(api, [key])).get(key)


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
    if not wanted:
        return {}
    async with lookup.lock(slot):
        if not lookup.ids(slot):
            for attribute in await api.get_all(ATTRIBUTES):
                lookup.add(slot, str(attribute["name"]), int(attribute["id"]))
        missing = [a for a in wanted if not lookup.has(slot, str(a["name"]))]
        for batch in chunked(missing, MAX_BATCH):
            body = [{"name": a["name"], "type": a.get("type", "string")} for a in batch]
            for created in await api.post(ATTRIBUTES, body, entity="customer attributes"):
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
    """A create's share of its batch's ``POST`` and the addresses past the 10 it carries; an
    update's share of its batch's ``PUT`` (what else it writes: ``batch_extra``); a delete."""
    if action in (Action.CREATE, Action.REPLACE):
        extra = len((record or {}).get("addresses") or []) - MAX_BATCH
        return (2 if action is Action.REPLACE else 1) + max(0, -(-extra // MAX_BATCH))
    return 1


def sub_resource_writes(before: Record, after: Record) -> tuple[int, bool]:
    """The address and attribute writes ``update_many`` makes to turn ``before`` into
    ``after`` (as ``sync_addresses`` and ``sync_attributes`` decide), and whether attribute
    values are written (which needs the attribute definitions)."""
    desired = [dict(a) for a in after.get("addresses") or []]
    stale = 0
    for address in before.get("addresses") or []:
        if address in desired:
            desired.remove(address)
        else:
            stale += 1
    writes = int(stale > 0) + -(-len(desired) // MAX_BATCH)
    wanted = {str(a["name"]): a for a in after.get("attributes") or []}
    current = {str(a["name"]): a for a in before.get("attributes") or []}
    valued = any(current.get(name) != value for name, value in wanted.items())
    return writes + int(valued) + int(bool(set(current) - set(wanted))), valued


def batch_extra(action: Action, pairs: Sequence[tuple[Record | None, Record | None]]) -> int:
    """Beyond the batch's one ``POST`` or ``PUT``: the addresses and attribute values of an
    update batch's customers, and one read of the attribute definitions when the batch writes
    attribute values (a push reads them once: this counts it per batch)."""
    if action is Action.CREATE:
        return int(any((after or {}).get("attributes") for _, after in pairs))
    if action is not Action.UPDATE:
        return 0
    writes = [sub_resource_writes(b, a) for b, a in pairs if b is not None and a is not None]
    return sum(n for n, _ in writes) + int(any(valued for _, valued in writes))


def warnings(key: str, record: Record, before: Record | None) -> list[str]:
    if before is not None:
        return []  # an existing customer keeps its password
    return [
        "Customers are pushed without passwords (the platform never returns them): each pushed "
        "customer gets the platform's default, a password reset at first login."
    ]


# -- targeted reads (push) ------------------------------------------------------------------


def split_keys(keys: Sequence[str]) -> tuple[list[str], list[str]]:
    """``keys`` as (those ``email:in`` can carry, those it cannot): an email may hold a comma
    (in a quoted local part), which ``email:in`` would split into two emails."""
    return [k for k in keys if "," not in k], [k for k in keys if "," in k]


def key_queries(keys: Sequence[str]) -> list[dict[str, str]]:
    """``email:in`` filters for ``keys`` (without commas), as many to a request as a page holds
    and the query budget allows, counted as sent: ``@`` and ``,`` are percent-encoded."""
    # ASSUMPTION_CUSTOMERS_FILTER_EMAIL_IN: email:in answers the customers with those emails,
    # whatever their letter case.
    groups = packed(keys, PAGE_SIZE, measure=encoded_length)
    return [{"email:in": ",".join(group)} for group in groups]


async def _listed(api: StoreApi, queries: list[dict[str, str]], extra: Params) -> list[Raw]:
    found = await asyncio.gather(*(api.get_all(PATH, {**query, **extra}) for query in queries))
    return [raw for raws in found for raw in raws]


async def _v2_by_email(api: StoreApi, keys: Sequence[str]) -> list[Raw]:
    """The v2 customers of ``keys`` (id and email among their fields): v2's ``email`` filter
    takes one whole email, commas included. Emails are unique, so one page holds the answer."""
    found = await asyncio.gather(*(api.get(V2_PATH, {"email": key}) for key in keys))
    return [raw for raws in found for raw in raws or []]


async def read_by_keys(api: StoreApi, keys: Sequence[str]) -> list[Raw]:
    """The customers keyed ``keys`` complete as ``fetch`` makes them: ``email:in`` with every
    sub-resource; an email with a comma through v2's ``email`` for its ID, then ``id:in``; the
    attribute definitions when a customer found has attribute values."""
    listed, lone = split_keys(keys)
    extra = {"include": INCLUDE}

    async def by_ids() -> list[Raw]:
        ids = [str(raw["id"]) for raw in await _v2_by_email(api, lone)]
        groups = chunked(ids, IDS_PER_REQUEST)
        return await _listed(api, [{"id:in": ",".join(g)} for g in groups], extra)

    found, more = await asyncio.gather(_listed(api, key_queries(listed), extra), by_ids())
    unique = list({int(raw["id"]): raw for raw in [*found, *more]}.values())
    valued = any(raw.get("attributes") for raw in unique)
    return with_attribute_names(unique, await api.get_all(ATTRIBUTES) if valued else [])


def read_by_keys_requests(keys: Sequence[str], destination: Snapshot) -> int:
    """What ``read_by_keys`` takes for ``keys``, the destination's records saying which exist
    and whether any has attribute values."""
    listed, lone = split_keys(keys)
    records = destination.records(NAME)
    found = sum(1 for key in lone if key in records)
    valued = any((records.get(key) or {}).get("attributes") for key in keys)
    return len(key_queries(listed)) + len(lone) + id_requests(found) + int(valued)


async def lean_by_keys(api: StoreApi, keys: Sequence[str]) -> list[Raw]:
    """Customers keyed ``keys``, without sub-resources (the list documents no
    ``include_fields``): ``email:in`` packed as ``key_queries``; v2 ``email`` for one with a
    comma."""
    listed, lone = split_keys(keys)
    found, more = await asyncio.gather(
        _listed(api, key_queries(listed), {}), _v2_by_email(api, lone)
    )
    return [*found, *more]


def lean_key_requests(keys: Sequence[str]) -> int:
    listed, lone = split_keys(keys)
    return len(key_queries(listed)) + len(lone)


async def lean_by_ids(api: StoreApi, ids: Sequence[LiveId]) -> list[Raw]:
    """Customers of ``ids``, without sub-resources, by ``id:in``."""
    groups = chunked([str(i) for i in ids], IDS_PER_REQUEST)
    return await _listed(api, [{"id:in": ",".join(g)} for g in groups], {})


async def fetch_keys(api: StoreApi) -> list[Raw]:
    """Every customer without sub-resources or attribute names, at 250 a page."""
    return await api.get_all(PATH)


def names(raw: Raw) -> Iterable[tuple[str, LiveId]]:
    """The customer group and channels a live customer names by ID."""
    if raw.get("customer_group_id"):
        yield "customer_groups", int(raw["customer_group_id"])
    for channel in raw.get("channel_ids") or []:
        yield channels.NAME, int(channel)
    if raw.get("origin_channel_id"):
        yield channels.NAME, int(raw["origin_channel_id"])


TARGETED = TargetedRead(
    how="`email:in` with every sub-resource, as many emails a request as 250 a page and the "
    "query budget allow (`id:in` after v2's `email` for an email with a comma); the attribute "
    "definitions when one has attribute values; created ones by `email:in` without "
    "sub-resources",
    by_keys=read_by_keys,
    requests=read_by_keys_requests,
    names=names,
    lean_by_keys=lean_by_keys,
    lean_key_requests=lean_key_requests,
    lean_by_ids=lean_by_ids,
)


KIND = EntityKind(
    name=NAME,
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
    targeted=TARGETED,
    fetch_keys=fetch_keys,
    keys_read_requests=lambda count, _: pages(count),
    create_many=create_many,
    update_many=update_many,
    batch_size=MAX_BATCH,
    batch_extra=batch_extra,
    pii_fields=PII,
    pii_key="email",
    notifies_customers=True,
    warnings=warnings,
)
