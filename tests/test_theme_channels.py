"""Themes per channel: each storefront has its own active theme, and stagesync activates on the
default storefront (channel 1) only."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import httpx
import orjson
import pytest

from stagesync.emulator import Emulator
from stagesync.entities import themes
from stagesync.ports import StoreApi
from tests.conftest import STORES, on_store

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def bundle(name: str, home: str) -> bytes:
    config = {
        "name": name,
        "version": "1.0.0",
        "variations": [{"name": "Light", "id": "light"}, {"name": "Dark", "id": "dark"}],
    }
    files = {"config.json": orjson.dumps(config), "templates/pages/home.html": home.encode()}
    return themes.build_bundle(files)


class Store:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-Auth-Token": STORES["alpha"]}
        return await self.client.request(method, f"/stores/alpha{path}", headers=headers, **kwargs)

    async def job(self, job_id: str) -> dict[str, Any]:
        while True:
            data = (await self.call("GET", f"/v3/themes/jobs/{job_id}")).json()["data"]
            if data["status"] in ("COMPLETED", "FAILED"):
                return dict(data["result"])

    async def upload(self, data: bytes) -> str:
        r = await self.call("POST", "/v3/themes", files={"file": ("t.zip", data)})
        return str((await self.job(r.json()["job_id"]))["theme_id"])

    async def theme(self, name: str) -> dict[str, Any]:
        listed = (await self.call("GET", "/v3/themes")).json()["data"]
        return dict(next(t for t in listed if t["name"] == name))

    async def active(self, channel: int) -> httpx.Response:
        return await self.call("GET", f"/v3/channels/{channel}/active-theme")

    async def download(self, uuid: str, body: Any = None) -> str:
        r = await self.call("POST", f"/v3/themes/{uuid}/actions/download", json=body)
        assert r.status_code == 200, r.text
        url = (await self.job(r.json()["job_id"]))["download_url"]
        data = (await self.client.get(url)).content
        return zipfile.ZipFile(io.BytesIO(data)).read("templates/pages/home.html").decode()


@pytest.fixture
async def store() -> Any:
    emulator = Emulator(dict(STORES))
    async with httpx.AsyncClient(transport=emulator.transport(), base_url="http://e") as client:
        yield Store(client)


async def second_storefront(store: Store) -> int:
    body = {"name": "outlet", "type": "storefront", "platform": "bigcommerce"}
    r = await store.call("POST", "/v3/channels", json=body)
    assert r.status_code == 200, r.text
    return int(r.json()["data"]["id"])


async def test_activation_changes_only_its_channel(store: Store) -> None:
    outlet = await second_storefront(store)
    cornerstone = await store.theme("Cornerstone")
    first = (await store.active(1)).json()["data"]
    assert first["active_theme_uuid"] == cornerstone["uuid"]
    assert set(first) == {
        "active_theme_uuid",
        "active_theme_configuration_uuid",
        "active_theme_version_uuid",
        "saved_theme_configuration_uuid",
    }
    missing = await store.active(outlet)
    assert missing.status_code == 404
    assert missing.json()["title"] == f"No active theme found with channel_id: {outlet}"
    assert (await store.active(999)).status_code == 404

    shop = await store.upload(bundle("Shop", "v1"))
    dark = (await store.theme("Shop"))["variations"][1]["uuid"]
    r = await store.call(
        "POST", f"/v3/themes/actions/activate?channel_id={outlet}", json={"variation_id": dark}
    )
    assert r.status_code == 204, r.text
    assert (await store.active(1)).json()["data"] == first
    on_outlet = (await store.active(outlet)).json()["data"]
    assert on_outlet["active_theme_uuid"] == shop
    configurations = await store.call(
        "GET", f"/v3/themes/{shop}/configurations", params={"variation_uuid": dark}
    )
    configuration = configurations.json()["data"][0]
    assert on_outlet["active_theme_configuration_uuid"] == configuration["uuid"]
    assert configuration["site_id"] == 0
    themes_now = {t["name"]: t for t in (await store.call("GET", "/v3/themes")).json()["data"]}
    assert themes_now["Cornerstone"]["is_active"] and themes_now["Shop"]["is_active"]
    assert "active_variation" not in themes_now["Shop"]
    assert set(themes_now["Shop"]) == {
        "uuid",
        "name",
        "variations",
        "is_private",
        "is_active",
        "updated_at",
    }


async def test_activation_checks_which_and_channel(store: Store) -> None:
    light = (await store.theme("Cornerstone"))["variations"][0]["uuid"]
    for query, body, field in [
        ("", {"variation_id": light, "which": "bogus"}, "which"),
        ("?channel_id=77", {"variation_id": light}, "channel_id"),
        ("", {"variation_id": "nope"}, "variation_id"),
    ]:
        r = await store.call("POST", f"/v3/themes/actions/activate{query}", json=body)
        assert r.status_code == 422, (body, r.text)
        assert field in r.json()["errors"]
    for which in ("original", "last_activated", "last_created"):
        body = {"variation_id": light, "which": which}
        r = await store.call("POST", "/v3/themes/actions/activate", json=body)
        assert r.status_code == 204


async def test_download_serves_the_version_which_names(store: Store) -> None:
    shop = await store.upload(bundle("Shop", "v1"))
    light = (await store.theme("Shop"))["variations"][0]["uuid"]
    r = await store.call("POST", "/v3/themes/actions/activate", json={"variation_id": light})
    assert r.status_code == 204
    await store.upload(bundle("Shop", "v2"))
    assert await store.download(shop, {"which": "original"}) == "v1"
    assert await store.download(shop, {"which": "last_created"}) == "v2"
    assert await store.download(shop, {"which": "last_activated"}) == "v1"
    assert await store.download(shop) == "v1"  # no body: last_activated
    assert await store.download(shop, {}) == "v1"
    assert await store.download(shop, {"which": "bogus"}) == "v1"
    before = (await store.active(1)).json()["data"]
    r = await store.call("POST", "/v3/themes/actions/activate", json={"variation_id": light})
    assert r.status_code == 204
    after = (await store.active(1)).json()["data"]
    assert after["active_theme_version_uuid"] != before["active_theme_version_uuid"]
    assert await store.download(shop) == "v2"


def test_stagesync_activates_on_the_default_storefront_only() -> None:
    """On a store with two storefronts, stagesync's activation (``push --activate``) changes
    channel 1 and leaves the other storefront's theme as it was."""
    emulator = Emulator(dict(STORES))

    async def work(client: StoreApi) -> tuple[Any, Any, Any]:
        outlet = await client.post(
            "/v3/channels",
            {"name": "outlet", "type": "storefront", "platform": "bigcommerce"},
            entity="channel outlet",
        )
        cornerstone = next(t for t in await client.get("/v3/themes") if t["name"] == "Cornerstone")
        await client.post(
            f"/v3/themes/actions/activate?channel_id={outlet['id']}",
            {"variation_id": cornerstone["variations"][1]["uuid"]},
            entity="theme",
        )
        job = await client.upload("/v3/themes", "file", "t.zip", bundle("Shop", "v1"))
        shop = (await themes.wait_for_job(client, job["job_id"], "upload"))["theme_id"]
        chosen = await themes.activate(client, "Shop", "Dark")
        first = await client.get("/v3/channels/1/active-theme")
        second = await client.get(f"/v3/channels/{outlet['id']}/active-theme")
        return chosen, (shop, first["active_theme_uuid"]), (cornerstone, second)

    chosen, (shop, on_first), (cornerstone, on_second) = on_store(emulator, "alpha", work)
    assert chosen == "Dark"
    assert on_first == shop
    assert on_second["active_theme_uuid"] == cornerstone["uuid"]
