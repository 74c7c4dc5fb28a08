"""An incremental pull (``stagesync pull`` into a folder holding an earlier pull of the same store)
reads only what may have changed, and writes exactly the snapshot a full pull would write."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stagesync import api, assumptions, order_cache, product_cache
from stagesync import probe as probing
from stagesync.bigcommerce import BigCommerceClient
from stagesync.emulator import Emulator
from stagesync.emulator import orders as emulated_orders
from stagesync.emulator.catalogue import products as emulated_products
from stagesync.entities import products
from stagesync.errors import ApiError, StageSyncError
from stagesync.ports import StoreApi
from tests import commerce
from tests.conftest import STORES, connector_for

LONG_AGO = (datetime.now(UTC) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _store(emulator: Emulator) -> Emulator:
    """alpha with the commercial data (catalogue, customers, orders...), every order and product
    last modified hours ago, as in a store whose orders were placed and products edited before
    the earlier pull."""
    _on(emulator, commerce.build)
    _on(emulator, _plain_products)
    for order in emulated_orders.state(emulator.stores["alpha"]).orders.values():
        order["date_modified"] = LONG_AGO
    for product in emulator.stores["alpha"].products.values():
        product["date_modified"] = LONG_AGO
    return emulator


async def _plain_products(client: StoreApi) -> None:
    """Products nothing else names (price lists, promotions, customer groups...), beside the
    ones that are named."""
    for n in range(3):
        body = {"name": f"Plain {n}", "type": "physical", "weight": 1, "price": n}
        await client.post("/v3/catalog/products", {**body, "sku": f"PLAIN-{n}"})


def _probed(
    config: Path,
    status: str = "holds",
    store_hash: str = "alpha",
    holding: Collection[str] | None = None,
) -> Path:
    """Keep a probe result of alpha beside ``config`` where every assumption has ``status``, or,
    with ``holding``, where those hold and every other differs (as a probe that writes would
    report)."""

    def found(assumption: assumptions.Assumption) -> str:
        return status if holding is None else "holds" if assumption.id in holding else "differs"

    results = tuple(
        probing.Result(a, probing.Finding(found(a), *(("x", "y") if found(a) == "differs" else ())))
        for a in assumptions.REGISTRY
    )
    report = probing.ProbeReport("alpha", 0, 0, results, store_hash)
    return probing.save(report, config.parent, "alpha")


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
        if name not in ("snapshot.json", order_cache.CACHE, product_cache.CACHE):
            assert mine[name] == theirs[name], name
    if order_cache.CACHE in mine:
        caches = [orjson.loads(files[order_cache.CACHE]) for files in (mine, theirs)]
        assert caches[0].pop("store_time") <= caches[1].pop("store_time")
        assert caches[0] == caches[1]
    if product_cache.CACHE in mine:
        lines = [files[product_cache.CACHE].splitlines() for files in (mine, theirs)]
        headers = [orjson.loads(found.pop(0)) for found in lines]
        assert headers[0].pop("store_time") <= headers[1].pop("store_time")
        assert headers[0] == headers[1]
        assert [orjson.loads(x) for x in lines[0]] == [orjson.loads(x) for x in lines[1]]
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


UNIQUE = itertools.count()
"""Names and keys no other edit uses."""


async def _edit(client: StoreApi, edit: tuple[str, int]) -> None:
    """One edit through the HTTP API; ``n`` picks the entity (and the new value). An edit the
    platform refuses (a clash with an earlier one) changes nothing and is skipped."""
    try:
        if edit[0] in PRODUCT_EDITS:
            await _edit_product(client, edit)
        else:
            await _edit_other(client, edit)
    except ApiError:
        pass


PRODUCT_EDITS = (
    "product",
    "variant",
    "image",
    "custom_field",
    "modifier",
    "option",
    "metafield",
    "variant_metafield",
    "review",
    "bulk_pricing_rule",
    "video",
    "channel_assign",
    "channel_unassign",
    "product_delete",
    "product_create",
)


async def _edit_product(client: StoreApi, edit: tuple[str, int]) -> None:
    what, n = edit
    unique = next(UNIQUE)
    if what == "product_create":
        body = {"name": f"New {unique}", "type": "physical", "weight": 1, "price": n}
        await client.post("/v3/catalog/products", {**body, "sku": f"NEW-{unique}"})
        return
    products = await client.get_all(
        "/v3/catalog/products", {"include": "variants,images,custom_fields,options"}
    )
    product = products[n % len(products)]
    base = f"/v3/catalog/products/{product['id']}"
    variant = product["variants"][n % len(product["variants"])]
    if what == "product":
        await client.put(base, {"price": 1 + n})
    elif what == "product_delete":
        # Any product, those price lists, customer groups, promotions, orders, shopping lists
        # and quotes name too: what they named leaves them, or a pull keeps them without it.
        await client.delete(base)
    elif what == "variant":
        await client.put(f"{base}/variants/{variant['id']}", {"price": 2 + n})
    elif what == "image":
        body = {"image_url": f"https://cdn.example.com/new-{n}.jpg"}
        await client.post(f"{base}/images", body)
    elif what == "custom_field":
        await client.post(f"{base}/custom-fields", {"name": f"Note {n}", "value": str(n)})
    elif what == "modifier":
        body = {"display_name": f"Engraving {unique}", "type": "text", "required": False}
        await client.post(f"{base}/modifiers", body)
    elif what == "option" and product["options"]:
        option = product["options"][n % len(product["options"])]
        await client.put(f"{base}/options/{option['id']}", {"display_name": f"Pick {unique}"})
    elif what in ("metafield", "variant_metafield"):
        owner = base if what == "metafield" else f"{base}/variants/{variant['id']}"
        body = {"permission_set": "app_only", "namespace": "t", "key": f"k{unique}", "value": "v"}
        await client.post(f"{owner}/metafields", body)
    elif what == "review":
        body = {"title": f"Review {unique}", "date_reviewed": LONG_AGO, "rating": n % 6}
        await client.post(f"{base}/reviews", {**body, "status": "approved"})
    elif what == "bulk_pricing_rule":
        body = {"quantity_min": 1000 + unique, "quantity_max": 1000 + unique, "amount": 1}
        await client.post(f"{base}/bulk-pricing-rules", {**body, "type": "price"})
    elif what == "video":
        await client.post(f"{base}/videos", {"video_id": "dQw4w9WgXcQ", "title": f"V{unique}"})
    elif what == "channel_assign":
        channel = await _second_channel(client)
        await client.put(ASSIGNMENTS, [{"product_id": product["id"], "channel_id": channel}])
    elif what == "channel_unassign":
        query = {"product_id:in": str(product["id"]), "channel_id:in": "1"}
        await client.delete(ASSIGNMENTS, query)


ASSIGNMENTS = "/v3/catalog/products/channel-assignments"


async def _second_channel(client: StoreApi) -> int:
    """The id of the store's channel ``outlet`` (created the first time)."""
    for channel in await client.get_all("/v3/channels"):
        if channel["name"] == "outlet":
            return int(channel["id"])
    body = {"name": "outlet", "type": "storefront", "platform": "custom", "status": "active"}
    made = await client.post("/v3/channels", body)
    return int(made["id"])


