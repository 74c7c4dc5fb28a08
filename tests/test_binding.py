"""A plan is bound to its destination: every refusal changes nothing (checked in the emulator's
request log), --allow-drift skips only what drifted, --dry-run writes nothing. Also: plans of the
committed fixture, closure through the API, related-product cycles pushed for real."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stagesync import api
from stagesync.emulator import Emulator
from stagesync.errors import PlanError, PlanRefused
from stagesync.model import digest
from stagesync.planfile import plan_to_json
from stagesync.ports import StoreApi
from tests import catalogue
from tests.conftest import Connector, is_write, on_store

WRITES = {"POST", "PUT", "DELETE"}
FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "catalogue"
PRODUCT = {"type": "physical", "price": 1, "weight": 1, "categories": []}


def writes(emulator: Emulator) -> list[dict[str, Any]]:
    return [r for r in emulator.requests if is_write(r)]


def pull_both(tmp: Path, config: Path, connector: Connector) -> None:
    api.pull("alpha", config_path=config, out=tmp / "alpha", connector=connector)
    api.pull("beta", config_path=config, out=tmp / "beta", connector=connector)


def make_plan(tmp: Path, config: Path, connector: Connector, **kw: Any) -> Path:
    pull_both(tmp, config, connector)
    path = tmp / "plan.json"
    api.save_plan(api.diff(tmp / "alpha", tmp / "beta", config_path=config, **kw), path)
    return path


async def brands(client: StoreApi) -> None:
    await client.post("/v3/catalog/brands", {"name": "Acme"})
    await client.post("/v3/catalog/brands", {"name": "Zed"})


# --- refusals -----------------------------------------------------------------------


def test_an_edited_plan_is_refused_with_no_writes(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "alpha", brands)
    path = make_plan(tmp_path, config_path, connector)
    document = json.loads(path.read_text())
    document["operations"][0]["after"]["name"] = "Evil"
    path.write_text(json.dumps(document))
    emulator.clear_requests()

    with pytest.raises(PlanError, match="edited after it was made"):
        api.push(path, config_path=config_path, connector=connector)
    assert writes(emulator) == []


def test_a_plan_for_another_store_is_refused_with_no_writes(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "alpha", brands)
    path = make_plan(tmp_path, config_path, connector)
    emulator.clear_requests()

    with pytest.raises(PlanRefused, match="was made for store beta"):
        api.push(path, config_path=config_path, to="alpha", connector=connector)
    assert writes(emulator) == []


def test_a_plan_against_an_empty_destination_is_bound_too(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "alpha", brands)
    path = make_plan(tmp_path, config_path, connector)
    plan = api.load_plan(path)
    assert plan.destination.store_hash == "beta"
    assert all(op.precondition is None for op in plan.operations)

    # someone creates one of the brands on beta after planning: every write is refused
    async def one(client: StoreApi) -> None:
        await client.post("/v3/catalog/brands", {"name": "Zed"})

    on_store(emulator, "beta", one)
    emulator.clear_requests()
    with pytest.raises(PlanRefused) as refused:
        api.push(path, config_path=config_path, connector=connector)
    assert refused.value.drifted == ["brands Zed: now exists on the destination"]
    assert "--allow-drift" in str(refused.value)
    assert writes(emulator) == []


def test_a_plan_without_a_destination_store_is_refused(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "alpha", brands)
    path = make_plan(tmp_path, config_path, connector)
    document = json.loads(path.read_text())
    document["destination"]["store_hash"] = None
    del document["digest"]
    document["digest"] = digest(document)
    path.write_text(json.dumps(document))
    emulator.clear_requests()

    with pytest.raises(PlanRefused, match="does not record its destination store"):
        api.push(path, config_path=config_path, to="beta", connector=connector)
    assert writes(emulator) == []


def test_every_drifted_entity_is_listed_and_nothing_written(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "alpha", brands)

    async def beta(client: StoreApi) -> None:
        await client.post("/v3/catalog/brands", {"name": "Acme", "page_title": "old"})
        await client.post("/v3/catalog/brands", {"name": "Zed", "page_title": "old"})

    on_store(emulator, "beta", beta)
    path = make_plan(tmp_path, config_path, connector)

    async def drift(client: StoreApi) -> None:
        live = {b["name"]: b["id"] for b in await client.get_all("/v3/catalog/brands")}
        await client.put(f"/v3/catalog/brands/{live['Acme']}", {"page_title": "changed"})
        await client.delete(f"/v3/catalog/brands/{live['Zed']}")

    on_store(emulator, "beta", drift)
    emulator.clear_requests()
    with pytest.raises(PlanRefused) as refused:
        api.push(path, config_path=config_path, connector=connector)
    assert refused.value.drifted == [
        "brands Acme: changed on the destination",
        "brands Zed: no longer exists on the destination",
    ]
    assert "re-run stagesync diff" in str(refused.value)
    assert writes(emulator) == []


# --- allow drift, dry run, requests -------------------------------------------------


def test_allow_drift_skips_only_the_drifted_operations(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    async def alpha(client: StoreApi) -> None:
        acme = await client.post("/v3/catalog/brands", {"name": "Acme"})
        await client.post("/v3/catalog/brands", {"name": "Zed"})
        await client.post(
            "/v3/catalog/products", {**PRODUCT, "name": "K", "sku": "K", "brand_id": acme["id"]}
        )

    on_store(emulator, "alpha", alpha)
    path = make_plan(tmp_path, config_path, connector)
    on_store(emulator, "beta", lambda c: c.post("/v3/catalog/brands", {"name": "Acme"}))

    dry = api.push(
        path, config_path=config_path, dry_run=True, allow_drift=True, connector=connector
    )
    assert {r.operation.id: r.status for r in dry.results} == {
        "brands:Acme": "drifted",
        "brands:Zed": "planned",
        "products:K": "planned",
        "channel_assignments:K/default": "planned",
    }
    emulator.clear_requests()
    result = api.push(path, config_path=config_path, allow_drift=True, connector=connector)

    assert result.ok
    assert {r.operation.id: r.status for r in result.results} == {
        "brands:Acme": "drifted",
        "brands:Zed": "done",
        "products:K": "done",  # its brand exists either way
        "channel_assignments:K/default": "done",
    }
    assert [r["body"]["name"] for r in writes(emulator) if "products" not in r["path"]] == ["Zed"]
    assert result.requests == len(emulator.requests)


def test_dry_run_checks_everything_and_writes_nothing(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "alpha", catalogue.build)
    path = make_plan(tmp_path, config_path, connector)
    emulator.clear_requests()
    result = api.push(path, config_path=config_path, dry_run=True, connector=connector)
    assert {r.status for r in result.results} == {"planned"}
    assert writes(emulator) == []
    assert emulator.requests  # it did read the destination


def test_the_estimate_covers_what_push_really_uses(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "alpha", catalogue.build)
    path = make_plan(tmp_path, config_path, connector)
    plan = api.load_plan(path)
    result = api.push(path, config_path=config_path, connector=connector)
    assert result.ok
    # A product with options is estimated at one write per option, the most it can take (here
    # the platform made them right); the first category create looks up the tree once more.
    assert plan.estimated_requests - 2 <= result.requests <= plan.estimated_requests + 1


def test_the_destination_quota_comes_from_the_configuration(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    config_path.write_text(
        config_path.read_text().replace(
            'store_hash = "beta"', 'store_hash = "beta"\nquota = 10\nwindow_ms = 1000'
        )
    )
    on_store(emulator, "alpha", catalogue.build)
    pull_both(tmp_path, config_path, connector)
    plan = api.diff(tmp_path / "alpha", tmp_path / "beta", config_path=config_path)
    assert (plan.quota, plan.window_ms) == (10, 1000)
    assert plan.estimated_seconds == (-(-plan.estimated_requests // 10) - 1) * 1.0
    default = api.diff(tmp_path / "alpha", tmp_path / "beta", config_path=tmp_path / "none.toml")
    assert (default.quota, default.window_ms) == (150, 30000)


# --- closure and cycles against the emulator ----------------------------------------


def test_only_with_closure_then_push_converges_for_the_selection(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "alpha", catalogue.build)
    pull_both(tmp_path, config_path, connector)
    plan = api.diff(tmp_path / "alpha", tmp_path / "beta", only=["products:TENT-*"])
    assert plan.operations[-1].describe().startswith("+ products TENT-")
    assert {op.reason for op in plan.operations[:-1]} == {
        f"dependency of product {plan.operations[-1].key.key}"
    } | {op.reason for op in plan.operations[:-1] if op.reason.startswith("dependency of category")}
    with pytest.raises(PlanError, match="would not resolve"):
        api.diff(tmp_path / "alpha", tmp_path / "beta", only=["products:TENT-*"], deps=False)


def test_related_products_that_form_a_cycle_are_created_then_linked(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    async def alpha(client: StoreApi) -> None:
        a = await client.post("/v3/catalog/products", {**PRODUCT, "name": "A", "sku": "A"})
        b = await client.post(
            "/v3/catalog/products",
            {**PRODUCT, "name": "B", "sku": "B", "related_products": [a["id"]]},
        )
        await client.put(f"/v3/catalog/products/{a['id']}", {"related_products": [b["id"]]})

    on_store(emulator, "alpha", alpha)
    path = make_plan(tmp_path, config_path, connector)
    plan = api.load_plan(path)
    assert [op.describe() for op in plan.operations] == [
        "+ products A",
        "+ products B",
        "~ products A link (related_products)",
        "~ products B link (related_products)",
        "+ channel_assignments A/default",
        "+ channel_assignments B/default",
    ]
    result = api.push(path, config_path=config_path, connector=connector)
    assert result.ok, [r.error for r in result.results]
    # The estimate counts one batch write for the two assignments; push read back that the
    # platform had already put both new products on the default channel, and wrote nothing.
    assert result.requests == plan.estimated_requests - 1
    assert not [w for w in writes(emulator) if "channel-assignments" in w["path"]]

    api.pull("beta", config_path=config_path, out=tmp_path / "beta2", connector=connector)
    assert api.diff(tmp_path / "alpha", tmp_path / "beta2").empty


# --- snapshots of fixture plans -----------------------------------------------------


def _stable(data: bytes) -> str:
    document = json.loads(data)
    document["created_at"] = "<created_at>"
    document.pop("digest")
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False)


def test_fixture_plan_into_an_empty_store(
    snapshot: Any, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    api.pull("alpha", config_path=config_path, out=tmp_path / "empty", connector=connector)
    plan = api.diff(FIXTURE, tmp_path / "empty", config_path=config_path)
    assert _stable(plan_to_json(plan)) == snapshot


def test_fixture_plan_of_one_product_with_its_dependencies(
    snapshot: Any, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    api.pull("alpha", config_path=config_path, out=tmp_path / "empty", connector=connector)
    plan = api.diff(FIXTURE, tmp_path / "empty", only=["products:TENT-*"], config_path=config_path)
    from stagesync.report.text import render_text

    assert render_text(plan).split("\n", 1)[1] == snapshot


def test_cli_diff_selection_flags(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from stagesync.cli import app
    from stagesync.model import KindSnapshot, Snapshot
    from stagesync.snapshot import write_snapshot

    empty = Snapshot(
        {k: KindSnapshot({}) for k in ("brands", "categories", "products")}, "beta", "beta"
    )
    write_snapshot(tmp_path / "empty", empty)
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(app, ["diff", str(FIXTURE), str(tmp_path / "empty"), *args])

    changed = run("--only", "products:TENT-*", "--exit-code", "--format", "json")
    assert changed.exit_code == 3, changed.output
    ops = json.loads(changed.stdout)["operations"]
    assert ops[0]["reason"] == "dependency of product TENT-1"
    refused = run("--only", "products:TENT-*", "--no-deps")
    assert refused.exit_code == 1
    assert "would not resolve on the destination" in refused.stderr
    same = runner.invoke(app, ["diff", str(FIXTURE), str(FIXTURE), "--prune", "--exit-code"])
    assert same.exit_code == 0 and "No changes." in same.stdout
