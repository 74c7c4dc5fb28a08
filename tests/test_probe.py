"""``stagesync probe ENV`` against the in-process emulator: every assumption holds there, and an
emulator changed for a few assumptions is reported as differing for exactly those."""

from __future__ import annotations

import functools
import json
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from typer.testing import CliRunner

from stagesync import api, cli
from stagesync.assumptions import REGISTRY
from stagesync.emulator import Emulator
from tests import commerce
from tests.conftest import STORES, Connector, connector_for, on_store

SCHEMA = Path(__file__).parent.parent / "docs" / "schemas" / "probe.schema.json"
PROBED = [a.id for a in REGISTRY if a.check is not None]
DATE = "Fri, 04 Dec 2026 12:00:00 GMT"
runner = CliRunner()


class Bent(httpx.AsyncBaseTransport):
    """The emulator, with three behaviours changed: no rate-limit headers, ``sku:in`` ignored,
    and /v2/time an hour ahead of the responses' Date header."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "sku:in" in request.url.params:
            request.url = request.url.copy_remove_param("sku:in")
        response = await self.inner.handle_async_request(request)
        await response.aread()
        headers = {
            k: v for k, v in response.headers.items() if not k.lower().startswith("x-rate-limit")
        }
        headers["Date"] = DATE
        content = response.content
        if request.url.path.endswith("/v2/time"):
            content = json.dumps(
                {"time": int(parsedate_to_datetime(DATE).timestamp()) + 3600}
            ).encode()
            headers.pop("content-length", None)
        return httpx.Response(response.status_code, headers=headers, content=content)


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
    assert [line.split()[-1] for line in lines[1:-1]] == PROBED
    assert all(line.split()[0] == "holds" for line in lines[1:-1])
    assert lines[-1].startswith(f"{len(PROBED)} holds, 0 differs, 0 not checked (")
    report = markdown.read_text()
    assert "| `ASSUMPTION_PRODUCTS_FILTER_SKU_IN` | holds |  |" in report


def test_a_changed_store_differs_for_exactly_those_assumptions(
    seeded: Emulator, config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = probe(
        monkeypatch, config_path, connector_for(seeded, Bent), "alpha", "--format", "json"
    )
    assert result.exit_code == 3, (result.stdout, result.stderr)
    body = json.loads(result.stdout)
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(body)
    differing = {k for k, v in statuses(body).items() if v == "differs"}
    assert differing == {
        "ASSUMPTION_RATE_LIMIT_HEADERS",
        "ASSUMPTION_PRODUCTS_FILTER_SKU_IN",
        "ASSUMPTION_STORE_TIME_ANSWERS",
    }
    assert set(statuses(body).values()) == {"holds", "differs"}
    assert 0 < body["requests"] <= body["budget"]
    clock = next(e for e in body["assumptions"] if e["id"] == "ASSUMPTION_STORE_TIME_ANSWERS")
    assert clock["seen"] == "3600s apart"


def test_the_report_holds_no_token_email_or_store_value(
    seeded: Emulator, config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = probe(
        monkeypatch, config_path, connector_for(seeded, Bent), "alpha", "--format", "json"
    )
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