async def _edit_other(client: StoreApi, edit: tuple[str, int]) -> None:
    what, n = edit
    if what in ("brand", "brand_delete"):
        brands = await client.get_all("/v3/catalog/brands")
        if not brands:
            return
        path = f"/v3/catalog/brands/{brands[n % len(brands)]['id']}"
        if what == "brand":
            await client.put(path, {"name": f"B{n}"})
        else:  # its products' brand_id becomes 0 without moving their date_modified
            await client.delete(path)
    elif what == "customer_group_delete":
        groups = await client.get_all("/v2/customer_groups")
        if groups:
            await client.delete(f"/v2/customer_groups/{groups[n % len(groups)]['id']}")
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
                *PRODUCT_EDITS,
                "brand",
                "brand_delete",
                "customer_group_delete",
                "customer",
                "order_status",
                "order_delete",
                "order_create",
            ]
        ),
        st.integers(0, 50),
    ),
    max_size=5,
)


PROBED = st.one_of(
    st.none(),
    st.just(frozenset(product_cache.rests_on(False))),
    st.frozensets(st.sampled_from(product_cache.rests_on(False))),
)
"""No kept probe result, one where every assumption products rest on holds, or one where only
some do (the parts of the others are read again for every product)."""


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(edits=EDITS, holding=PROBED)
def test_incremental_pull_equals_full_pull_after_random_edits(
    config_path: Path,
    tmp_path_factory: Any,
    edits: list[tuple[str, int]],
    holding: frozenset[str] | None,
) -> None:
    emulator = _store(Emulator(dict(STORES)))
    work = tmp_path_factory.mktemp("pulls")
    kept = probing.saved_at(config_path.parent, "alpha")
    kept.unlink(missing_ok=True)
    if holding is not None:
        _probed(config_path, holding=holding)
    _pull(emulator, config_path, work / "a")

    async def apply(client: StoreApi) -> None:
        for edit in edits:
            await _edit(client, edit)

    _on(emulator, apply)
    _pull(emulator, config_path, work / "a")
    _pull(emulator, config_path, work / "b", full=True)
    _same_snapshot(work / "a", work / "b")


