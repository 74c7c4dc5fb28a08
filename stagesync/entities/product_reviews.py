"""Product reviews, a part of products selectable on its own, keyed
``<product key>/<reviewer>/<date_reviewed>/<title>`` (the platform gives reviews no natural key;
the reviewer is the email, or the name when there is none).

Pull and push read them with the product list they read anyway (``include=reviews``, 250 a page:
``listed_with``); push writes one request per review through its product."""

from __future__ import annotations

from stagesync.entities import product_parts as parts
from stagesync.entities.base import EntityKind, Lookup, Raw
from stagesync.entities.common import without
from stagesync.model import Record
from stagesync.ports import StoreApi

READ_ONLY = ("id", "product_id", "date_created", "date_modified")


def review_key(raw: Raw) -> str:
    who = raw.get("email") or raw.get("name") or "anonymous"
    return f"{who}/{raw.get('date_reviewed', '')}/{raw.get('title', '')}"


async def fetch(api: StoreApi) -> list[Raw]:
    return await parts.fetch_included(api, "reviews")


def identify_with(raws: list[Raw], lookup: Lookup) -> dict[str, Raw]:
    return parts.identify_by("product_reviews", raws, lookup, review_key)


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    return {"product": lookup.key_of("products", int(raw["product_id"])), **without(raw, READ_ONLY)}


def _path(record: Record, lookup: Lookup) -> str:
    return f"{parts.PRODUCTS}/{lookup.id_of('products', record['product'])}/reviews"


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    made = await api.post(
        _path(record, lookup), without(record, ("product",)), entity=f"review {key}"
    )
    return int(made["id"])


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    path = f"{_path(record, lookup)}/{live['id']}"
    await api.put(path, without(record, ("product",)), entity=f"review {key}")


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    path = f"{parts.PRODUCTS}/{live['product_id']}/reviews/{live['id']}"
    await api.delete(path, entity=f"review {key}")


KIND = EntityKind(
    name="product_reviews",
    singular="product review",
    display_name="Product Reviews",
    fetch=fetch,
    identify=lambda raws: {},
    identify_with=identify_with,
    find=parts.finder(fetch, identify_with),
    live_id=lambda raw: int(raw["id"]),
    normalise=normalise,
    references=lambda key, record: parts.owner(record),
    create=create,
    update=update,
    delete=delete,
    read_requests=parts.no_listing,
    listed_with=parts.listed_with("reviews"),
    pii_fields=(("email", "email"), ("name", "name")),
    redacted_key=lambda record: f"{record['product']}/{review_key(record)}",
)
