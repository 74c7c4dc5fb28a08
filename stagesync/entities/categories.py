"""Categories of every channel's category tree, keyed by channel and path.

Read and written through the tree API (``/v3/catalog/trees/categories``), which names the tree
each category belongs to; every channel has at most one tree (multi-storefront). Keys:

- the default storefront's tree (channel 1): the path of names from the root, ``Shoes/Running``,
  exactly as before channels had their own trees;
- any other channel's tree: ``/`` + the channel key + ``/`` + the path, ``/uk/Shoes/Running``.
  A category name is never empty, so no default-tree path starts with ``/``: the two forms never
  collide.

A ``/`` or ``\\`` inside a name (or channel key) is escaped with a backslash
(``stagesync.keys``). Names are unique among siblings, so a path is a natural key.

A record also holds the product sort order inside the category
(``/v3/catalog/categories/{id}/products/sort-order``) as ``product_sort_order``: the products
given a position, by product key, ascending. It is written after the category (and its
products, which must be assigned to it) exist: a link, so a plan creating both orders them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from stagesync.entities import channels
from stagesync.entities.base import EntityKind, Lookup, Raw, pages
from stagesync.entities.common import chunked, unique_by_key, without
from stagesync.errors import StageSyncError
from stagesync.keys import join_path, split_path
from stagesync.model import Action, EntityKey, Record, Snapshot
from stagesync.ports import StoreApi

PATH = "/v3/catalog/trees/categories"
TREES = "/v3/catalog/trees"
PRODUCTS = "/v3/catalog/products"
DEFAULT_CHANNEL = channels.DEFAULT_ID
TREE_KIND = "category_trees"
"""Lookup slot holding each channel's tree id, by channel key (not a kind of its own)."""
READ_ONLY = ("category_id", "parent_id", "tree_id", "category_uuid", "views", "id")
CHANNEL_ID = "_channel_id"
SORT_ORDER = "_sort_order"
"""Annotations ``fetch`` adds to each raw category: its tree's channel id, and its product sort
order as ``[(product key, sort order)]``."""
SORT_FIELD = "product_sort_order"
NO_SKU_PREFIX = "name:"
SKU_CHUNK = 50
"""Product ids (or SKUs) per ``id:in`` / ``sku:in`` lookup, keeping the URL short."""


# ---- keys ----------------------------------------------------------------------------------


def category_key(channel: str, names: Iterable[str]) -> str:
    """The key of the category ``names`` (root first) in ``channel``'s tree."""
    path = join_path(names)
    return path if channel == channels.DEFAULT else "/" + join_path([channel]) + "/" + path


def parse_key(key: str) -> tuple[str, list[str]]:
    """(channel key, names from the root) of a category key."""
    segments = split_path(key)
    if len(segments) >= 3 and segments[0] == "":
        return segments[1], segments[2:]
    return channels.DEFAULT, segments


def channel_of(key: str) -> str:
    return parse_key(key)[0]


def parent_of(key: str) -> str | None:
    channel, names = parse_key(key)
    return category_key(channel, names[:-1]) if len(names) > 1 else None


# ---- reading --------------------------------------------------------------------------------


def _product_key(raw: Raw) -> str:
    sku = str(raw.get("sku") or "")
    return sku if sku else NO_SKU_PREFIX + str(raw["name"])


async def fetch(api: StoreApi) -> list[Raw]:
    """Every tree, every tree's categories, each category's product sort order, and the keys of
    the products given a position (one ``id:in`` lookup per ``SKU_CHUNK``)."""
    raws = await fetch_keys(api)
    orders = await asyncio.gather(
        *(api.get_all(_sort_path(int(raw["category_id"]))) for raw in raws)
    )
    product_ids = sorted(
        {
            int(row["product_id"])
            for rows in orders
            for row in rows
            if row.get("sort_order") is not None
        }
    )
    keys: dict[int, str] = {}
    for chunk in chunked(product_ids, SKU_CHUNK):
        found = await api.get_all(
            PRODUCTS, {"id:in": ",".join(map(str, chunk)), "include_fields": "sku,name"}
        )
        keys.update({int(p["id"]): _product_key(p) for p in found})
    for raw, rows in zip(raws, orders, strict=True):
        raw[SORT_ORDER] = [
            (keys.get(int(row["product_id"]), f"#{row['product_id']}"), int(row["sort_order"]))
            for row in rows
            if row.get("sort_order") is not None
        ]
    return raws