def _product_reads(emulator: Emulator) -> list[dict[str, Any]]:
    return [
        r
        for r in emulator.requests
        if r["path"].startswith("/stores/alpha/v3/catalog/products") and r["method"] == "GET"
    ]


ID_LISTING = f"{products.CHANGE_FIELDS},channels"


def _complete(read: dict[str, Any]) -> bool:
    """Whether ``read`` asks for more than the ID listing does (ids, dates, references and the
    channels, which are read for every product: no date says they changed)."""
    return read["query"].get("include", "channels") != "channels"


def test_products_are_reused_only_where_a_probe_of_the_store_found_the_assumptions_holding(
    emulator: Emulator, config_path: Path, tmp_path: Path
) -> None:
    """Without a kept probe result the products are read in full, with a note naming the
    assumptions; with one where they hold, an unchanged re-pull lists the products' ids and
    dates and reads none of them again; a probe of another store does not count."""
    _store(emulator)
    out = tmp_path / "a"
    connector = connector_for(emulator)
    first = api.pull("alpha", config_path=config_path, out=out, connector=connector)
    assert first.notes == ()  # nothing to reuse yet: nothing to say
    assert (out / product_cache.CACHE).is_file()

    def repull() -> tuple[api.PullResult, list[dict[str, Any]]]:
        emulator.clear_requests()
        connector = connector_for(emulator)
        result = api.pull("alpha", config_path=config_path, out=out, connector=connector)
        return result, _product_reads(emulator)

    result, reads = repull()
    (note,) = result.notes
    assert "ASSUMPTION_PRODUCT_DATE_MODIFIED_MOVES_ON_MODIFIER_CHANGE" in note
    assert "stagesync probe alpha --write" in note
    assert "ASSUMPTION_PRODUCT_DATE_MODIFIED_MOVES_ON_PRODUCT_WRITE" not in note  # promised
    assert any(r["query"].get("include") for r in reads)
    _probed(config_path, store_hash="beta")
    assert repull()[0].notes == (note,)
    _probed(config_path, "differs")
    assert repull()[0].notes == (note,)
    _probed(config_path)
    result, reads = repull()
    assert result.notes == ()
    listings = [r for r in reads if r["path"].endswith("/v3/catalog/products")]
    assert [r["query"].get("include_fields") for r in listings] == [ID_LISTING]
    assert not any(_complete(r) for r in reads)
    _pull(emulator, config_path, tmp_path / "b", full=True)
    _same_snapshot(out, tmp_path / "b")


def test_a_changed_product_is_read_again_by_id(
    emulator: Emulator, config_path: Path, tmp_path: Path
) -> None:
    _store(emulator)
    _probed(config_path)
    out = tmp_path / "a"
    _pull(emulator, config_path, out)
    tent = next(p for p in emulator.stores["alpha"].products.values() if p["sku"] == "TENT-1")
    body = {"display_name": "Engraving", "type": "text", "required": False}
    _on(emulator, lambda c: c.post(f"/v3/catalog/products/{tent['id']}/modifiers", body))
    emulator.clear_requests()
    _pull(emulator, config_path, out)
    ids = [r["query"].get("id:in") for r in _product_reads(emulator) if "id:in" in r["query"]]
    assert ids == [str(tent["id"])]
    record = orjson.loads(next((out / "products").glob("TENT-1~*.json")).read_bytes())
    assert [m["display_name"] for m in record["record"]["modifiers"]] == ["Engraving"]
    _pull(emulator, config_path, tmp_path / "b", full=True)
    _same_snapshot(out, tmp_path / "b")


