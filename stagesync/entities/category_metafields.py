"""Category metafields, keyed (category key, namespace, key) joined as a path:
``Shoes\\/Running/acme/color`` (``stagesync.keys``: each part escaped, so any category key fits).

Read through the store-wide batch list ``/v3/catalog/categories/metafields`` (pages of 250, never
one call per category); created and updated with the batch ``POST``/``PUT`` on the same path, up
to ``metafields.BATCH_SIZE`` per request; deleted one by one. Records keep ``value``,
``permission_set``, ``description`` and unknown fields; ``namespace`` and ``key`` are in the key.
"""

from __future__ import annotations

from collections.abc import Iterable

from stagesync.entities import metafields
from stagesync.entities.base import EntityKind, Lookup, Raw
from stagesync.entities.common import unique_by_key, without
from stagesync.errors import StageSyncError
from stagesync.keys import join_path, split_path
from stagesync.model import EntityKey, Record
from stagesync.ports import StoreApi

NAME = "category_metafields"
OWNERS = "categories"
PATH = metafields.batch_path(OWNERS)


def parse(key: str) -> tuple[str, str, str]:
    """(category key, namespace, key) of a category metafield's key."""
    parts = split_path(key)
    if len(parts) != 3:
        raise StageSyncError(
            f'"{key}" is not a category metafield key (CATEGORY/NAMESPACE/KEY, with "/" inside '
            'the category path written "\\/").'
        )
    return parts[0], parts[1], parts[2]


async def fetch(api: StoreApi) -> list[Raw]:
    return await api.get_all(PATH)


def identify_with(raws: list[Raw], lookup: Lookup) -> dict[str, Raw]:
    def key_of(raw: Raw) -> str:
        category = lookup.key_of("categories", int(raw["resource_id"]))
        return join_path([category, str(raw["namespace"]), str(raw["key"])])

    return unique_by_key(NAME, raws, key_of)


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key(
        NAME, raws, lambda raw: join_path([f"#{raw['resource_id']}", raw["namespace"], raw["key"]])
    )


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    return without(metafields.entry(raw), ("namespace", "key"))


def references(key: str, record: Record) -> Iterable[EntityKey]:
    return (EntityKey("categories", parse(key)[0]),)


def _body(key: str, record: Record) -> Record:
    _, namespace, name = parse(key)
    return {**record, "namespace": namespace, "key": name}


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    ids = await create_many(api, [(key, record)], lookup)
    return ids[0]


async def create_many(api: StoreApi, items: list[tuple[str, Record]], lookup: Lookup) -> list[int]:
    bodies = [
        metafields.body(lookup.id_of("categories", parse(key)[0]), _body(key, record))
        for key, record in items
    ]
    entity = f"category metafields {', '.join(key for key, _ in items)}"
    created = await metafields.create_batch(api, OWNERS, bodies, entity)
    return [int(c["id"]) for c in created]


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    await update_many(api, [(key, record, live)], lookup)


async def update_many(api: StoreApi, items: list[tuple[str, Record, Raw]], lookup: Lookup) -> None:
    bodies = [{**_body(key, record), "id": live["id"]} for key, record, live in items]
    entity = f"category metafields {', '.join(key for key, _, _ in items)}"
    await metafields.update_batch(api, OWNERS, bodies, entity)


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await metafields.delete_one(
        api, OWNERS, live["resource_id"], live, entity=f"category metafield {key}"
    )


async def find(api: StoreApi, key: str, lookup: Lookup) -> Raw | None:
    category, namespace, name = parse(key)
    if not lookup.has("categories", category):
        return None
    owner = lookup.id_of("categories", category)
    found = await api.get_all(
        f"/v3/catalog/categories/{owner}/metafields", {"namespace": namespace}
    )
    return next(
        (r for r in found if r.get("namespace") == namespace and r.get("key") == name), None
    )


KIND = EntityKind(
    name=NAME,
    singular="category metafield",
    display_name="Category Metafields",
    fetch=fetch,
    identify=identify,
    identify_with=identify_with,
    live_id=lambda raw: int(raw["id"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    create_many=create_many,
    update_many=update_many,
    batch_size=metafields.BATCH_SIZE,
    find=find,
)
