"""B2B Edition shopping lists (``/shopping-list``), keyed by ``<owner email>/<name>``.

The record holds the list's fields with ``owner`` (the B2B user's email) and ``items`` naming
their product by SKU (``product``) with quantity, sorted by it. ``id``, ``userId``, the derived
``companyId`` and dates are dropped. An update sends quantity 0 for items to remove, as the
platform requires.
"""

from __future__ import annotations

from collections.abc import Iterable

from stagesync.entities.b2b_common import api, id_or_none, key_or_none
from stagesync.entities.base import EntityKind, Lookup, Raw
from stagesync.entities.common import unique_by_key, without
from stagesync.model import EntityKey, Record
from stagesync.ports import StoreApi

PATH = "/shopping-list"
READ_ONLY = ("id", "userId", "companyId", "customerId", "createdAt", "updatedAt")


async def fetch(store: StoreApi) -> list[Raw]:
    return await api().get_all(PATH)


def identify_with(raws: list[Raw], lookup: Lookup) -> dict[str, Raw]:
    def key(raw: Raw) -> str:
        return f"{lookup.key_of('b2b_users', int(raw['userId']))}/{raw['name']}"

    return unique_by_key("b2b_shopping_lists", raws, key)


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key("b2b_shopping_lists", raws, lambda r: f"{r['userId']}/{r['name']}")


def _item(raw: Raw, lookup: Lookup) -> Record:
    item = without(raw, ("productId", "variantId", "id", "itemId"))
    item["product"] = key_or_none(lookup, "products", raw.get("productId"))
    return item


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = without(raw, READ_ONLY)
    record["owner"] = lookup.key_of("b2b_users", int(raw["userId"]))
    record["items"] = sorted(
        (_item(i, lookup) for i in raw.get("items") or []),
        key=lambda i: (str(i.get("product") or ""), str(i.get("sku") or "")),
    )
    return record


def references(key: str, record: Record) -> Iterable[EntityKey]:
    yield EntityKey("b2b_users", record["owner"])
    for item in record.get("items") or []:
        if item.get("product"):
            yield EntityKey("products", item["product"])


def _items(record: Record, lookup: Lookup) -> list[Record]:
    return [
        {**without(i, ("product",)), "productId": id_or_none(lookup, "products", i.get("product"))}
        for i in record.get("items") or []
    ]


def _body(record: Record, lookup: Lookup) -> Record:
    body = without(record, ("owner", "items"))
    body["userId"] = lookup.id_of("b2b_users", record["owner"])
    body["items"] = _items(record, lookup)
    return body


async def create(store: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    created = await api().post(PATH, _body(record, lookup), entity=f"B2B shopping list {key}")
    return int(created["id"])


async def update(store: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    body = _body(record, lookup)
    wanted = {i["productId"] for i in body["items"]}
    body["items"] += [
        {"productId": i["productId"], "variantId": i.get("variantId"), "quantity": 0}
        for i in live.get("items") or []
        if i["productId"] not in wanted
    ]
    await api().put(f"{PATH}/{live['id']}", body, entity=f"B2B shopping list {key}")


async def delete(store: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await api().delete(f"{PATH}/{live['id']}", entity=f"B2B shopping list {key}")


KIND = EntityKind(
    name="b2b_shopping_lists",
    singular="B2B shopping list",
    display_name="B2B Shopping Lists",
    fetch=fetch,
    identify=identify,
    identify_with=identify_with,
    live_id=lambda raw: int(raw["id"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    pii_fields=(("owner", "email"),),
    redacted_key=lambda record: f"{record['owner']}/{record['name']}",
)