def test_channel_assignments_are_read_for_every_product_with_the_id_listing(
    emulator: Emulator, config_path: Path, tmp_path: Path
) -> None:
    """Channel assignments come with the products' ID listing (``include=channels``), not from
    the earlier pull: a product assigned to another channel and taken off the default one, its
    date_modified put back as a platform that does not move it would leave it, is reused and
    still written with its channels as they are now, as a full pull writes them."""
    _store(emulator)
    _probed(config_path)
    out = tmp_path / "a"
    _pull(emulator, config_path, out)
    assert _channels_of("TENT-1", out) == ["default"]
    store = emulator.stores["alpha"]
    tent = next(p for p in store.products.values() if p["sku"] == "TENT-1")
    before = tent["date_modified"] = LONG_AGO

    async def move(client: StoreApi) -> None:
        channel = await _second_channel(client)
        await client.put(ASSIGNMENTS, [{"product_id": tent["id"], "channel_id": channel}])
        await client.delete(ASSIGNMENTS, {"product_id:in": str(tent["id"]), "channel_id:in": "1"})

    _on(emulator, move)
    tent["date_modified"] = before
    emulator.clear_requests()
    _pull(emulator, config_path, out)
    reads = _product_reads(emulator)
    assert not any("id:in" in r["query"] for r in reads)  # nothing read again
    assert not any(r["path"].endswith(ASSIGNMENTS) for r in reads)  # no listing of its own
    (listing,) = [r for r in reads if r["path"].endswith("/v3/catalog/products")]
    assert listing["query"]["include"] == "channels"
    assert _channels_of("TENT-1", out) == ["outlet"]
    _pull(emulator, config_path, tmp_path / "b", full=True)
    _same_snapshot(out, tmp_path / "b")


def _channels_of(product: str, snapshot: Path) -> list[str]:
    files = (snapshot / "channel_assignments").glob(f"{product}_*.json")
    return sorted(orjson.loads(f.read_bytes())["record"]["channel"] for f in files)


