"""Order shipments move with their orders: items named by line item, the address by its place in
the order, tracking kept; changes converge; what the platform cannot write (status history,
refunds) is a plan warning; and the emulator's shipment rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stagesync import api
from stagesync.emulator import Emulator
from stagesync.emulator import orders as emulated
from stagesync.errors import ApiError
from stagesync.ports import StoreApi
from stagesync.snapshot import read_snapshot
from tests import commerce
from tests.conftest import Connector, on_store

ORDERS = "/v2/orders"
HOME = commerce.HOME_ADDRESS
OFFICE = {**HOME, "street_1": "9 Office Park", "zip": "62702"}


async def lines_of(store: StoreApi, order_id: int) -> dict[str, int]:
    return {
        str(line["sku"] or line["name"]): int(line["id"])
        for line in await store.get_all(f"{ORDERS}/{order_id}/products")
    }


async def addresses_of(store: StoreApi, order_id: int) -> dict[str, int]:
    rows = await store.get_all(f"{ORDERS}/{order_id}/shipping_addresses")
    return {str(a["street_1"]): int(a["id"]) for a in rows}


async def build_orders(store: StoreApi) -> dict[str, Any]:
    """An order shipped in two parts to two addresses (one item left to ship, one custom item
    shipped), and a refunded order."""
    made: dict[str, Any] = {}
    for sku, name in (("LAMP-1", "Lamp"), ("ROPE-1", "Rope")):
        product = await store.post(
            "/v3/catalog/products",
            {"name": name, "sku": sku, "type": "physical", "weight": 1, "price": 20},
        )
        made[sku] = int(product["id"])
    order = await store.post(
        ORDERS,
        {
            "external_id": "WEB-100",
            "billing_address": HOME,
            "shipping_addresses": [HOME, {**OFFICE, "shipping_method": "Courier"}],
            "products": [
                {"product_id": made["LAMP-1"], "quantity": 2},
                {"product_id": made["ROPE-1"], "quantity": 1},
                {"name": "Gift wrap", "quantity": 1, "price_ex_tax": 3, "price_inc_tax": 3},
            ],
        },
    )
    made["order"] = order_id = int(order["id"])
    lines = await lines_of(store, order_id)
    where = await addresses_of(store, order_id)
    first = await store.post(
        f"{ORDERS}/{order_id}/shipments",
        {
            "order_address_id": where["9 Office Park"],
            "items": [{"order_product_id": lines["LAMP-1"], "quantity": 1}],
            "shipping_provider": "ups",
            "tracking_number": "1Z999AA10123456784",
            "shipping_method": "Ground",
            "merchant_shipping_cost": "4.50",
        },
    )
    made["first"] = int(first["id"])
    await store.post(
        f"{ORDERS}/{order_id}/shipments",
        {
            "order_address_id": where["1 Home Lane"],
            "items": [
                {"order_product_id": lines["LAMP-1"], "quantity": 1},
                {"order_product_id": lines["Gift wrap"], "quantity": 1},
            ],
            "tracking_carrier": "dhl",
            "tracking_link": "https://track.example.com/JD0002",
            "comments": "Left at the door",
        },
    )
    await store.post(
        ORDERS,
        {
            "external_id": "WEB-101",
            "status_id": 4,
            "refunded_amount": 20,
            "billing_address": HOME,
            "products": [{"product_id": made["ROPE-1"], "quantity": 1}],
        },
    )
    return made


@pytest.fixture
def built(emulator: Emulator) -> dict[str, Any]:
    made: dict[str, Any] = on_store(emulator, "alpha", build_orders)
    return made


def sync(tmp: Path, config: Path, connector: Connector, name: str, **push: Any) -> Any:
    api.pull("alpha", config_path=config, out=tmp / "alpha", connector=connector)
    api.pull("beta", config_path=config, out=tmp / name, connector=connector)
    plan = api.diff(tmp / "alpha", tmp / name)
    api.save_plan(plan, tmp / f"{name}.json")
    result = api.push(tmp / f"{name}.json", config_path=config, connector=connector, **push)
    assert [(r.operation.describe(), r.error) for r in result.results if r.status != "done"] == []
    return plan


def left(tmp: Path, config: Path, connector: Connector) -> list[str]:
    api.pull("beta", config_path=config, out=tmp / "beta-after", connector=connector)
    return [op.describe() for op in api.diff(tmp / "alpha", tmp / "beta-after").operations]


def beta_shipments(emulator: Emulator, reference: str) -> list[dict[str, Any]]:
    async def read(store: StoreApi) -> list[dict[str, Any]]:
        (order,) = await store.get(ORDERS, {"external_order_id": reference})
        lines = {v: k for k, v in (await lines_of(store, order["id"])).items()}
        where = {v: k for k, v in (await addresses_of(store, order["id"])).items()}
        return sorted(
            (
                {
                    "to": where[s["order_address_id"]],
                    "items": sorted(
                        (lines[i["order_product_id"]], i["quantity"]) for i in s["items"]
                    ),
                    "tracking": s["tracking_number"] or s["tracking_link"],
                    "status": order["status_id"],
                }
                for s in await store.get_all(f"{ORDERS}/{order['id']}/shipments")
            ),
            key=str,
        )

    found: list[dict[str, Any]] = on_store(emulator, "beta", read)
    return found


def test_shipments_move_with_their_orders(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector, built: Any
) -> None:
    api.pull("alpha", config_path=config_path, out=tmp_path / "alpha", connector=connector)
    record = read_snapshot(tmp_path / "alpha").records("orders")["WEB-100"]
    assert record["shipping_addresses"][1]["street_1"] == "9 Office Park"
    assert [(s["address"], s["items"]) for s in record["shipments"]] == [
        (0, [{"item": "Gift wrap", "quantity": 1}, {"item": "LAMP-1", "quantity": 1}]),
        (1, [{"item": "LAMP-1", "quantity": 1}]),
    ]
    assert not {"id", "order_address_id", "date_created", "generated_tracking_link"} & set(
        record["shipments"][1]
    )

    plan = sync(tmp_path, config_path, connector, "beta", order_status="keep")

    assert beta_shipments(emulator, "WEB-100") == [
        {
            "to": "1 Home Lane",
            "items": [("Gift wrap", 1), ("LAMP-1", 1)],
            "tracking": "https://track.example.com/JD0002",
            "status": 3,
        },
        {
            "to": "9 Office Park",
            "items": [("LAMP-1", 1)],
            "tracking": "1Z999AA10123456784",
            "status": 3,
        },
    ]
    assert left(tmp_path, config_path, connector) == []
    warnings = "\n".join(plan.warnings)
    assert "cannot write an order's status history" in warnings
    assert "order WEB-101 was refunded (20.0000)" in warnings and "cannot write refunds" in warnings
    assert "may email the customer a shipment notification" in warnings
    assert warnings.count("status history") == 1, "one warning for every order"


def test_orders_created_pending_end_as_their_shipments_make_them(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector, built: Any
) -> None:
    sync(tmp_path, config_path, connector, "beta")

    assert {s["status"] for s in beta_shipments(emulator, "WEB-100")} == {3}
    assert left(tmp_path, config_path, connector) == ["~ orders WEB-101 (status_id)"]


def test_changed_shipments_converge(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector, built: Any
) -> None:
    sync(tmp_path, config_path, connector, "beta", order_status="keep")

    async def ship_the_rest(store: StoreApi) -> None:
        order_id = built["order"]
        lines = await lines_of(store, order_id)
        await store.put(
            f"{ORDERS}/{order_id}/shipments/{built['first']}", {"tracking_number": "1Z-NEW"}
        )
        await store.post(
            f"{ORDERS}/{order_id}/shipments",
            {
                "order_address_id": (await addresses_of(store, order_id))["1 Home Lane"],
                "items": [{"order_product_id": lines["ROPE-1"], "quantity": 1}],
            },
        )

    on_store(emulator, "alpha", ship_the_rest)
    plan = sync(tmp_path, config_path, connector, "beta-2", order_status="keep")

    assert [op.describe() for op in plan.operations] == ["~ orders WEB-100 (shipments, status_id)"]
    assert left(tmp_path, config_path, connector) == []
    shipped = beta_shipments(emulator, "WEB-100")
    assert {s["status"] for s in shipped} == {2}
    assert [s["to"] for s in shipped if ("ROPE-1", 1) in s["items"]] == ["1 Home Lane"]
    assert "1Z-NEW" in [s["tracking"] for s in shipped]


def test_emulator_shipment_rules(emulator: Emulator, built: dict[str, Any]) -> None:
    order_id = built["order"]
    path = f"{ORDERS}/{order_id}/shipments"

    async def work(store: StoreApi) -> tuple[list[str], int, list[Any]]:
        lines = await lines_of(store, order_id)
        home = (await addresses_of(store, order_id))["1 Home Lane"]
        errors = []
        rope = {"order_product_id": lines["ROPE-1"], "quantity": 1}
        for body in (
            {"order_address_id": home},
            {"order_address_id": home, "items": [{"order_product_id": lines["ROPE-1"]}]},
            {"order_address_id": 999, "items": [rope]},
            {"order_address_id": home, "items": [{**rope, "order_product_id": 999}]},
            {"order_address_id": home, "items": [{**rope, "quantity": 2}]},
            {"id": 5, "order_address_id": home, "items": [rope]},
            {"order_address_id": home, "items": [], "tracking_number": "x" * 51},
        ):
            try:
                await store.post(path, body)
            except ApiError as error:
                errors.append(str(error))
        count = (await store.get(f"{path}/count"))["count"]
        await store.delete(path)
        return errors, count, await store.get_all(path)

    errors, count, after = on_store(emulator, "alpha", work)
    assert len(errors) == 7
    # Bodies that break the route's schema (no items, no quantity, an over-long tracking number
    # and an empty item list) are the v2 400 naming the field, as is what only the order can
    # tell.
    for index in (0, 1, 6):
        assert errors[index].startswith("400 from POST"), errors[index]
    assert "'items' is a required property" in errors[0]
    assert "order_address_id 999 is not an address of this order" in errors[2]
    assert "order_product_id 999 is not in this order" in errors[3]
    assert "more than is left to ship" in errors[4]
    assert "The field 'id' cannot be written to" in errors[5]
    assert count == 2
    assert after == []
    store = emulator.stores["alpha"]
    assert emulated.state(store).orders[order_id]["status_id"] == 3, "deleting does not un-ship"
