"""What the three *part kinds* share: product sub-resources selectable on their own
(``product_reviews``, ``bulk_pricing_rules``, ``channel_assignments``).

A part kind's records are derived from its owner's sub-resource: one record per item, keyed
``<product key>/<item key>``, naming its product in ``product`` (a reference, so the product is
brought along), and written through the product's live id. The product's own record does not
carry them, so each fact lives in one place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from stagesync.entities.base import ListedWith, Lookup, Raw
from stagesync.errors import StageSyncError
from stagesync.model import EntityKey, Record, Snapshot
from stagesync.ports import StoreApi

PRODUCTS = "/v3/catalog/products"


async def fetch_included(api: StoreApi, include: str) -> list[Raw]:
    """Every product's ``include`` sub-resource from a product list of its own (250 a page, ids
    only), each item with its ``product_id``: for ``find``; a live read takes them from the
    product list it reads anyway (``listed_with``)."""
    products = await api.get_all(PRODUCTS, {"include": include, "include_fields": "id"})
    return included_items(products, include)


def included_items(products: list[Raw], include: str) -> list[Raw]:
    """The ``include`` sub-resource of every product of ``products``, each item with its
    ``product_id``; the products no longer carry it (nothing else reads it there)."""
    return [
        {**item, "product_id": int(product["id"])}
        for product in products
        for item in product.pop(include, None) or []
    ]


def listed_with(include: str) -> ListedWith:
    """A part kind read with the product list (``include=``)."""
    return ListedWith("products", include, lambda page: included_items(page, include))


def identify_by(kind: str, raws: list[Raw], lookup: Lookup, item_key: object) -> dict[str, Raw]:
    """``<product key>/<item key>`` -> raw; a duplicate key names both items."""
    out: dict[str, Raw] = {}
    for raw in raws:
        key = f"{lookup.key_of('products', int(raw['product_id']))}/{item_key(raw)}"  # type: ignore[operator]
        if key in out:
            raise StageSyncError(
                f"Two {kind.replace('_', ' ')} have the key {key}: ids {out[key].get('id')} and "
                f"{raw.get('id')}. Make them differ on the store, then pull again."
            )
        out[key] = raw
    return out


def finder(
    fetch: Callable[[StoreApi], Awaitable[list[Raw]]],
    identify_with: Callable[[list[Raw], Lookup], dict[str, Raw]],
) -> Callable[[StoreApi, str, Lookup], Awaitable[Raw | None]]:
    """A ``find`` for a part kind: read the kind again and look the key up."""

    async def find(api: StoreApi, key: str, lookup: Lookup) -> Raw | None:
        return identify_with(await fetch(api), lookup).get(key)

    return find


def owner(record: Record) -> Iterable[EntityKey]:
    yield EntityKey("products", str(record["product"]))


def no_listing(count: int, destination: Snapshot) -> int:
    """A part kind read with the product list costs no request of its own (``listed_with``)."""
    return 0