def test_a_product_listed_without_its_channels_fails_the_pull(
    emulator: Emulator, config_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store that answers ``include=channels`` without the list fails the pull, naming the
    product and the assumption: taking the product for one on no channel would lose its
    assignments from the snapshot, and plan to unassign it everywhere."""
    _store(emulator)

    def without_channels(store: Any, product: Any, out: dict[str, Any], include: Any) -> None:
        out.pop("channels", None)

    hooks = emulated_products.PRODUCT_RENDER_HOOKS
    monkeypatch.setattr(emulated_products, "PRODUCT_RENDER_HOOKS", [*hooks, without_channels])
    with pytest.raises(StageSyncError, match="ASSUMPTION_PRODUCT_LIST_INCLUDES_CHANNELS"):
        _pull(emulator, config_path, tmp_path / "a")
    assert not (tmp_path / "a" / "snapshot.json").exists()


def test_the_probe_keeps_its_result_beside_the_configuration(
    emulator: Emulator, config_path: Path
) -> None:
    _store(emulator)
    report = api.probe("alpha", config_path=config_path, connector=connector_for(emulator))
    kept = config_path.parent / ".stagesync" / "probe" / "alpha.json"
    assert orjson.loads(kept.read_bytes()) == probing.as_json(report)
    assert report.store_hash == "alpha"
    found = probing.last_results(config_path.parent, "alpha", "alpha")
    assert found == {r.assumption.id: r.finding.status for r in report.results}
    assert probing.last_results(config_path.parent, "alpha", "beta") is None
    assert probing.last_results(config_path.parent, "beta", "beta") is None
    kept.write_text("{not json")
    assert probing.last_results(config_path.parent, "alpha", "alpha") is None


@pytest.mark.parametrize(
    ("group", "edits"),
    [
        ("listing", [("variant", 1), ("image", 2), ("custom_field", 3), ("review", 1)]),
        ("listing", [("bulk_pricing_rule", 2), ("video", 3)]),
        ("options", [("modifier", 1), ("option", 2)]),
        ("metafields", [("metafield", 1), ("variant_metafield", 2)]),
    ],
)
def test_parts_whose_assumption_differs_are_read_again_for_every_product(
    emulator: Emulator,
    config_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    group: str,
    edits: list[tuple[str, int]],
) -> None:
    """A store where no sub-resource write moves the product's date_modified, and a probe that
    found exactly that for one group of parts: those parts of every product are read again (and
    the note names what), so the re-pull still equals a full pull."""
    _store(emulator)
    parts = {assumptions.product_part(p) for p in product_cache.GROUPS[group]}
    _probed(config_path, holding=set(product_cache.rests_on(False)) - parts)
    _pull(emulator, config_path, tmp_path / "a")
    store_class = type(emulator.stores["alpha"])
    monkeypatch.setattr(store_class, "touch", lambda self, product: None)
    monkeypatch.setattr(store_class, "touch_product", lambda self, product_id: None)

    async def apply(client: StoreApi) -> None:
        for edit in edits:
            await _edit_product(client, edit)

    _on(emulator, apply)
    connector = connector_for(emulator)
    result = api.pull("alpha", config_path=config_path, out=tmp_path / "a", connector=connector)
    (note,) = result.notes
    assert all(part in note for part in parts)
    assert "read again" in note
    _pull(emulator, config_path, tmp_path / "b", full=True)
    _same_snapshot(tmp_path / "a", tmp_path / "b")


def test_reviews_and_bulk_pricing_rules_of_an_unchanged_product_come_from_the_cache(
    emulator: Emulator, config_path: Path, tmp_path: Path
) -> None:
    """The part kinds read with the product list are kept in the cache with their product, and
    a re-pull that reuses the product writes them as a full pull does."""
    _store(emulator)

    async def parts(client: StoreApi) -> None:
        for edit in [("review", 1), ("bulk_pricing_rule", 1), ("review", 2)]:
            await _edit_product(client, edit)

    _on(emulator, parts)
    for product in emulator.stores["alpha"].products.values():
        product["date_modified"] = LONG_AGO
    _probed(config_path)
    _pull(emulator, config_path, tmp_path / "a")
    emulator.clear_requests()
    _pull(emulator, config_path, tmp_path / "a")
    assert not any(_complete(r) for r in _product_reads(emulator))
    assert len(list((tmp_path / "a" / "product_reviews").glob("*.json"))) == 2
    assert len(list((tmp_path / "a" / "bulk_pricing_rules").glob("*.json"))) == 1
    _pull(emulator, config_path, tmp_path / "b", full=True)
    _same_snapshot(tmp_path / "a", tmp_path / "b")


def test_a_re_pull_relies_on_what_probe_write_found(
    emulator: Emulator, config_path: Path, tmp_path: Path
) -> None:
    """``stagesync probe alpha --write`` on the emulator finds every part it checks holding and
    keeps its result; a re-pull then reads only the changed products again (by ``id:in``): a
    re-pull after four products changed costs the unchanged re-pull plus their reads, and
    writes what a full pull writes."""
    config_path.write_text(config_path.read_text().replace("\n\n", '\nrole = "sandbox"\n\n', 1))
    _store(emulator)
    report = api.probe_write("alpha", config_path=config_path, connector=connector_for(emulator))
    assert probing.last_results(config_path.parent, "alpha", "alpha") == {
        r.assumption.id: r.finding.status for r in report.results
    }
    rests_on = product_cache.rests_on(False)
    assert product_cache.unsupported(rests_on, config_path.parent, "alpha", "alpha") == []
    for product in emulator.stores["alpha"].products.values():
        product["date_modified"] = LONG_AGO
    _pull(emulator, config_path, tmp_path / "a")

    def repull() -> tuple[api.PullResult, list[dict[str, Any]]]:
        emulator.clear_requests()
        connector = connector_for(emulator)
        result = api.pull("alpha", config_path=config_path, out=tmp_path / "a", connector=connector)
        assert result.notes == ()
        return result, list(emulator.requests)

    unchanged, before = repull()
    assert not any("id:in" in r["query"] for r in _product_reads(emulator))
    edits = [("video", 1), ("review", 2), ("bulk_pricing_rule", 3), ("variant", 4)]

    async def apply(client: StoreApi) -> None:
        for edit in edits:
            await _edit_product(client, edit)

    _on(emulator, apply)
    changed, after = repull()
    reads = _product_reads(emulator)
    assert not any(_complete(r) and "id:in" not in r["query"] for r in reads)
    seen = [(r["method"], r["path"], r["query"]) for r in before]
    extra = [r for r in after if (r["method"], r["path"], r["query"]) not in seen]
    assert [r["path"].removeprefix("/stores/alpha/v3/catalog/") for r in extra] == [
        "products",
        "products/metafields",
        "variants/metafields",
    ]
    assert len(extra[0]["query"]["id:in"].split(",")) == len(edits)
    assert extra[1]["query"]["resource_id:in"] == extra[0]["query"]["id:in"]
    assert changed.requests == unchanged.requests + len(extra)
    full = _pull(emulator, config_path, tmp_path / "b", full=True)
    assert changed.requests < full
    _same_snapshot(tmp_path / "a", tmp_path / "b")
