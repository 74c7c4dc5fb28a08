"""B2B Edition order data (``/orders``), keyed by the store order's origin reference (the
``orders`` key).

A B2B order is not an order of its own: it attaches B2B data to an existing store order. The
record holds ``order`` (the store order's key), ``company`` (by key), ``poNumber`` and
``extraFields``; totals, status and the rest are the store order's and stay there. Push attaches
the data with ``POST /orders`` after the store order exists and changes it with ``PUT``. B2B
Edition cannot detach the data from an order: deleting one is refused (delete the store order).
"""

from __future__ import annotations

from collections.abc import Iterable

from stagesync.entities.b2b_common import api
from stagesync.entities.base import EntityKind, Lookup, Raw
from stagesync.entities.common import unique_by_key
from stagesync.errors import StageSyncError
from stagesync.model import EntityKey, Record
from stagesync.ports import StoreApi

PATH = "/orders"
KEPT = ("poNumber", "extraFields")


async def fetch(store: StoreApi) -> list[Raw]:
    return await api().get_all(PATH, limit=200)


def identify_with(raws: list[Raw], lookup: Lookup) -> dict[str, Raw]:
    return unique_by_key(
        "b2b_orders", raws, lambda raw: lookup.key_of("orders", int(raw["bcOrderId"]))
    )


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key("b2b_orders", raws, lambda raw: str(raw["bcOrderId"]))


# ASSUMPTION_B2B_ORDER_FIELD_TYPES: the fields read here have the types the probe checks.
def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record: Record = {name: raw.get(name) for name in KEPT}
    record["extraFields"] = record.get("extraFields") or []
    record["poNumber"] = record.get("poNumber") or ""
    record["order"] = key
    record["company"] = lookup.key_of("b2b_companies", int(raw["companyId"]))
    return record


def references(key: str, record: Record) -> Iterable[EntityKey]:
    yield EntityKey("orders", record["order"])
    yield EntityKey("b2b_companies", record["company"])


async def create(store: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    order_id = lookup.id_of("orders", record["order"])
    body = {
        "bcOrderId": order_id,
        "companyId": lookup.id_of("b2b_companies", record["company"]),
        "poNumber": record.get("poNumber") or "",
        "extraFields": record.get("extraFields") or [],
    }
    await api().post(PATH, body, entity=f"B2B order {key}")
    return order_id


async def update(store: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    body = {name: record.get(name) for name in KEPT}
    await api().put(f"{PATH}/{live['bcOrderId']}", body, entity=f"B2B order {key}")


async def delete(store: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    raise StageSyncError(
        f"B2B order {key}: B2B Edition cannot detach B2B data from an order; delete the store "
        "order instead (orders kind)."
    )


def warnings(key: str, after: Record, before: Record | None) -> list[str]:
    if before is not None and before.get("company") != after.get("company"):
        return [
            f"B2B order {key}: its company is set when its B2B data is attached and cannot be "
            "changed through the API; only poNumber and extraFields are updated."
        ]
    return []


KIND = EntityKind(
    name="b2b_orders",
    singular="B2B order",
    display_name="B2B Orders",
    fetch=fetch,
    identify=identify,
    identify_with=identify_with,
    live_id=lambda raw: int(raw["bcOrderId"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    read_requests=lambda count, _: max(1, -(-count // 200)),
    belongs_to_people=True,
)