async def fetch_keys(api: StoreApi) -> list[Raw]:
    """Every tree and every tree's categories: what their keys and IDs need (``fetch`` without
    the product sort orders)."""
    trees, raws = await asyncio.gather(api.get_all(TREES), api.get_all(PATH))
    channel_of_tree = {
        int(t["id"]): int((t.get("channels") or [DEFAULT_CHANNEL])[0]) for t in trees
    }
    for raw in raws:
        raw[CHANNEL_ID] = channel_of_tree.get(int(raw["tree_id"]), DEFAULT_CHANNEL)
        raw[SORT_ORDER] = []
    return raws


def keys_read_requests(count: int, destination: Snapshot) -> int:
    """Trees (one page) and categories (pages)."""
    return 1 + pages(count)


def _sort_path(category_id: object) -> str:
    return f"/v3/catalog/categories/{category_id}/products/sort-order"


def identify_with(raws: list[Raw], lookup: Lookup) -> dict[str, Raw]:
    by_id = {int(raw["category_id"]): raw for raw in raws}

    def key_of(raw: Raw) -> str:
        names: list[str] = []
        seen: set[int] = set()
        node: Raw | None = raw
        while node is not None:
            if int(node["category_id"]) in seen:
                raise StageSyncError(f'category "{raw["name"]}" is its own ancestor on the store.')
            seen.add(int(node["category_id"]))
            names.append(str(node["name"]))
            node = by_id.get(int(node.get("parent_id") or 0))
        channel = channels.key_of(lookup, raw.get(CHANNEL_ID) or DEFAULT_CHANNEL)
        return category_key(channel, reversed(names))

    found = unique_by_key("categories", raws, key_of)
    for key, raw in found.items():
        channel = channel_of(key)
        if not lookup.has(TREE_KIND, channel):
            lookup.add(TREE_KIND, channel, int(raw["tree_id"]))
    return found


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return identify_with(raws, Lookup())


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = without(raw, (*READ_ONLY, CHANNEL_ID, SORT_ORDER))
    record["meta_keywords"] = sorted(record.get("meta_keywords") or [])
    orders = raw.get(SORT_ORDER) or []
    if orders:
        record[SORT_FIELD] = [
            {"product": product, "sort_order": order}
            for product, order in sorted(orders, key=lambda item: (item[1], item[0]))
        ]
    return record


def references(key: str, record: Record) -> Iterable[EntityKey]:
    parent = parent_of(key)
    if parent is not None:
        yield EntityKey("categories", parent)
    channel = channel_of(key)
    if channel != channels.DEFAULT:
        yield EntityKey(channels.NAME, channel)


def links(key: str, record: Record) -> Iterable[EntityKey]:
    return [EntityKey("products", str(row["product"])) for row in record.get(SORT_FIELD) or []]


# ---- writing --------------------------------------------------------------------------------


async def tree_id(api: StoreApi, lookup: Lookup, channel: str) -> int:
    """The id of ``channel``'s category tree, created (named after the channel) if it has none."""
    async with lookup.lock(f"{TREE_KIND}:{channel}"):
        if not lookup.has(TREE_KIND, channel):
            channel_id = await channels.id_of(api, lookup, channel)
            trees = await api.get_all(TREES, {"channel_id:in": channel_id})
            if trees:
                found = int(trees[0]["id"])
            else:
                name = channels.name_on_store(lookup, channel)
                made = await api.put(
                    TREES, [{"name": name, "channels": [channel_id]}], entity=f"channel {channel}"
                )
                found = int(made[0]["id"])
            lookup.add(TREE_KIND, channel, found)
        return lookup.id_of(TREE_KIND, channel)


async def default_tree_id(api: StoreApi, lookup: Lookup) -> int:
    """The id of the tree assigned to the default storefront."""
    return await tree_id(api, lookup, channels.DEFAULT)


def payload(key: str, record: Record) -> Record:
    body = without(record, (SORT_FIELD,))
    body["name"] = parse_key(key)[1][-1]
    return body


async def _create_body(api: StoreApi, key: str, record: Record, lookup: Lookup) -> Record:
    body = payload(key, record)
    parent = parent_of(key)
    body["parent_id"] = lookup.id_of("categories", parent) if parent else 0
    body["tree_id"] = await tree_id(api, lookup, channel_of(key))
    return body


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    created = await api.post(
        PATH, [await _create_body(api, key, record, lookup)], entity=f"category {key}"
    )
    category_id = int(created[0]["category_id"])
    await write_sort_order(api, key, category_id, record, [], lookup)
    return category_id


BATCH_SIZE = 50
"""Categories per tree-API write. The platform documents no maximum; 50 keeps a rejected batch
cheap to retry one by one."""


