"""Customer groups, keyed by name (``/v2/customer_groups``).

Category access lists categories by path; discount rules name their category by path, their
product by SKU and their price list by name. Group names are not guaranteed unique by the
platform: a duplicate is a pull-time error naming both groups.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from stagesync.entities.base import (
    PAGE_SIZE,
    EntityKind,
    LiveId,
    Lookup,
    Raw,
    TargetedRead,
    v2_listing,
)
from stagesync.entities.common import unique_by_key, without
from stagesync.errors import NotFoundError
from stagesync.model import EntityKey, Record, Snapshot
from stagesync.ports import StoreApi

PATH = "/v2/customer_groups"
READ_ONLY = ("id", "date_created", "date_modified")


async def fetch(api: StoreApi) -> list[Raw]:
    return await api.get_all(PATH)


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key("customer_groups", raws, lambda raw: str(raw["name"]))


def _rule_sort(rule: Record) -> tuple[str, str, str]:
    target = rule.get("category") or rule.get("product") or rule.get("price_list") or ""
    return (str(rule.get("type")), str(target), str(rule.get("method", "")))


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    """A category or product the store no longer lists (deleted since, where a store keeps
    naming it: ASSUMPTION_DELETE_DROPS_GROUP_DISCOUNT_RULES) is left out of the category access
    and its discount rule with it, and the pull notes it."""
    record = without(raw, READ_ONLY)
    owner = f"customer_groups {key}"
    access = dict(raw.get("category_access") or {"type": "all"})
    if "categories" in access:
        found = (
            lookup.key_or_gone("categories", int(c), owner, "left out of its category access")
            for c in access["categories"] or []
        )
        access["categories"] = sorted(c for c in found if c is not None)
    record["category_access"] = access
    rules = []
    for raw_rule in raw.get("discount_rules") or []:
        rule = without(raw_rule, ("category_id", "product_id", "price_list_id"))
        for name, kind in (("category", "categories"), ("product", "products")):
            if raw_rule.get(f"{name}_id"):
                live_id = int(raw_rule[f"{name}_id"])
                rule[name] = lookup.key_or_gone(kind, live_id, owner, "its rule left out")
        if rule.get("type") in ("category", "product") and rule.get(rule["type"]) is None:
            continue
        if raw_rule.get("price_list_id"):
            rule["price_list"] = lookup.key_of("price_lists", int(raw_rule["price_list_id"]))
        rules.append(rule)
    record["discount_rules"] = sorted(rules, key=_rule_sort)
    return record


def references(key: str, record: Record) -> Iterable[EntityKey]:
    for path in (record.get("category_access") or {}).get("categories") or []:
        yield EntityKey("categories", path)
    for rule in record.get("discount_rules") or []:
        if rule.get("category"):
            yield EntityKey("categories", rule["category"])
        if rule.get("product"):
            yield EntityKey("products", rule["product"])
        if rule.get("price_list"):
            yield EntityKey("price_lists", rule["price_list"])


def payload(record: Record, lookup: Lookup) -> dict[str, Any]:
    body = dict(record)
    access = dict(record.get("category_access") or {"type": "all"})
    if "categories" in access:
        access["categories"] = [lookup.id_of("categories", p) for p in access["categories"]]
    body["category_access"] = access
    rules = []
    for rule in record.get("discount_rules") or []:
        out = without(rule, ("category", "product", "price_list"))
        if rule.get("category"):
            out["category_id"] = lookup.id_of("categories", rule["category"])
        if rule.get("product"):
            out["product_id"] = lookup.id_of("products", rule["product"])
        if rule.get("price_list"):
            out["price_list_id"] = lookup.id_of("price_lists", rule["price_list"])
        rules.append(out)
    body["discount_rules"] = rules
    return body


V2_DEFAULT_LIMIT = 50
"""The page size v2 lists answer without ``limit``: no list caps its pages below it, so a page
of fewer objects is the last."""


async def _named(api: StoreApi, name: str) -> list[Raw]:
    """The groups ``name`` matches: one request, asking 250 a page; only a page of
    ``V2_DEFAULT_LIMIT`` or more (a filter that matched more than names do) is paged on."""
    # ASSUMPTION_CUSTOMER_GROUPS_FILTER_NAME: the filter answers the groups of that name.
    first = await api.get(PATH, {"name": name, "limit": PAGE_SIZE}) or []
    if len(first) < V2_DEFAULT_LIMIT:
        return list(first)
    return await api.get_all(PATH, {"name": name})


async def by_names(api: StoreApi, keys: Sequence[str]) -> list[Raw]:
    """Customer groups named ``keys``, whole: one ``name`` request each (the v2 list documents
    ``name`` as an exact match, and no ``name:in``)."""
    found = await asyncio.gather(*(_named(api, key) for key in keys))
    return [raw for raws in found for raw in raws]


def by_names_requests(keys: Sequence[str], destination: Snapshot) -> int:
    return len(keys)


async def by_ids(api: StoreApi, ids: Sequence[LiveId]) -> list[Raw]:
    """Customer groups of ``ids``: one ``GET /v2/customer_groups/{id}`` each, as the v2 list
    documents no ID filter; a group the store no longer has (404) is left out."""

    async def one(live_id: LiveId) -> list[Raw]:
        try:
            return [await api.get(f"{PATH}/{live_id}")]
        except NotFoundError:
            return []

    found = await asyncio.gather(*(one(live_id) for live_id in ids))
    return [raw for raws in found for raw in raws]


def names(raw: Raw) -> Iterable[tuple[str, LiveId]]:
    """The categories, products and price lists a live group names by ID."""
    for category in (raw.get("category_access") or {}).get("categories") or []:
        yield "categories", int(category)
    for rule in raw.get("discount_rules") or []:
        for name, kind in (
            ("category_id", "categories"),
            ("product_id", "products"),
            ("price_list_id", "price_lists"),
        ):
            if rule.get(name):
                yield kind, int(rule[name])


TARGETED = TargetedRead(
    how="`name`, one request a group (no `name:in`); those live objects name by "
    "`GET /v2/customer_groups/{id}`, one request a group (the v2 list has no ID filter)",
    by_keys=by_names,
    requests=by_names_requests,
    names=names,
    lean_by_keys=by_names,
    lean_key_requests=len,
    lean_by_ids=by_ids,
    lean_id_requests=lambda count: count,
)


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    created = await api.post(PATH, payload(record, lookup), entity=f"customer group {key}")
    return int(created["id"])


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    await api.put(f"{PATH}/{live['id']}", payload(record, lookup), entity=f"customer group {key}")


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await api.delete(f"{PATH}/{live['id']}", entity=f"customer group {key}")


KIND = EntityKind(
    name="customer_groups",
    singular="customer group",
    display_name="Customer Groups",
    fetch=fetch,
    identify=identify,
    live_id=lambda raw: int(raw["id"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    read_requests=v2_listing,
    targeted=TARGETED,
)
