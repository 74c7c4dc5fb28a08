"""Loading a pulled snapshot into an emulated store (``emulator serve --load HASH=DIR``): the store
then pulls back as exactly that snapshot, for every kind, B2B Edition included, whatever the
store is called; a snapshot that cannot be loaded says why."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from stagesync import api
from stagesync.bigcommerce import BigCommerceClient
from stagesync.bigcommerce.b2b import B2BClient
from stagesync.emulator import Emulator
from stagesync.emulator.load import LoadError, load_snapshot, parse_load_arg
from stagesync.entities import REGISTRY
from stagesync.model import Snapshot
from stagesync.ports import using_b2b
from stagesync.pull import read_live
from stagesync.snapshot import read_snapshot, write_snapshot
from tests import rich_catalogue
from tests.conftest import STAGESYNC, Connector, serve_emulator
from tests.test_b2b import build_b2b
from tests.test_fixtures import record_files
from tests.test_real_world_shapes import BUILDERS

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def pull_into(emulator: Emulator, store: str, folder: Path) -> Snapshot:
    """Pull every kind of ``store`` (B2B kinds when it has B2B Edition) into ``folder``."""
    token = emulator.stores[store].token

    async def read() -> Snapshot:
        async with (
            BigCommerceClient(
                store, token, api_url="http://emulator.test", transport=emulator.transport()
            ) as client,
            B2BClient(store, token, transport=emulator.transport()) as b2b,
        ):
            with using_b2b(b2b):
                from stagesync.emulator import b2b as b2b_side

                enabled = b2b_side.state(emulator.stores[store]).enabled
                kinds = [k for k in REGISTRY if enabled or not k.startswith("b2b_")]
                live = await read_live(client, kinds, store=store)
                return Snapshot(live.kinds(), environment=store, store_hash=store)

    snapshot = asyncio.run(read())
    write_snapshot(folder, snapshot)
    return snapshot


def build(emulator: Emulator, store: str) -> None:
    async def run() -> None:
        async with BigCommerceClient(
            store,
            emulator.stores[store].token,
            api_url="http://emulator.test",
            transport=emulator.transport(),
        ) as client:
            ids = await BUILDERS[store](client)
            if store == "alpha":
                await build_b2b(emulator, ids)

    asyncio.run(run())


def test_every_kind_pulls_back_as_it_was_loaded(tmp_path: Path) -> None:
    built = Emulator({name: f"{name}-token" for name in BUILDERS})
    built.add_b2b_user("alpha", "b2b@alpha.test", "b2b-secret")
    held: set[str] = set()
    for store in BUILDERS:
        build(built, store)
        snapshot = pull_into(built, store, tmp_path / store)
        held |= {kind for kind, records in snapshot.kinds.items() if records.records}

        replica = Emulator({})  # a store of another name: every id is new
        loaded = load_snapshot(replica, f"{store}-replica", tmp_path / store)
        again = pull_into(replica, f"{store}-replica", tmp_path / f"{store}-again")

        assert loaded.digest == snapshot.digest == again.digest
        assert record_files(tmp_path / f"{store}-again") == record_files(tmp_path / store)
        assert loaded.operations > 0
    assert held == set(REGISTRY)  # the builders' stores hold every kind, B2B ones included


def test_the_catalogue_fixture_pulls_back_byte_for_byte(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    fixture = FIXTURES / "catalogue"
    load_snapshot(emulator, "beta", fixture)
    api.pull(
        "beta",
        config_path=config_path,
        out=tmp_path / "pulled",
        connector=connector,
        kinds=list(read_snapshot(fixture).kinds),
    )
    assert record_files(tmp_path / "pulled") == record_files(fixture)


def test_loading_over_a_store_that_holds_data_makes_it_hold_the_snapshot(
    tmp_path: Path,
) -> None:
    built = Emulator({"rich": "rich-token", "content": "content-token"})
    build(built, "rich")
    build(built, "content")
    pull_into(built, "rich", tmp_path / "rich")
    load_snapshot(built, "content", tmp_path / "rich")  # the content store's pages etc. go
    pull_into(built, "content", tmp_path / "after")
    assert record_files(tmp_path / "after") == record_files(tmp_path / "rich")


def test_a_partial_snapshot_names_the_kinds_it_lacks(emulator: Emulator) -> None:
    with pytest.raises(LoadError) as refused:
        load_snapshot(emulator, "beta", FIXTURES / "rich-catalogue")
    message = str(refused.value)
    assert "brands: Northwind" in message and "categories: Apparel" in message
    assert "--kinds bulk_pricing_rules" in message
    assert emulator.requests == []  # refused before a single request


def test_what_the_platform_refuses_cannot_be_loaded(tmp_path: Path) -> None:
    """A channel named with a space (made behind the API's back here) cannot be created through
    the API, so a snapshot holding one cannot be loaded: the error is the platform's."""
    built = Emulator({"rich": "rich-token"})
    outlet = rich_catalogue.add_channel(built, "rich")

    async def run() -> None:
        async with BigCommerceClient(
            "rich", "rich-token", api_url="http://emulator.test", transport=built.transport()
        ) as client:
            await rich_catalogue.build(client, outlet)

    asyncio.run(run())
    pull_into(built, "rich", tmp_path / "rich")
    with pytest.raises(LoadError) as refused:
        load_snapshot(Emulator({}), "replica", tmp_path / "rich")
    assert "failed + channels Outlet Storefront: 422" in str(refused.value)
    assert "+ channel_assignments MUG/Outlet Storefront" in str(refused.value)


def test_parse_load_arg() -> None:
    assert parse_load_arg("staging=snapshots/staging") == ("staging", Path("snapshots/staging"))
    for bad in ("staging", "=dir", "staging=", "a/b=dir"):
        with pytest.raises(ValueError, match="invalid"):
            parse_load_arg(bad)


def test_serve_loads_snapshots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(FIXTURES / "catalogue", tmp_path / "snap")
    monkeypatch.setenv("STAGESYNC_STAGING_TOKEN", "staging-token")
    for url in serve_emulator("--load", f"staging={tmp_path / 'snap'}"):
        (tmp_path / "stagesync.toml").write_text(
            f'[environments.staging]\nstore_hash = "staging"\n'
            f'access_token_env = "STAGESYNC_STAGING_TOKEN"\napi_url = "{url}"\n',
            encoding="utf-8",
        )
        api.pull(
            "staging",
            config_path=tmp_path / "stagesync.toml",
            out=tmp_path / "pulled",
            kinds=list(read_snapshot(tmp_path / "snap").kinds),
        )
    assert record_files(tmp_path / "pulled") == record_files(tmp_path / "snap")


def test_serve_refuses_a_bad_load() -> None:
    import subprocess

    done = subprocess.run(
        [*STAGESYNC, "emulator", "serve", "--load", "staging"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "expected HASH=SNAPSHOT_DIR" in done.stderr
    done = subprocess.run(
        [*STAGESYNC, "emulator", "serve", "--load", f"x={FIXTURES / 'rich-catalogue'}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "Error:" in done.stderr and "brands: Northwind" in done.stderr
