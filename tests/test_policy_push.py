"""push and the policy: the rules run again in the check stage, against what push reads; an
error-level finding refuses the push, writing nothing, unless ``--override RULE --reason TEXT``
accepts it, on the record (journal and result JSON)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from typer.testing import CliRunner

from stagesync import api, cli
from stagesync.emulator import Emulator
from stagesync.errors import PolicyRefused, StageSyncError
from stagesync.ports import StoreApi
from tests.conftest import Connector, is_write, on_store

SCHEMAS = Path(__file__).resolve().parents[1] / "docs" / "schemas"


def kite(price: float) -> Any:
    async def build(client: StoreApi) -> None:
        zed = await client.post("/v3/catalog/brands", {"name": "Zed"})
        product = {"name": "Kite", "type": "physical", "sku": "KITE", "weight": 1, "price": price}
        await client.post("/v3/catalog/products", {**product, "brand_id": zed["id"]})

    return build


async def reprice(client: StoreApi) -> None:
    (product,) = await client.get_all("/v3/catalog/products")
    await client.put(f"/v3/catalog/products/{product['id']}", {"price": 10.0})


def plan_for(tmp: Path, config: Path, connector: Connector, name: str, **options: Any) -> Path:
    api.pull("alpha", config_path=config, out=tmp / "alpha", connector=connector)
    api.pull("beta", config_path=config, out=tmp / f"beta-{name}", connector=connector)
    plan = api.diff(tmp / "alpha", tmp / f"beta-{name}", config_path=config, **options)
    path = tmp / f"{name}.json"
    api.save_plan(plan, path)
    return path


@pytest.fixture
def repriced(emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector) -> Path:
    """beta holds alpha's kite at 100; alpha now sells it at 10: a plan that cuts it by 90%."""
    on_store(emulator, "alpha", kite(100.0))
    first = plan_for(tmp_path, config_path, connector, "first")
    assert api.push(first, config_path=config_path, connector=connector).ok
    on_store(emulator, "alpha", reprice)
    return plan_for(tmp_path, config_path, connector, "cut")


def test_an_error_level_finding_refuses_the_push_writing_nothing(
    emulator: Emulator, repriced: Path, config_path: Path, connector: Connector
) -> None:
    emulator.clear_requests()
    for dry_run in (True, False):
        with pytest.raises(PolicyRefused) as refused:
            api.push(repriced, config_path=config_path, connector=connector, dry_run=dry_run)
        assert [(f.rule, f.entity) for f in refused.value.findings] == [
            ("price-change", "products KITE")
        ]
    assert str(refused.value).splitlines() == [
        "the policy stops this push: 1 error-level finding; nothing was written.",
        "  ERROR  price-change  products KITE: price 100 -> 10: 90% down, more than the 50% "
        "the rule allows.",
        "Fix the plan (stagesync check PLAN says how), or accept them on the record: "
        '--override price-change --reason "..."',
    ]
    assert [r for r in emulator.requests if is_write(r)] == []
    assert not repriced.with_name("cut.result.json").exists()


def test_an_override_applies_the_plan_and_is_recorded(
    emulator: Emulator, repriced: Path, config_path: Path, connector: Connector
) -> None:
    reason = "clearance: approved by Ann"
    result = api.push(
        repriced,
        config_path=config_path,
        connector=connector,
        overrides=[("price-change", reason)],
    )
    assert result.ok
    assert result.overrides == (("price-change", reason),)
    body = json.loads(repriced.with_name("cut.result.json").read_text())
    jsonschema.Draft202012Validator(
        json.loads((SCHEMAS / "result.schema.json").read_text())
    ).validate(body)
    assert body["policy"] == {
        "findings": [
            {
                "rule": "price-change",
                "severity": "error",
                "kind": "products",
                "key": "KITE",
                "message": "price 100 -> 10: 90% down, more than the 50% the rule allows.",
                "overridden": True,
            }
        ],
        "overrides": [{"rule": "price-change", "reason": reason}],
    }
    lines = [
        orjson.loads(line)
        for line in repriced.with_name("cut.journal.jsonl").read_bytes().splitlines()
    ]
    assert [line["event"] for line in lines][:2] == ["begin", "policy"]
    assert lines[1]["overrides"] == body["policy"]["overrides"]
    assert lines[1]["findings"] == body["policy"]["findings"]


def test_a_finding_push_cannot_see_again_is_carried_from_the_plan(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    """The plan deletes brand Zed, which beta's kite still names; push reads brands only, so it
    keeps the finding the plan recorded, graded by the policy in force now."""
    on_store(emulator, "beta", kite(100.0))
    on_store(emulator, "alpha", kite(100.0))
    on_store(emulator, "alpha", lambda client: client.delete("/v3/catalog/brands", {"name": "Zed"}))
    plan = plan_for(tmp_path, config_path, connector, "prune", kinds=["brands"], prune=True)
    assert [op.describe() for op in api.load_plan(plan).operations] == ["- brands Zed"]
    with pytest.raises(PolicyRefused, match="delete-referenced  brands Zed"):
        api.push(plan, config_path=config_path, connector=connector)
    config_path.write_text(
        config_path.read_text() + '\n[policy.delete-referenced]\nexceptions = ["brands:Z*"]\n'
    )
    assert api.push(plan, config_path=config_path, connector=connector).findings == ()


def test_overrides_are_checked_before_anything_runs(repriced: Path, config_path: Path) -> None:
    runner = CliRunner()
    push = ["--config", str(config_path), "push", "--plan", str(repriced), "--yes"]
    unknown = runner.invoke(cli.app, [*push, "--override", "price-drop", "--reason", "x"])
    assert unknown.exit_code == 2
    assert "no policy rule is called 'price-drop'" in unknown.stderr
    unexplained = runner.invoke(cli.app, [*push, "--override", "price-change"])
    assert unexplained.exit_code == 2
    assert "give each --override RULE_ID one --reason TEXT" in unexplained.stderr
    with pytest.raises(StageSyncError, match="no policy rule has that id"):
        api.push(repriced, config_path=config_path, overrides=[("price-drop", "x")])
