"""An incremental pull (``stagesync pull`` into a folder holding an earlier pull of the same store)
reads only what may have changed, and writes exactly the snapshot a full pull would write."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stagesync import api, assumptions, order_cache
from stagesync.bigcommerce import BigCommerceClient
from stagesync.emulator import Emulator
from stagesync.emulator import orders as emulated_orders
from stagesync.ports import StoreApi
from tests import commerce
from tests.conftest import STORES, connector_for

LONG_AGO = (datetime.now(UTC) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _store(emulator: Emulator) -> Emulator:
    """alpha with the commercial data (catalogue, customers, orders...), every order last
    modified hours ago, as in a store whose orders were placed before the earlier pull."""
    _on(emulator, commerce.build)
    for order in emulated_orders.state(emulator.stores["alpha"]).orders.values():
        order["date_modified"] = LONG_AGO
    return emulator


def _on(emulator: Emulator, work: Callable[[StoreApi], Awaitable[Any]]) -> Any:
    async def go() -> Any:
        async with BigCommerceClient(
            "alpha", STORES["alpha"], api_url="http://emulator.test", transport=emulator.transport()
        ) as client:
            return await work(client)

    return asyncio.run(go())


def _pull(emulator: Emulator, config: Path, out: Path, *, full: bool = False) -> int:
    connector = connector_for(emulator)
    result = api.pull("alpha", config_path=config, out=out, full=full, connector=connector)
    return result.requests


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _same_snapshot(incremental: Path, full: Path) -> None:
    """Every file byte for byte; snapshot.json and the orders' cache apart from when and how
    they were pulled."""
    mine, theirs = _files(incremental), _files(full)
    assert sorted(mine) == sorted(theirs)
    for name in mine:
        if name not in ("snapshot.json", order_cache.CACHE):
            assert mine[name] == theirs[name], name
    if order_cache.CACHE in mine:
        caches = [orjson.loads(files[order_cache.CACHE]) for files in (mine, theirs)]
        assert caches[0].pop("store_time") <= caches[1].pop("store_time")
        assert caches[0] == caches[1]
    manifests = [orjson.loads(files["snapshot.json"]) for files in (mine, theirs)]
    for manifest in manifests:
        manifest.pop("pulled_at")
        manifest.pop("based_on")
    assert manifests[0] == manifests[1]


def test_unchanged_orders_are_completed_from_the_earlier_snapshot(
    emulator: Emulator, config_path: Path, tmp_path: Path
) -> None:
    _store(emulator)
    emulator.clear_requests()
    full = _pull(emulator, config_path, tmp_path / "a")
    first = [r["path"] for r in emulator.requests]
    emulator.clear_requests()
    again = _pull(emulator, config_path, tmp_path / "a")
    second = [r["path"] for r in emulator.requests]
    assert again < full

    def order_parts(paths: list[str], part: str) -> int:
        """Orders whose ``part`` was read (a v2 list reads until an empty page)."""
        return len({p for p in paths if "/v2/orders/" in p and p.endswith(f"/{part}")})

    orders = len(emulated_orders.state(emulator.stores["alpha"]).orders)
    assert orders >= 2
    for part in ("products", "coupons", "shipping_addresses"):
        assert order_parts(first, part) == orders
    assert order_parts(second, "products") == order_parts(second, "coupons") == 0
    assert order_parts(second, "shipping_addresses") == orders  # not promised: re-read
    assert sum(p.endswith("/v2/time") for p in second) == 1
    manifest = orjson.loads((tmp_path / "a" / "snapshot.json").read_bytes())
    based_on = manifest["based_on"]
    assert based_on["overlap_seconds"] == order_cache.OVERLAP.total_seconds()
    assert based_on["changes_since"] is not None
    assert datetime.fromisoformat(based_on["store_time"]).tzinfo is not None
    _pull(emulator, config_path, tmp_path / "b", full=True)
    _same_snapshot(tmp_path / "a", tmp_path / "b")
    emulator.clear_requests()
    assert _pull(emulator, config_path, tmp_path / "a", full=True) == full


def test_a_recent_order_is_read_again(
    emulator: Emulator, config_path: Path, tmp_path: Path
) -> None:
    """An order modified after the earlier pull's store time minus the overlap is read in full,
    even when its date_modified did not move since (written in the same second)."""
    _store(emulator)
    _pull(emulator, config_path, tmp_path / "a")
    recent = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    cache = orjson.loads((tmp_path / "a" / order_cache.CACHE).read_bytes())
    for entry in cache["orders"].values():
        entry["date_modified"] = recent
        entry["_products"] = []  # what a stale cache would hold
    (tmp_path / "a" / order_cache.CACHE).write_bytes(orjson.dumps(cache))
    for order in emulated_orders.state(emulator.stores["alpha"]).orders.values():
        order["date_modified"] = recent
    _pull(emulator, config_path, tmp_path / "a")
    _pull(emulator, config_path, tmp_path / "b", full=True)
    _same_snapshot(tmp_path / "a", tmp_path / "b")


def test_redacted_pulls_keep_no_cache(
    emulator: Emulator, config_path: Path, tmp_path: Path
) -> None:
    _store(emulator)
    connector = connector_for(emulator)
    api.pull("alpha", config_path=config_path, out=tmp_path / "r", redact=True, connector=connector)
    assert not (tmp_path / "r" / order_cache.CACHE).exists()


def test_every_relied_on_assumption_is_named_in_code_and_docs() -> None:
    root = Path(__file__).resolve().parent.parent
    code = "".join(p.read_text() for p in (root / "stagesync").rglob("*.py"))
    performance = (root / "docs" / "performance.md").read_text()
    ids = [a.id for a in assumptions.REGISTRY]
    assert len(ids) == len(set(ids))
    for assumption in assumptions.REGISTRY:
        assert assumption.id.startswith("ASSUMPTION_")
        assert assumption.id in performance, assumption.id
        if assumption.relied_on:
            assert code.count(assumption.id) >= 2, assumption.id


# ---- random edits between two pulls ------------------------------------------------------------


async def _edit(client: StoreApi, edit: tuple[str, int]) -> None:
    """One edit through the HTTP API; ``n`` picks the entity (and the new value)."""
    what, n = edit
    if what in ("product", "variant", "image", "custom_field"):
        products = await client.get_all(
            "/v3/catalog/products", {"include": "variants,images,custom_fields"}
        )
        product = products[n % len(products)]
        base = f"/v3/catalog/products/{product['id']}"
        if what == "product":
            await client.put(base, {"price": 1 + n})
        elif what == "variant":
            variant = product["variants"][n % len(product["variants"])]
            await client.put(f"{base}/variants/{variant['id']}", {"price": 2 + n})
        elif what == "image":
            body = {"image_url": f"https://cdn.example.com/new-{n}.jpg"}
            await client.post(f"{base}/images", body)
        else:
            await client.post(f"{base}/custom-fields", {"name": f"Note {n}", "value": str(n)})
    elif what == "brand":
        brands = await client.get_all("/v3/catalog/brands")
        await client.put(f"/v3/catalog/brands/{brands[n % len(brands)]['id']}", {"name": f"B{n}"})
    elif what == "customer":
        customers = await client.get_all("/v3/customers")
        chosen = customers[n % len(customers)]
        await client.put("/v3/customers", [{"id": chosen["id"], "last_name": f"L{n}"}])
    elif what in ("order_status", "order_delete", "order_create"):
        orders = await client.get_all("/v2/orders")
        if what == "order_create" or not orders:
            line = {"name": f"Item {n}", "quantity": 1, "price_ex_tax": n, "price_inc_tax": n}
            await client.post("/v2/orders", {"billing_address": BILLING, "products": [line]})
        else:
            path = f"/v2/orders/{orders[n % len(orders)]['id']}"
            if what == "order_status":
                await client.put(path, {"status_id": 1 + n % 11})
            else:
                await client.delete(path)


BILLING = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "street_1": "1 Analytical Row",
    "city": "London",
    "zip": "N1 1AA",
    "country": "United Kingdom",
    "country_iso2": "GB",
    "email": "ada@example.com",
}

EDITS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "product",
                "variant",
                "image",
                "custom_field",
                "brand",
                "customer",
                "order_status",
                "order_delete",
                "order_create",
            ]
        ),
        st.integers(0, 50),
    ),
    max_size=4,
)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(edits=EDITS)
def test_incremental_pull_equals_full_pull_after_random_edits(
    config_path: Path, tmp_path_factory: Any, edits: list[tuple[str, int]]
) -> None:
    emulator = _store(Emulator(dict(STORES)))
    work = tmp_path_factory.mktemp("pulls")
    _pull(emulator, config_path, work / "a")

    async def apply(client: StoreApi) -> None:
        for edit in edits:
            await _edit(client, edit)

    _on(emulator, apply)
    _pull(emulator, config_path, work / "a")
    _pull(emulator, config_path, work / "b", full=True)
    _same_snapshot(work / "a", work / "b")
