"""Categories in full (every channel's tree, metafields, product sort order), brands with
metafields, channels and product locales: round trips through the emulator, no IDs in records,
channel mapping and plan-time channel errors, and pull's request count against the cost model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stagesync import api
from stagesync.emulator import Emulator
from stagesync.entities import REGISTRY, with_dependencies
from stagesync.errors import PlanError
from stagesync.plan import STORE_CHECK_REQUESTS
from stagesync.ports import StoreApi
from stagesync.snapshot import read_snapshot
from tests.conftest import Connector, on_store

KINDS = [
    "channels",
    "brands",
    "categories",
    "category_metafields",
    "products",
    "product_locales",
    "custom_template_associations",
]
LOCALES = "product_locales"


async def _gql(api_: StoreApi, query: str, variables: dict[str, Any]) -> Any:
    return await api_.graphql(query, variables)


async def build(store: StoreApi) -> dict[str, int]:
    """Two channels' trees with every category field, metafields, a sort order, a brand with
    every field and metafields, translations in two channels, a template association."""
    uk = await store.post(
        "/v3/channels",
        {"name": "uk", "type": "storefront", "platform": "bigcommerce", "status": "active"},
    )
    uk_id = int(uk["id"])
    default_tree = int((await store.get_all("/v3/catalog/trees"))[0]["id"])
    made = await store.put("/v3/catalog/trees", [{"name": "UK tree", "channels": [uk_id]}])
    uk_tree = int(made[0]["id"])
    full = {
        "description": "<p>Shoes</p>",
        "sort_order": 4,
        "is_visible": False,
        "image_url": "https://cdn.example.com/shoes.png",
        "page_title": "Shoes!",
        "meta_keywords": ["z", "a"],
        "meta_description": "All shoes",
        "search_keywords": "shoe,boot",
        "layout_file": "category_with_facets.html",
        "default_product_sort": "featured",
        "url": {"path": "/all-shoes/", "is_customized": True},
    }
    shoes = await store.post(
        "/v3/catalog/trees/categories", [{"name": "Shoes", "tree_id": default_tree, **full}]
    )
    shoes_id = int(shoes[0]["category_id"])
    uk_shoes = await store.post(
        "/v3/catalog/trees/categories",
        [
            {
                "name": "Shoes",
                "tree_id": uk_tree,
                "url": {"path": "/uk/shoes/", "is_customized": True},
            }
        ],
    )
    uk_shoes_id = int(uk_shoes[0]["category_id"])
    await store.post(
        "/v3/catalog/trees/categories",
        [{"name": "Running/Trail", "parent_id": uk_shoes_id, "description": "slash"}],
    )
    await store.post(
        "/v3/catalog/categories/metafields",
        [
            {
                "resource_id": shoes_id,
                "namespace": "acme",
                "key": "colour",
                "value": "red",
                "permission_set": "write",
                "description": "Swatch",
            },
            {
                "resource_id": uk_shoes_id,
                "namespace": "acme",
                "key": "colour",
                "value": "blue",
                "permission_set": "read_and_sf_access",
            },
        ],
    )
    brand = await store.post(
        "/v3/catalog/brands",
        {
            "name": "Acme",
            "page_title": "Acme Co",
            "meta_keywords": ["x", "b"],
            "meta_description": "Acme things",
            "image_url": "https://cdn.example.com/acme.png",
            "search_keywords": "acme",
            "custom_url": {"url": "/acme-brand/", "is_customized": True},
        },
    )
    await store.post(
        "/v3/catalog/brands/metafields",
        [
            {
                "resource_id": int(brand["id"]),
                "namespace": "erp",
                "key": "code",
                "value": "AC-1",
                "permission_set": "app_only",
            }
        ],
    )
    product_ids = []
    for sku in ("SHOE-1", "SHOE-2", "SHOE-3"):
        product = await store.post(
            "/v3/catalog/products",
            {
                "name": f"Shoe {sku}",
                "type": "physical",
                "sku": sku,
                "price": 10,
                "weight": 1,
                "categories": [shoes_id, uk_shoes_id],
                "brand_id": int(brand["id"]),
            },
        )
        product_ids.append(int(product["id"]))
    await store.put(
        f"/v3/catalog/categories/{shoes_id}/products/sort-order",
        [
            {"product_id": product_ids[2], "sort_order": 1},
            {"product_id": product_ids[0], "sort_order": 2},
        ],
    )
    for channel, code in ((1, "fr"), (uk_id, "en-GB")):
        gid = f"bc/store/channel/{channel}"
        await _gql(
            store,
            "mutation($input: AddLocaleInput!) { locale { addLocale(input: $input) { locale "
            "{ code } } } }",
            {"input": {"channelId": gid, "code": code}},
        )
        await _gql(
            store,
            "mutation($input: UpdateTranslationsInput!) { translation { updateTranslations("
            "input: $input) { errors { message } } } }",
            {
                "input": {
                    "resourceType": "PRODUCTS",
                    "channelId": gid,
                    "localeId": code,
                    "entities": [
                        {
                            "resourceId": f"bc/store/product/{product_ids[0]}",
                            "fields": [
                                {"fieldName": "name", "value": f"Chaussure {code}"},
                                {"fieldName": "page_title", "value": f"Titre {code}"},
                            ],
                        }
                    ],
                }
            },
        )
    await store.put(
        "/v3/storefront/custom-template-associations",
        [
            {
                "channel_id": uk_id,
                "entity_type": "category",
                "entity_id": uk_shoes_id,
                "file_name": "custom-category-1.html",
            }
        ],
    )
    return {"uk": uk_id, "shoes": shoes_id, "uk_shoes": uk_shoes_id}


@pytest.fixture
def built(emulator: Emulator) -> dict[str, int]:
    ids: dict[str, int] = on_store(emulator, "alpha", build)
    return ids


def _pull(tmp: Path, config: Path, connector: Connector, env: str, name: str) -> Path:
    out = tmp / name
    api.pull(env, config_path=config, out=out, connector=connector, kinds=KINDS)
    return out


def test_keys_name_each_channels_tree(
    tmp_path: Path, config_path: Path, connector: Connector, built: dict[str, int]
) -> None:
    snap = read_snapshot(_pull(tmp_path, config_path, connector, "alpha", "alpha"))

    assert sorted(snap.records("channels")) == ["default", "uk"]
    assert sorted(snap.records("categories")) == ["/uk/Shoes", "/uk/Shoes/Running\\/Trail", "Shoes"]
    shoes = snap.records("categories")["Shoes"]
    assert shoes["layout_file"] == "category_with_facets.html"
    assert shoes["default_product_sort"] == "featured"
    assert shoes["url"] == {"path": "/all-shoes/", "is_customized": True}
    assert shoes["meta_keywords"] == ["a", "z"]
    assert shoes["product_sort_order"] == [
        {"product": "SHOE-3", "sort_order": 1},
        {"product": "SHOE-1", "sort_order": 2},
    ]
    assert sorted(snap.records("category_metafields")) == [
        "Shoes/acme/colour",
        "\\/uk\\/Shoes/acme/colour",
    ]
    brand = snap.records("brands")["Acme"]
    assert brand["metafields"] == [
        {
            "description": "",
            "key": "code",
            "namespace": "erp",
            "permission_set": "app_only",
            "value": "AC-1",
        }
    ]
    assert snap.records(LOCALES)["SHOE-1/uk/en-GB"] == {
        "name": "Chaussure en-GB",
        "page_title": "Titre en-GB",
    }
    assert "categories:/uk/Shoes" in snap.records("custom_template_associations")
    assert (tmp_path / "alpha" / "categories" / "@uk").is_dir()


def test_round_trip_creates_then_updates_converge(
    emulator: Emulator,
    tmp_path: Path,
    config_path: Path,
    connector: Connector,
    built: dict[str, int],
) -> None:
    alpha = _pull(tmp_path, config_path, connector, "alpha", "alpha")
    beta = _pull(tmp_path, config_path, connector, "beta", "beta")
    plan = api.diff(alpha, beta)
    described = [op.describe() for op in plan.operations]
    assert described.index("+ channels uk") < described.index("+ categories /uk/Shoes")
    api.save_plan(plan, tmp_path / "plan.json")
    result = api.push(tmp_path / "plan.json", config_path=config_path, connector=connector)
    assert [r.error for r in result.results if r.status != "done"] == []
    again = api.diff(alpha, _pull(tmp_path, config_path, connector, "beta", "beta-after"))
    assert [op.describe() for op in again.operations] == []

    async def change(store: StoreApi) -> None:
        fields = await store.get_all("/v3/catalog/categories/metafields")
        await store.put(
            "/v3/catalog/categories/metafields", [{"id": fields[0]["id"], "value": "green"}]
        )
        await store.put(
            f"/v3/catalog/categories/{built['shoes']}/products/sort-order",
            [
                {"product_id": p["product_id"], "sort_order": None}
                for p in await store.get_all(
                    f"/v3/catalog/categories/{built['shoes']}/products/sort-order"
                )
            ],
        )
        brands = await store.get_all("/v3/catalog/brands")
        await store.put(f"/v3/catalog/brands/{brands[0]['id']}", {"page_title": "New"})

    on_store(emulator, "alpha", change)
    alpha2 = _pull(tmp_path, config_path, connector, "alpha", "alpha2")
    plan = api.diff(alpha2, tmp_path / "beta-after")
    assert sorted(op.describe() for op in plan.operations) == [
        "~ brands Acme (page_title)",
        "~ categories Shoes (product_sort_order)",
        "~ category_metafields Shoes/acme/colour (value)",
    ]
    api.save_plan(plan, tmp_path / "plan2.json")
    result = api.push(tmp_path / "plan2.json", config_path=config_path, connector=connector)
    assert [r.error for r in result.results if r.status != "done"] == []
    final = api.diff(alpha2, _pull(tmp_path, config_path, connector, "beta", "beta-final"))
    assert [op.describe() for op in final.operations] == []


def _ints(value: Any, path: str = "") -> list[tuple[str, int]]:
    if isinstance(value, dict):
        return [hit for k, v in value.items() for hit in _ints(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [hit for i, v in enumerate(value) for hit in _ints(v, f"{path}[{i}]")]
    if isinstance(value, int) and not isinstance(value, bool):
        return [(path, value)]
    return []


def test_records_hold_no_ids(
    emulator: Emulator,
    tmp_path: Path,
    config_path: Path,
    connector: Connector,
    built: dict[str, int],
) -> None:
    snap = read_snapshot(_pull(tmp_path, config_path, connector, "alpha", "alpha"))
    store = emulator.stores["alpha"]
    issued = set(range(store._next_id - 10_000, store._next_id)) - set(range(0, 100))
    issued = {i for i in issued if i >= 100}
    for kind in ("channels", "brands", "categories", "category_metafields", LOCALES):
        assert snap.records(kind), kind
        for key, record in snap.records(kind).items():
            for path, value in _ints(record):
                name = path.rsplit(".", 1)[-1]
                assert name != "id" and not name.endswith("_id"), (kind, key, path)
                assert value not in issued, (kind, key, path, value)
            assert not any(str(i) in key for i in built.values()), (kind, key)


def test_channel_map_in_config_lines_up_differently_named_channels(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "alpha", build)
    on_store(emulator, "beta", lambda s: _channel(s, "uk-beta"))
    config_path.write_text(
        config_path.read_text(encoding="utf-8")
        + '\n[environments.beta.channels]\nuk = "uk-beta"\n',
        encoding="utf-8",
    )
    beta = read_snapshot(_pull(tmp_path, config_path, connector, "beta", "beta"))
    assert "uk" in beta.records("channels")
    plan = api.diff(_pull(tmp_path, config_path, connector, "alpha", "alpha"), tmp_path / "beta")
    assert "+ channels uk" not in [op.describe() for op in plan.operations]
    api.save_plan(plan, tmp_path / "plan.json")
    result = api.push(tmp_path / "plan.json", config_path=config_path, connector=connector)
    assert [r.error for r in result.results if r.status != "done"] == []
    channels = {c["name"] for c in emulator.stores["beta"].channels.values()}
    assert "uk" not in channels and "uk-beta" in channels
    after = _pull(tmp_path, config_path, connector, "beta", "beta-after")
    assert [op.describe() for op in api.diff(tmp_path / "alpha", after).operations] == []


async def _channel(store: StoreApi, name: str) -> None:
    await store.post(
        "/v3/channels", {"name": name, "type": "storefront", "platform": "bigcommerce"}
    )


def test_an_unresolved_channel_is_a_plan_time_error(
    tmp_path: Path, config_path: Path, connector: Connector, built: dict[str, int]
) -> None:
    alpha = _pull(tmp_path, config_path, connector, "alpha", "alpha")
    beta = _pull(tmp_path, config_path, connector, "beta", "beta")

    with pytest.raises(PlanError) as caught:
        api.diff(alpha, beta, kinds=["categories"])
    message = str(caught.value)
    assert 'channel "uk"' in message and "category /uk/Shoes" in message
    assert "[environments.beta.channels]" in message and "--kinds channels" in message
    # Selecting channels creates it.
    plan = api.diff(alpha, beta, kinds=["categories", "channels"])
    assert "+ channels uk" in [op.describe() for op in plan.operations]


def test_pull_requests_match_the_cost_model(
    emulator: Emulator,
    tmp_path: Path,
    config_path: Path,
    connector: Connector,
    built: dict[str, int],
) -> None:
    """Metafields come from the store-wide batch lists: a page each, whatever the count."""
    from stagesync.plan import _read_requests

    before = len(emulator.requests)
    result = api.pull(
        "alpha",
        config_path=config_path,
        out=tmp_path / "a",
        connector=connector,
        kinds=["channels", "brands", "categories", "category_metafields"],
    )
    snap = read_snapshot(tmp_path / "a")
    clock = 1  # GET /v2/time: the store's clock, for snapshot.json's based_on
    expected = clock + _read_requests(
        ["channels", "brands", "categories", "category_metafields"], snap, REGISTRY
    )
    assert result.requests == expected
    paths = [r["path"] for r in emulator.requests[before:]]
    assert len(paths) == expected
    assert sum(p.endswith("/metafields") for p in paths) == 2  # categories', brands' batch lists
    assert with_dependencies(["category_metafields"]) == [
        "channels",
        "categories",
        "category_metafields",
    ]
    assert STORE_CHECK_REQUESTS == 1


def test_a_product_joining_a_category_is_written_before_the_category_sort_order(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    """The category's sort order names a product that the same plan adds to the category (an
    update): the platform takes the order only once the product is in it, so the order is a
    link step after the product's update."""

    async def both(store: StoreApi, placed: bool) -> None:
        tree = (await store.get_all("/v3/catalog/trees"))[0]["id"]
        created = await store.post(
            "/v3/catalog/trees/categories", [{"name": "Boots", "tree_id": tree, "parent_id": 0}]
        )
        boots = int(created[0]["category_id"])
        body = {"name": "Hiker", "type": "physical", "sku": "HIKER", "price": 1, "weight": 1}
        product = await store.post(
            "/v3/catalog/products", {**body, "categories": [boots] if placed else []}
        )
        if placed:
            await store.put(
                f"/v3/catalog/categories/{boots}/products/sort-order",
                [{"product_id": int(product["id"]), "sort_order": 3}],
            )

    async def placed(store: StoreApi) -> None:
        await both(store, True)

    async def unplaced(store: StoreApi) -> None:
        await both(store, False)

    on_store(emulator, "alpha", placed)
    on_store(emulator, "beta", unplaced)
    kinds = ["brands", "categories", "products"]
    for name in ("alpha", "beta"):
        api.pull(
            name, config_path=config_path, out=tmp_path / name, kinds=kinds, connector=connector
        )
    plan = api.diff(tmp_path / "alpha", tmp_path / "beta")
    described = [op.describe() for op in plan.operations]
    assert described.index("~ products HIKER (categories)") < described.index(
        "~ categories Boots link (product_sort_order)"
    )
    api.save_plan(plan, tmp_path / "plan.json")
    result = api.push(tmp_path / "plan.json", config_path=config_path, connector=connector)
    assert [r.error for r in result.results if r.status != "done"] == []
    api.pull(
        "beta", config_path=config_path, out=tmp_path / "after", kinds=kinds, connector=connector
    )
    assert api.diff(tmp_path / "alpha", tmp_path / "after").empty
