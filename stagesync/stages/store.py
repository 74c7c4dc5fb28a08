"""What push and pull share about the store they talk to: how it is opened, how it is named in
messages, and the check that it is the store the configuration names."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from stagesync import b2b
from stagesync.config import Environment
from stagesync.entities import products
from stagesync.errors import StageSyncError
from stagesync.ports import Progress, StoreApi
from stagesync.stages import Refusal

if TYPE_CHECKING:  # the HTTP clients are imported when a store is opened
    from stagesync.bigcommerce.b2b import B2BClient

Connector = Callable[[Environment], AbstractAsyncContextManager[StoreApi]]
"""Opens a store API for an environment. Tests pass one that reaches the emulator in process."""


def connect(environment: Environment) -> AbstractAsyncContextManager[StoreApi]:
    """The real thing: HTTPS to the environment's ``api_url`` with its token."""
    from stagesync.bigcommerce import BigCommerceClient

    return BigCommerceClient(
        environment.store_hash,
        environment.token(),
        api_url=environment.api_url,
        config_file=environment.source,
    )


@dataclass(eq=False, kw_only=True)
class StoreRun:
    """What a push or a pull is given besides its own inputs, what it holds, how it ended."""

    config_path: Path | None = None
    progress: Progress | None = None
    connector: Connector = connect
    b2b_factory: b2b.B2BFactory = b2b.open_b2b
    held: AsyncExitStack = field(default_factory=AsyncExitStack)
    """What the run holds (lock, journal, connection): released in reverse order however the
    run ends."""
    refusal: Refusal | None = None
    """The refusal that ended the run, if one did."""


async def open_store(
    run: StoreRun, env: Environment, kinds: Iterable[str]
) -> tuple[StoreApi, B2BClient | None] | StageSyncError:
    """Open ``env``'s store API (and its B2B API when ``kinds`` has B2B kinds), held until the
    run ends; or the refusal when the store answers as another store (``wrong_store``)."""
    api = await run.held.enter_async_context(run.connector(env))
    b2b_api = await run.held.enter_async_context(b2b.session(env, kinds, run.b2b_factory))
    refused = await wrong_store(api, env)
    return refused if refused is not None else (api, b2b_api)


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


async def wrong_store(api: StoreApi, environment: Environment) -> StageSyncError | None:
    """The refusal to talk to a store other than the one configured (a token for the wrong
    store), or None when the store answers as the configured one."""
    info = await api.get("/v2/store")
    live_hash = str(info.get("id", environment.store_hash)) if isinstance(info, dict) else ""
    if live_hash and live_hash != environment.store_hash:
        return StageSyncError(
            f"environment '{environment.name}' is configured for store {environment.store_hash}, "
            f"but {environment.api_url} answered as store {live_hash}. Fix store_hash in the "
            "configuration."
        )
    return None


async def check_store(api: StoreApi, environment: Environment) -> None:
    """Raise ``wrong_store``'s refusal, if any."""
    refused = await wrong_store(api, environment)
    if refused is not None:
        raise refused


def store_name(env: Environment) -> str:
    return f"{env.name} (store {env.store_hash})"


def stock_settings(stock: bool) -> dict[str, str]:
    """The entity settings that make live reads record inventory levels (migrate stock)."""
    return {products.STOCK: "yes"} if stock else {}
