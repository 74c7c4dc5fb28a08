"""``stagesync probe ENV`` against the in-process emulator: every assumption holds there, and an
emulator changed for a few assumptions is reported as differing for exactly those."""

from __future__ import annotations

import asyncio
import functools
import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from typer.testing import CliRunner

from stagesync import api, cli
from stagesync.assumptions import REGISTRY
from stagesync.emulator import Emulator
from stagesync.emulator.catalogue import products as emulated_products
from tests import commerce
from tests.conftest import STORES, Connector, connector_for, on_store

SCHEMA = Path(__file__).parent.parent / "docs" / "schemas" / "probe.schema.json"
PROBED = [a.id for a in REGISTRY if a.check is not None]
B2B = {a for a in PROBED if a.startswith("ASSUMPTION_B2B_")}
"""Not checked without B2B Edition connected (tests/test_probe_b2b.py connects it)."""
runner = CliRunner()


def set_quirks(emulator: Emulator, **quirks: Any) -> dict[str, Any]:
    """Switch the emulator's quirks through its control endpoint, as a test of a served
    emulator would."""

    async def post() -> dict[str, Any]:
        async with httpx.AsyncClient(
            transport=emulator.transport(), base_url="http://emulator.test"
        ) as client:
            response = await client.post("/__emulator/quirks", json=quirks)
            response.raise_for_status()
            body: dict[str, Any] = response.json()
            return body

    return asyncio.run(post())


def probe(monkeypatch: pytest.MonkeyPatch, config: Path, connector: Connector, *args: str) -> Any:
    monkeypatch.setattr(api, "probe", functools.partial(api.probe, connector=connector))
    return runner.invoke(cli.app, ["--config", str(config), "probe", *args])


def statuses(body: dict[str, Any]) -> dict[str, str]:
    return {entry["id"]: entry["status"] for entry in body["assumptions"]}


@pytest.fixture
def seeded(emulator: Emulator) -> Emulator:
    on_store(emulator, "alpha", commerce.build)
    return emulator


