"""Every product sub-resource round-trips through the emulator; records hold no IDs; pull's
request count matches the cost model; a variant price change and a reordered image are exactly
those field changes; part kinds plan only their parts. ``fixtures/rich-catalogue`` is the
snapshot of ``tests/rich_catalogue.py``'s store (regenerate with STAGESYNC_UPDATE_FIXTURES=1)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from stagesync import api
from stagesync.emulator import Emulator
from stagesync.entities.base import pages
from stagesync.ports import StoreApi
from stagesync.snapshot import read_snapshot
from tests import rich_catalogue
from tests.conftest import Connector, on_store
from tests.test_fixtures import record_files

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "rich-catalogue"
PART_KINDS = ("products", "product_reviews", "bulk_pricing_rules", "channel_assignments")


@pytest.fixture
def rich(emulator: Emulator) -> dict[str, int]:
    outlet = rich_catalogue.add_channel(emulator, "alpha")
    rich_catalogue.add_channel(emulator, "beta")

    async def work(client: StoreApi) -> dict[str, int]:
        return await rich_catalogue.build(client, outlet)

    ids: dict[str, int] = on_store(emulator, "alpha", work)
    return ids


def pull(name: str, tmp: Path, config: Path, connector: Connector, **kw: Any) -> Path:
    out = tmp / name
    api.pull(name.split("-")[0], config_path=config, out=out, connector=connector, **kw)
    return out


def test_the_rich_catalogue_round_trips(
    rich: dict[str, int], tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    alpha = pull("alpha", tmp_path, config_path, connector)
    beta = pull("beta", tmp_path, config_path, connector)
    plan = api.diff(alpha, beta, config_path=config_path)
    path = tmp_path / "plan.json"
    api.save_plan(plan, path)
    result = api.push(path, config_path=config_path, connector=connector)
    failed = [(r.operation.describe(), r.error) for r in result.results if r.status != "done"]
    assert not failed
    again = pull("beta-again", tmp_path, config_path, connector)
    assert api.diff(alpha, again, config_path=config_path).empty

    mug = read_snapshot(again).records("products")["MUG"]
    assert [m["display_name"] for m in mug["modifiers"]] == [
        "Engraving",
        "Gift wrap",
        "Delivery date",
    ]
    assert mug["complex_rules"][0]["conditions"] == [
        {"modifier": "Engraving", "value": "Initials", "variant": None},
        {"modifier": None, "value": None, "variant": "MUG-Gloss"},
    ]
    assert mug["related_products"] == ["TEE"]
    assert len(read_snapshot(again).records("products")["TEE"]["variants"]) == 120
    assignments = read_snapshot(again).records("channel_assignments")
    assert sorted(assignments) == [
        f"MUG/{rich_catalogue.OUTLET}",
        "MUG/default",
        "TEE/default",
    ]


def issued_ids(emulator: Emulator, store: str) -> set[int]:
    from stagesync.emulator.store import id_offset

    return set(range(id_offset(store), emulator.stores[store]._next_id))


def walk(value: Any, path: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            out.append((f"{path}.{key}", item))
            out += walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += walk(item, f"{path}[{index}]")
    else:
        out.append((path, value))
    return out


@pytest.mark.parametrize("kind", PART_KINDS)
def test_records_hold_no_ids(
    kind: str,
    rich: dict[str, int],
    emulator: Emulator,
    tmp_path: Path,
    config_path: Path,
    connector: Connector,
) -> None:
    snapshot = read_snapshot(pull("alpha", tmp_path, config_path, connector, kinds=[kind]))
    ids = issued_ids(emulator, "alpha")
    records = snapshot.records(kind)
    assert records
    for key, record in records.items():
        for path, value in walk(record):
            name = path.rsplit(".", 1)[-1]
            is_int = isinstance(value, int) and not isinstance(value, bool)
            assert not (is_int and (name == "id" or name.endswith("_id"))), f"{key}: {path}"
            assert not (is_int and value in ids), f"{key}: {path} = {value} is an id"


def test_pull_costs_what_the_model_says(
    rich: dict[str, int],
    emulator: Emulator,
    tmp_path: Path,
    config_path: Path,
    connector: Connector,
) -> None:
    emulator.clear_requests()
    pull("alpha", tmp_path, config_path, connector, kinds=list(PART_KINDS))
    catalogue = [
        r
        for r in emulator.requests
        if r["path"].split("/v3/catalog/", 1)[-1].startswith(("products", "variants"))
        and "/v3/catalog/" in r["path"]
    ]
    # Two products: the 120-variant one has options only, the other has modifiers (and rules).
    products, with_rules, product_fields, variant_fields = 2, 1, 1, 1
    model = (
        pages(products)  # the list, 250 a page
        + pages(products, 10)  # options and modifiers, ten a page
        + with_rules  # complex rules, read only for products with modifiers
        + pages(product_fields)
        + pages(variant_fields)  # the store-wide metafield lists
    )  # reviews, bulk pricing rules and channel assignments come with the list
    assert len(catalogue) == model, [r["path"] for r in catalogue]
    listings = [r["query"] for r in catalogue if r["path"].endswith("/v3/catalog/products")]
    assert [q["include"] for q in listings if "reviews" in q.get("include", "")] == [
        "variants,images,custom_fields,videos,reviews,bulk_pricing_rules,channels"
    ]


def test_pull_reproduces_the_rich_fixture(
    rich: dict[str, int], tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    pulled = pull("alpha", tmp_path, config_path, connector, kinds=list(PART_KINDS))
    if os.environ.get("STAGESYNC_UPDATE_FIXTURES"):
        shutil.rmtree(FIXTURE, ignore_errors=True)
        shutil.copytree(pulled, FIXTURE)
    assert record_files(pulled) == record_files(FIXTURE)


def test_a_price_and_an_image_order_are_exactly_those_changes(
    rich: dict[str, int],
    emulator: Emulator,
    tmp_path: Path,
    config_path: Path,
    connector: Connector,
    snapshot: SnapshotAssertion,
) -> None:
    before = pull("alpha", tmp_path, config_path, connector, kinds=["products"])

    async def change(client: StoreApi) -> None:
        tee = rich["tee"]
        variants = await client.get_all(f"/v3/catalog/products/{tee}/variants")
        target = next(v for v in variants if v["sku"] == "TEE-03-M")
        await client.put("/v3/catalog/variants", [{"id": target["id"], "price": 99}])
        images = await client.get_all(f"/v3/catalog/products/{tee}/images")
        detail = next(i for i in images if i["image_url"].endswith("detail.jpg"))
        await client.put(f"/v3/catalog/products/{tee}/images/{detail['id']}", {"sort_order": 0})

    on_store(emulator, "alpha", change)
    after = pull("alpha-after", tmp_path, config_path, connector, kinds=["products"])
    plan = api.diff(after, before, config_path=config_path, kinds=["products"])
    changes = [
        (op.key.key, [(f.path, f.before, f.after) for f in op.fields]) for op in plan.operations
    ]
    assert changes == snapshot


@pytest.mark.parametrize("kind", PART_KINDS[1:])
def test_a_part_kind_plans_only_its_parts(
    kind: str, rich: dict[str, int], tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    alpha = pull("alpha", tmp_path, config_path, connector)
    beta = pull("beta", tmp_path, config_path, connector)
    path = tmp_path / "products.json"
    api.save_plan(api.diff(alpha, beta, config_path=config_path, kinds=["products"]), path)
    api.push(path, config_path=config_path, connector=connector)
    beta = pull("beta-products", tmp_path, config_path, connector)
    # The products exist on both sides now: only the parts are planned.
    plan = api.diff(alpha, beta, config_path=config_path, kinds=[kind])
    assert plan.operations and {op.key.kind for op in plan.operations} == {kind}
    path = tmp_path / "parts.json"
    api.save_plan(plan, path)
    api.push(path, config_path=config_path, connector=connector)
    again = pull("beta-again", tmp_path, config_path, connector)
    assert api.diff(alpha, again, config_path=config_path, kinds=[kind]).empty
