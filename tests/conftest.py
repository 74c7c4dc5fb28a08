"""Shared fixtures: an in-process emulator with two empty stores and a configuration for them."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import orjson
import pytest

from stagesync.bigcommerce import BigCommerceClient
from stagesync.config import Environment
from stagesync.ports import StoreApi

if TYPE_CHECKING:
    from stagesync.emulator import Emulator

STORES = {"alpha": "alpha-token", "beta": "beta-token"}


@pytest.fixture
def emulator() -> Emulator:
    from stagesync.emulator import Emulator

    return Emulator(dict(STORES))


Connector = Callable[[Environment], AbstractAsyncContextManager[StoreApi]]


def connector_for(
    emulator: Emulator,
    wrap: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport] = lambda inner: inner,
) -> Connector:
    """Like ``stagesync.api.connect``, but through the emulator's in-process transport (seen
    through ``wrap``, which may change what the emulator answers)."""

    @asynccontextmanager
    async def connect(environment: Environment) -> AsyncIterator[StoreApi]:
        async with BigCommerceClient(
            environment.store_hash,
            environment.token(),
            api_url=environment.api_url,
            transport=wrap(emulator.transport()),
        ) as client:
            yield client

    return connect


@pytest.fixture
def connector(emulator: Emulator) -> Connector:
    return connector_for(emulator)


@pytest.fixture
def config_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """stagesync.toml with environments alpha and beta, tokens exported as real ones would be."""
    path = tmp_path / "stagesync.toml"
    tables = []
    for name, token in STORES.items():
        variable = f"STAGESYNC_{name.upper()}_TOKEN"
        monkeypatch.setenv(variable, token)
        tables.append(
            f'[environments.{name}]\nstore_hash = "{name}"\naccess_token_env = "{variable}"\n'
            'api_url = "http://emulator.test"\n'
        )
    # The emulator's stores email nobody: writing customers and orders needs no override here.
    policy = '[policy]\nnotifies-people = "warn"\n'
    path.write_text("\n".join([*tables, policy]), encoding="utf-8")
    return path


def on_store(emulator: Emulator, store: str, work: Callable[[StoreApi], Awaitable[Any]]) -> Any:
    """Run ``work`` against one emulated store through the real client, as a merchant's tool."""

    async def run() -> Any:
        async with BigCommerceClient(
            store, STORES[store], api_url="http://emulator.test", transport=emulator.transport()
        ) as client:
            return await work(client)

    return asyncio.run(run())


STAGESYNC = [sys.executable, "-m", "stagesync"]
"""The command line, as a user runs it (in a child process)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_emulator(*flags: str) -> Iterator[str]:
    """Run ``stagesync emulator serve *flags`` on a free port of 127.0.0.1 in a child process;
    yields its URL once it answers, and stops it afterwards."""
    port = free_port()
    server = subprocess.Popen(
        [*STAGESYNC, "emulator", "serve", "--port", str(port), *flags],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/__emulator/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            server.kill()
            pytest.fail(f"emulator serve did not start: {server.communicate()[1]}")
        yield url
    finally:
        server.terminate()
        server.communicate(timeout=10)


WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})


def is_write(request: dict[str, Any]) -> bool:
    """A logged request that changes the store's data: GraphQL queries (POST /graphql, not a
    mutation) only read, and a push's lock claim (``is_lock_request``) is deleted again."""
    if request["method"] not in WRITE_METHODS or is_lock_request(request):
        return False
    if str(request["path"]).endswith("/graphql"):
        query = str((request.get("body") or {}).get("query", ""))
        return query.lstrip().startswith("mutation")
    return True


LOCK_CLAIMS = "/v3/channels/1/metafields"


def is_lock_request(request: dict[str, Any]) -> bool:
    """A logged request to the push lock's claims (``storelock``) on the default channel."""
    return LOCK_CLAIMS in str(request["path"])


def lock_claims(emulator: Emulator, store: str) -> list[Any]:
    """The push lock claims on ``store`` (its ``stagesync`` channel metafields)."""

    async def read(client: StoreApi) -> list[Any]:
        return await client.get_all(LOCK_CLAIMS, {"namespace": "stagesync"})

    return list(on_store(emulator, store, read))


def hold_lock(emulator: Emulator, store: str, **holder: Any) -> int:
    """Claim ``store``'s push lock as another push would (the id of its claim)."""

    async def claim(client: StoreApi) -> int:
        body = {
            "permission_set": "read",
            "namespace": "stagesync",
            "key": f"push-lock.{holder.get('owner', 'elsewhere')}",
            "value": orjson.dumps(holder).decode(),
        }
        return int((await client.post(LOCK_CLAIMS, body))["id"])

    return int(on_store(emulator, store, claim))
