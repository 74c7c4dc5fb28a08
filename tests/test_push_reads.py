"""push reads only what its plan touches: the plan's entities by their narrowest filter, the
entities their references need, and kinds without a usable filter whole; drift is found as
strictly as a whole read finds it, and the estimate follows the reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stagesync import api
from stagesync.emulator import Emulator
from stagesync.emulator.bulk import fill_store
from stagesync.entities import (
    REFERENCED,
    REGISTRY,
    TARGETED,
    TARGETED_KEYS,
    WHOLE,
    WHOLE_KEYS,
    push_reads,
)
from stagesync.errors import PlanRefused
from stagesync.ports import StoreApi
from tests.conftest import Connector, connector_for, is_lock_request, is_write, on_store

PRODUCTS = "/v3/catalog/products"
BODY = {"type": "physical", "price": 1, "weight": 1, "categories": []}


def make_plan(
    tmp: Path, config: Path, connector: Connector, kinds: list[str] | None = None
) -> Path:
    api.pull("alpha", config_path=config, out=tmp / "alpha", connector=connector)
    api.pull("beta", config_path=config, out=tmp / "beta", connector=connector)
    plan_path = tmp / "plan.json"
    api.save_plan(api.diff(tmp / "alpha", tmp / "beta", kinds=kinds), plan_path)
    return plan_path


async def raise_prices(client: StoreApi, skus: list[str]) -> None:
    """Raise the price of the products ``skus`` and of their variants."""
    found = await client.get_all(PRODUCTS, {"sku:in": ",".join(skus), "include": "variants"})
    for product in found:
        await client.put(f"{PRODUCTS}/{product['id']}", {"price": product["price"] + 1})
        variants = [{"id": v["id"], "price": v["price"] + 1} for v in product["variants"]]
        await client.put("/v3/catalog/variants", variants)


def reads(emulator: Emulator, store: str) -> list[dict[str, Any]]:
    return [
        r
        for r in emulator.requests
        if r["method"] == "GET"
        and r["path"].startswith(f"/stores/{store}/")
        and not is_lock_request(r)
    ]


def test_push_modes_follow_what_the_plan_touches() -> None:
    assert push_reads(["products"]) == {
        "channels": WHOLE,
        "brands": REFERENCED,
        "categories": WHOLE_KEYS,
        "products": TARGETED,
    }
    # Channel assignments are read whole and name any product: every product's ID is needed.
    modes = push_reads(["products", "channel_assignments"])
    assert modes["products"] == TARGETED_KEYS
    assert modes["channel_assignments"] == WHOLE
    # Writing brands reads them whole (their metafields have no per-brand filter).
    assert push_reads(["brands"]) == {"brands": WHOLE}
    # A kind no touched kind needs is not read at all.
    assert "customers" not in push_reads(["products"])


@pytest.mark.parametrize("size", [40, 400])
def test_an_update_reads_only_the_products_it_changes(
    size: int, emulator: Emulator, tmp_path: Path, config_path: Path
) -> None:
    fill_store(emulator.stores["alpha"], size)
    fill_store(emulator.stores["beta"], size)
    connector = connector_for(emulator)
    changed = [f"P-{i:06d}" for i in range(0, size, size // 12)][:12]
    on_store(emulator, "alpha", lambda client: raise_prices(client, changed))
    plan_path = make_plan(tmp_path, config_path, connector)
    emulator.clear_requests()

    result = api.push(plan_path, config_path=config_path, connector=connector)

    assert result.ok
    assert sorted(r.operation.key.key for r in result.results) == changed
    product_reads = [r for r in reads(emulator, "beta") if r["path"].endswith(PRODUCTS)]
    assert product_reads and all("sku:in" in r["query"] for r in product_reads)
    asked = {sku for r in product_reads for sku in r["query"]["sku:in"].split(",")}
    assert asked == set(changed)
    assert len(product_reads) == 2  # ten a request: the platform's page with options included
    metafields = [r for r in reads(emulator, "beta") if "metafields" in r["path"]]
    assert metafields and all("resource_id:in" in r["query"] for r in metafields)
    brands = [r for r in reads(emulator, "beta") if r["path"].endswith("/brands")]
    assert len(brands) == 1 and "id:in" in brands[0]["query"]
    assert result.requests == result.plan.estimated_requests


def test_the_same_plan_costs_the_same_whatever_the_store_holds(
    tmp_path: Path, config_path: Path
) -> None:
    costs = []
    for size in (30, 300):
        emulator = Emulator({"alpha": "alpha-token", "beta": "beta-token"})
        fill_store(emulator.stores["alpha"], size)
        fill_store(emulator.stores["beta"], size)
        connector = connector_for(emulator)
        on_store(emulator, "alpha", lambda client: raise_prices(client, ["P-000003", "P-000007"]))
        work = tmp_path / str(size)
        work.mkdir()
        result = api.push(
            make_plan(work, config_path, connector), config_path=config_path, connector=connector
        )
        assert result.ok
        costs.append((result.requests, result.plan.estimated_requests))
    assert costs[0] == costs[1]
    assert costs[0][0] == costs[0][1]


def odd_products(client: StoreApi) -> Any:
    async def run() -> None:
        await client.post(PRODUCTS, {**BODY, "name": "Comma", "sku": "A,B"})
        await client.post(PRODUCTS, {**BODY, "name": "Gift Wrap", "sku": ""})
        await client.post(PRODUCTS, {**BODY, "name": "Kite", "sku": "KITE"})

    return run()


def test_creates_refuse_when_the_products_now_exist(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    """A SKU with a comma (which ``sku:in`` would split) and a product without a SKU (found by
    name) are found by their own filters: a create of each is refused once they exist."""
    on_store(emulator, "alpha", odd_products)
    plan_path = make_plan(tmp_path, config_path, connector, kinds=["products"])
    on_store(emulator, "beta", odd_products)
    emulator.clear_requests()

    with pytest.raises(PlanRefused) as refused:
        api.push(plan_path, config_path=config_path, connector=connector)

    assert sorted(refused.value.drifted) == [
        "products A,B: now exists on the destination",
        "products KITE: now exists on the destination",
        "products name:Gift Wrap: now exists on the destination",
    ]
    assert [r for r in emulator.requests if is_write(r)] == []
    queries = [r["query"] for r in reads(emulator, "beta") if r["path"].endswith(PRODUCTS)]
    assert sorted(q.get("sku:in") or q.get("sku") or q["name"] for q in queries) == [
        "A,B",
        "Gift Wrap",
        "KITE",
    ]
    assert all(q["include_fields"] == "sku,name" for q in queries)  # existence only


def test_creates_with_channel_assignments_read_every_product_key_once(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    """Channel assignments are read whole and name any product, so every product key is listed
    (250 a page): the creates' existence comes from that listing, not from a read of their own."""
    on_store(emulator, "alpha", odd_products)
    plan_path = make_plan(tmp_path, config_path, connector)
    on_store(emulator, "beta", odd_products)
    emulator.clear_requests()

    with pytest.raises(PlanRefused) as refused:
        api.push(plan_path, config_path=config_path, connector=connector)

    assert "products A,B: now exists on the destination" in refused.value.drifted
    queries = [r["query"] for r in reads(emulator, "beta") if r["path"].endswith(PRODUCTS)]
    assert queries == [{"include_fields": "sku,name", "page": "1", "limit": "250"}]


