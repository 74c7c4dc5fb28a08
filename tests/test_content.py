"""Content kinds end to end against the emulator: pages, widget templates, widgets, placements,
custom template associations and themes (pull, diff, push, pull again: no changes left)."""

from __future__ import annotations

import asyncio
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from stagesync import api
from stagesync.emulator import Emulator
from stagesync.emulator import content as content_domain
from stagesync.emulator import themes as theme_domain
from stagesync.entities import themes
from stagesync.errors import ApiError, PolicyRefused
from stagesync.ports import StoreApi
from stagesync.report.text import render_text
from tests.conftest import STORES, Connector, on_store
from tests.test_roundtrip import converged, sync

HOME = "{{#partial 'page'}}<h1>{{page.title}}</h1>{{/partial}}\n"


def bundle(
    name: str = "Shop Theme", home: str = HOME, extra: dict[str, bytes] | None = None
) -> bytes:
    config = {
        "name": name,
        "version": "1.0.0",
        "settings": {"color": "#fff"},
        "variations": [{"name": "Light", "id": "light", "settings": {}}],
    }
    files = {
        "config.json": orjson.dumps(config),
        "templates/pages/home.html": home.encode(),
        "templates/layout/base.html": b"<html>{{{body}}}</html>\n",
        "assets/img/logo.png": b"\x89PNG\r\n\x1a\n\x00\xff",
        **(extra or {}),
    }
    return themes.build_bundle(files)


async def upload(client: StoreApi, data: bytes) -> str:
    job = await client.upload("/v3/themes", "file", "theme.zip", data)
    return str((await themes.wait_for_job(client, job["job_id"], "upload"))["theme_id"])


async def build_content(client: StoreApi) -> dict[str, Any]:
    brand = await client.post("/v3/catalog/brands", {"name": "Acme"})
    trees = await client.get_all("/v3/catalog/trees")
    category = (
        await client.post(
            "/v3/catalog/trees/categories",
            [{"name": "Tents", "parent_id": 0, "tree_id": trees[0]["id"]}],
        )
    )[0]
    product = await client.post(
        "/v3/catalog/products",
        {
            "name": "Tent",
            "sku": "TENT-1",
            "type": "physical",
            "weight": 1,
            "price": 10,
            "categories": [category["category_id"]],
            "brand_id": brand["id"],
        },
    )
    about = await client.post("/v3/content/pages", {"name": "About", "type": "page", "body": "x"})
    team = await client.post(
        "/v3/content/pages",
        {"name": "Team", "type": "page", "parent_id": about["id"], "url": "/about/team/"},
    )
    await client.post(
        "/v3/content/pages",
        [
            {
                "name": "Founders",
                "type": "raw",
                "body": "<b>hi</b>",
                "parent_id": team["id"],
                "url": "/about/team/founders/",
                "meta_title": "Founders",
            },
            {"name": "Blog", "type": "link", "link": "https://blog.example.com"},
        ],
    )
    template = await client.post(
        "/v3/content/widget-templates",
        {
            "name": "Banner",
            "template": "<div>{{#if title}}{{title}}{{/if}}</div>",
            "schema": [{"type": "tab", "label": "Content", "sections": []}],
        },
    )
    widget = await client.post(
        "/v3/content/widgets",
        {
            "name": "Promo",
            "widget_template_uuid": template["uuid"],
            "widget_configuration": {"title": "Sale"},
        },
    )
    for template_file, entity_id in (
        ("pages/product", product["id"]),
        ("pages/category", category["category_id"]),
    ):
        await client.post(
            "/v3/content/placements",
            {
                "widget_uuid": widget["uuid"],
                "template_file": template_file,
                "entity_id": str(entity_id),
                "region": "below_content",
                "status": "active",
            },
        )
    await client.put(
        "/v3/storefront/custom-template-associations",
        [
            {
                "channel_id": 1,
                "entity_type": "product",
                "entity_id": product["id"],
                "file_name": "custom-product.html",
            }
        ],
    )
    await upload(client, bundle())
    return {"product": product["id"], "category": category["category_id"]}


@pytest.fixture
def built(emulator: Emulator) -> dict[str, Any]:
    result: dict[str, Any] = on_store(emulator, "alpha", build_content)
    return result


