"""The loop end to end through the library, against the in-process emulator:
pull A, diff A -> B, push to B, pull B again, and the diff is empty."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagesync import api
from stagesync.emulator import Emulator
from stagesync.ports import StoreApi
from tests import catalogue
from tests.conftest import Connector, on_store


def sync(tmp: Path, config: Path, connector: Connector, name: str) -> api.PushResult:
    """pull alpha and beta, plan alpha -> beta, push it; returns the push result."""
    api.pull("alpha", config_path=config, out=tmp / "alpha", connector=connector)
    api.pull("beta", config_path=config, out=tmp / f"beta-{name}", connector=connector)
    plan = api.diff(tmp / "alpha", tmp / f"beta-{name}")
    plan_path = tmp / f"plan-{name}.json"
    api.save_plan(plan, plan_path)
    return api.push(plan_path, config_path=config, connector=connector)


def converged(tmp: Path, config: Path, connector: Connector) -> list[str]:
    api.pull("beta", config_path=config, out=tmp / "beta-after", connector=connector)
    return [op.describe() for op in api.diff(tmp / "alpha", tmp / "beta-after").operations]


@pytest.fixture
def built(emulator: Emulator) -> dict[str, int]:
    ids: dict[str, int] = on_store(emulator, "alpha", catalogue.build)
    return ids


def test_creates_converge(
    tmp_path: Path, config_path: Path, connector: Connector, built: dict[str, int]
) -> None:
    result = sync(tmp_path, config_path, connector, "first")

    assert [r.error for r in result.results if r.status != "done"] == []
    described = [r.operation.describe() for r in result.results]
    assert described.index("+ brands Acme") < described.index("+ products TENT-1")
    assert described.index("+ categories Outdoor") < described.index(
        "+ categories Outdoor/Footwear"
    )
    assert "+ categories Bags\\/Cases" in described
    assert "+ products name:Gift Wrap" in described
    assert converged(tmp_path, config_path, connector) == []


def test_updates_converge(
    emulator: Emulator,
    tmp_path: Path,
    config_path: Path,
    connector: Connector,
    built: dict[str, int],
) -> None:
    assert sync(tmp_path, config_path, connector, "first").ok

    async def change(client: StoreApi) -> None:
        tent, shoe = built["tent"], built["shoe"]
        await client.put(
            f"/v3/catalog/products/{tent}", {"price": 149.0, "description": "<p>3</p>"}
        )
        images = await client.get(f"/v3/catalog/products/{tent}/images")
        await client.delete(f"/v3/catalog/products/{tent}/images/{images[-1]['id']}")
        fields = await client.get(f"/v3/catalog/products/{tent}/custom-fields")
        await client.put(
            f"/v3/catalog/products/{tent}/custom-fields/{fields[0]['id']}",
            {"name": fields[0]["name"], "value": "Nylon"},
        )
        variants = await client.get(f"/v3/catalog/products/{shoe}/variants")
        await client.put(f"/v3/catalog/products/{shoe}/variants/{variants[0]['id']}", {"price": 99})
        await client.put(f"/v3/catalog/brands/{built['acme']}", {"page_title": "Acme!"})
        await client.put(
            "/v3/catalog/trees/categories",
            [{"category_id": built["bags"], "description": "Carry it all"}],
        )

    on_store(emulator, "alpha", change)
    result = sync(tmp_path, config_path, connector, "second")

    assert [r.error for r in result.results if r.status != "done"] == []
    assert sorted(r.operation.describe() for r in result.results) == [
        "~ brands Acme (page_title)",
        "~ categories Bags\\/Cases (description)",
        "~ products SHOE (variants)",
        "~ products TENT-1 (custom_fields, description, images, price)",
    ]
    assert converged(tmp_path, config_path, connector) == []


def test_pull_is_deterministic(
    tmp_path: Path, config_path: Path, connector: Connector, built: dict[str, int]
) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    api.pull("alpha", config_path=config_path, out=first, connector=connector)
    api.pull("alpha", config_path=config_path, out=second, connector=connector)

    def files(root: Path) -> dict[str, bytes]:
        return {
            str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob("*.json"))
            if p.name != "snapshot.json"
        }

    assert files(first) == files(second)
    # products, their channel assignments, categories, brands, channels
    assert len(files(first)) == 3 + 3 + 7 + 2 + 1


def test_a_pull_asks_the_store_for_each_listing_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kinds that need the same listing (price lists for their records, shipping zones for their
    methods, channels for every kind naming one) share one request per pull."""
    from collections import Counter

    from stagesync.emulator import Emulator
    from tests.conftest import connector_for

    emulator = Emulator(seed="demo")
    config = tmp_path / "stagesync.toml"
    config.write_text(
        '[environments.staging]\nstore_hash = "staging"\naccess_token_env = "DEMO_TOKEN"\n'
        'api_url = "http://emulator.test"\n'
    )
    monkeypatch.setenv("DEMO_TOKEN", "staging-token")
    emulator.clear_requests()
    api.pull("staging", config_path=config, out=tmp_path / "s", connector=connector_for(emulator))

    asked = Counter(
        (r["method"], r["path"], tuple(sorted(r["query"].items())), str(r["body"]))
        for r in emulator.requests
    )
    assert [request for request, times in asked.items() if times > 1] == []
    assert {r["path"].rsplit("/v3/", 1)[-1] for r in emulator.requests} >= {
        "channels",
        "pricelists",
    }
