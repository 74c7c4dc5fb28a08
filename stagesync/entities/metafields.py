"""Metafields of catalogue resources, shared by the kinds that carry them (category metafields,
brands).

On the platform a metafield belongs to one resource (``resource_type``, ``resource_id``) and is
unique per (client, namespace, key, resource). Records key it by (owner key, ``namespace``,
``key``) and keep what can be written: ``value``, ``permission_set``, ``description`` and any
field stagesync does not know. Pull reads them through the store-wide batch list endpoints
(``/v3/catalog/{categories,brands}/metafields``), never one call per owner; push writes them with
the batch ``POST``/``PUT`` endpoints and deletes them one by one
(``DELETE /v3/catalog/{owners}/{id}/metafields/{metafield_id}``).
"""

from __future__ import annotations

from stagesync.entities.base import Raw
from stagesync.entities.common import chunked, without
from stagesync.errors import StageSyncError
from stagesync.model import Record
from stagesync.ports import StoreApi

READ_ONLY = (
    "id",
    "resource_id",
    "resource_type",
    "date_created",
    "date_modified",
    "owner_client_id",
)
BATCH_SIZE = 50
"""Metafields per batch write. The platform documents no maximum (reference §5); 50 keeps a
rejected batch cheap to retry."""


def batch_path(owners: str) -> str:
    """``/v3/catalog/categories/metafields`` for ``owners`` = ``categories``."""
    return f"/v3/catalog/{owners}/metafields"


def entry(raw: Raw) -> Record:
    """A raw metafield as a record entry: ``namespace`` and ``key`` kept, IDs and dates dropped."""
    return without(raw, READ_ONLY)


def body(resource_id: int, item: Record) -> Record:
    return {**item, "resource_id": resource_id}


def _names(items: list[Record]) -> str:
    return ", ".join(f"{i.get('namespace')}.{i.get('key')}" for i in items)


async def create_batch(api: StoreApi, owners: str, bodies: list[Record], entity: str) -> list[Raw]:
    """POST ``bodies`` (each with ``resource_id``) in batches; the created metafields, in order."""
    created: list[Raw] = []
    for chunk in chunked(bodies, BATCH_SIZE):
        answer = await api.post(batch_path(owners), chunk, entity=entity)
        if not isinstance(answer, list) or len(answer) != len(chunk):
            raise StageSyncError(f"{entity}: the store created only some of {_names(chunk)}.")
        created.extend(answer)
    return created


async def update_batch(api: StoreApi, owners: str, bodies: list[Record], entity: str) -> None:
    """PUT ``bodies`` (each with ``id``) in batches."""
    for chunk in chunked(bodies, BATCH_SIZE):
        answer = await api.put(batch_path(owners), chunk, entity=entity)
        if not isinstance(answer, list) or len(answer) != len(chunk):
            raise StageSyncError(f"{entity}: the store updated only some of {_names(chunk)}.")


async def delete_one(api: StoreApi, owners: str, owner_id: object, raw: Raw, entity: str) -> None:
    await api.delete(f"/v3/catalog/{owners}/{owner_id}/metafields/{raw['id']}", entity=entity)


async def sync(
    api: StoreApi,
    owners: str,
    owner_id: int,
    wanted: list[Record],
    live: list[Raw],
    entity: str,
) -> None:
    """Make one owner's metafields ``wanted``: create the new, update the changed (batch), delete
    the ones ``wanted`` leaves out. Nothing differs: no request."""
    by_key = {(str(r["namespace"]), str(r["key"])): r for r in live}
    creates: list[Record] = []
    updates: list[Record] = []
    for item in wanted:
        current = by_key.pop((str(item["namespace"]), str(item["key"])), None)
        if current is None:
            creates.append(body(owner_id, item))
        elif entry(current) != item:
            updates.append({**item, "id": current["id"]})
    if creates:
        await create_batch(api, owners, creates, entity)
    if updates:
        await update_batch(api, owners, updates, entity)
    for raw in by_key.values():
        await delete_one(api, owners, owner_id, raw, entity)


def requests(wanted: list[Record], before: list[Record]) -> int:
    """Requests ``sync`` makes to turn ``before`` into ``wanted`` (batches of ``BATCH_SIZE``)."""
    had = {(str(r["namespace"]), str(r["key"])): r for r in before}
    new = [w for w in wanted if (str(w["namespace"]), str(w["key"])) not in had]
    keys = {(str(w["namespace"]), str(w["key"])) for w in wanted}
    changed = [w for w in wanted if had.get((str(w["namespace"]), str(w["key"]))) not in (None, w)]
    gone = [k for k in had if k not in keys]
    return -(-len(new) // BATCH_SIZE) + -(-len(changed) // BATCH_SIZE) + len(gone)
