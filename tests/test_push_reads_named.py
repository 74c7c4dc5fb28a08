"""push reads only the price lists, customer groups, promotions and widgets its plan touches,
by name (``name:in`` for widgets), and the entities their live objects name by ID: the same plan
costs the same whatever the store holds, the estimate is what push sends, and drift and "now
exists" refuse as a whole read would."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stagesync import api
from stagesync.emulator import Emulator
from stagesync.entities import REFERENCED, TARGETED, WHOLE, WHOLE_KEYS, customer_groups, push_reads
from stagesync.errors import PlanRefused
from stagesync.ports import StoreApi
from tests import promotions
from tests.conftest import STORES, Connector, connector_for, is_write, on_store
from tests.test_push_reads import make_plan, reads

Work = Callable[[StoreApi], Awaitable[Any]]


async def _one(client: StoreApi, path: str, name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = await client.get_all(path, {"name": name})
    return next(item for item in found if item["name"] == name)


@dataclass(frozen=True)
class Kind:
    """How a test makes, edits and deletes one kind's entities through the API."""

    name: str
    path: str
    live_id: str
    prefix: str
    body: Callable[[str, dict[str, Any]], dict[str, Any]]
    """(entity name, what ``setup`` made) -> the create body."""
    edit: dict[str, Any]
    """A ``PUT`` body that changes an entity."""
    setup: Callable[[StoreApi], Awaitable[dict[str, Any]]]

    def item(self, number: int) -> str:
        return f"{self.prefix} {number:03d}"

    def seed(self, size: int) -> Work:
        async def run(client: StoreApi) -> None:
            made = await self.setup(client)
            for number in range(size):
                await client.post(self.path, self.body(self.item(number), made))

        return run

    def create(self, name: str) -> Work:
        async def run(client: StoreApi) -> None:
            await client.post(self.path, self.body(name, await self.setup(client)))

        return run

    def change(self, name: str) -> Work:
        async def run(client: StoreApi) -> None:
            found = await _one(client, self.path, name)
            await client.put(f"{self.path}/{found[self.live_id]}", self.edit)

        return run

    def remove(self, name: str) -> Work:
        async def run(client: StoreApi) -> None:
            found = await _one(client, self.path, name)
            await client.delete(f"{self.path}/{found[self.live_id]}")

        return run


async def nothing(client: StoreApi) -> dict[str, Any]:
    return {}


async def tier(client: StoreApi) -> dict[str, Any]:
    """The price list the first customer group's rule names (made once per store)."""
    found = await client.get_all("/v3/pricelists", {"name": "Tier"})
    made = found[0] if found else await client.post("/v3/pricelists", {"name": "Tier"})
    return {"tier": int(made["id"])}


async def trade(client: StoreApi) -> dict[str, Any]:
    """The customer group the first promotion is limited to (made once per store)."""
    found = await client.get_all("/v2/customer_groups", {"name": "Trade"})
    made = found[0] if found else await client.post("/v2/customer_groups", {"name": "Trade"})
    return {"trade": int(made["id"])}


async def banner(client: StoreApi) -> dict[str, Any]:
    """The widget template every widget uses (made once per store)."""
    path = "/v3/content/widget-templates"
    found = [t for t in await client.get_all(path) if t["name"] == "Banner"]
    made = found[0] if found else await client.post(path, {"name": "Banner", "template": "<b/>"})
    return {"banner": str(made["uuid"])}


def group_body(name: str, made: dict[str, Any]) -> dict[str, Any]:
    rules = [{"type": "price_list", "price_list_id": made["tier"]}]
    return {"name": name, "discount_rules": rules if name.endswith(" 001") else []}


def promotion_body(name: str, made: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "redemption_type": "AUTOMATIC",
        "start_date": "2026-01-01T00:00:00+00:00",  # fixed: the time of the create differs by store
        "rules": [{"action": {"cart_value": {"discount": {"percentage_amount": "5"}}}}],
    }
    if name.endswith(" 001"):  # a coupon limited to a customer group
        body.update(redemption_type="COUPON", customer={"group_ids": [made["trade"]]})
    return body


KINDS = {
    kind.name: kind
    for kind in (
        Kind(
            "price_lists",
            "/v3/pricelists",
            "id",
            "List",
            lambda name, made: {"name": name, "active": True},
            {"active": False},
            nothing,
        ),
        Kind(
            "customer_groups",
            "/v2/customer_groups",
            "id",
            "Group",
            group_body,
            {"discount_rules": [{"type": "all", "method": "percent", "amount": 5}]},
            tier,
        ),
        Kind(
            "promotions",
            "/v3/promotions",
            "id",
            "Promo",
            promotion_body,
            {"display_name": "Changed"},
            trade,
        ),
        Kind(
            "widgets",
            "/v3/content/widgets",
            "uuid",
            "Widget",
            lambda name, made: {
                "name": name,
                "widget_template_uuid": made["banner"],
                "widget_configuration": {"title": name},
            },
            {"widget_configuration": {"title": "Changed"}},
            banner,
        ),
    )
}