def test_content_round_trip(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector, built: Any
) -> None:
    result = sync(tmp_path, config_path, connector, "first")

    assert [r.error for r in result.results if r.status != "done"] == []
    order = [r.operation.describe() for r in result.results]
    assert order.index("+ pages /about/") < order.index("+ pages /about/team/")
    assert order.index("+ pages /about/team/") < order.index("+ pages /about/team/founders/")
    assert "+ pages name:Blog" in order
    assert order.index("+ widgets Promo") < order.index(
        "+ placements pages/product|below_content|Promo|products:TENT-1"
    )
    assert "+ placements pages/category|below_content|Promo|categories:Tents" in order
    assert "+ custom_template_associations products:TENT-1" in order
    assert "+ themes Shop Theme" in order
    assert converged(tmp_path, config_path, connector) == []

    # The placements point at beta's own product and category ids, not alpha's.
    beta = emulator.stores["beta"]
    placements = content_domain.content_of(beta).placements.values()
    product_id = next(p["id"] for p in beta.products.values() if p["sku"] == "TENT-1")
    category_id = next(c["id"] for c in beta.categories.values() if c["name"] == "Tents")
    assert product_id != built["product"]
    assert {(p["template_file"], p["entity_id"]) for p in placements} == {
        ("pages/product", str(product_id)),
        ("pages/category", str(category_id)),
    }
    founders = next(
        p for p in content_domain.content_of(beta).pages.values() if p["name"] == "Founders"
    )
    team = content_domain.content_of(beta).pages[founders["parent_id"]]
    assert team["name"] == "Team"


def test_theme_stored_unzipped_and_one_template_change_is_one_file(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector, built: Any
) -> None:
    assert sync(tmp_path, config_path, connector, "first").ok
    stored = sorted(
        p.relative_to(tmp_path / "alpha").as_posix()
        for p in (tmp_path / "alpha" / "themes").rglob("*")
        if p.is_file()
    )
    theme_dir = next(s for s in stored if s.endswith("/files/config.json")).rsplit("/files/", 1)[0]
    assert f"{theme_dir}/files/templates/pages/home.html" in stored
    assert f"{theme_dir}.json" in stored
    assert (tmp_path / "alpha" / theme_dir / "files/templates/pages/home.html").read_text() == HOME
    record = orjson.loads((tmp_path / "alpha" / f"{theme_dir}.json").read_bytes())["record"]
    assert record["name"] == "Shop Theme"
    assert record["version"] == "1.0.0"
    assert record["variations"] == ["Light"]
    assert record["files"]["templates/pages/home.html"].startswith("sha256:")

    new_home = HOME.replace("<h1>", "<h1 class='big'>")
    on_store(emulator, "alpha", lambda client: upload(client, bundle(home=new_home)))
    api.pull("alpha", config_path=config_path, out=tmp_path / "alpha", connector=connector)
    api.pull("beta", config_path=config_path, out=tmp_path / "beta-2", connector=connector)
    plan = api.diff(tmp_path / "alpha", tmp_path / "beta-2")

    assert [op.describe() for op in plan.operations] == [
        "~ themes Shop Theme (files, files_digest)"
    ]
    files = [f.path for f in plan.operations[0].fields if f.path.startswith("files/")]
    assert files == ["files/templates/pages/home.html"]
    assert "~ files/templates/pages/home.html (+1 -1 lines)" in render_text(plan)

    plan_path = tmp_path / "plan-2.json"
    api.save_plan(plan, plan_path)
    with pytest.raises(PolicyRefused, match="--override theme-activation"):
        api.push(plan_path, config_path=config_path, connector=connector, activate="Shop Theme")
    pushed = api.push(
        plan_path,
        config_path=config_path,
        connector=connector,
        activate="Shop Theme:Light",
        overrides=[("theme-activation", "the new home page is approved")],
    )
    assert pushed.ok and pushed.activated == "Shop Theme (Light)"
    assert [(f.rule, f.entity) for f in pushed.findings] == [
        ("theme-activation", "themes Shop Theme")
    ]
    assert converged(tmp_path, config_path, connector) == []
    active = [
        t for t in theme_domain.themes_of(emulator.stores["beta"]).themes.values() if t["is_active"]
    ]
    assert [t["name"] for t in active] == ["Shop Theme"]


def test_same_tree_gives_the_same_bundle() -> None:
    files = {"b.txt": b"2", "a/x.html": b"1", "config.json": b"{}"}
    assert themes.build_bundle(files) == themes.build_bundle(dict(reversed(files.items())))
    names = zipfile.ZipFile(io.BytesIO(themes.build_bundle(files))).namelist()
    assert names == ["a/x.html", "b.txt", "config.json"]


