"""push: what it refuses, how a failure is reported, and what keeps going."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from stagesync import api
from stagesync.emulator import Emulator
from stagesync.errors import PlanError, PlanRefused, TransportError
from stagesync.ports import StoreApi
from tests import catalogue
from tests.conftest import Connector, is_write, on_store

WRITES = {"POST", "PUT", "DELETE"}


def make_plan(tmp: Path, config: Path, connector: Connector) -> Path:
    api.pull("alpha", config_path=config, out=tmp / "alpha", connector=connector)
    api.pull("beta", config_path=config, out=tmp / "beta", connector=connector)
    plan_path = tmp / "plan.json"
    api.save_plan(api.diff(tmp / "alpha", tmp / "beta"), plan_path)
    return plan_path


@pytest.fixture
def plan_path(emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector) -> Path:
    on_store(emulator, "alpha", catalogue.build)
    return make_plan(tmp_path, config_path, connector)


def test_validation_failure_names_the_entity_and_skips_its_dependents(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    async def alpha(client: StoreApi) -> None:
        brand = await client.post("/v3/catalog/brands", {"name": "Acme"})
        body = {"type": "physical", "price": 1, "weight": 1, "categories": []}
        await client.post("/v3/catalog/brands", {"name": "Solo"})
        await client.post(
            "/v3/catalog/products", {**body, "name": "Kite", "sku": "KITE", "brand_id": brand["id"]}
        )
        await client.post("/v3/catalog/products", {**body, "name": "Sled", "sku": "SLED"})

    async def beta(client: StoreApi) -> None:
        # Same product name under another SKU: creating KITE on beta is a duplicate name.
        body = {"type": "physical", "price": 1, "weight": 1, "categories": []}
        await client.post("/v3/catalog/products", {**body, "name": "Kite", "sku": "OLD-KITE"})

    on_store(emulator, "alpha", alpha)
    on_store(emulator, "beta", beta)
    result = api.push(
        make_plan(tmp_path, config_path, connector), config_path=config_path, connector=connector
    )

    status = {r.operation.describe(): (r.status, r.error) for r in result.results}
    assert not result.ok
    assert status["+ brands Acme"] == ("done", None)
    assert status["+ brands Solo"] == ("done", None)
    assert status["+ products SLED"] == ("done", None)
    kite_status, kite_error = status["+ products KITE"]
    assert kite_status == "failed"
    assert kite_error is not None
    assert "POST /stores/beta/v3/catalog/products (product KITE)" in kite_error
    assert "409" in kite_error


def test_dependents_of_a_failed_operation_are_skipped(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    async def alpha(client: StoreApi) -> None:
        tree = (await client.get_all("/v3/catalog/trees"))[0]["id"]
        parent = await catalogue.category(client, tree, "Parent")
        await catalogue.category(client, tree, "Child", parent)
        await catalogue.category(client, tree, "Lone")

    async def beta(client: StoreApi) -> None:
        # Another category already owns the URL alpha's "Parent" has: creating it conflicts.
        tree = (await client.get_all("/v3/catalog/trees"))[0]["id"]
        url = {"path": "/parent/", "is_customized": True}
        await catalogue.category(client, tree, "Other", url=url)

    on_store(emulator, "alpha", alpha)
    on_store(emulator, "beta", beta)
    plan_path = make_plan(tmp_path, config_path, connector)
    result = api.push(plan_path, config_path=config_path, connector=connector)

    status = {r.operation.describe(): (r.status, r.error or "") for r in result.results}
    assert status["+ categories Parent"][0] == "failed"
    assert "(category Parent)" in status["+ categories Parent"][1]
    assert "/parent/" in status["+ categories Parent"][1]
    assert status["+ categories Parent/Child"] == (
        "skipped",
        "skipped: + categories Parent did not apply",
    )
    assert status["+ categories Lone"] == ("done", "")
    assert [r.operation.describe() for r in result.failed] == [
        "+ categories Parent",
        "+ categories Parent/Child",
    ]


def test_drifted_destination_is_refused_with_no_writes(
    emulator: Emulator, plan_path: Path, config_path: Path, connector: Connector
) -> None:
    async def drift(client: StoreApi) -> None:
        await client.post("/v3/catalog/brands", {"name": "Acme"})

    on_store(emulator, "beta", drift)
    emulator.clear_requests()

    with pytest.raises(PlanRefused) as refused:
        api.push(plan_path, config_path=config_path, connector=connector)

    assert "brands Acme: now exists on the destination" in str(refused.value)
    assert "re-run stagesync diff" in str(refused.value)
    assert [r for r in emulator.requests if is_write(r)] == []


def test_plan_for_another_store_is_refused(
    plan_path: Path, config_path: Path, connector: Connector
) -> None:
    with pytest.raises(PlanRefused, match="was made for store beta"):
        api.push(plan_path, config_path=config_path, to="alpha", connector=connector)


def test_dry_run_writes_nothing(
    emulator: Emulator, plan_path: Path, config_path: Path, connector: Connector
) -> None:
    emulator.clear_requests()
    result = api.push(plan_path, config_path=config_path, dry_run=True, connector=connector)

    assert {r.status for r in result.results} == {"planned"}
    assert [r for r in emulator.requests if is_write(r)] == []


def test_unreachable_store_names_the_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "stagesync.toml"
    config.write_text(
        '[environments.gone]\nstore_hash = "abc"\naccess_token_env = "GONE_TOKEN"\n'
        'api_url = "http://127.0.0.1:9"\n'
    )
    monkeypatch.setenv("GONE_TOKEN", "t")
    with pytest.raises(TransportError) as error:
        api.pull("gone", config_path=config, out=tmp_path / "out")
    assert "http://127.0.0.1:9" in str(error.value)
    assert not (tmp_path / "out").exists()


def test_diff_refuses_a_kind_the_destination_never_pulled(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "alpha", catalogue.build)
    api.pull(
        "alpha",
        config_path=config_path,
        out=tmp_path / "alpha",
        kinds=["brands", "categories", "products"],
        connector=connector,
    )
    api.pull(
        "beta",
        config_path=config_path,
        out=tmp_path / "beta",
        kinds=["brands"],
        connector=connector,
    )

    with pytest.raises(PlanError) as error:
        api.diff(tmp_path / "alpha", tmp_path / "beta")

    assert "has no categories, products" in str(error.value)
    assert "stagesync pull beta --kinds categories,products" in str(error.value)
    assert [
        op.describe()
        for op in api.diff(tmp_path / "alpha", tmp_path / "beta", kinds=["brands"]).operations
    ] == ["+ brands Acme", "+ brands Zürich Gear"]


def test_a_push_refused_for_drift_does_not_block_the_next_one(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    """Refused, nothing written: pushing the same plan once the drift is gone, or a new plan
    written to the same file, must not be mistaken for a push to resume."""

    def brand(store: str, name: str) -> int:
        async def create(client: StoreApi) -> int:
            return int((await client.post("/v3/catalog/brands", {"name": name}))["id"])

        created: int = on_store(emulator, store, create)
        return created

    on_store(emulator, "alpha", catalogue.build)
    plan_path = make_plan(tmp_path, config_path, connector)
    drifted = brand("beta", "Acme")
    with pytest.raises(PlanRefused):
        api.push(plan_path, config_path=config_path, connector=connector)

    async def undo(client: StoreApi) -> None:
        await client.delete(f"/v3/catalog/brands/{drifted}")

    on_store(emulator, "beta", undo)  # the drift is gone: the same plan applies as it is
    assert api.push(plan_path, config_path=config_path, connector=connector).ok

    brand("alpha", "Yak")
    plan_path = make_plan(tmp_path, config_path, connector)
    brand("beta", "Yak")  # drift again: refused
    with pytest.raises(PlanRefused):
        api.push(plan_path, config_path=config_path, connector=connector)
    brand("alpha", "Zebu")
    plan_path = make_plan(tmp_path, config_path, connector)  # re-planned into the same file
    result = api.push(plan_path, config_path=config_path, connector=connector)
    assert [r.operation.describe() for r in result.results] == ["+ brands Zebu"]


@pytest.mark.parametrize(("pulled", "now"), [(189.0, 189), (189, 189.0)])
def test_a_whole_number_written_the_other_way_is_no_drift(
    emulator: Emulator,
    tmp_path: Path,
    config_path: Path,
    connector: Connector,
    pulled: float,
    now: float,
) -> None:
    """A store answers ``189.0`` until a write of ``189``, then ``189`` (and the other way round):
    the same price, so the plan made while it said the one still holds when it says the other."""

    def jacket(name: str) -> Callable[[StoreApi], Awaitable[int]]:
        async def work(client: StoreApi) -> int:
            body = {"name": name, "sku": "NW-JKT-01", "type": "physical", "weight": 1}
            made = await client.post("/v3/catalog/products", {**body, "price": pulled})
            return int(made["id"])

        return work

    async def price(client: StoreApi) -> Any:
        (found,) = await client.get_all("/v3/catalog/products", {"sku": "NW-JKT-01"})
        return found["price"]

    on_store(emulator, "alpha", jacket("Nordwand Jacket"))
    beta_id = on_store(emulator, "beta", jacket("Old Jacket"))
    plan_path = make_plan(tmp_path, config_path, connector)
    assert repr(on_store(emulator, "beta", price)) == repr(pulled)

    async def rewrite(client: StoreApi) -> None:
        await client.put(f"/v3/catalog/products/{beta_id}", {"price": now})

    on_store(emulator, "beta", rewrite)
    assert repr(on_store(emulator, "beta", price)) == repr(now)

    result = api.push(plan_path, config_path=config_path, connector=connector)
    assert [(r.operation.describe(), r.status) for r in result.results] == [
        ("~ products NW-JKT-01 (custom_url, name)", "done")
    ]
