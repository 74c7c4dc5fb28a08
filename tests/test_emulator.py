"""The emulator behaves like BigCommerce where a client can tell: envelopes, validation, limits,
computed fields, auth, rate limits, faults and the control endpoints."""

from __future__ import annotations

import random
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from stagesync.emulator import Emulator, parse_store_arg, start_server
from stagesync.emulator.seed import split_path

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def emu() -> Emulator:
    return Emulator({"abc": "tok", "xyz": "tok2"})


@pytest.fixture
async def api(emu: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=emu.transport(),
        base_url="http://emulator/stores/abc",
        headers={"X-Auth-Token": "tok"},
    ) as client:
        yield client


@pytest.fixture
async def demo() -> AsyncIterator[httpx.AsyncClient]:
    emulator = Emulator(seed="demo")
    async with httpx.AsyncClient(
        transport=emulator.transport(), base_url="http://emulator"
    ) as client:
        yield client


PRODUCT = {"name": "Tee", "type": "physical", "weight": 1, "price": 10}


async def create(api: httpx.AsyncClient, path: str, body: Any) -> dict[str, Any]:
    response = await api.post(path, json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


# ---- envelopes and pagination ------------------------------------------------------------------


async def test_single_and_list_envelopes(api: httpx.AsyncClient) -> None:
    response = await api.post("/v3/catalog/brands", json={"name": "Acme"})
    assert response.status_code == 200
    body = response.json()
    assert body["meta"] == {}
    assert body["data"]["name"] == "Acme"
    listing = (await api.get("/v3/catalog/brands")).json()
    assert listing["data"] == [body["data"]]
    assert listing["meta"]["pagination"] == {
        "total": 1,
        "count": 1,
        "per_page": 50,
        "current_page": 1,
        "total_pages": 1,
        "links": {"current": "?page=1&limit=50"},
    }


async def test_pagination_links_and_limits(api: httpx.AsyncClient) -> None:
    for n in range(7):
        await create(api, "/v3/catalog/brands", {"name": f"Brand {n}"})
    page = (await api.get("/v3/catalog/brands", params={"page": 2, "limit": 3})).json()
    assert [b["name"] for b in page["data"]] == ["Brand 3", "Brand 4", "Brand 5"]
    assert page["meta"]["pagination"]["links"] == {
        "previous": "?page=1&limit=3",
        "current": "?page=2&limit=3",
        "next": "?page=3&limit=3",
    }
    assert page["meta"]["pagination"]["total_pages"] == 3
    too_many = await api.get("/v3/catalog/brands", params={"limit": 251})
    assert too_many.status_code == 413
    assert too_many.json()["status"] == 413


async def test_include_options_clamps_to_ten_per_page(api: httpx.AsyncClient) -> None:
    for n in range(12):
        await create(api, "/v3/catalog/products", {**PRODUCT, "name": f"P{n}", "sku": f"P{n}"})
    plain = (await api.get("/v3/catalog/products", params={"limit": 250})).json()
    assert plain["meta"]["pagination"]["count"] == 12
    limited = (
        await api.get("/v3/catalog/products", params={"limit": 250, "include": "options,variants"})
    ).json()
    pagination = limited["meta"]["pagination"]
    assert (pagination["per_page"], pagination["count"], pagination["total_pages"]) == (10, 10, 2)
    assert "options" in limited["data"][0] and "variants" in limited["data"][0]


async def test_product_filters(api: httpx.AsyncClient) -> None:
    a = await create(api, "/v3/catalog/products", {**PRODUCT, "name": "A", "sku": "SKU-A"})
    b = await create(api, "/v3/catalog/products", {**PRODUCT, "name": "B", "sku": "SKU-B"})
    await create(api, "/v3/catalog/products", {**PRODUCT, "name": "C", "sku": "SKU-C"})

    async def names(params: dict[str, str]) -> list[str]:
        data = (await api.get("/v3/catalog/products", params=params)).json()["data"]
        return [p["name"] for p in data]

    assert await names({"id:in": f"{a['id']},{b['id']}"}) == ["A", "B"]
    assert await names({"sku": "sku-b"}) == ["B"]
    assert await names({"sku:in": "SKU-A,SKU-C"}) == ["A", "C"]
    assert await names({"name": "C"}) == ["C"]
    assert await names({"id": str(a["id"])}) == ["A"]
    fields = (
        await api.get(f"/v3/catalog/products/{a['id']}", params={"include_fields": "name,price"})
    ).json()["data"]
    assert fields == {"id": a["id"], "name": "A", "price": 10}


# ---- validation bodies -------------------------------------------------------------------------


async def test_product_missing_required_fields(api: httpx.AsyncClient) -> None:
    response = await api.post("/v3/catalog/products", json={"sku": "X"})
    assert response.status_code == 422
    body = response.json()
    assert body["title"] == "Missing Required Fields"
    assert (
        body["type"]
        == "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"
    )
    assert set(body["errors"]) == {"name", "type", "weight", "price"}


async def test_sku_unique_across_products_and_variants_case_insensitively(
    api: httpx.AsyncClient,
) -> None:
    await create(
        api,
        "/v3/catalog/products",
        {
            **PRODUCT,
            "sku": "TEE",
            "variants": [
                {"sku": "TEE-S", "option_values": [{"option_display_name": "Size", "label": "S"}]}
            ],
        },
    )
    product_clash = await api.post(
        "/v3/catalog/products", json={**PRODUCT, "name": "Other", "sku": "tee-s"}
    )
    assert product_clash.status_code == 409
    assert product_clash.json()["status"] == 409
    other = await create(api, "/v3/catalog/products", {**PRODUCT, "name": "Other", "sku": "O"})
    await create(
        api,
        f"/v3/catalog/products/{other['id']}/options",
        {"display_name": "Size", "type": "radio_buttons", "option_values": [{"label": "S"}]},
    )
    variant_clash = await api.post(
        f"/v3/catalog/products/{other['id']}/variants",
        json={"sku": "tee", "option_values": [{"option_display_name": "Size", "label": "S"}]},
    )
    assert variant_clash.status_code == 409
    name_clash = await api.post("/v3/catalog/products", json={**PRODUCT, "sku": "NEW"})
    assert name_clash.status_code == 409


async def test_product_references_must_exist(api: httpx.AsyncClient) -> None:
    response = await api.post("/v3/catalog/products", json={**PRODUCT, "brand_id": 999999})
    assert response.status_code == 409
    assert "brand_id" in response.json()["errors"]
    response = await api.post("/v3/catalog/products", json={**PRODUCT, "categories": [999999]})
    assert response.status_code == 409


async def test_duplicate_sibling_category(api: httpx.AsyncClient, emu: Emulator) -> None:
    shoes = await create(api, "/v3/catalog/categories", {"name": "Shoes", "parent_id": 0})
    await create(api, "/v3/catalog/categories", {"name": "Running", "parent_id": shoes["id"]})
    clash = await api.post(
        "/v3/catalog/categories", json={"name": "running", "parent_id": shoes["id"]}
    )
    assert clash.status_code == 409
    assert clash.json()["title"]
    # The same name under another parent is fine.
    await create(api, "/v3/catalog/categories", {"name": "Running", "parent_id": 0})
    tree_clash = await api.post(
        "/v3/catalog/trees/categories",
        json=[{"name": "Shoes", "tree_id": emu.stores["abc"].default_tree_id}],
    )
    assert tree_clash.status_code == 409


async def test_category_rules(api: httpx.AsyncClient) -> None:
    missing = await api.post("/v3/catalog/categories", json={"parent_id": 0})
    assert missing.status_code == 422 and "name" in missing.json()["errors"]
    too_long = await api.post("/v3/catalog/categories", json={"name": "x" * 51, "parent_id": 0})
    assert too_long.status_code == 422
    orphan = await api.post("/v3/catalog/categories", json={"name": "A", "parent_id": 424242})
    assert orphan.status_code == 422
    parent = 0
    ids = []
    for depth in range(8):
        parent = (
            await create(api, "/v3/catalog/categories", {"name": f"L{depth}", "parent_id": parent})
        )["id"]
        ids.append(parent)
    too_deep = await api.post("/v3/catalog/categories", json={"name": "L9", "parent_id": parent})
    assert too_deep.status_code == 422
    deepest = (await api.get(f"/v3/catalog/categories/{ids[-1]}")).json()["data"]
    assert deepest["custom_url"] == {
        "url": "/" + "/".join(f"l{d}" for d in range(8)) + "/",
        "is_customized": False,
    }
    # Products block deletion; deleting a parent deletes its subtree.
    product = await create(api, "/v3/catalog/products", {**PRODUCT, "categories": [ids[5]]})
    blocked = await api.delete("/v3/catalog/categories", params={"id:in": str(ids[3])})
    assert blocked.status_code == 422
    await api.put(f"/v3/catalog/products/{product['id']}", json={"categories": []})
    assert (await api.delete("/v3/catalog/categories")).status_code == 422
    done = await api.delete("/v3/catalog/categories", params={"id:in": str(ids[3])})
    assert done.status_code == 204
    remaining = (await api.get("/v3/catalog/categories")).json()["data"]
    assert [c["id"] for c in remaining] == ids[:3]


async def test_tree_api_over_the_same_categories(api: httpx.AsyncClient) -> None:
    trees = (await api.get("/v3/catalog/trees")).json()["data"]
    assert len(trees) == 1 and trees[0]["channels"] == [1]
    tree_id = trees[0]["id"]
    created = await api.post(
        "/v3/catalog/trees/categories",
        json=[
            {"name": "Bags/Cases", "tree_id": tree_id},
            {"name": "Café & Crème", "tree_id": tree_id},
        ],
    )
    assert created.status_code == 201
    body = created.json()
    assert body["meta"] == {"total": 2, "success": 2, "failed": 0}
    bags = body["data"][0]
    assert bags["url"] == {"path": "/bags-cases/", "is_customized": False}
    assert body["data"][1]["url"]["path"] == "/cafe-creme/"
    assert {"category_id", "category_uuid", "parent_id", "tree_id"} <= set(bags)
    child = await api.post(
        "/v3/catalog/trees/categories", json=[{"name": "Laptop", "parent_id": bags["category_id"]}]
    )
    assert child.json()["data"][0]["url"]["path"] == "/bags-cases/laptop/"
    legacy = (await api.get(f"/v3/catalog/categories/{bags['category_id']}")).json()["data"]
    assert legacy["custom_url"] == {"url": "/bags-cases/", "is_customized": False}
    updated = await api.put(
        "/v3/catalog/trees/categories",
        json=[{"category_id": bags["category_id"], "description": "All bags"}],
    )
    assert updated.status_code == 200
    nested = (await api.get(f"/v3/catalog/trees/{tree_id}/categories")).json()["data"]
    assert nested[0]["name"] == "Bags/Cases" and nested[0]["children"][0]["name"] == "Laptop"
    deleted = await api.delete(
        "/v3/catalog/trees/categories", params={"category_id:in": str(bags["category_id"])}
    )
    assert deleted.status_code == 202
    assert [c["name"] for c in (await api.get("/v3/catalog/categories")).json()["data"]] == [
        "Café & Crème"
    ]


async def test_batch_limits(api: httpx.AsyncClient) -> None:
    products = [
        await create(api, "/v3/catalog/products", {**PRODUCT, "name": f"P{n}", "sku": f"P{n}"})
        for n in range(11)
    ]
    over = await api.put(
        "/v3/catalog/products", json=[{"id": p["id"], "price": 5} for p in products]
    )
    assert over.status_code == 413
    assert "10" in over.json()["title"]
    ok = await api.put(
        "/v3/catalog/products", json=[{"id": p["id"], "price": 5} for p in products[:10]]
    )
    assert ok.status_code == 200
    assert {p["price"] for p in ok.json()["data"]} == {5}
    no_id = await api.put("/v3/catalog/products", json=[{"price": 5}])
    assert no_id.status_code == 422
    # All-or-nothing: one bad item applies none.
    mixed = await api.put(
        "/v3/catalog/products",
        json=[{"id": products[0]["id"], "price": 7}, {"id": products[1]["id"], "sku": "P0"}],
    )
    assert mixed.status_code == 409
    first = (await api.get(f"/v3/catalog/products/{products[0]['id']}")).json()["data"]
    assert first["price"] == 5
    variants = (await api.get("/v3/catalog/variants", params={"limit": 100})).json()["data"]
    assert len(variants) == 11
    too_many_variants = await api.put("/v3/catalog/variants", json=[{"id": variants[0]["id"]}] * 51)
    assert too_many_variants.status_code == 413
    assert (await api.delete("/v3/catalog/products")).status_code == 422
    ids = ",".join(str(p["id"]) for p in products)
    assert (await api.delete("/v3/catalog/products", params={"id:in": ids})).status_code == 204
    assert (await api.get("/v3/catalog/products")).json()["data"] == []


# ---- computed fields and sub-resources ---------------------------------------------------------


async def test_read_only_fields_are_computed(api: httpx.AsyncClient) -> None:
    product = await create(
        api,
        "/v3/catalog/products",
        {**PRODUCT, "sku": "TEE", "sale_price": 8, "id": 5, "calculated_price": 1, "bogus": 1},
    )
    assert product["id"] != 5 and "bogus" not in product
    assert product["calculated_price"] == 8
    assert product["custom_url"] == {"url": "/tee/", "is_customized": False}
    assert product["date_created"].endswith("+00:00")
    variants = (await api.get(f"/v3/catalog/products/{product['id']}/variants")).json()["data"]
    assert [v["id"] for v in variants] == [product["base_variant_id"]]
    base = variants[0]
    assert base["sku"] == "TEE" and base["option_values"] == []
    assert base["calculated_price"] == 8 and base["calculated_weight"] == 1
    await api.put(f"/v3/catalog/products/{product['id']}", json={"sale_price": 0, "sku": "TEE2"})
    again = (await api.get(f"/v3/catalog/products/{product['id']}/variants")).json()["data"][0]
    assert again["sku"] == "TEE2" and again["calculated_price"] == 10


async def test_inline_variants_create_options(api: httpx.AsyncClient) -> None:
    def ov(size: str, color: str) -> list[dict[str, str]]:
        return [
            {"option_display_name": "Size", "label": size},
            {"option_display_name": "Color", "label": color},
        ]

    product = await create(
        api,
        "/v3/catalog/products",
        {
            **PRODUCT,
            "sku": "JKT",
            "variants": [
                {"sku": "JKT-S-RED", "option_values": ov("S", "Red")},
                {"sku": "JKT-M-RED", "option_values": ov("M", "Red"), "price": 12},
                {"sku": "JKT-S-BLUE", "option_values": ov("S", "Blue")},
            ],
            "images": [{"image_url": "https://cdn.example.com/x/jacket.jpg"}],
            "custom_fields": [{"name": "Fabric", "value": "Nylon"}],
        },
    )
    assert product["base_variant_id"] is None
    assert len(product["variants"]) == 3 and product["images"][0]["is_thumbnail"] is True
    pid = product["id"]
    options = (await api.get(f"/v3/catalog/products/{pid}/options")).json()["data"]
    assert [(o["display_name"], [v["label"] for v in o["option_values"]]) for o in options] == [
        ("Size", ["S", "M"]),
        ("Color", ["Red", "Blue"]),
    ]
    assert options[0]["name"].startswith("Size") and options[0]["name"].endswith(f"-{pid}")
    m_red = product["variants"][1]
    assert m_red["calculated_price"] == 12 and m_red["sku_id"]
    assert {v["option_display_name"] for v in m_red["option_values"]} == {"Size", "Color"}
    image = product["images"][0]
    for key in ("url_zoom", "url_standard", "url_thumbnail", "url_tiny"):
        assert image[key].startswith("https://cdn11.bigcommerce.com/s-abc/")
    # Adding a value and a variant, then removing an option value drops its variants.
    size = options[0]
    value = await create(
        api,
        f"/v3/catalog/products/{pid}/options/{size['id']}/values",
        {"label": "L", "sort_order": 2},
    )
    await create(
        api,
        f"/v3/catalog/products/{pid}/variants",
        {"sku": "JKT-L-RED", "option_values": ov("L", "Red")},
    )
    dup = await api.post(
        f"/v3/catalog/products/{pid}/variants", json={"sku": "X", "option_values": ov("L", "Red")}
    )
    assert dup.status_code == 409
    await api.delete(f"/v3/catalog/products/{pid}/options/{size['id']}/values/{value['id']}")
    skus = [
        v["sku"] for v in (await api.get(f"/v3/catalog/products/{pid}/variants")).json()["data"]
    ]
    assert skus == ["JKT-S-RED", "JKT-M-RED", "JKT-S-BLUE"]


async def test_custom_fields_unique_pairs(api: httpx.AsyncClient) -> None:
    product = await create(api, "/v3/catalog/products", PRODUCT)
    path = f"/v3/catalog/products/{product['id']}/custom-fields"
    field = await create(api, path, {"name": "Fabric", "value": "Wool"})
    assert set(field) == {"id", "name", "value"}
    assert (await api.post(path, json={"name": "Fabric", "value": "Wool"})).status_code == 409
    await create(api, path, {"name": "Fabric", "value": "Silk"})
    updated = await api.put(f"{path}/{field['id']}", json={"value": "Merino"})
    assert updated.json()["data"]["value"] == "Merino"
    assert (await api.delete(f"{path}/{field['id']}")).status_code == 204
    assert (await api.get(f"{path}/{field['id']}")).status_code == 404


async def test_brand_rules(api: httpx.AsyncClient) -> None:
    brand = await create(api, "/v3/catalog/brands", {"name": "Acme"})
    assert (await api.post("/v3/catalog/brands", json={"name": "Acme"})).status_code == 409
    assert (await api.post("/v3/catalog/brands", json={})).status_code == 422
    renamed = await api.put(f"/v3/catalog/brands/{brand['id']}", json={"page_title": "A"})
    assert renamed.json()["data"]["page_title"] == "A"
    assert (await api.delete("/v3/catalog/brands")).status_code == 422
    assert (await api.delete("/v3/catalog/brands", params={"name": "Acme"})).status_code == 204
    assert (await api.get(f"/v3/catalog/brands/{brand['id']}")).status_code == 404


async def test_store_information_and_channels(api: httpx.AsyncClient) -> None:
    info = (await api.get("/v2/store")).json()
    assert info["id"] == "abc" and info["default_channel_id"] == 1
    assert {"domain", "secure_url", "currency", "weight_units", "plan_name"} <= set(info)
    assert isinstance((await api.get("/v2/time")).json()["time"], int)
    channels = (await api.get("/v3/channels")).json()["data"]
    assert [(c["id"], c["type"], c["platform"]) for c in channels] == [
        (1, "storefront", "bigcommerce")
    ]


async def test_unknown_paths_and_ids(api: httpx.AsyncClient) -> None:
    missing = await api.get("/v3/catalog/products/1")
    assert missing.status_code == 404
    assert set(missing.json()) >= {"status", "title", "type"}
    assert (await api.get("/v3/nope")).status_code == 404
    assert (await api.patch("/v3/catalog/products")).status_code == 405


# ---- stores, auth ------------------------------------------------------------------------------


async def test_ids_differ_between_stores(emu: Emulator) -> None:
    transport = emu.transport()
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        a = await client.post(
            "/stores/abc/v3/catalog/brands", json={"name": "Acme"}, headers={"X-Auth-Token": "tok"}
        )
        b = await client.post(
            "/stores/xyz/v3/catalog/brands", json={"name": "Acme"}, headers={"X-Auth-Token": "tok2"}
        )
    assert a.json()["data"]["id"] != b.json()["data"]["id"]


async def test_auth(emu: Emulator) -> None:
    async with httpx.AsyncClient(transport=emu.transport(), base_url="http://emulator") as client:
        assert (await client.get("/stores/abc/v3/catalog/brands")).status_code == 401
        wrong = await client.get("/stores/abc/v3/catalog/brands", headers={"X-Auth-Token": "tok2"})
        assert wrong.status_code == 401 and wrong.json()["status"] == 401
        v2 = await client.get("/stores/abc/v2/store", headers={"X-Auth-Token": "nope"})
        assert v2.status_code == 401 and v2.json()[0]["status"] == 401
        unknown = await client.get(
            "/stores/nope/v3/catalog/brands", headers={"X-Auth-Token": "tok"}
        )
        assert unknown.status_code == 404
    emu.add_store("new", "t3")
    async with httpx.AsyncClient(transport=emu.transport(), base_url="http://emulator") as client:
        ok = await client.get("/stores/new/v3/catalog/brands", headers={"X-Auth-Token": "t3"})
        assert ok.status_code == 200


def test_parse_store_arg() -> None:
    assert parse_store_arg("abc123=secret") == ("abc123", "secret")
    for bad in ("abc123", "=tok", "abc=", "a/b=tok"):
        with pytest.raises(ValueError, match="invalid store"):
            parse_store_arg(bad)


def test_unknown_seed_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown seed"):
        Emulator(seed="full")


# ---- rate limits and faults --------------------------------------------------------------------


async def test_rate_limit_headers_and_429() -> None:
    emu = Emulator({"abc": "tok", "xyz": "tok2"}, quota=3, window_ms=60_000)
    async with httpx.AsyncClient(transport=emu.transport(), base_url="http://emulator") as client:
        lefts = []
        for _ in range(3):
            r = await client.get("/stores/abc/v2/time", headers={"X-Auth-Token": "tok"})
            assert r.status_code == 200
            assert r.headers["X-Rate-Limit-Requests-Quota"] == "3"
            assert r.headers["X-Rate-Limit-Time-Window-Ms"] == "60000"
            assert 0 < int(r.headers["X-Rate-Limit-Time-Reset-Ms"]) <= 60000
            lefts.append(r.headers["X-Rate-Limit-Requests-Left"])
        assert lefts == ["2", "1", "0"]
        limited = await client.get("/stores/abc/v2/time", headers={"X-Auth-Token": "tok"})
        assert limited.status_code == 429
        assert int(limited.headers["X-Retry-After"]) >= 1
        assert limited.headers["X-Rate-Limit-Requests-Left"] == "0"
        # Windows are per store.
        other = await client.get("/stores/xyz/v2/time", headers={"X-Auth-Token": "tok2"})
        assert other.status_code == 200
        # Control endpoints are never limited; a new window lets requests through again.
        await client.post("/__emulator/faults", json={"window_ms": 1})
        assert (await client.get("/__emulator/health")).status_code == 200
        again = await client.get("/stores/abc/v2/time", headers={"X-Auth-Token": "tok"})
        assert again.status_code in (200, 429)


async def test_unlimited_still_sends_headers(api: httpx.AsyncClient) -> None:
    r = await api.get("/v3/catalog/products")
    assert int(r.headers["X-Rate-Limit-Requests-Left"]) > 0
    assert r.headers["X-Rate-Limit-Requests-Quota"]


async def test_fault_rate_one_fails_every_api_request() -> None:
    emu = Emulator({"abc": "tok"}, fault_rate=1.0)
    emu.rng = random.Random(7)
    seen: set[object] = set()
    async with httpx.AsyncClient(transport=emu.transport(), base_url="http://emulator") as client:
        for _ in range(40):
            try:
                r = await client.get(
                    "/stores/abc/v3/catalog/brands", headers={"X-Auth-Token": "tok"}
                )
            except (httpx.RemoteProtocolError, httpx.ReadError):
                seen.add("drop")
            else:
                assert r.status_code in (500, 502, 503)
                assert "X-Rate-Limit-Requests-Left" in r.headers
                seen.add(r.status_code)
        assert (await client.get("/__emulator/health")).status_code == 200
    assert seen == {500, 502, 503, "drop"}
    statuses = {entry["status"] for entry in emu.requests}
    assert statuses == {500, 502, 503, None}


async def test_faults_apply_a_write_only_when_its_response_is_lost() -> None:
    emu = Emulator({"abc": "tok"}, fault_rate=1.0)
    dropped: set[str] = set()
    async with httpx.AsyncClient(transport=emu.transport(), base_url="http://emulator") as client:
        for i in range(40):
            name = f"A{i}"
            try:
                response = await client.post(
                    "/stores/abc/v3/catalog/brands",
                    json={"name": name},
                    headers={"X-Auth-Token": "tok"},
                )
                assert response.status_code >= 500
            except httpx.RemoteProtocolError:
                dropped.add(name)
    created = {brand["name"] for brand in emu.stores["abc"].brands.values()}
    # 5xx and connections dropped before the handler apply nothing; a lost response applied it.
    assert created <= dropped
    assert created and created != dropped


# ---- control endpoints -------------------------------------------------------------------------


async def test_control_endpoints_and_request_log(emu: Emulator) -> None:
    async with httpx.AsyncClient(transport=emu.transport(), base_url="http://emulator") as client:
        assert (await client.get("/__emulator/health")).status_code == 200
        await client.post(
            "/stores/abc/v3/catalog/brands",
            params={"x": "1"},
            json={"name": "Acme"},
            headers={"X-Auth-Token": "tok"},
        )
        await client.get("/stores/abc/v3/catalog/brands", headers={"X-Auth-Token": "bad"})
        log = (await client.get("/__emulator/requests")).json()["requests"]
        assert log == [
            {
                "method": "POST",
                "path": "/stores/abc/v3/catalog/brands",
                "query": {"x": "1"},
                "status": 200,
                "store_hash": "abc",
                "body": {"name": "Acme"},
            },
            {
                "method": "GET",
                "path": "/stores/abc/v3/catalog/brands",
                "query": {},
                "status": 401,
                "store_hash": "abc",
                "body": None,
            },
        ]
        assert (await client.delete("/__emulator/requests")).status_code == 204
        assert (await client.get("/__emulator/requests")).json() == {"requests": []}
        faults = await client.post("/__emulator/faults", json={"latency_ms": 1, "quota": 100})
        assert faults.json() == {
            "latency_ms": 1,
            "fault_rate": 0.0,
            "quota": 100,
            "window_ms": 30000,
        }
        assert (await client.get("/__emulator/faults")).json()["quota"] == 100
        bad = await client.post("/__emulator/faults", json={"fault_rate": 2})
        assert bad.status_code == 400
        await client.get("/stores/abc/v2/time", headers={"X-Auth-Token": "tok"})
        assert len((await client.get("/__emulator/requests")).json()["requests"]) == 1


# ---- the demo seed -----------------------------------------------------------------------------


async def _all(client: httpx.AsyncClient, store: str, path: str, **params: str) -> list[Any]:
    headers = {"X-Auth-Token": f"{store}-token"}
    out: list[Any] = []
    page = 1
    while True:
        body = (
            await client.get(
                f"/stores/{store}{path}",
                params={**params, "page": page, "limit": 250},
                headers=headers,
            )
        ).json()
        out.extend(body["data"])
        if page >= body["meta"]["pagination"]["total_pages"]:
            return out
        page += 1


async def test_demo_seed_shape(demo: httpx.AsyncClient) -> None:
    prod = await _all(demo, "production", "/v3/catalog/products", include="variants")
    stage = await _all(demo, "staging", "/v3/catalog/products", include="variants")
    assert len(prod) >= 30
    assert sum(1 for p in prod if len(p["variants"]) >= 6) >= 3
    categories = await _all(demo, "staging", "/v3/catalog/categories")
    by_id = {c["id"]: c for c in categories}

    def depth(category: dict[str, Any]) -> int:
        return 1 + (depth(by_id[category["parent_id"]]) if category["parent_id"] else 0)

    assert max(depth(c) for c in categories) >= 3
    names = {c["name"] for c in categories}
    assert "Bags/Cases" in names and "Café & Crème" in names
    brands = await _all(demo, "staging", "/v3/catalog/brands")
    assert 5 <= len(brands) <= 7
    # Staging is production plus a few edits.
    prod_by_sku = {p["sku"]: p for p in prod}
    stage_by_sku = {p["sku"]: p for p in stage}
    assert 2 <= len(set(stage_by_sku) - set(prod_by_sku)) <= 3
    assert set(prod_by_sku) <= set(stage_by_sku)
    new_with_variants = [
        s
        for s in set(stage_by_sku) - set(prod_by_sku)
        if stage_by_sku[s]["variants"][0]["option_values"]
    ]
    assert new_with_variants
    price_changes = [s for s in prod_by_sku if prod_by_sku[s]["price"] != stage_by_sku[s]["price"]]
    assert 2 <= len(price_changes) <= 5
    assert any(prod_by_sku[s]["description"] != stage_by_sku[s]["description"] for s in prod_by_sku)
    prod_variant_prices = {v["sku"]: v["price"] for p in prod for v in p["variants"]}
    stage_variant_prices = {v["sku"]: v["price"] for p in stage for v in p["variants"]}
    assert any(stage_variant_prices[s] != prod_variant_prices[s] for s in prod_variant_prices)
    prod_ids = {p["id"] for p in prod}
    assert not prod_ids & {p["id"] for p in stage}
    images = await _all(demo, "production", f"/v3/catalog/products/{prod[0]['id']}/images")
    assert images and images[0]["image_url"].startswith("https://cdn.example.com/")


def test_split_path_keeps_escaped_slashes() -> None:
    assert split_path("Accessories/Bags\\/Cases") == ["Accessories", "Bags/Cases"]


# ---- a real server -----------------------------------------------------------------------------


@pytest.mark.serve
def test_start_server_serves_over_http() -> None:
    emu = Emulator({"abc": "tok"})
    with start_server(emu) as server:
        assert server.url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=server.url) as client:
            assert client.get("/__emulator/health").status_code == 200
            r = client.post(
                "/stores/abc/v3/catalog/brands",
                json={"name": "Acme"},
                headers={"X-Auth-Token": "tok"},
            )
            assert r.status_code == 200 and r.json()["data"]["name"] == "Acme"
            client.post("/__emulator/faults", json={"fault_rate": 1.0})
            emu.rng = random.Random(1)
            dropped = 0
            for _ in range(12):
                try:
                    r = client.get("/stores/abc/v2/time", headers={"X-Auth-Token": "tok"})
                    assert r.status_code in (500, 502, 503)
                except (httpx.RemoteProtocolError, httpx.ReadError):
                    dropped += 1
            assert dropped
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.url}/__emulator/health", timeout=1)


@pytest.mark.serve
def test_served_connections_send_without_waiting_for_acks() -> None:
    """Nagle's algorithm is off on every accepted connection: with it on, an answer written in two
    parts waits for the client's delayed ACK, 40 ms a kept-alive request on loopback."""
    emu = Emulator({"abc": "tok"})
    with start_server(emu) as server, httpx.Client(base_url=server.url) as client:
        assert client.get("/__emulator/health").status_code == 200
        connections = server._server.server_state.connections
        assert connections
        for connection in connections:
            sock = connection.transport.get_extra_info("socket")
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
