"""Which channels list which products, a part of products selectable on its own, keyed
``<product key>/<channel key>`` (channels by name, the default storefront ``default``: see
``entities.channels``).

Pull reads them with the product list it reads anyway (``include=channels``: each product names
its channels, ``listed_with``; an incremental pull asks its ID listing for them too, so they are
read for every product at no request of their own); alone, from the store-wide list (``GET
/v3/catalog/products/channel-assignments``, 250 a page). Push assigns with the batch ``PUT``
(every assignment a push creates goes in as few requests as ``BATCH_SIZE`` allows) and
unassigns with one filtered ``DELETE`` a product."""

from __future__ import annotations

from stagesync.entities import channels
from stagesync.entities import product_parts as parts
from stagesync.entities.base import EntityKind, ListedWith, Lookup, Raw, pages
from stagesync.errors import StageSyncError
from stagesync.model import Record, Snapshot
from stagesync.ports import StoreApi

PATH = "/v3/catalog/products/channel-assignments"
INCLUDE = "channels"
"""What the product list is asked to include for them: each product's channel ids."""
BATCH_SIZE = 50
"""Assignments per ``PUT`` push sends (the platform documents no maximum)."""


async def fetch(api: StoreApi) -> list[Raw]:
    return await api.get_all(PATH)


def listed(products: list[Raw]) -> list[Raw]:
    """The assignments of ``products``, read with ``include=channels``, one raw object per
    product and channel; the products no longer carry them. A product without the list fails
    the read: taking it for one with no channel would plan to unassign it everywhere."""
    out: list[Raw] = []
    for product in products:
        channel_ids = product.pop(INCLUDE, None)
        if not isinstance(channel_ids, list):
            raise StageSyncError(
                f"The store listed product id {product.get('id')} without its channels although "
                f"the list asked for include={INCLUDE} "
                "(ASSUMPTION_PRODUCT_LIST_INCLUDES_CHANNELS). Run `stagesync probe ENV` and "
                "report what it finds; a pull with --kinds naming the kinds you need but not "
                f"{NAME} does not ask for them."
            )
        out += [{"product_id": int(product["id"]), "channel_id": c} for c in channel_ids]
    return out


def identify_with(raws: list[Raw], lookup: Lookup) -> dict[str, Raw]:
    return parts.identify_by(
        "channel_assignments", raws, lookup, lambda r: channels.key_of(lookup, r["channel_id"])
    )


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    return {
        "product": lookup.key_of("products", int(raw["product_id"])),
        "channel": channels.key_of(lookup, raw["channel_id"]),
    }


NAME = "channel_assignments"


def remember(lookup: Lookup, product: str, product_id: int, channel_ids: list[int]) -> None:
    """Record that product ``product`` (live ``product_id``) is on ``channel_ids`` now, so
    ``create_many`` does not assign it there again. Channels the lookup cannot name are left out
    (their assignments are written, which is harmless)."""
    for channel_id in channel_ids:
        channel = channels.key_of(lookup, channel_id)
        if not channel.startswith("#"):
            lookup.add(NAME, f"{product}/{channel}", f"{product_id}:{channel_id}")


async def create_many(api: StoreApi, items: list[tuple[str, Record]], lookup: Lookup) -> list[str]:
    """Assign in one ``PUT`` every pair the store does not have yet (a product this push created
    may already be on a channel the platform chose: see ``remember``)."""
    made: list[str] = []
    body = []
    names = []
    for key, record in items:
        if lookup.has(NAME, key):
            made.append(str(lookup.live_id_of(NAME, key)))
            continue
        product_id = lookup.id_of("products", record["product"])
        channel_id = await channels.id_of(api, lookup, record["channel"])
        body.append({"product_id": product_id, "channel_id": channel_id})
        made.append(f"{product_id}:{channel_id}")
        names.append(key)
    if body:
        await api.put(PATH, body, entity=f"channel assignments {', '.join(names)}")
    return made


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> str:
    (made,) = await create_many(api, [(key, record)], lookup)
    return made


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    """An assignment has no fields besides its key: nothing to update."""


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    query = {"product_id:in": str(live["product_id"]), "channel_id:in": str(live["channel_id"])}
    await api.delete(PATH, query, entity=f"channel assignment {key}")


def read_requests(count: int, destination: Snapshot) -> int:
    return pages(count)


KIND = EntityKind(
    name=NAME,
    singular="channel assignment",
    display_name="Channel Assignments",
    fetch=fetch,
    identify=lambda raws: {},
    identify_with=identify_with,
    find=parts.finder(fetch, identify_with),
    live_id=lambda raw: f"{raw['product_id']}:{raw['channel_id']}",
    normalise=normalise,
    references=lambda key, record: parts.owner(record),
    create=create,
    update=update,
    delete=delete,
    create_many=create_many,
    batch_size=BATCH_SIZE,
    read_requests=read_requests,
    listed_with=ListedWith("products", INCLUDE, listed),
)