async def create_many(api: StoreApi, items: list[tuple[str, Record]], lookup: Lookup) -> list[int]:
    """Create several categories in one request (their parents must exist already)."""
    bodies = [await _create_body(api, key, record, lookup) for key, record in items]
    names = ", ".join(key for key, _ in items)
    created = await api.post(PATH, bodies, entity=f"categories {names}")
    # ASSUMPTION_CATEGORY_BATCH_PARTIAL_207: a partly failed batch answers what it created.
    if not isinstance(created, list) or len(created) != len(items):
        raise StageSyncError(f"the store created only some of the categories {names}.")
    ids = [int(c["category_id"]) for c in created]
    for (key, record), category_id in zip(items, ids, strict=True):
        await write_sort_order(api, key, category_id, record, [], lookup)
    return ids


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
    for key, record, live in items:
        await write_sort_order(
            api, key, int(live["category_id"]), record, live.get(SORT_ORDER) or [], lookup
        )


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    body = payload(key, record)
    body["category_id"] = live["category_id"]
    await api.put(PATH, [body], entity=f"category {key}")
    await write_sort_order(
        api, key, int(live["category_id"]), record, live.get(SORT_ORDER) or [], lookup
    )


async def link(api: StoreApi, key: str, record: Record, lookup: Lookup) -> None:
    """Write the sort order of a category created earlier in this push without it."""
    await write_sort_order(api, key, lookup.id_of("categories", key), record, [], lookup)


async def write_sort_order(
    api: StoreApi,
    key: str,
    category_id: int,
    record: Record,
    live: list[tuple[str, int]],
    lookup: Lookup,
) -> None:
    """Make the category's sort order ``record``'s: positions it gives, and ``null`` for products
    the live category had positioned and the record leaves out. Nothing to write: no request."""
    wanted = {str(row["product"]): int(row["sort_order"]) for row in record.get(SORT_FIELD) or []}
    had = dict(live)
    if wanted == had:
        return
    cleared = sorted(set(had) - set(wanted))
    ids = await product_ids(api, lookup, [*wanted, *cleared])
    body: list[dict[str, int | None]] = [
        {"product_id": ids[p], "sort_order": order} for p, order in sorted(wanted.items())
    ]
    body += [{"product_id": ids[p], "sort_order": None} for p in cleared if p in ids]
    await api.put(_sort_path(category_id), body, entity=f"category {key} (product sort order)")


async def product_ids(api: StoreApi, lookup: Lookup, keys: list[str]) -> dict[str, int]:
    """Live ids of products by key: from the lookup, else one filtered request per chunk."""
    out = {k: lookup.id_of("products", k) for k in keys if lookup.has("products", k)}
    skus = [k for k in keys if k not in out and not k.startswith(NO_SKU_PREFIX)]
    for chunk in chunked(skus, SKU_CHUNK):
        found = await api.get_all(PRODUCTS, {"sku:in": ",".join(chunk), "include_fields": "sku"})
        out.update({str(p["sku"]): int(p["id"]) for p in found if p.get("sku") in chunk})
    for k in keys:
        if k not in out and k.startswith(NO_SKU_PREFIX):
            name = k[len(NO_SKU_PREFIX) :]
            found = await api.get_all(PRODUCTS, {"name": name, "include_fields": "name"})
            match = next((p for p in found if p.get("name") == name), None)
            if match is not None:
                out[k] = int(match["id"])
    missing = [k for k in keys if k not in out]
    if missing:
        raise StageSyncError(
            f"{lookup.store} has no product {', '.join(missing)}, which a category's product sort "
            "order names. Include products in the plan (drop --no-deps) or create them first."
        )
    return out


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await api.delete(PATH, {"category_id:in": live["category_id"]}, entity=f"category {key}")


def estimate(action: Action, record: Record | None) -> int:
    sort = 1 if record and record.get(SORT_FIELD) else 0
    return (2 if action is Action.REPLACE else 1) + sort


def read_requests(count: int, destination: Snapshot) -> int:
    """Trees (one page), categories (pages), one sort-order list per category, and one product
    lookup per ``SKU_CHUNK`` products positioned in some category."""
    positioned = {
        str(row["product"])
        for record in destination.records("categories").values()
        for row in record.get(SORT_FIELD) or []
    }
    return 1 + pages(count) + count + -(-len(positioned) // SKU_CHUNK)


KIND = EntityKind(
    name="categories",
    singular="category",
    display_name="Categories",
    fetch=fetch,
    identify=identify,
    identify_with=identify_with,
    fetch_keys=fetch_keys,
    keys_read_requests=keys_read_requests,
    live_id=lambda raw: int(raw["category_id"]),
    normalise=normalise,
    references=references,
    links=links,
    link_fields=(SORT_FIELD,),
    links_need_targets_written=True,
    link=link,
    create=create,
    update=update,
    delete=delete,
    create_many=create_many,
    update_many=update_many,
    batch_size=BATCH_SIZE,
    estimate_requests=estimate,
    read_requests=read_requests,
)
