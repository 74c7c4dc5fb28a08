"""Bases, three-way plans and drift, through the command line against the in-process emulator.

Staging is the emulated store alpha, production is beta. Each test pulls both into
``snapshots/``, pushes once so production has a base, then edits the stores as a merchant would.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest

from stagesync import api
from stagesync.emulator import Emulator
from stagesync.ports import StoreApi
from stagesync.snapshot import read_snapshot
from tests.conftest import on_store
from tests.test_cli_flow import invoke, ok
from tests.test_cli_flow import wired as wired  # a fixture
from tests.test_report_outputs import validator


def edit(emulator: Emulator, env: str, name: str, **fields: Any) -> None:
    async def work(store: StoreApi) -> None:
        found = [b for b in await store.get_all("/v3/catalog/brands") if b["name"] == name]
        await store.put(f"/v3/catalog/brands/{found[0]['id']}", fields)

    on_store(emulator, env, work)


def pull_both(config: Path) -> None:
    ok(invoke(config, "pull", "alpha", "--kinds", "brands"))
    ok(invoke(config, "pull", "beta", "--kinds", "brands"))


def live_brands(config: Path, env: str, out: str) -> dict[str, Any]:
    ok(invoke(config, "pull", env, "--kinds", "brands", "--out", out))
    return dict(read_snapshot(Path(out)).records("brands"))


@pytest.fixture
def synced(request: pytest.FixtureRequest, config_path: Path) -> Emulator:
    """Production (beta) pushed once from staging (alpha): its base is recorded."""
    wired: Emulator = request.getfixturevalue("wired")
    connector = request.getfixturevalue("connector")
    monkeypatch = request.getfixturevalue("monkeypatch")
    monkeypatch.setattr(api, "drift", functools.partial(api.drift, connector=connector))
    on_store(wired, "beta", lambda store: store.post("/v3/catalog/brands", {"name": "Old"}))
    kit = {"name": "Kit", "page_title": "Kit", "meta_description": "kits"}
    on_store(wired, "alpha", lambda store: store.post("/v3/catalog/brands", kit))
    edit(wired, "alpha", "Acme", page_title="Acme", meta_description="anvils")
    edit(wired, "alpha", "Zed", meta_description="zips")
    pull_both(config_path)
    ok(invoke(config_path, "diff", "snapshots/alpha", "snapshots/beta", "--out", "first.json"))
    pushed = ok(invoke(config_path, "push", "--plan", "first.json", "--yes"))
    assert "Recorded the base of beta in snapshots/.bases/beta" in pushed.stderr
    return wired


def test_push_records_the_destinations_state_as_its_base(
    synced: Emulator, config_path: Path
) -> None:
    base = read_snapshot(Path("snapshots/.bases/beta"))
    assert base.environment == "beta" and base.store_hash == "beta"
    assert dict(base.records("brands")) == live_brands(config_path, "beta", "check")
    assert set(base.records("brands")) == {"Acme", "Kit", "Old", "Zed"}


def test_pull_never_changes_a_base(synced: Emulator, config_path: Path) -> None:
    folder = Path("snapshots/.bases/beta")
    before = {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    edit(synced, "beta", "Acme", page_title="Changed")
    ok(invoke(config_path, "pull", "beta", "--kinds", "brands"))
    after = {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    assert after == before


def test_three_way_plan_keeps_production_edits_and_merges_fields(
    synced: Emulator, config_path: Path
) -> None:
    edit(synced, "alpha", "Acme", page_title="Acme Tools")  # staging only
    edit(synced, "beta", "Zed", meta_description="zips, fixed in production")  # production only
    edit(synced, "alpha", "Kit", page_title="Kit Pro")  # both, different fields
    edit(synced, "beta", "Kit", meta_description="kits, fixed")
    pull_both(config_path)

    two_way = ok(invoke(config_path, "diff", "snapshots/alpha", "snapshots/beta", "--no-base"))
    assert "brands Zed" in two_way.stdout  # today's plan reverts production's edit

    diffed = ok(
        invoke(config_path, "diff", "snapshots/alpha", "snapshots/beta", "--out", "plan.json")
    )
    assert "Three-way plan against the base of beta" in diffed.stdout
    assert "kept: changed on beta" in diffed.stdout
    assert "= brands Zed (meta_description)" in diffed.stdout
    assert "= brands Kit (meta_description)" in diffed.stdout
    document = json.loads(Path("plan.json").read_text())
    assert document["base"]["environment"] == "beta"
    ops = {op["key"]: op for op in document["operations"]}
    assert set(ops) == {"Acme", "Kit"}
    assert ops["Kit"]["after"]["page_title"] == "Kit Pro"
    assert ops["Kit"]["after"]["meta_description"] == "kits, fixed"
    assert document["merge"]["conflicts"] == []

    ok(invoke(config_path, "push", "--plan", "plan.json", "--yes"))
    live = live_brands(config_path, "beta", "after")
    assert live["Zed"]["meta_description"] == "zips, fixed in production"
    assert live["Kit"]["page_title"] == "Kit Pro"
    assert live["Kit"]["meta_description"] == "kits, fixed"
    assert live["Acme"]["page_title"] == "Acme Tools"
    # The base is now production as this push left it, kept edits included.
    assert dict(read_snapshot(Path("snapshots/.bases/beta")).records("brands")) == live


def test_conflicts_are_listed_first_refused_by_push_and_resolved(
    synced: Emulator, config_path: Path
) -> None:
    edit(synced, "alpha", "Acme", page_title="Acme Staging")
    edit(synced, "beta", "Acme", page_title="Acme Production")
    edit(synced, "alpha", "Zed", page_title="Zed Staging")
    pull_both(config_path)

    diffed = ok(
        invoke(
            config_path,
            "diff",
            "snapshots/alpha",
            "snapshots/beta",
            "--out",
            "plan.json",
            "--markdown",
            "plan.md",
            "--html",
            "plan.html",
        )
    )
    out = diffed.stdout
    assert out.index("!! brands Acme (unresolved)") < out.index("Operations:")
    assert 'page_title: base "Acme", source "Acme Staging", destination "Acme Production"' in out
    markdown = Path("plan.md").read_text()
    assert markdown.index("Conflicts") < markdown.index("### Operations")
    html = Path("plan.html").read_text()
    assert "brands Acme (unresolved)" in html
    conflict = json.loads(Path("plan.json").read_text())["merge"]["conflicts"][0]
    assert conflict["fields"] == [
        {
            "path": "page_title",
            "base": "Acme",
            "source": "Acme Staging",
            "destination": "Acme Production",
        }
    ]

    only_conflict = ("--only", "brands:Acme", "--exit-code")
    ok(invoke(config_path, "diff", "snapshots/alpha", "snapshots/beta", *only_conflict), 3)
    refused = ok(invoke(config_path, "push", "--plan", "plan.json", "--yes"), 1)
    assert (
        "1 unresolved conflict" in refused.stderr and "brands Acme (page_title)" in refused.stderr
    )
    assert live_brands(config_path, "beta", "now")["Zed"]["page_title"] == "Zed Gear"

    resolved = ok(
        invoke(
            config_path,
            "diff",
            "snapshots/alpha",
            "snapshots/beta",
            "--resolve",
            "brands:Ac*=source",
            "--out",
            "resolved.json",
        )
    )
    assert "brands Acme (resolved: source)" in resolved.stdout
    assert "--resolve brands:Ac*=source" in resolved.stdout
    assert json.loads(Path("resolved.json").read_text())["merge"]["resolutions"] == [
        "brands:Ac*=source"
    ]
    ok(invoke(config_path, "push", "--plan", "resolved.json", "--yes"))
    result = json.loads(Path("resolved.result.json").read_text())
    validator("result.schema.json").validate(result)
    assert result["base"] == "snapshots/.bases/beta"
    assert result["merge"] == {
        "resolutions": ["brands:Ac*=source"],
        "conflicts": [{"kind": "brands", "key": "Acme", "resolution": "source"}],
    }
    assert "brands Acme (resolved: source)" in Path("resolved.result.html").read_text()
    live = live_brands(config_path, "beta", "later")
    assert live["Acme"]["page_title"] == "Acme Staging"
    assert live["Zed"]["page_title"] == "Zed Staging"


def test_deleted_in_source_and_edited_in_production_is_a_conflict(
    synced: Emulator, config_path: Path
) -> None:
    async def drop_kit(store: StoreApi) -> None:
        kit = [b for b in await store.get_all("/v3/catalog/brands") if b["name"] == "Kit"]
        await store.delete(f"/v3/catalog/brands/{kit[0]['id']}")

    on_store(synced, "alpha", drop_kit)
    edit(synced, "beta", "Kit", page_title="Kit (production)")
    pull_both(config_path)
    diffed = ok(invoke(config_path, "diff", "snapshots/alpha", "snapshots/beta", "--prune"))
    assert "!! brands Kit (unresolved)" in diffed.stdout
    assert "whole record: base" in diffed.stdout
    assert "- brands Kit" not in diffed.stdout
    # Old exists on production alone since before the base: --prune deletes it as before.
    assert "- brands Old" in diffed.stdout


def test_resolve_needs_a_valid_pattern(synced: Emulator, config_path: Path) -> None:
    bad = invoke(config_path, "diff", "snapshots/alpha", "snapshots/beta", "--resolve", "brands")
    assert bad.exit_code != 0 and "KIND:GLOB=source" in bad.stderr


def test_three_way_plans_match_the_plan_schema(synced: Emulator, config_path: Path) -> None:
    edit(synced, "alpha", "Acme", page_title="Acme Staging")
    edit(synced, "beta", "Acme", page_title="Acme Production")
    edit(synced, "beta", "Zed", meta_description="fixed")
    pull_both(config_path)
    args = ("diff", "snapshots/alpha", "snapshots/beta", "--format", "json")
    document = json.loads(ok(invoke(config_path, *args)).stdout)
    assert document["merge"]["conflicts"] and document["merge"]["kept"]
    validator("plan.schema.json").validate(document)
    document.pop("merge")
    with pytest.raises(Exception, match="merge"):
        validator("plan.schema.json").validate(document)


def test_drift_lists_what_changed_on_the_store_since_its_base(
    synced: Emulator, config_path: Path
) -> None:
    quiet = ok(invoke(config_path, "drift", "beta"))
    assert quiet.stdout.startswith("No drift: beta is as its base")

    edit(synced, "beta", "Acme", page_title="Acme (control panel)")
    on_store(synced, "beta", lambda store: store.post("/v3/catalog/brands", {"name": "New"}))
    base = sorted(p.read_bytes() for p in Path("snapshots").rglob("*.json"))
    args = ("drift", "beta", "--markdown", "drift.md", "--html", "drift.html")
    found = ok(invoke(config_path, *args), 3)
    assert "Drift on beta: 2 entities changed" in found.stdout
    assert (
        '~ brands Acme changed\n      page_title: "Acme" -> "Acme (control panel)"' in found.stdout
    )
    assert "+ brands New added" in found.stdout
    assert "page_title: &quot;Acme&quot; -&gt; &quot;Acme (control panel)&quot;" in (
        Path("drift.html").read_text()
    )
    assert "brands Acme changed" in Path("drift.md").read_text()
    assert sorted(p.read_bytes() for p in Path("snapshots").rglob("*.json")) == base

    document = json.loads(ok(invoke(config_path, "drift", "beta", "--format", "json"), 3).stdout)
    assert document["drifted"] is True
    assert document["entities"][0] == {
        "kind": "brands",
        "key": "Acme",
        "change": "changed",
        "fields": [{"path": "page_title", "before": "Acme", "after": "Acme (control panel)"}],
    }


def test_drift_without_a_base_says_how_to_get_one(wired: Emulator, config_path: Path) -> None:
    missing = ok(invoke(config_path, "drift", "beta"), 1)
    assert "beta has no base at snapshots/.bases/beta: push to it once" in missing.stderr


def test_no_base_is_recorded_from_a_snapshot_the_plan_was_not_made_from(
    synced: Emulator, config_path: Path
) -> None:
    folder = Path("snapshots/.bases/beta")
    before = {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    edit(synced, "beta", "Acme", meta_description="edited")
    edit(synced, "alpha", "Acme", page_title="Acme Staging")
    ok(invoke(config_path, "pull", "alpha", "--kinds", "brands"))
    ok(invoke(config_path, "pull", "beta", "--kinds", "brands", "--out", "elsewhere"))
    ok(invoke(config_path, "diff", "snapshots/alpha", "elsewhere", "--out", "p.json", "--no-base"))
    pushed = ok(invoke(config_path, "push", "--plan", "p.json", "--yes"))
    assert (
        "No base recorded: snapshots/beta is not the snapshot the plan was made from"
        in pushed.stderr
    )
    assert "base" not in json.loads(Path("p.result.json").read_text())
    assert {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()} == before


def test_push_finds_the_destination_snapshot_beside_the_configuration_or_the_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``stagesync demo --dir DIR`` and CI jobs run push from another folder than the one holding
    ``snapshots/``: the base is still recorded from the destination's snapshot."""
    from stagesync.bases import destination_snapshot
    from stagesync.model import KindSnapshot, Snapshot
    from stagesync.snapshot import write_snapshot

    work, config_dir, plan_dir = tmp_path / "work", tmp_path / "config", tmp_path / "plans"
    for folder in (work, config_dir, plan_dir):
        folder.mkdir()
    monkeypatch.chdir(work)
    assert destination_snapshot("production", config_dir, plan_dir) == Path("snapshots/production")
    snapshot = Snapshot({"brands": KindSnapshot({"Acme": {"name": "Acme"}})})
    write_snapshot(plan_dir / "snapshots" / "production", snapshot)
    found = destination_snapshot("production", config_dir, plan_dir)
    assert found == plan_dir / "snapshots" / "production"
    write_snapshot(config_dir / "snapshots" / "production", snapshot)
    assert destination_snapshot("production", config_dir, plan_dir) == found.parents[2] / (
        "config/snapshots/production"
    )
    write_snapshot(work / "snapshots" / "production", snapshot)
    assert destination_snapshot("production", config_dir, plan_dir) == Path("snapshots/production")