def test_an_update_refuses_when_its_product_changed_or_is_gone(
    emulator: Emulator, tmp_path: Path, config_path: Path
) -> None:
    fill_store(emulator.stores["alpha"], 30)
    fill_store(emulator.stores["beta"], 30)
    connector = connector_for(emulator)
    on_store(emulator, "alpha", lambda client: raise_prices(client, ["P-000001", "P-000002"]))
    plan_path = make_plan(tmp_path, config_path, connector)

    async def drift(client: StoreApi) -> None:
        listed = await client.get_all(PRODUCTS, {"sku:in": "P-000001,P-000002"})
        found = {p["sku"]: p["id"] for p in listed}
        await client.put(f"{PRODUCTS}/{found['P-000001']}", {"description": "edited"})
        await client.delete(PRODUCTS, {"id:in": found["P-000002"]})

    on_store(emulator, "beta", drift)
    emulator.clear_requests()
    with pytest.raises(PlanRefused) as refused:
        api.push(plan_path, config_path=config_path, connector=connector)
    assert refused.value.drifted == [
        "products P-000001: changed on the destination",
        "products P-000002: no longer exists on the destination",
    ]
    assert [r for r in emulator.requests if is_write(r)] == []


def test_every_kind_that_declares_a_targeted_read_can_be_estimated() -> None:
    for entity in REGISTRY.values():
        targeted = entity.targeted
        if targeted is None:
            continue
        assert targeted.how
        assert (targeted.by_keys is None) == (targeted.requests is None), entity.name
        if targeted.lean_by_keys is not None:
            assert targeted.lean_key_requests is not None, entity.name
        assert (entity.fetch_keys is None) == (entity.keys_read_requests is None), entity.name


def test_performance_doc_says_how_push_reads_every_kind() -> None:
    text = (Path(__file__).parent.parent / "docs" / "performance.md").read_text()
    section = text.split("## What push reads", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    named = {kind for kind in REGISTRY if any(f"`{kind}`" in row.split(" | ")[0] for row in rows)}
    assert named == set(REGISTRY)
    for entity in REGISTRY.values():
        if entity.targeted is not None:
            assert any(entity.targeted.how in row for row in rows), entity.name


def test_creates_read_only_whether_they_exist_and_cost_what_was_estimated(
    emulator: Emulator, tmp_path: Path, config_path: Path
) -> None:
    fill_store(emulator.stores["beta"], 300)
    connector = connector_for(emulator)
    on_store(emulator, "alpha", odd_products)
    plan_path = make_plan(tmp_path, config_path, connector, kinds=["products"])
    emulator.clear_requests()

    result = api.push(plan_path, config_path=config_path, connector=connector)

    assert result.ok and len(result.results) == 3
    queries = [
        r["query"]
        for r in reads(emulator, "beta")
        if r["path"].endswith(PRODUCTS) and "id:in" not in r["query"]  # not the read-back
    ]
    assert len(queries) == 3  # sku:in=KITE, sku=A,B, name=Gift Wrap: keys only, 300 unread
    assert all(q["include_fields"] == "sku,name" for q in queries)
    assert result.requests == result.plan.estimated_requests
