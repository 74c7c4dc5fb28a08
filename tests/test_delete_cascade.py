"""A delete through the emulator's HTTP API leaves no reference to what it deleted: each resource
that named it loses the reference (or goes), or, where the platform keeps history naming it
(orders, quotes), a pull keeps the record without it and says so. Either way the next pull
succeeds and its snapshot names only entities it holds."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from stagesync import api
from stagesync.bigcommerce import BigCommerceClient
from stagesync.emulator import Emulator
from stagesync.emulator import b2b as b2b_side
from stagesync.emulator import customers as customer_side
from stagesync.emulator import promotions as promotion_side
from stagesync.entities import REGISTRY
from stagesync.model import EntityKey, Snapshot
from stagesync.ports import StoreApi
from stagesync.snapshot import read_snapshot
from tests import commerce, promotions
from tests.conftest import connector_for, on_store
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


def _contains(value: Any, name: str, entity_id: int) -> bool:
    """Whether ``value`` (a promotion, a rule...) names ``entity_id`` in a ``name`` list or
    field, at any depth."""
    if isinstance(value, dict):
        return any(
            (k == name and (v == entity_id or (isinstance(v, list) and entity_id in v)))
            or _contains(v, name, entity_id)
            for k, v in value.items()
        )
    if isinstance(value, list):
        return any(_contains(v, name, entity_id) for v in value)
    return False


def test_a_deleted_product_leaves_groups_and_price_lists_and_its_orders_stay(
    emulator: Emulator, config_path: Path, tmp_path: Path
) -> None:
    ids = on_store(emulator, "alpha", commerce.build)
    tent = ids["tent"]

    async def delete_and_read(client: StoreApi) -> dict[str, Any]:
        await client.delete(f"/v3/catalog/products/{tent}")
        lists = await client.get_all("/v3/pricelists")
        records = [
            r for p in lists for r in await client.get_all(f"/v3/pricelists/{p['id']}/records")
        ]
        orders = await client.get_all("/v2/orders")
        lines = [
            line for o in orders for line in await client.get_all(f"/v2/orders/{o['id']}/products")
        ]
        groups = await client.get_all("/v2/customer_groups")
        return {"records": records, "lines": lines, "groups": groups}

    seen = on_store(emulator, "alpha", delete_and_read)
    trade = next(g for g in seen["groups"] if g["id"] == ids["trade"])
    assert [r["type"] for r in trade["discount_rules"]] == ["category"]  # the product rule went
    assert all(r["product_id"] != tent for r in seen["records"])
    assert any(line["product_id"] == tent for line in seen["lines"])  # order history is kept

    result = api.pull(
        "alpha",
        config_path=config_path,
        out=tmp_path / "snap",
        full=True,
        connector=connector_for(emulator),
    )
    assert any("orders" in n and f"products id {tent}" in n for n in result.notes), result.notes
    snapshot = read_snapshot(tmp_path / "snap")
    assert not _dangling(snapshot)
    lines = [line for o in snapshot.records("orders").values() for line in o["products"]]
    tents = [line for line in lines if line["sku"] == "TENT-1"]
    assert tents and all(line["product"] is None and line["name"] for line in tents)


def test_deletes_leave_the_promotions_that_named_them(
    emulator: Emulator, config_path: Path, tmp_path: Path
) -> None:
    ids = on_store(emulator, "alpha", promotions.build)

    async def delete_and_read(client: StoreApi) -> list[dict[str, Any]]:
        await client.delete(f"/v3/catalog/products/{ids['shoe']}/variants/{ids['blue']}")
        await client.delete(f"/v3/catalog/brands/{ids['acme']}")
        await client.delete(f"/v2/customer_groups/{ids['trade']}")
        found: list[dict[str, Any]] = await client.get_all("/v3/promotions")
        return found

    listed = on_store(emulator, "alpha", lambda client: client.get_all("/v3/promotions"))
    before = {p["id"]: p for p in listed}
    gifts = {i for i, p in before.items() if _contains(p, "variant_id", ids["blue"])}
    grouped = {i for i, p in before.items() if ids["trade"] in p["customer"]["group_ids"]}
    assert gifts and grouped
    after = on_store(emulator, "alpha", delete_and_read)
    assert len(after) == len(before)  # no promotion is lost
    for promotion in after:
        assert not _contains(promotion, "variants", ids["blue"])
        assert not _contains(promotion, "variant_id", ids["blue"])
        assert not _contains(promotion, "brands", ids["acme"])
        assert ids["trade"] not in promotion["customer"]["group_ids"]
        # A promotion that lost its gift, or all its groups, no longer applies as it did.
        if promotion["id"] in gifts | grouped:
            assert promotion["status"] == "INVALID", promotion["name"]
    api.pull(
        "alpha",
        config_path=config_path,
        out=tmp_path / "snap",
        full=True,
        connector=connector_for(emulator),
    )
    assert not _dangling(read_snapshot(tmp_path / "snap"))


def test_a_deleted_category_leaves_customer_groups(emulator: Emulator) -> None:
    async def work(client: StoreApi) -> dict[str, Any]:
        trees = await client.get_all("/v3/catalog/trees")
        made = await client.post(
            "/v3/catalog/trees/categories", [{"name": "Empty", "tree_id": trees[0]["id"]}]
        )
        category = int(made[0]["category_id"])
        group = await client.post(
            "/v2/customer_groups",
            {
                "name": "Outlet",
                "category_access": {"type": "specific", "categories": [category]},
                "discount_rules": [
                    {
                        "type": "category",
                        "method": "percent",
                        "amount": "5",
                        "category_id": category,
                    },
                    {"type": "all", "method": "percent", "amount": "1"},
                ],
            },
        )
        await client.delete("/v3/catalog/trees/categories", params={"category_id:in": category})
        found: dict[str, Any] = await client.get(f"/v2/customer_groups/{group['id']}")
        return found

    group = on_store(emulator, "alpha", work)
    assert group["category_access"] == {"type": "specific", "categories": []}
    assert [r["type"] for r in group["discount_rules"]] == ["all"]


def test_a_pull_leaves_out_what_a_store_still_names_after_a_delete(
    emulator: Emulator, config_path: Path, tmp_path: Path
) -> None:
    """Where a real store keeps naming a deleted product or category in a customer group or in
    related products (the emulator does not: see the assumptions), the pull leaves the reference
    out, notes it, and writes a snapshot naming only what it holds."""
    ids = on_store(emulator, "alpha", commerce.build)
    store = emulator.stores["alpha"]
    gone = store.next_id()  # an id no entity has: as a deleted one
    group = customer_side.state(store).groups[ids["trade"]]
    group["discount_rules"].append(
        {"type": "product", "method": "fixed", "amount": "1.0000", "product_id": gone}
    )
    group["category_access"]["categories"].append(gone)
    store.products[ids["shoe"]]["related_products"] = [ids["tent"], gone]

    result = api.pull(
        "alpha", config_path=config_path, out=tmp_path / "s", connector=connector_for(emulator)
    )
    snapshot = read_snapshot(tmp_path / "s")
    assert not _dangling(snapshot)
    trade = snapshot.records("customer_groups")["Trade"]
    assert len(trade["discount_rules"]) == 2  # the two the group had before
    assert snapshot.records("products")["SHOE"]["related_products"] == ["TENT-1"]
    assert sorted(n.split(":")[0] for n in result.notes if f"id {gone}" in n) == [
        "customer_groups Trade",
        "customer_groups Trade",
        "products SHOE",
    ]


def test_a_pull_leaves_out_of_promotions_what_a_store_still_names(
    emulator: Emulator, config_path: Path, tmp_path: Path
) -> None:
    on_store(emulator, "alpha", promotions.build)
    store = emulator.stores["alpha"]
    gone = store.next_id()
    summer = next(
        p for p in promotion_side.state(store).promotions.values() if p["name"] == promotions.SUMMER
    )
    items = summer["rules"][0]["condition"]["cart"]["items"]
    items["products"] = [*items["products"], gone]

    result = api.pull(
        "alpha", config_path=config_path, out=tmp_path / "s", connector=connector_for(emulator)
    )
    snapshot = read_snapshot(tmp_path / "s")
    assert not _dangling(snapshot)
    assert f"promotions {promotions.SUMMER}: products id {gone} no longer exists; left out" in (
        " ".join(result.notes)
    )
    rule = snapshot.records("promotions")[promotions.SUMMER]["rules"][0]
    assert rule["condition"]["cart"]["items"]["products"] == ["TENT-1"]