def push(name: str, plan_path: Path, config_path: Path, connector: Connector) -> Any:
    """``api.push``, accepting that a changed promotion is replaced (its usage counts reset)."""
    overrides = [("promotion-reset", "a test store")] if name == "promotions" else []
    return api.push(plan_path, config_path=config_path, connector=connector, overrides=overrides)


def fresh(kind: Kind, size: int) -> Emulator:
    """Two stores holding the same ``size`` entities of ``kind``."""
    emulator = Emulator(dict(STORES))
    for store in ("alpha", "beta"):
        on_store(emulator, store, kind.seed(size))
    return emulator


SIZES = (3, 260)
"""Store sizes an update is pushed to (docs/performance.md quotes 2,600)."""


def test_push_modes_of_the_kinds_read_by_name() -> None:
    assert push_reads(["price_lists"]) == {"price_lists": TARGETED}
    assert push_reads(["customer_groups"]) == {
        "channels": WHOLE,
        "categories": WHOLE_KEYS,
        "products": REFERENCED,
        "price_lists": REFERENCED,
        "customer_groups": TARGETED,
    }
    modes = push_reads(["promotions"])
    assert modes["promotions"] == TARGETED
    assert modes["customer_groups"] == modes["brands"] == modes["products"] == REFERENCED
    assert push_reads(["widgets"]) == {
        "channels": WHOLE,
        "widget_templates": WHOLE,
        "widgets": TARGETED,
    }
    # Pages are keyed by URL, which no filter of the page list takes.
    assert push_reads(["pages"])["pages"] == WHOLE
    # Kinds read whole that may name any entity of them need them all.
    assert push_reads(["price_lists", "price_list_records"])["price_lists"] == WHOLE
    assert push_reads(["widgets", "placements"])["widgets"] == WHOLE


@pytest.mark.parametrize("name", sorted(KINDS))
def test_an_update_costs_the_same_whatever_the_store_holds(
    name: str, tmp_path: Path, config_path: Path
) -> None:
    kind = KINDS[name]
    costs = []
    for size in SIZES:
        emulator = fresh(kind, size)
        connector = connector_for(emulator)
        on_store(emulator, "alpha", kind.change(kind.item(1)))
        work = tmp_path / str(size)
        work.mkdir()
        plan_path = make_plan(work, config_path, connector, kinds=[name])
        emulator.clear_requests()

        result = push(name, plan_path, config_path, connector)

        assert result.ok
        assert [r.operation.key.key for r in result.results] == [kind.item(1)]
        own = [r for r in reads(emulator, "beta") if r["path"].endswith(kind.path)]
        assert own and all(r["query"].get("name:in") or r["query"].get("name") for r in own)
        assert {r["query"].get("name:in") or r["query"]["name"] for r in own} == {kind.item(1)}
        costs.append(
            (len(reads(emulator, "beta")), result.requests, result.plan.estimated_requests)
        )
    assert costs[0] == costs[1]
    assert costs[0][1] == costs[0][2]  # the estimate is what push sent


def test_references_are_read_by_id_for_their_keys(tmp_path: Path, config_path: Path) -> None:
    """The destination's group names its price list, the promotion its customer group, by ID:
    push reads those by ID (``id:in``; a group by its own path, as the v2 list has no ID
    filter), never their whole lists."""
    for name, other, path in (
        ("customer_groups", "price_lists", "/v3/pricelists"),
        ("promotions", "customer_groups", "/v2/customer_groups"),
    ):
        kind = KINDS[name]
        emulator = fresh(kind, 3)
        connector = connector_for(emulator)
        on_store(emulator, "alpha", kind.change(kind.item(1)))
        work = tmp_path / name
        work.mkdir()
        plan_path = make_plan(work, config_path, connector, kinds=[name])
        emulator.clear_requests()

        result = push(name, plan_path, config_path, connector)

        assert result.ok, other
        referenced = [r for r in reads(emulator, "beta") if path in r["path"]]
        assert len(referenced) == 1, referenced
        assert referenced[0]["query"].get("id:in") or referenced[0]["path"][-1].isdigit()


@pytest.mark.parametrize("name", sorted(KINDS))
def test_an_update_refuses_when_its_entity_changed_or_is_gone(
    name: str, tmp_path: Path, config_path: Path
) -> None:
    kind = KINDS[name]
    emulator = fresh(kind, 5)
    connector = connector_for(emulator)
    for number in (1, 2):
        on_store(emulator, "alpha", kind.change(kind.item(number)))
    plan_path = make_plan(tmp_path, config_path, connector, kinds=[name])
    on_store(emulator, "beta", kind.change(kind.item(1)))
    on_store(emulator, "beta", kind.remove(kind.item(2)))
    emulator.clear_requests()

    with pytest.raises(PlanRefused) as refused:
        api.push(plan_path, config_path=config_path, connector=connector)

    assert refused.value.drifted == [
        f"{name} {kind.item(1)}: changed on the destination",
        f"{name} {kind.item(2)}: no longer exists on the destination",
    ]
    assert [r for r in emulator.requests if is_write(r)] == []


