"""``stagesync probe ENV --write`` against the in-process emulator: every write assumption holds
there, a quirk makes exactly its assumption differ, a run stopped mid-way leaves a journal that
``--resume`` cleans, and a store whose role is not ``sandbox`` is never written to."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from typer.testing import CliRunner

from stagesync import api, assumptions, cli
from stagesync.assumptions import REGISTRY
from stagesync.emulator import Emulator
from stagesync.probe_writes import PREFIX
from tests import commerce
from tests.conftest import STORES, Connector, connector_for, on_store
from tests.test_probe import set_quirks

SCHEMA = Path(__file__).parent.parent / "docs" / "schemas" / "probe.schema.json"
WRITTEN = [a.id for a in REGISTRY if a.write_check is not None]
READ = [a.id for a in REGISTRY if a.check is not None]
runner = CliRunner()


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """stagesync.toml with alpha a sandbox store and beta one of the default role."""
    path = tmp_path / "stagesync.toml"
    tables = []
    for name, token in STORES.items():
        variable = f"STAGESYNC_{name.upper()}_TOKEN"
        monkeypatch.setenv(variable, token)
        role = 'role = "sandbox"\n' if name == "alpha" else ""
        tables.append(
            f'[environments.{name}]\nstore_hash = "{name}"\naccess_token_env = "{variable}"\n'
            f'api_url = "http://emulator.test"\n{role}'
        )
    path.write_text("\n".join(tables), encoding="utf-8")
    return path


async def second_channel(store: Any) -> None:
    """A channel besides 1, for the channel assignment check to assign to."""
    await store.post(
        "/v3/channels", {"name": "uk", "type": "storefront", "platform": "bigcommerce"}
    )


@pytest.fixture
def seeded(emulator: Emulator) -> Emulator:
    on_store(emulator, "alpha", commerce.build)
    on_store(emulator, "alpha", second_channel)
    return emulator


def probe(monkeypatch: pytest.MonkeyPatch, config: Path, connector: Connector, *args: str) -> Any:
    for name in ("probe", "probe_write", "probe_resume"):
        function = getattr(api, name)
        monkeypatch.setattr(api, name, functools.partial(function, connector=connector))
    return runner.invoke(cli.app, ["--config", str(config), "probe", *args])


def statuses(body: dict[str, Any]) -> dict[str, str]:
    return {entry["id"]: entry["status"] for entry in body["assumptions"]}


def journal(config: Path) -> Path:
    return config.parent / ".stagesync" / "probe" / "alpha.cleanup.jsonl"


def leftovers(emulator: Emulator) -> list[str]:
    """Names (and SKUs) in the probe's namespace still on alpha's store."""

    async def read(store: Any) -> list[str]:
        found = []
        for path in ("/v3/catalog/products", "/v3/catalog/trees/categories", "/v3/promotions"):
            for item in await store.get_all(path):
                found += [str(item.get("name")), str(item.get("sku"))]
        return [name for name in found if name.casefold().startswith(PREFIX)]

    result: list[str] = on_store(emulator, "alpha", read)
    return result


def test_every_write_assumption_holds_on_the_emulator(
    seeded: Emulator, sandbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = probe(
        monkeypatch, sandbox, connector_for(seeded), "alpha", "--write", "--format", "json"
    )
    assert result.exit_code == 0, (result.stdout, result.stderr)
    body = json.loads(result.stdout)
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(body)
    assert body["mode"] == "write"
    assert [entry["id"] for entry in body["assumptions"]] == READ + WRITTEN
    found = statuses(body)
    assert {k for k, v in found.items() if v != "holds"} == {
        k for k in found if k.startswith("ASSUMPTION_B2B_")
    }
    assert 0 < body["requests"] <= body["budget"]
    assert f"Probing alpha with at most {body['budget']} requests (reads, then" in result.stderr
    assert leftovers(seeded) == []
    assert not journal(sandbox).exists()


def test_a_quirk_makes_exactly_its_write_assumption_differ(
    seeded: Emulator, sandbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_quirks(seeded, date_modified_frozen_by=["variant", "metafield"])
    result = probe(
        monkeypatch, sandbox, connector_for(seeded), "alpha", "--write", "--format", "json"
    )
    assert result.exit_code == 3, (result.stdout, result.stderr)
    found = statuses(json.loads(result.stdout))
    assert {k for k, v in found.items() if v != "holds" and "_B2B_" not in k} == {
        "ASSUMPTION_PRODUCT_DATE_MODIFIED_MOVES_ON_VARIANT_CHANGE",
        "ASSUMPTION_PRODUCT_DATE_MODIFIED_MOVES_ON_METAFIELD_CHANGE",
    }
    assert {v for k, v in found.items() if "VARIANT" in k or "METAFIELD" in k} == {"differs"}
    assert leftovers(seeded) == []


@pytest.mark.parametrize(
    "part", ["video", "review", "bulk_pricing_rule", "complex_rule", "channel_assignment"]
)
def test_a_frozen_part_makes_exactly_its_assumption_differ(
    seeded: Emulator, sandbox: Path, monkeypatch: pytest.MonkeyPatch, part: str
) -> None:
    set_quirks(seeded, date_modified_frozen_by=[part])
    result = probe(
        monkeypatch, sandbox, connector_for(seeded), "alpha", "--write", "--format", "json"
    )
    assert result.exit_code == 3, (result.stdout, result.stderr)
    body = json.loads(result.stdout)
    found = statuses(body)
    assert {k: v for k, v in found.items() if v != "holds" and "_B2B_" not in k} == {
        assumptions.product_part(part): "differs"
    }
    assert body["requests"] <= body["budget"]
    assert leftovers(seeded) == []
    assert not journal(sandbox).exists()


class SwallowedDeletes(httpx.AsyncBaseTransport):
    """The emulator, except that deleting a product's review answers 204 without reaching it:
    a store where that delete leaves the product's date_modified alone."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE" and "/reviews/" in request.url.path:
            return httpx.Response(204)
        return await self.inner.handle_async_request(request)


