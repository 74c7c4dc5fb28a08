"""``diff --deps missing``: a promotion brings along only the products the destination lacks; a
product it has with another price is left alone, and every report says so."""

from __future__ import annotations

import asyncio
import functools
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from stagesync import api, cli
from stagesync.demo import TOKENS, demo_config, token_variable
from stagesync.emulator import Emulator
from stagesync.entities import REGISTRY
from stagesync.model import EntityKey, KindSnapshot, LeftAlone, Plan, Snapshot
from stagesync.plan import make_plan
from stagesync.planfile import read_plan
from tests.conftest import connector_for
from tests.test_report_outputs import validator

PROMOTION = "Climb and camp"
runner = CliRunner()


def request(emulator: Emulator, store: str, method: str, path: str, **kwargs: Any) -> Any:
    async def send() -> httpx.Response:
        async with httpx.AsyncClient(
            transport=emulator.transport(),
            base_url="http://emulator",
            headers={"X-Auth-Token": TOKENS[store]},
        ) as client:
            return await client.request(method, f"/stores/{store}{path}", **kwargs)

    response = asyncio.run(send())
    assert response.status_code < 300, response.text
    return response.json()


def products(emulator: Emulator, store: str) -> dict[str, dict[str, Any]]:
    body = request(emulator, store, "GET", "/v3/catalog/products", params={"limit": 250})
    return {p["sku"]: p for p in body["data"]}


@pytest.fixture
def stores(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Emulator:
    """The demo's staging and production, a promotion on staging naming the tent (its price
    differs on production) and the climbing harness (production lacks it), pulled both."""
    emulator = Emulator(seed="demo")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STAGESYNC_CONFIG", raising=False)
    for name, token in TOKENS.items():
        monkeypatch.setenv(token_variable(name), token)
    (tmp_path / "stagesync.toml").write_text(demo_config("http://emulator.test"), "utf-8")
    connector = connector_for(emulator)
    for name in ("pull", "push"):
        monkeypatch.setattr(api, name, functools.partial(getattr(api, name), connector=connector))
    staging = products(emulator, "staging")
    request(
        emulator,
        "staging",
        "POST",
        "/v3/promotions",
        json={
            "redemption_type": "AUTOMATIC",
            "name": PROMOTION,
            "rules": [
                {
                    "condition": {
                        "cart": {
                            "items": {"products": [staging["SG-TNT-01"]["id"]]},
                            "minimum_quantity": 1,
                        }
                    },
                    "action": {
                        "cart_items": {
                            "discount": {"percentage_amount": "10"},
                            "items": {"products": [staging["SG-CLB-01"]["id"]]},
                        }
                    },
                }
            ],
        },
    )
    for name in TOKENS:
        api.pull(name, out=Path(name))
    return emulator


def invoke(*args: str, code: int = 0) -> Any:
    result = runner.invoke(cli.app, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return result


def test_deps_missing_creates_what_is_missing_and_lists_what_it_left_alone(
    stores: Emulator,
) -> None:
    only = ("--only", f"promotions:{PROMOTION}")
    changed = invoke("diff", "staging", "production", *only, "--out", "changed.json")
    assert "~ products SG-TNT-01 (price)" in changed.stdout, "the default still updates it"

    shown = invoke(
        "diff", "staging", "production", *only, "--deps", "missing", "--out", "plan.json",
        "--markdown", "plan.md", "--html", "plan.html",
    )  # fmt: skip

    plan = read_plan(Path("plan.json"))
    described = [op.describe() for op in plan.operations]
    assert f"+ promotions {PROMOTION}" in described
    assert "+ products SG-CLB-01" in described
    assert not [line for line in described if "SG-TNT-01" in line]
    assert [(e.describe(), e.needed_by) for e in plan.left_alone] == [
        ("products SG-TNT-01 (price)", f"dependency of promotion {PROMOTION}")
    ]
    # Every report says what was left alone.
    assert "Dependencies left alone (--deps missing):" in shown.stdout
    assert f"= products SG-TNT-01 (price)  [dependency of promotion {PROMOTION}]" in shown.stdout
    document = json.loads(invoke("show", "plan.json", "--format", "json").stdout)
    validator("plan.schema.json").validate(document)
    assert document["left_alone"] == [
        {
            "kind": "products",
            "key": "SG-TNT-01",
            "fields": ["price"],
            "needed_by": f"dependency of promotion {PROMOTION}",
        }
    ]
    line = "products SG-TNT-01 (price) differs on the destination and stays as it is"
    markdown = Path("plan.md").read_text("utf-8")
    assert "**Dependencies left alone**" in markdown
    assert line in markdown
    html = Path("plan.html").read_text("utf-8")
    assert "Dependencies left alone" in html
    assert line in html
    assert "left_alone" not in Path("changed.json").read_text("utf-8")

    price = products(stores, "production")["SG-TNT-01"]["price"]
    result = api.push(Path("plan.json"))
    assert {r.status for r in result.results} == {"done"}
    after = products(stores, "production")
    assert after["SG-TNT-01"]["price"] == price != products(stores, "staging")["SG-TNT-01"]["price"]
    assert "SG-CLB-01" in after
    promotions = request(stores, "production", "GET", "/v3/promotions")["data"]
    assert [p["name"] for p in promotions] == [PROMOTION]


def test_deps_and_no_deps_together_are_a_usage_error(stores: Emulator) -> None:
    result = invoke("diff", "staging", "production", "--deps", "missing", "--no-deps", code=2)
    assert "--deps and --no-deps cannot be given together" in result.stderr


def test_what_is_left_alone_is_not_followed_further() -> None:
    """A new category whose parent differs: the parent is left alone, and so is its own parent,
    which the destination's parent already names."""

    def snapshot(records: dict[str, dict[str, Any]]) -> Snapshot:
        return Snapshot({"categories": KindSnapshot(records)}, environment="env")

    source = snapshot(
        {
            "Outdoor": {"name": "Outdoor", "description": "new"},
            "Outdoor/Camp": {"name": "Camp", "description": "new"},
            "Outdoor/Camp/Stoves": {"name": "Stoves"},
        }
    )
    destination = snapshot(
        {
            "Outdoor": {"name": "Outdoor", "description": "old"},
            "Outdoor/Camp": {"name": "Camp", "description": "old"},
        }
    )

    def plan(missing_only: bool) -> Plan:
        return make_plan(
            source,
            destination,
            REGISTRY,
            created_at="2030-01-01T00:00:00Z",
            only=[("categories", "Outdoor/Camp/Stoves")],
            missing_only=missing_only,
        )

    changed = plan(missing_only=False)
    assert [op.describe() for op in changed.operations] == [
        "~ categories Outdoor (description)",
        "~ categories Outdoor/Camp (description)",
        "+ categories Outdoor/Camp/Stoves",
    ]
    assert changed.left_alone == ()
    missing = plan(missing_only=True)
    assert [op.describe() for op in missing.operations] == ["+ categories Outdoor/Camp/Stoves"]
    assert missing.left_alone == (
        LeftAlone(
            EntityKey("categories", "Outdoor/Camp"),
            ("description",),
            "dependency of category Outdoor/Camp/Stoves",
        ),
    )