def test_unchanged_theme_is_not_downloaded_again(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector, built: Any
) -> None:
    out = tmp_path / "alpha"
    api.pull("alpha", config_path=config_path, out=out, connector=connector, kinds=["themes"])
    before = (out / "snapshot.json").read_bytes()
    emulator.clear_requests()
    api.pull("alpha", config_path=config_path, out=out, connector=connector, kinds=["themes"])
    downloads = [r for r in emulator.requests if r["path"].endswith("/actions/download")]
    assert downloads == []
    assert (
        orjson.loads(before)["kinds"] == orjson.loads((out / "snapshot.json").read_bytes())["kinds"]
    )

    on_store(emulator, "alpha", lambda client: upload(client, bundle(home="changed\n")))
    emulator.clear_requests()
    api.pull("alpha", config_path=config_path, out=out, connector=connector, kinds=["themes"])
    assert [r for r in emulator.requests if r["path"].endswith("/actions/download")] != []


def test_theme_limit_is_a_clear_push_error(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector, built: Any
) -> None:
    async def fill(client: StoreApi) -> None:
        for i in range(theme_domain.MAX_CUSTOM_THEMES):
            await upload(client, bundle(name=f"Filler {i}"))

    on_store(emulator, "beta", fill)
    api.pull(
        "alpha",
        config_path=config_path,
        out=tmp_path / "alpha",
        connector=connector,
        kinds=["themes"],
    )
    api.pull(
        "beta",
        config_path=config_path,
        out=tmp_path / "beta",
        connector=connector,
        kinds=["themes"],
    )
    plan_path = tmp_path / "plan.json"
    api.save_plan(api.diff(tmp_path / "alpha", tmp_path / "beta"), plan_path)
    result = api.push(plan_path, config_path=config_path, connector=connector)

    assert not result.ok
    assert "already has 20 custom themes, the platform's limit is 20" in str(result.failed[0].error)

    # The emulator enforces it too, for clients that do not check first.
    with pytest.raises(ApiError, match="reached your upload limit of 20 custom themes") as error:
        on_store(
            emulator,
            "beta",
            lambda client: client.upload("/v3/themes", "file", "t.zip", bundle("New")),
        )
    assert error.value.status == 409


def test_theme_limit_answer_drives_the_platform_theme_tool_flow(emulator: Emulator) -> None:
    """The platform's theme tool reads a 409 whose title says "You have reached your upload
    limit" as the limit, deletes the oldest custom theme that is not active, and uploads again."""

    async def fill(client: StoreApi) -> None:
        for i in range(theme_domain.MAX_CUSTOM_THEMES):
            await upload(client, bundle(name=f"Filler {i}"))

    on_store(emulator, "beta", fill)

    async def tool() -> tuple[int, Any, int]:
        headers = {"X-Auth-Token": STORES["beta"]}
        url = "http://emulator.test/stores/beta/v3/themes"
        files = {"file": ("theme.zip", bundle("New"), "application/zip")}
        async with httpx.AsyncClient(transport=emulator.transport()) as http:
            refused = await http.post(url, headers=headers, files=files)
            listed = (await http.get(url, headers=headers)).json()["data"]
            oldest = min(
                (t for t in listed if t["is_private"] and not t["is_active"]),
                key=lambda t: t["updated_at"],
            )
            deleted = await http.delete(f"{url}/{oldest['uuid']}", headers=headers)
            assert deleted.status_code == 204
            again = await http.post(url, headers=headers, files=files)
            return refused.status_code, refused.json(), again.status_code

    status, body, again = asyncio.run(tool())
    assert status == 409
    assert re.search("You have reached your upload limit", body["title"])
    assert again == 201


