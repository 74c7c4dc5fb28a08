"""Categories of the default storefront's category tree, keyed by path (``Shoes/Running``).

Read and written through the tree API (``/v3/catalog/trees/categories``), which every store has
and which, unlike the legacy ``/v3/catalog/categories``, names the tree. A ``/`` inside a name is
escaped as ``\\/`` in the key. Names are unique among siblings, so a path is a natural key.
"""

from __future__ import annotations

from collections.abc import Iterable

from stagesync.entities.base import EntityKind, Lookup, Raw, pages
from stagesync.entities.common import unique_by_key, without
from stagesync.errors import StageSyncError
from stagesync.keys import join_path, split_path
from stagesync.model import EntityKey, Record
from stagesync.ports import StoreApi

PATH = "/v3/catalog/trees/categories"
TREES = "/v3/catalog/trees"
DEFAULT_CHANNEL = 1
TREE_KIND = "category_trees"
"""Lookup slot holding the default channel's tree id (not a kind of its own)."""
READ_ONLY = ("category_id", "parent_id", "tree_id", "category_uuid", "views", "id")


async def default_tree_id(api: StoreApi, lookup: Lookup) -> int:
    """The id of the tree assigned to the default storefront, fetched once per store."""
    if not lookup.has(TREE_KIND, str(DEFAULT_CHANNEL)):
        trees = await api.get_all(TREES, {"channel_id:in": DEFAULT_CHANNEL})
        if not trees:
            raise StageSyncError(
                f"{lookup.store} has no category tree for channel {DEFAULT_CHANNEL}. Create one "
                "in the control panel (Products > Product Categories), then try again."
            )
        lookup.add(TREE_KIND, str(DEFAULT_CHANNEL), int(trees[0]["id"]))
    return lookup.id_of(TREE_KIND, str(DEFAULT_CHANNEL))


async def fetch(api: StoreApi) -> list[Raw]:
    trees = await api.get_all(TREES, {"channel_id:in": DEFAULT_CHANNEL})
    if not trees:
        return []
    return await api.get_all(PATH, {"tree_id:in": int(trees[0]["id"])})


def identify(raws: list[Raw]) -> dict[str, Raw]:
    by_id = {int(raw["category_id"]): raw for raw in raws}

    def path_of(raw: Raw) -> str:
        names: list[str] = []
        seen: set[int] = set()
        node: Raw | None = raw
        while node is not None:
            if int(node["category_id"]) in seen:
                raise StageSyncError(f'category "{raw["name"]}" is its own ancestor on the store.')
            seen.add(int(node["category_id"]))
            names.append(str(node["name"]))
            node = by_id.get(int(node.get("parent_id") or 0))
        return join_path(reversed(names))

    return unique_by_key("categories", raws, path_of)


def parent_of(key: str) -> str | None:
    segments = split_path(key)
    return join_path(segments[:-1]) if len(segments) > 1 else None


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = without(raw, READ_ONLY)
    record["meta_keywords"] = sorted(record.get("meta_keywords") or [])
    return record


def references(key: str, record: Record) -> Iterable[EntityKey]:
    parent = parent_of(key)
    return (EntityKey("categories", parent),) if parent is not None else ()


def payload(key: str, record: Record) -> Record:
    body = dict(record)
    body["name"] = split_path(key)[-1]
    return body


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    body = payload(key, record)
    parent = parent_of(key)
    body["parent_id"] = lookup.id_of("categories", parent) if parent else 0
    body["tree_id"] = await default_tree_id(api, lookup)
    created = await api.post(PATH, [body], entity=f"category {key}")
    return int(created[0]["category_id"])


BATCH_SIZE = 50
"""Categories per tree-API write. The platform documents no maximum; 50 keeps a rejected batch
cheap to retry one by one."""


async def create_many(api: StoreApi, items: list[tuple[str, Record]], lookup: Lookup) -> list[int]:
    """Create several categories in one request (their parents must exist already)."""
    tree_id = await default_tree_id(api, lookup)
    bodies = []
    for key, record in items:
        body = payload(key, record)
        parent = parent_of(key)
        body["parent_id"] = lookup.id_of("categories", parent) if parent else 0
        body["tree_id"] = tree_id
        bodies.append(body)
    names = ", ".join(key for key, _ in items)
    created = await api.post(PATH, bodies, entity=f"categories {names}")
    if not isinstance(created, list) or len(created) != len(items):
        raise StageSyncError(f"the store created only some of the categories {names}.")
    return [int(c["category_id"]) for c in created]


async def update_many(api: StoreApi, items: list[tuple[str, Record, Raw]], lookup: Lookup) -> None:
    bodies = []
    for key, record, live in items:
        body = payload(key, record)
        body["category_id"] = live["category_id"]
        bodies.append(body)
    names = ", ".join(key for key, _, _ in items)
    answer = await api.put(PATH, bodies, entity=f"categories {names}")
    if isinstance(answer, dict) and answer.get("errors"):
        raise StageSyncError(f"the store updated only some of the categories {names}.")


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    body = payload(key, record)
    body["category_id"] = live["category_id"]
    await api.put(PATH, [body], entity=f"category {key}")


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await api.delete(PATH, {"category_id:in": live["category_id"]}, entity=f"category {key}")


KIND = EntityKind(
    name="categories",
    singular="category",
    display_name="Categories",
    fetch=fetch,
    identify=identify,
    live_id=lambda raw: int(raw["category_id"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    create_many=create_many,
    update_many=update_many,
    batch_size=BATCH_SIZE,
    read_requests=lambda count, _: 1 + pages(count),  # the default tree, then its categories
)