def test_a_delete_that_leaves_the_date_makes_its_assumption_differ(
    seeded: Emulator, sandbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connector = connector_for(seeded, SwallowedDeletes)
    result = probe(monkeypatch, sandbox, connector, "alpha", "--write", "--format", "json")
    assert result.exit_code == 3, (result.stdout, result.stderr)
    body = json.loads(result.stdout)
    wrong = [e for e in body["assumptions"] if e["status"] != "holds" and "_B2B_" not in e["id"]]
    assert [e["id"] for e in wrong] == [assumptions.product_part("review")]
    assert wrong[0]["status"] == "differs"
    assert "review delete" in wrong[0]["expected"]
    assert leftovers(seeded) == []


class Unplugged(Exception):
    """The network went away."""


class Unplugging(httpx.AsyncBaseTransport):
    """The emulator, until the first promotion is created: that request reaches the store but
    its answer is lost, and no request gets through after it."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.unplugged = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.unplugged:
            raise Unplugged("no network")
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path.endswith("/v3/promotions"):
            self.unplugged = True
            raise Unplugged("the answer was lost")
        return response


def test_a_stopped_run_leaves_a_journal_that_resume_cleans(
    seeded: Emulator, sandbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stopped = probe(monkeypatch, sandbox, connector_for(seeded, Unplugging), "alpha", "--write")
    assert isinstance(stopped.exception, Unplugged)
    left = leftovers(seeded)
    assert any(name.startswith(PREFIX) and "promotion" in name for name in left)
    assert any("product" in name for name in left)
    assert journal(sandbox).exists()

    again = probe(monkeypatch, sandbox, connector_for(seeded), "alpha", "--write")
    assert again.exit_code == 1
    assert "stagesync probe alpha --resume" in again.stderr

    resumed = probe(monkeypatch, sandbox, connector_for(seeded), "alpha", "--resume")
    assert resumed.exit_code == 0, (resumed.stdout, resumed.stderr)
    promotions = sum(1 for name in left if "promotion" in name)
    categories = sum(1 for name in left if "category" in name)
    products = sum(1 for name in left if "product-" in name and name == name.casefold())
    assert f"Deleted {promotions + categories + products} entities" in resumed.stderr
    assert leftovers(seeded) == []
    assert not journal(sandbox).exists()

    nothing = probe(monkeypatch, sandbox, connector_for(seeded), "alpha", "--resume")
    assert nothing.exit_code == 0
    assert "Deleted 0 entities" in nothing.stderr


def test_write_is_refused_unless_the_role_is_sandbox(
    seeded: Emulator, sandbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded.clear_requests()
    result = probe(monkeypatch, sandbox, connector_for(seeded), "beta", "--write")
    assert result.exit_code == 1
    assert "runs only on a sandbox store" in result.stderr
    assert 'role = "production"' in result.stderr
    assert seeded.requests == []


def test_resume_and_write_together_is_a_usage_error(
    emulator: Emulator, sandbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = probe(monkeypatch, sandbox, connector_for(emulator), "alpha", "--write", "--resume")
    assert result.exit_code == 2
    assert "--resume only cleans up" in result.stderr
    assert emulator.requests == []


def test_a_store_with_one_channel_leaves_the_assignment_check_not_checked(
    emulator: Emulator, sandbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_store(emulator, "alpha", commerce.build)
    result = probe(
        monkeypatch, sandbox, connector_for(emulator), "alpha", "--write", "--format", "json"
    )
    body = json.loads(result.stdout)
    entry = next(
        e for e in body["assumptions"] if e["id"] == assumptions.product_part("channel_assignment")
    )
    assert entry["status"] == "not checked"
    assert "no channel besides 1" in json.dumps(entry)
    assert leftovers(emulator) == []