def test_bundle_size_limit(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(theme_domain, "MAX_BUNDLE_BYTES", 100)
    with pytest.raises(ApiError, match="the limit is 0 MB") as error:
        on_store(
            emulator, "alpha", lambda client: client.upload("/v3/themes", "file", "t.zip", bundle())
        )
    assert error.value.status == 413


def test_page_builder_and_configuration_warnings(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector, built: Any
) -> None:
    assert sync(tmp_path, config_path, connector, "first").ok

    async def layout(client: StoreApi) -> None:
        widget = (await client.get_all("/v3/content/widgets"))[0]
        await client.post(
            "/v3/content/placements", {"widget_uuid": widget["uuid"], "template_file": "pages/home"}
        )

    on_store(emulator, "alpha", layout)
    theme_domain.edit_configuration(
        emulator.stores["alpha"], "Shop Theme", "Light", {"color": "#f00"}
    )
    api.pull("alpha", config_path=config_path, out=tmp_path / "alpha", connector=connector)
    api.pull("beta", config_path=config_path, out=tmp_path / "beta-2", connector=connector)
    plan = api.diff(tmp_path / "alpha", tmp_path / "beta-2")

    warnings = "\n".join(plan.warnings)
    assert (
        "placement pages/home||Promo| has no region: it sits in a Page Builder layout" in warnings
    )
    assert "theme Shop Theme: its configurations (Page Builder settings) differ" in warnings
    assert "pushing them is not possible" in warnings
    theme_op = next(op for op in plan.operations if op.kind == "themes")
    assert [f.path for f in theme_op.fields] == ["configurations.Light.color"]


def test_emulator_page_rules(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(content_domain, "MAX_PAGES", 2)

    async def work(client: StoreApi) -> list[str]:
        errors = []
        for body in (
            {"name": "A", "type": "page"},
            {"name": "a", "type": "page"},
            {"name": "R", "type": "raw"},
            {"name": "L", "type": "link"},
            {"name": "C", "type": "page", "parent_id": 999},
            {"name": "B", "type": "page"},
            {"name": "D", "type": "page"},
        ):
            try:
                await client.post("/v3/content/pages", body)
            except ApiError as error:
                errors.append(str(error))
        return errors

    errors = on_store(emulator, "alpha", work)
    assert "Must be unique" in errors[0]
    assert "body is required for raw pages" in errors[1]
    assert "link is required for link pages" in errors[2]
    assert "Parent page 999 does not exist" in errors[3]
    assert "limit of 2 web pages" in errors[4]


def test_emulator_widget_template_validation(emulator: Emulator) -> None:
    async def work(client: StoreApi) -> list[str]:
        errors = []
        for body in (
            {"name": "T"},
            {"name": "T", "template": "{{#if x}}open"},
            {"name": "T", "template": "{{x}", "schema": []},
            {"name": "T", "template": "<p/>", "schema": [{"type": "nope"}]},
        ):
            try:
                await client.post("/v3/content/widget-templates", body)
            except ApiError as error:
                errors.append(str(error))
        return errors

    errors = on_store(emulator, "alpha", work)
    assert len(errors) == 4
    assert "template is required" in errors[0]
    assert "opens {{#if}} without closing it" in errors[1]
    assert "unbalanced" in errors[2]
    assert "each schema entry needs a type" in errors[3]


def test_theme_file_tree_in_snapshot(tmp_path: Path) -> None:
    from stagesync.errors import SnapshotError
    from stagesync.model import KindSnapshot, Snapshot
    from stagesync.snapshot import read_snapshot, write_snapshot

    files = {
        "config.json": '{"name": "T"}',
        "templates/pages/home.html": "home\n",
        "templates/odd:name?.html": "odd\n",
        "assets/../../escape.txt": "x",
        "assets/logo.png": {"base64": "iVBORw0KGgr/"},
    }
    record = {"name": "T", "files": files}
    snapshot = Snapshot({"themes": KindSnapshot({"T/x": record})}, "alpha", "alpha")
    with pytest.raises(SnapshotError, match="unsafe file path"):
        write_snapshot(tmp_path / "snap", snapshot)
    del files["assets/../../escape.txt"]
    write_snapshot(tmp_path / "snap", snapshot)

    assert read_snapshot(tmp_path / "snap").records("themes")["T/x"] == record
    stored = {p.name for p in (tmp_path / "snap").rglob("*") if p.is_file()}
    assert {"home.html", "config.json", "logo.png"} <= stored
    assert not any(":" in name or "?" in name for name in stored)

    home = next((tmp_path / "snap").rglob("home.html"))
    home.write_text("edited\n")
    with pytest.raises(SnapshotError, match="does not match the hash"):
        read_snapshot(tmp_path / "snap")

    clash = Snapshot({"themes": KindSnapshot({"T": {"files": {"A.html": "1", "a.html": "2"}}})})
    with pytest.raises(SnapshotError, match="differ only in case"):
        write_snapshot(tmp_path / "clash", clash)
