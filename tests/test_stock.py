"""Migrate stock: inventory levels move only when the pull asks for them (off by default)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stagesync import api
from stagesync.emulator import Emulator
from stagesync.errors import PlanError
from stagesync.ports import StoreApi
from tests.conftest import Connector, on_store


async def stocked_catalogue(client: StoreApi) -> None:
    body = {"type": "physical", "price": 10, "weight": 1, "categories": []}
    await client.post(
        "/v3/catalog/products",
        {
            **body,
            "name": "Lamp",
            "sku": "LAMP",
            "inventory_tracking": "product",
            "inventory_level": 7,
        },
    )
    await client.post(
        "/v3/catalog/products",
        {
            **body,
            "name": "Tee",
            "sku": "TEE",
            "inventory_tracking": "variant",
            "variants": [
                {
                    "sku": f"TEE-{size}",
                    "inventory_level": level,
                    "option_values": [{"option_display_name": "Size", "label": size}],
                }
                for size, level in (("S", 3), ("M", 5))
            ],
        },
    )


def levels(emulator: Emulator, store: str) -> dict[str, int]:
    async def read(client: StoreApi) -> dict[str, int]:
        found: dict[str, int] = {}
        for product in await client.get_all("/v3/catalog/products", {"include": "variants"}):
            found[product["sku"]] = product["inventory_level"]
            for variant in product["variants"]:
                if variant["option_values"]:
                    found[variant["sku"]] = variant["inventory_level"]
        return found

    result: dict[str, int] = on_store(emulator, store, read)
    return result


def pull_both(tmp: Path, config: Path, connector: Connector, **stock: Any) -> None:
    for name in ("alpha", "beta"):
        api.pull(
            name,
            config_path=config,
            out=tmp / name,
            kinds=["products"],
            connector=connector,
            **stock,
        )


def test_stock_is_left_out_unless_asked(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "alpha", stocked_catalogue)
    pull_both(tmp_path, config_path, connector)

    lamp = json.loads(next((tmp_path / "alpha" / "products").glob("LAMP*.json")).read_text())
    assert "inventory_level" not in lamp["record"]
    manifest = json.loads((tmp_path / "alpha" / "snapshot.json").read_text())
    assert "stock" not in manifest
    plan = api.diff(tmp_path / "alpha", tmp_path / "beta")
    assert not plan.stock
    api.save_plan(plan, tmp_path / "plan.json")
    assert api.push(tmp_path / "plan.json", config_path=config_path, connector=connector).ok
    assert levels(emulator, "beta") == {"LAMP": 0, "TEE": 0, "TEE-M": 0, "TEE-S": 0}


def test_migrate_stock_moves_product_and_variant_levels(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "alpha", stocked_catalogue)
    pull_both(tmp_path, config_path, connector, stock=True)

    lamp = json.loads(next((tmp_path / "alpha" / "products").glob("LAMP*.json")).read_text())
    assert lamp["record"]["inventory_level"] == 7
    assert json.loads((tmp_path / "alpha" / "snapshot.json").read_text())["stock"] is True
    plan = api.diff(tmp_path / "alpha", tmp_path / "beta")
    assert plan.stock
    api.save_plan(plan, tmp_path / "plan.json")
    assert api.load_plan(tmp_path / "plan.json").stock  # the plan file carries it
    assert api.push(tmp_path / "plan.json", config_path=config_path, connector=connector).ok
    assert levels(emulator, "beta") == {"LAMP": 7, "TEE": 0, "TEE-M": 5, "TEE-S": 3}

    # A stock change on the source is exactly that field change in the next plan.
    async def sell(client: StoreApi) -> None:
        (lamp_raw,) = await client.get_all("/v3/catalog/products", {"sku": "LAMP"})
        await client.put(f"/v3/catalog/products/{lamp_raw['id']}", {"inventory_level": 4})

    on_store(emulator, "alpha", sell)
    pull_both(tmp_path, config_path, connector, stock=True)
    plan = api.diff(tmp_path / "alpha", tmp_path / "beta")
    assert [op.describe() for op in plan.operations] == ["~ products LAMP (inventory_level)"]
    api.save_plan(plan, tmp_path / "plan-2.json")
    assert api.push(tmp_path / "plan-2.json", config_path=config_path, connector=connector).ok
    assert levels(emulator, "beta")["LAMP"] == 4
    pull_both(tmp_path, config_path, connector, stock=True)
    assert api.diff(tmp_path / "alpha", tmp_path / "beta").empty


def test_diff_refuses_to_mix_stock_and_no_stock(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "alpha", stocked_catalogue)
    api.pull(
        "alpha",
        config_path=config_path,
        out=tmp_path / "alpha",
        kinds=["products"],
        connector=connector,
        stock=True,
    )
    api.pull(
        "beta",
        config_path=config_path,
        out=tmp_path / "beta",
        kinds=["products"],
        connector=connector,
    )

    with pytest.raises(PlanError) as error:
        api.diff(tmp_path / "alpha", tmp_path / "beta")
    assert "pulled with inventory levels" in str(error.value)
    assert "stock = true" in str(error.value)


def test_the_environment_setting_turns_stock_on(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    config_path.write_text(
        config_path.read_text().replace(
            'store_hash = "alpha"', 'store_hash = "alpha"\nstock = true'
        )
    )
    on_store(emulator, "alpha", stocked_catalogue)
    api.pull(
        "alpha",
        config_path=config_path,
        out=tmp_path / "alpha",
        kinds=["products"],
        connector=connector,
    )
    lamp = json.loads(next((tmp_path / "alpha" / "products").glob("LAMP*.json")).read_text())
    assert lamp["record"]["inventory_level"] == 7