@pytest.mark.parametrize("name", sorted(KINDS))
def test_a_create_refuses_when_its_name_now_exists(
    name: str, tmp_path: Path, config_path: Path
) -> None:
    """The name has a comma, which ``name:in`` would split: widgets read it by ``name``."""
    kind = KINDS[name]
    emulator = fresh(kind, 3)
    connector = connector_for(emulator)
    on_store(emulator, "alpha", kind.create("New, wide"))
    plan_path = make_plan(tmp_path, config_path, connector, kinds=[name])
    on_store(emulator, "beta", kind.create("New, wide"))
    emulator.clear_requests()

    with pytest.raises(PlanRefused) as refused:
        api.push(plan_path, config_path=config_path, connector=connector)

    assert refused.value.drifted == [f"{name} New, wide: now exists on the destination"]
    assert [r for r in emulator.requests if is_write(r)] == []
    own = [r["query"] for r in reads(emulator, "beta") if r["path"].endswith(kind.path)]
    paging = ("page", "limit")
    assert [{k: v for k, v in q.items() if k not in paging} for q in own] == [{"name": "New, wide"}]


def test_a_lost_create_is_looked_up_by_name(tmp_path: Path, config_path: Path) -> None:
    """The answer to a price list's create is lost: push looks it up by ``name``, not by
    listing every price list, and does not create it twice."""
    kind = KINDS["price_lists"]
    emulator = fresh(kind, 3)
    connector = connector_for(emulator)
    on_store(emulator, "alpha", kind.create("New"))
    plan_path = make_plan(tmp_path, config_path, connector, kinds=["price_lists"])
    decide = emulator.decide_fault
    lost: list[str] = []

    def lose_the_create(method: str) -> Any:
        created = [r for r in emulator.requests if r["path"].endswith(kind.path) and is_write(r)]
        if method == "POST" and created and not lost:
            lost.append(method)
            return type(decide(method))(kind="drop", after_write=True)
        return decide(method)

    emulator.decide_fault = lose_the_create  # type: ignore[method-assign]
    emulator.clear_requests()
    result = push("price_lists", plan_path, config_path, connector)

    assert lost and result.ok
    assert [r["method"] for r in emulator.requests if r["path"].endswith(kind.path)] == [
        "GET",  # does it exist? (the plan's precondition)
        "POST",  # its answer lost
        "GET",  # did it happen?
    ]
    queries = [r["query"] for r in reads(emulator, "beta") if r["path"].endswith(kind.path)]
    assert [q["name"] for q in queries] == ["New", "New"]


async def rich_promotions(client: StoreApi) -> None:
    """``tests.promotions``' store, every promotion starting at one fixed time."""
    await promotions.build(client)
    for promotion in await client.get_all("/v3/promotions"):
        await client.put(
            f"/v3/promotions/{promotion['id']}", {"start_date": "2026-01-01T00:00:00Z"}
        )


def test_a_promotion_is_read_with_its_codes_and_what_it_names(
    tmp_path: Path, config_path: Path
) -> None:
    """A coupon promotion with codes, limited to a customer group and a shipping zone, naming
    products, a variant, a category and a brand: push reads it by name, its codes and its
    variant as pull does, and the products, brand and group it names by ID, for their keys;
    the estimate is what it sent."""
    emulator = Emulator(dict(STORES))
    for store in ("alpha", "beta"):
        on_store(emulator, store, rich_promotions)
    connector = connector_for(emulator)
    on_store(emulator, "alpha", KINDS["promotions"].change(promotions.SUMMER))
    plan_path = make_plan(tmp_path, config_path, connector, kinds=["promotions"])
    emulator.clear_requests()

    result = push("promotions", plan_path, config_path, connector)

    assert result.ok
    assert [r.operation.key.key for r in result.results] == [promotions.SUMMER]
    got = reads(emulator, "beta")
    paths = [r["path"].split("/beta", 1)[1] for r in got]
    assert paths.count("/v3/promotions") == 1
    assert sum(1 for p in paths if p.endswith("/codes")) == 1  # this promotion's codes only
    listed = {p: r["query"] for p, r in zip(paths, got, strict=True)}
    assert "id:in" in listed["/v3/catalog/variants"]
    assert "id:in" in listed["/v3/catalog/brands"]
    assert "id:in" in listed["/v3/catalog/products"]
    assert result.requests == result.plan.estimated_requests


def test_groups_read_by_id_leave_out_the_ones_gone(emulator: Emulator) -> None:
    """The v2 list has no ID filter: each group is read by its own path, and one the store no
    longer has (404) is left out, as a whole listing would not hold it."""

    async def run(client: StoreApi) -> list[str]:
        kept = await client.post("/v2/customer_groups", {"name": "Kept"})
        gone = await client.post("/v2/customer_groups", {"name": "Gone"})
        await client.delete(f"/v2/customer_groups/{gone['id']}")
        found = await customer_groups.by_ids(client, [kept["id"], gone["id"]])
        return [raw["name"] for raw in found]

    assert on_store(emulator, "beta", run) == ["Kept"]
