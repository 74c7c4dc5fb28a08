"""A delete through the emulator's HTTP API leaves no reference to what it deleted: each resource
that named it loses the reference (or goes), or, where the platform keeps history naming it
(orders, quotes), a pull keeps the record without it and says so. Either way the next pull
succeeds and its snapshot names only entities it holds."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from stagesync.bigcommerce import BigCommerceClient
from stagesync.emulator import Emulator
from stagesync.emulator import b2b as b2b_side
from stagesync.entities import REGISTRY
from stagesync.model import EntityKey, Snapshot
from stagesync.ports import StoreApi
from tests.test_b2b import build_b2b
from tests.test_load import pull_into
from tests.test_real_world_shapes import BUILDERS


def _dangling(snapshot: Snapshot) -> list[tuple[EntityKey, EntityKey]]:
    """(record, what it names) for every reference to an entity the snapshot does not hold. A
    B2B invoice is a document: the SKUs of its line items are its own text, kept as issued
    (the pull notes a SKU no product has any more; push writes the invoice without it)."""
    return [
        (key, ref)
        for key, record in snapshot
        for ref in REGISTRY[key.kind].all_references(key.key, record)
        if snapshot.get(ref) is None and (key.kind, ref.kind) != ("b2b_invoices", "products")
    ]


def _on(emulator: Emulator, store: str, work: Any) -> Any:
    async def run() -> Any:
        async with BigCommerceClient(
            store,
            emulator.stores[store].token,
            api_url="http://emulator.test",
            transport=emulator.transport(),
        ) as client:
            return await work(client)

    return asyncio.run(run())


async def _delete_products(client: StoreApi) -> None:
    for product in await client.get_all("/v3/catalog/products"):
        await client.delete(f"/v3/catalog/products/{product['id']}")


async def _delete_the_rest(client: StoreApi, keep: set[int]) -> None:
    """Categories (empty once the products are gone), brands, customer groups, and customers
    other than B2B Edition's users (whose accounts B2B Edition keeps in step itself)."""
    categories = await client.get_all("/v3/catalog/trees/categories")
    if categories:
        ids = ",".join(str(c["category_id"]) for c in categories)
        await client.delete("/v3/catalog/trees/categories", params={"category_id:in": ids})
    for brand in await client.get_all("/v3/catalog/brands"):
        await client.delete(f"/v3/catalog/brands/{brand['id']}")
    for group in await client.get_all("/v2/customer_groups"):
        await client.delete(f"/v2/customer_groups/{group['id']}")
    customers = [c for c in await client.get_all("/v3/customers") if c["id"] not in keep]
    if customers:
        ids = ",".join(str(c["id"]) for c in customers)
        await client.delete("/v3/customers", params={"id:in": ids})


@pytest.mark.parametrize("store", sorted(BUILDERS))
def test_deleting_what_others_name_leaves_every_pull_whole(store: str, tmp_path: Path) -> None:
    emulator = Emulator({name: f"{name}-token" for name in BUILDERS})
    emulator.add_b2b_user("alpha", "b2b@alpha.test", "b2b-secret")

    async def build(client: StoreApi) -> None:
        ids = await BUILDERS[store](client)
        if store == "alpha":
            await build_b2b(emulator, ids)

    _on(emulator, store, build)
    before = pull_into(emulator, store, tmp_path / "before")
    assert not _dangling(before)

    _on(emulator, store, _delete_products)
    after = pull_into(emulator, store, tmp_path / "products")
    assert not after.records("products")
    assert not _dangling(after)
    # History is kept: every order and quote is still there, its lines too, without a product.
    for kind, lines in (("orders", "products"), ("b2b_quotes", "productList")):
        assert after.records(kind).keys() == before.records(kind).keys()
        for key, record in after.records(kind).items():
            assert len(record[lines]) == len(before.records(kind)[key][lines])
            assert all(line["product"] is None for line in record[lines])

    users = b2b_side.state(emulator.stores[store]).users.values()
    keep = {int(u["customerId"]) for u in users}
    _on(emulator, store, lambda client: _delete_the_rest(client, keep))
    rest = pull_into(emulator, store, tmp_path / "rest")
    assert not rest.records("categories") and not rest.records("customer_groups")
    assert not _dangling(rest)
    assert rest.records("orders").keys() == before.records("orders").keys()
