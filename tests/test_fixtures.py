"""fixtures/catalogue is the snapshot of tests/catalogue.py's store. Pulling that catalogue from a
fresh store (other IDs, other process) must reproduce it byte for byte: snapshots are ID-free and
deterministic. Regenerate after an intended format change with STAGESYNC_UPDATE_FIXTURES=1."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from stagesync import api
from stagesync.emulator import Emulator
from stagesync.snapshot import read_snapshot
from tests import catalogue
from tests.conftest import Connector, on_store

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "catalogue"


def record_files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*.json"))
        if p.name != "snapshot.json"
    }


def test_pull_reproduces_the_committed_fixture(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "beta", catalogue.build)
    kinds = list(read_snapshot(FIXTURE).kinds)  # the kinds the fixture holds
    api.pull(
        "beta", config_path=config_path, out=tmp_path / "pulled", connector=connector, kinds=kinds
    )

    if os.environ.get("STAGESYNC_UPDATE_FIXTURES"):
        shutil.rmtree(FIXTURE, ignore_errors=True)
        shutil.copytree(tmp_path / "pulled", FIXTURE)
    assert record_files(tmp_path / "pulled") == record_files(FIXTURE)


def test_fixture_plans_into_an_empty_store(
    tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    api.pull("alpha", config_path=config_path, out=tmp_path / "empty", connector=connector)
    plan = api.diff(FIXTURE, tmp_path / "empty")

    assert [op.describe() for op in plan.operations][:3] == [
        "+ brands Acme",
        "+ brands Zürich Gear",
        "+ categories Bags\\/Cases",
    ]
    assert plan.warnings  # the product keyed by name is called out