def test_every_assumption_holds_on_the_emulator(
    seeded: Emulator, config_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    markdown = tmp_path / "probe.md"
    result = probe(
        monkeypatch, config_path, connector_for(seeded), "alpha", "--markdown", str(markdown)
    )
    assert result.exit_code == 0, (result.stdout, result.stderr)
    budget = sum(a.requests for a in REGISTRY if a.check is not None)
    assert f"Probing alpha with at most {budget} requests (reads only)." in result.stderr
    lines = result.stdout.splitlines()
    rows = [line for line in lines[1:-1] if not line.startswith("   ")]
    assert [line.split()[-1] for line in rows] == PROBED
    for line in rows:
        assert line.split()[0] == ("not" if line.split()[-1] in B2B else "holds"), line
    assert lines[-1].startswith(f"{len(PROBED) - len(B2B)} holds, 0 differs, {len(B2B)} not ")
    assert result.stdout.count("B2B not connected") == len(B2B)
    report = markdown.read_text()
    assert "| `ASSUMPTION_PRODUCTS_FILTER_SKU_IN` | holds |  |" in report


def test_a_changed_store_differs_for_exactly_those_assumptions(
    seeded: Emulator, config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    quirks = set_quirks(
        seeded, rate_limit_headers=False, ignored_filters=["sku:in"], clock_offset_s=3600
    )
    assert quirks["ignored_filters"] == ["sku:in"]
    result = probe(monkeypatch, config_path, connector_for(seeded), "alpha", "--format", "json")
    assert result.exit_code == 3, (result.stdout, result.stderr)
    body = json.loads(result.stdout)
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(body)
    differing = {k for k, v in statuses(body).items() if v == "differs"}
    assert differing == {
        "ASSUMPTION_RATE_LIMIT_HEADERS",
        "ASSUMPTION_PRODUCTS_FILTER_SKU_IN",
        "ASSUMPTION_STORE_TIME_ANSWERS",
    }
    assert {v for k, v in statuses(body).items() if k not in B2B} == {"holds", "differs"}
    assert 0 < body["requests"] <= body["budget"]
    clock = next(e for e in body["assumptions"] if e["id"] == "ASSUMPTION_STORE_TIME_ANSWERS")
    assert clock["seen"] in ("3599s apart", "3600s apart")


def test_the_report_holds_no_token_email_or_store_value(
    seeded: Emulator, config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_quirks(seeded, rate_limit_headers=False, ignored_filters=["sku:in"], clock_offset_s=60)
    result = probe(monkeypatch, config_path, connector_for(seeded), "alpha", "--format", "json")
    products = on_store(seeded, "alpha", lambda store: store.get_all("/v3/catalog/products"))
    secrets = [STORES["alpha"], commerce.JANE, commerce.BOB, "Jane", "Doe"]
    secrets += [p["sku"] for p in products if p["sku"]] + [p["name"] for p in products]
    for text in (result.stdout, result.stderr):
        assert not [s for s in secrets if s.casefold() in text.casefold()]


def test_an_empty_store_leaves_the_data_checks_not_checked(
    emulator: Emulator, config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = probe(monkeypatch, config_path, connector_for(emulator), "beta", "--format", "json")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    found = statuses(json.loads(result.stdout))
    unchecked = {k for k, v in found.items() if v == "not checked"}
    assert "ASSUMPTION_PRODUCTS_FILTER_ID_IN" in unchecked
    assert "ASSUMPTION_ORDER_FIELD_TYPES" in unchecked
    assert found["ASSUMPTION_RATE_LIMIT_HEADERS"] == "holds"


def test_quirks_are_shown_and_refused_when_invalid(emulator: Emulator) -> None:
    async def call() -> list[httpx.Response]:
        async with httpx.AsyncClient(
            transport=emulator.transport(), base_url="http://emulator.test"
        ) as client:
            return [
                await client.get("/__emulator/quirks"),
                await client.post("/__emulator/quirks", json={"clock_offset_s": "soon"}),
                await client.post("/__emulator/quirks", json={"date_modified_frozen_by": ["x"]}),
                await client.post("/__emulator/quirks", json={"colour": 1}),
                await client.get("/__emulator/quirks"),
            ]

    shown, bad_type, bad_part, unknown, after = asyncio.run(call())
    assert shown.json() == {
        "rate_limit_headers": True,
        "ignored_filters": [],
        "clock_offset_s": 0,
        "date_modified_frozen_by": [],
    }
    assert [r.status_code for r in (bad_type, bad_part, unknown)] == [400, 400, 400]
    assert "unknown quirk colour" in unknown.json()["error"]
    assert after.json() == shown.json()


def _without_channels(store: Any, product: Any, out: dict[str, Any], include: Any) -> None:
    out.pop("channels", None)


def _with_another_channel(store: Any, product: Any, out: dict[str, Any], include: Any) -> None:
    if "channels" in out:
        out["channels"] = [*out["channels"], 99]


@pytest.mark.parametrize(
    ("hook", "seen"),
    [(_without_channels, "absent or not an array on "), (_with_another_channel, " not in it, 0 ")],
)
def test_products_listed_without_their_true_channels_differ(
    seeded: Emulator,
    config_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    hook: Any,
    seen: str,
) -> None:
    """The channels pull reads with the product list are checked against the assignment list:
    a product listed without them, or with a channel it is not assigned to, differs."""
    hooks = emulated_products.PRODUCT_RENDER_HOOKS
    monkeypatch.setattr(emulated_products, "PRODUCT_RENDER_HOOKS", [*hooks, hook])
    result = probe(monkeypatch, config_path, connector_for(seeded), "alpha", "--format", "json")
    assert result.exit_code == 3, (result.stdout, result.stderr)
    (found,) = [
        e
        for e in json.loads(result.stdout)["assumptions"]
        if e["id"] == "ASSUMPTION_PRODUCT_LIST_INCLUDES_CHANNELS"
    ]
    assert found["status"] == "differs"
    assert seen in found["seen"]
