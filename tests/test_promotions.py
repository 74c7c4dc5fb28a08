"""Promotions and coupon codes: the round trip, ``--only promotions:SUMMER10`` bringing exactly what
it references, replace instead of update, --no-deps, and the emulator's validation and limits."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from stagesync import api
from stagesync.emulator import Emulator
from stagesync.entities import REGISTRY
from stagesync.errors import PlanError
from stagesync.model import Action, KindSnapshot
from stagesync.plan import make_plan
from stagesync.ports import StoreApi
from stagesync.snapshot import read_snapshot
from tests import promotions
from tests.conftest import Connector, is_write, on_store
from tests.test_emulator_spec import SPEC_ROOT, load_yaml, schema_properties

WRITES = {"POST", "PUT", "DELETE"}


@pytest.fixture
def built(emulator: Emulator) -> dict[str, int]:
    ids: dict[str, int] = on_store(emulator, "alpha", promotions.build)
    return ids


def error_fields(reply: httpx.Response) -> set[str]:
    """The fields a promotions error names: the platform's body is
    ``{"errors": [{"status", "title", "type"}], "meta": {}}``, one entry per field after the
    first (``"field: message"``)."""
    body = reply.json()
    assert set(body) == {"errors", "meta"}
    return {str(e["title"]).split(": ", 1)[0] for e in body["errors"][1:]}


def pull_both(tmp: Path, config: Path, connector: Connector, name: str = "beta") -> None:
    api.pull("alpha", config_path=config, out=tmp / "alpha", connector=connector)
    api.pull("beta", config_path=config, out=tmp / name, connector=connector)


def push(tmp: Path, config: Path, connector: Connector, plan: Any, name: str = "plan") -> None:
    path = tmp / f"{name}.json"
    api.save_plan(plan, path)
    # A replaced promotion's usage counts restart: the emulator's have none to lose.
    replaced = [("promotion-reset", "the test promotions have no usage yet")]
    result = api.push(path, config_path=config, connector=connector, overrides=replaced)
    assert [(r.operation.describe(), r.error) for r in result.results if r.status != "done"] == []


def remaining(tmp: Path, config: Path, connector: Connector, **selection: Any) -> list[str]:
    api.pull("beta", config_path=config, out=tmp / "beta-after", connector=connector)
    plan = api.diff(tmp / "alpha", tmp / "beta-after", **selection)
    return [op.describe() for op in plan.operations]


def raw(emulator: Emulator, store: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async def send() -> httpx.Response:
        async with httpx.AsyncClient(
            transport=emulator.transport(),
            base_url="http://emulator",
            headers={"X-Auth-Token": f"{store}-token"},
        ) as client:
            return await client.request(method, f"/stores/{store}{path}", **kwargs)

    return asyncio.run(send())


def beta_promotions(emulator: Emulator) -> dict[str, dict[str, Any]]:
    body = raw(emulator, "beta", "GET", "/v3/promotions").json()
    return {p["name"]: p for p in body["data"]}


def beta_codes(emulator: Emulator, promotion_id: int) -> list[str]:
    body = raw(emulator, "beta", "GET", f"/v3/promotions/{promotion_id}/codes").json()
    return sorted(c["code"] for c in body["data"])


def test_every_rule_shape_round_trips(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector, built: Any
) -> None:
    pull_both(tmp_path, config_path, connector)
    plan = api.diff(tmp_path / "alpha", tmp_path / "beta", kinds=["promotions"])
    emulator.settings.latency_ms = 2  # requests overlap, so concurrency limits would bite
    push(tmp_path, config_path, connector, plan)
    emulator.settings.latency_ms = 0

    assert not [r for r in emulator.requests if r["status"] == 429]
    assert remaining(tmp_path, config_path, connector, kinds=["promotions"]) == []
    live = beta_promotions(emulator)
    assert len(live) == 6 and {p["created_from"] for p in live.values()} == {"api"}
    assert beta_codes(emulator, live["SUMMER10"]["id"]) == sorted(promotions.SUMMER_CODES)
    weekend = live["Weekend cart discount"]
    assert weekend["schedule"]["week_days"] == ["Saturday", "Sunday"]
    assert [n["type"] for n in weekend["notifications"]] == ["UPSELL", "APPLIED"]


def test_only_summer10_brings_exactly_what_it_references(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector, built: Any
) -> None:
    pull_both(tmp_path, config_path, connector)
    plan = api.diff(tmp_path / "alpha", tmp_path / "beta", only=["promotions:SUMMER10"])
    ops = {op.key.key: op for op in plan.operations}
    assert set(ops) == {
        "Acme",
        "Bags\\/Cases",  # TENT-1's category: brought along by the product
        "Outdoor",
        "Outdoor/Footwear",
        "Outdoor/Footwear/Trail Running",
        "Outdoor/Footwear/Trail Running/Wide Fit",
        "SHOE",
        "TENT-1",
        "Trade",
        "Domestic",
        "SUMMER10",
    }
    assert ops["SHOE"].reason == "dependency of promotion SUMMER10"
    assert ops["Domestic"].reason == "dependency of promotion SUMMER10"
    assert ops["SUMMER10"].reason == "selected"
    assert ops["Bags\\/Cases"].reason == "dependency of product TENT-1"
    position = {op.key.key: i for i, op in enumerate(plan.operations)}
    assert all(position[k] < position["SUMMER10"] for k in ops if k != "SUMMER10")
    assert set(ops["SUMMER10"].depends_on) >= {
        "products:SHOE",
        "products:TENT-1",
        "brands:Acme",
        "customer_groups:Trade",
        "shipping_zones:Domestic",
    }

    emulator.clear_requests()
    push(tmp_path, config_path, connector, plan)

    writes = [
        (r["method"], r["path"].removeprefix("/stores/beta"))
        for r in emulator.requests
        if r["store_hash"] == "beta" and is_write(r)
    ]
    promotion_post = writes.index(("POST", "/v3/promotions"))
    assert promotion_post == max(i for i, w in enumerate(writes) if not w[1].endswith("/codes")), (
        "the promotion is written after everything it references"
    )
    # The destination's promotion holds the destination's ids for the same keys.
    beta = emulator.stores["beta"]
    promotion = beta_promotions(emulator)["SUMMER10"]
    tent = next(p["id"] for p in beta.products.values() if p["sku"] == "TENT-1")
    blue = next(v["id"] for v in beta.variants.values() if v["sku"] == "SHOE-42-BLU")
    acme = next(b["id"] for b in beta.brands.values() if b["name"] == "Acme")
    wide = next(c["id"] for c in beta.categories.values() if c["name"] == "Wide Fit")
    first, second = promotion["rules"]
    assert first["condition"]["cart"]["items"] == {"products": [tent]}
    assert first["action"]["cart_items"]["items"] == {
        "or": [{"categories": [wide]}, {"variants": [blue]}, {"brands": [acme]}]
    }
    zones = raw(emulator, "beta", "GET", "/v2/shipping/zones").json()
    assert second["action"]["shipping"]["zone_ids"] == [zones[0]["id"]]
    groups = raw(emulator, "beta", "GET", "/v2/customer_groups").json()
    assert promotion["customer"]["group_ids"] == [groups[0]["id"]]
    assert tent != built["tent"] and blue != built["blue"]  # the stores' ids really differ
    assert beta_codes(emulator, promotion["id"]) == sorted(promotions.SUMMER_CODES)


def test_a_changed_promotion_is_replaced_with_its_codes(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector, built: Any
) -> None:
    pull_both(tmp_path, config_path, connector)
    push(tmp_path, config_path, connector, api.diff(tmp_path / "alpha", tmp_path / "beta"))

    async def change(client: StoreApi) -> None:
        await client.put(f"/v3/promotions/{built['SUMMER10']}", {"display_name": "12% off now"})

    on_store(emulator, "alpha", change)
    pull_both(tmp_path, config_path, connector, "beta-2")
    plan = api.diff(tmp_path / "alpha", tmp_path / "beta-2")
    assert [op.describe() for op in plan.operations] == ["-/+ promotions SUMMER10 (display_name)"]
    (op,) = plan.operations
    assert op.action is Action.REPLACE
    assert op.note is not None and "replaced, not edited" in op.note
    assert any("usage counts" in w for w in plan.warnings)
    old_id = beta_promotions(emulator)["SUMMER10"]["id"]

    emulator.clear_requests()
    push(tmp_path, config_path, connector, plan, "plan-2")

    writes = [
        (r["method"], r["path"].removeprefix("/stores/beta"))
        for r in emulator.requests
        if r["store_hash"] == "beta" and is_write(r)
    ]
    assert not [w for w in writes if w[0] == "PUT"], "never edited in place"
    assert writes[:3] == [
        ("DELETE", f"/v3/promotions/{old_id}/codes"),
        ("DELETE", f"/v3/promotions/{old_id}"),
        ("POST", "/v3/promotions"),
    ]
    new = beta_promotions(emulator)["SUMMER10"]
    assert new["id"] != old_id and new["display_name"] == "12% off now"
    assert beta_codes(emulator, new["id"]) == sorted(promotions.SUMMER_CODES)
    assert remaining(tmp_path, config_path, connector) == []


def test_no_deps_lists_what_the_destination_lacks(
    tmp_path: Path, config_path: Path, connector: Connector, built: Any
) -> None:
    pull_both(tmp_path, config_path, connector)
    with pytest.raises(PlanError) as caught:
        api.diff(tmp_path / "alpha", tmp_path / "beta", only=["promotions:SUMMER10"], deps=False)
    message = str(caught.value)
    for missing in ("product TENT-1", "product SHOE", "Wide Fit", "brand Acme", "Trade"):
        assert missing in message
    assert "Domestic" in message


def test_a_referenced_sku_on_neither_side_is_a_warning(
    tmp_path: Path, config_path: Path, connector: Connector, built: Any
) -> None:
    pull_both(tmp_path, config_path, connector)
    source = read_snapshot(tmp_path / "alpha")
    products = {k: v for k, v in source.records("products").items() if k != "TENT-1"}
    source = replace(source, kinds={**source.kinds, "products": KindSnapshot(products)})
    plan = make_plan(
        source,
        read_snapshot(tmp_path / "beta"),
        REGISTRY,
        created_at="2030-01-01T00:00:00Z",
        only=[("promotions", "SUMMER10")],
    )
    assert "products:TENT-1" not in {op.id for op in plan.operations}
    assert any("product TENT-1" in w and "does not have" in w for w in plan.warnings)


# -- the emulator -----------------------------------------------------------------------------


def test_emulator_rejects_references_to_ids_the_store_lacks(
    emulator: Emulator, built: dict[str, int]
) -> None:
    cases = [
        (
            {"condition": {"cart": {"items": {"products": [999999]}, "minimum_quantity": 1}}},
            "rules.0.condition.cart.items.products",
        ),
        ({"action": {"shipping": {"zone_ids": [999999]}}}, "rules.0.action.shipping.zone_ids"),
        (
            {"action": {"gift_item": {"quantity": 1, "variant_id": 999999}}},
            "rules.0.action.gift_item.variant_id",
        ),
    ]
    for rule, field in cases:
        body = {
            "redemption_type": "AUTOMATIC",
            "name": "Bad",
            "rules": [{"action": {"cart_value": {"discount": {"fixed_amount": "1"}}}, **rule}],
        }
        reply = raw(emulator, "alpha", "POST", "/v3/promotions", json=body)
        assert reply.status_code == 422, reply.text
        assert field in error_fields(reply)
    beta_body = {
        "redemption_type": "AUTOMATIC",
        "name": "Alpha ids",
        "customer": {"group_ids": [built["trade"]]},
        "rules": [{"action": {"cart_value": {"discount": {"percentage_amount": "5"}}}}],
    }
    reply = raw(emulator, "beta", "POST", "/v3/promotions", json=beta_body)
    assert reply.status_code == 422 and "customer.group_ids" in error_fields(reply)


def test_emulator_validation_and_limits(emulator: Emulator, built: dict[str, int]) -> None:
    def post(body: dict[str, Any]) -> httpx.Response:
        return raw(emulator, "alpha", "POST", "/v3/promotions", json=body)

    rule = [{"action": {"cart_value": {"discount": {"percentage_amount": "5"}}}}]
    assert post({"redemption_type": "AUTOMATIC", "name": "No rules"}).status_code == 422
    assert post({"name": "No type", "rules": rule}).status_code == 422
    bad_status = post(
        {"redemption_type": "AUTOMATIC", "name": "X", "rules": rule, "status": "INVALID"}
    )
    assert bad_status.status_code == 422
    bad_schedule = post(
        {
            "redemption_type": "AUTOMATIC",
            "name": "X",
            "rules": rule,
            "schedule": {
                "week_frequency": 1,
                "week_days": ["Funday"],
                "daily_start_time": "8",
                "daily_end_time": "20:00:00",
            },
        }
    )
    assert bad_schedule.status_code == 422
    assert {"schedule.week_days", "schedule.daily_start_time"} <= error_fields(bad_schedule)

    summer, welcome = built["SUMMER10"], built["Welcome"]
    codes = f"/v3/promotions/{welcome}/codes"
    assert raw(emulator, "alpha", "POST", codes, json={"code": "WELCOME-2"}).status_code == 422
    taken = raw(
        emulator, "alpha", "POST", f"/v3/promotions/{summer}/codes", json={"code": "welcome"}
    )
    assert taken.status_code == 409
    bad_code = raw(
        emulator, "alpha", "POST", f"/v3/promotions/{summer}/codes", json={"code": "no!"}
    )
    assert bad_code.status_code == 422
    assert (
        raw(
            emulator, "alpha", "POST", f"/v3/promotions/{welcome}/codegen", json={"batch_size": 5}
        ).status_code
        == 405
    )
    generated = raw(
        emulator,
        "alpha",
        "POST",
        f"/v3/promotions/{summer}/codegen",
        json={"batch_size": 250, "prefix": "S", "delimiter": "-"},
    )
    assert generated.status_code == 201 and len(generated.json()["data"]["codes"]) == 250
    assert (
        raw(
            emulator, "alpha", "POST", f"/v3/promotions/{summer}/codegen", json={"batch_size": 251}
        ).status_code
        == 422
    )

    # Cursor paging over the codes.
    seen: list[str] = []
    query = "?limit=100"
    while True:
        page = raw(emulator, "alpha", "GET", f"/v3/promotions/{summer}/codes{query}").json()
        seen += [c["code"] for c in page["data"]]
        link = page["meta"]["cursor_pagination"]["links"].get("next")
        if not link:
            break
        query = link
    assert len(seen) == len(set(seen)) == 253

    ids = ",".join(str(i) for i in range(1, 252))
    assert (
        raw(
            emulator, "alpha", "DELETE", f"/v3/promotions/{summer}/codes", params={"id:in": ids}
        ).status_code
        == 422
    )
    too_many = ",".join(str(i) for i in range(1, 52))
    assert (
        raw(emulator, "alpha", "DELETE", "/v3/promotions", params={"id:in": too_many}).status_code
        == 422
    )
    with_codes = raw(emulator, "alpha", "DELETE", "/v3/promotions", params={"id:in": str(welcome)})
    assert with_codes.status_code == 422
    assert with_codes.json()["meta"] == {"total": 1, "success": 0, "failed": 1}
    assert raw(emulator, "alpha", "DELETE", "/v3/promotions").status_code == 422


def test_promotion_answers_carry_the_saved_schemas_required_fields(
    emulator: Emulator, built: dict[str, int]
) -> None:
    spec = SPEC_ROOT / "reference" / "promotions.v3.yml"
    if not spec.is_file():
        pytest.skip(f"BigCommerce OpenAPI copy not found at {spec}")
    doc = load_yaml(spec)
    schemas = doc["components"]["schemas"]
    live = {p["name"]: p for p in raw(emulator, "alpha", "GET", "/v3/promotions").json()["data"]}
    for schema, name in (
        ("SavedCouponPromotion", "SUMMER10"),
        ("SavedAutomaticPromotion", "Two bags for 50"),
    ):
        required = set(schemas[schema]["required"])
        declared = schema_properties(doc, schemas[schema]) - {"codes"}
        assert not required - set(live[name]), f"{schema} required fields missing"
        assert not declared - set(live[name]), f"{schema} properties missing"
    code_schema = schemas["CouponCode"]
    codes = raw(emulator, "alpha", "GET", f"/v3/promotions/{built['SUMMER10']}/codes").json()
    assert set(code_schema["properties"]) <= set(codes["data"][0])
