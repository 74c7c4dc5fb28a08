"""Script Manager scripts end to end: a store with every shape of script (loaded from a URL with
integrity hashes, a script tag, on checkout, disabled, on a second channel, removed with the
app) pulled, diffed, pushed and pulled again; changes, the plan's warning, and the emulator's
rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stagesync import api
from stagesync.emulator import Emulator
from stagesync.errors import ApiError
from stagesync.ports import StoreApi
from stagesync.snapshot import read_snapshot
from tests.conftest import Connector, on_store
from tests.test_roundtrip import converged, sync

PATH = "/v3/content/scripts"
JQUERY = "https://code.jquery.com/jquery-3.7.1.min.js"
TAG = "<script>window.dataLayer = window.dataLayer || [];</script>"


async def build_scripts(store: StoreApi) -> dict[str, Any]:
    """Scripts of every kind and setting, one on a second channel."""
    uk = await store.post(
        "/v3/channels", {"name": "uk", "type": "storefront", "platform": "bigcommerce"}
    )
    made: dict[str, Any] = {"uk": int(uk["id"])}
    bodies: list[dict[str, Any]] = [
        {
            "name": "jQuery",
            "description": "Loaded from a CDN",
            "kind": "src",
            "src": JQUERY,
            "integrity_hashes": [
                "sha384-1H217gwSVyLSIfaLxHbE7dRb3v4mYCKbpQvzx0cegeju1MVsGrX5xXxAvs"
            ],
            "load_method": "async",
            "location": "head",
            "visibility": "all_pages",
            "consent_category": "essential",
        },
        {
            "name": "Data layer",
            "kind": "script_tag",
            "html": TAG,
            "location": "head",
            "visibility": "checkout",
            "consent_category": "analytics",
            "enabled": False,
        },
        {
            "name": "Order pixel",
            "kind": "src",
            "src": "https://pixel.example.com/p.js",
            "load_method": "defer",
            "visibility": "order_confirmation",
            "consent_category": "targeting",
            "auto_uninstall": True,
        },
        {
            "name": "UK banner",
            "kind": "script_tag",
            "html": "<script src='https://uk.example.com/b.js'></script>",
            "channel_id": made["uk"],
            "consent_category": "functional",
        },
    ]
    for body in bodies:
        made[body["name"]] = (await store.post(PATH, body))["uuid"]
    return made


@pytest.fixture
def built(emulator: Emulator) -> dict[str, Any]:
    made: dict[str, Any] = on_store(emulator, "alpha", build_scripts)
    return made


def test_scripts_round_trip(
    tmp_path: Path, config_path: Path, connector: Connector, built: dict[str, Any]
) -> None:
    api.pull("alpha", config_path=config_path, out=tmp_path / "alpha", connector=connector)
    records = read_snapshot(tmp_path / "alpha").records("scripts")
    assert sorted(records) == ["Data layer", "Order pixel", "UK banner", "jQuery"]
    assert records["UK banner"]["channel"] == "uk"
    assert records["jQuery"]["channel"] == "default"
    assert not {"uuid", "api_client_id", "channel_id", "date_created"} & set(records["jQuery"])
    assert "html" not in records["jQuery"] and records["Data layer"]["html"] == TAG

    result = sync(tmp_path, config_path, connector, "first")

    assert [r.error for r in result.results if r.status != "done"] == []
    described = [r.operation.describe() for r in result.results]
    assert described.index("+ channels uk") < described.index("+ scripts UK banner")
    assert [w for w in result.plan.warnings if "auto_uninstall" in w] == [
        "script Order pixel has auto_uninstall set: the platform deletes it when the API "
        "account push uses is deleted or its token revoked."
    ]
    assert converged(tmp_path, config_path, connector) == []


def test_changed_scripts_converge(
    emulator: Emulator,
    tmp_path: Path,
    config_path: Path,
    connector: Connector,
    built: dict[str, Any],
) -> None:
    assert sync(tmp_path, config_path, connector, "first").ok

    async def change(store: StoreApi) -> None:
        # jQuery becomes a script tag (its src goes), the data layer is switched on.
        tag = {"kind": "script_tag", "html": TAG, "load_method": "default", "integrity_hashes": []}
        await store.put(f"{PATH}/{built['jQuery']}", tag)
        await store.put(f"{PATH}/{built['Data layer']}", {"enabled": True, "location": "footer"})

    on_store(emulator, "alpha", change)
    api.pull("alpha", config_path=config_path, out=tmp_path / "alpha", connector=connector)
    api.pull("beta", config_path=config_path, out=tmp_path / "beta-2", connector=connector)
    plan = api.diff(tmp_path / "alpha", tmp_path / "beta-2")
    assert [op.describe() for op in plan.operations] == [
        "~ scripts Data layer (enabled, location)",
        "~ scripts jQuery (html, integrity_hashes, kind, load_method, src)",
    ]
    assert not [w for w in plan.warnings if "auto_uninstall" in w], "said once, at create"
    api.save_plan(plan, tmp_path / "plan-2.json")
    assert api.push(tmp_path / "plan-2.json", config_path=config_path, connector=connector).ok
    assert converged(tmp_path, config_path, connector) == []


def test_emulator_script_rules(emulator: Emulator) -> None:
    async def work(store: StoreApi) -> list[str]:
        errors = []
        for body in (
            {"kind": "src", "src": JQUERY},
            {"name": "A", "kind": "src"},
            {"name": "B", "kind": "src", "src": JQUERY, "html": TAG},
            {"name": "C", "kind": "script_tag", "html": TAG + TAG},
            {"name": "D", "kind": "script_tag", "html": TAG, "load_method": "async"},
            {"name": "E", "kind": "src", "src": JQUERY, "location": "middle"},
            {"name": "F", "kind": "src", "src": JQUERY, "channel_id": 99},
        ):
            try:
                await store.post(PATH, body)
            except ApiError as error:
                errors.append(str(error))
        return errors

    errors = on_store(emulator, "alpha", work)
    assert len(errors) == 7
    assert "name" in errors[0]
    assert "src is required when kind is src" in errors[1]
    assert "html must not be given when kind is src" in errors[2]
    assert "exactly one script tag" in errors[3]
    assert "load_method must be default" in errors[4]
    assert "location" in errors[5]
    assert "Channel 99 does not exist" in errors[6]


def test_emulator_allows_fifty_scripts_a_channel(emulator: Emulator) -> None:
    async def work(store: StoreApi) -> tuple[int, str, dict[str, Any]]:
        for n in range(50):
            await store.post(PATH, {"name": f"S{n}", "src": f"https://x.example.com/{n}.js"})
        with pytest.raises(ApiError) as caught:
            await store.post(PATH, {"name": "S50", "src": "https://x.example.com/50.js"})
        listed = await store.get_all(PATH, {"sort": "name", "direction": "desc"})
        return len(listed), str(caught.value), listed[0]

    count, error, first = on_store(emulator, "alpha", work)
    assert count == 50
    assert "The limit of 50 scripts on channel 1 is reached" in error
    assert first["name"] == "S9"
    assert first["kind"] == "src" and "html" not in first
    assert first["consent_category"] == "unknown" and first["enabled"] is True
