"""B2B Edition connections: ``connect b2b``, the connection state ``status`` shows, and the B2B API
session pull and push open when B2B kinds are involved.

B2B credentials are separate from the store token (``[environments.NAME.b2b]``): ``password``
mode logs in with a B2B back-office user's email and password (``POST /api/io/auth/backend``) and
caches the token it gets in the per-user credentials file (``stagesync.credentials``); ``token``
mode uses the store token with the B2B Edition scope plus ``X-Store-Hash``. Either way ``connect``
verifies the link with one read and records it; B2B kinds are read and written only for
environments that are connected, never silently skipped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from stagesync.config import Environment
from stagesync.credentials import B2BConnection, b2b_connection, save_b2b_connection
from stagesync.entities import dependencies
from stagesync.errors import ConfigError, StageSyncError
from stagesync.ports import B2BNotConnected, using_b2b

if TYPE_CHECKING:  # the HTTP client is imported when a session opens, not by every command
    from stagesync.bigcommerce.b2b import Auth, B2BClient

PASSWORD_CHECKS = (
    "B2B Edition is activated on that store;",
    "the B2B user was created manually in the B2B control panel (Settings → System users and "
    "roles → Users → Add User), not bulk-imported;",
    "the user's password was set through the emailed link, not through the API;",
    "if all else fails, delete the user, recreate it and reset the password;",
    "optionally, create the same email as a user of the store's control panel (Settings → "
    "Users): not required, but it helps the platform's support diagnose the login.",
)
"""What to check when a password-mode connection fails (docs/b2b.md explains each)."""

TOKEN_CHECKS = (
    "B2B Edition is activated on that store;",
    "the store API account behind the token has the B2B Edition scope set to modify (a token "
    "made before that scope was added must be re-created);",
    "the token belongs to the configured store_hash (B2B Edition is asked with X-Store-Hash);",
    "b2b.api_url points at the B2B Edition API (https://api-b2b.bigcommerce.com).",
)
"""What to check when a token-mode connection fails."""

B2BFactory = Callable[[str, str, "Auth", str], "B2BClient"]
"""(store hash, token, auth mode, B2B API URL) -> a client. Tests pass one reaching the emulator."""


def open_b2b(store_hash: str, token: str, auth: Auth, api_url: str) -> B2BClient:
    """The real thing: HTTPS to the B2B Edition API."""
    from stagesync.bigcommerce.b2b import B2BClient

    return B2BClient(store_hash, token, auth=auth, api_url=api_url)


class B2BConnectError(StageSyncError):
    pass


@dataclass(frozen=True)
class ConnectResult:
    environment: str
    auth: str
    email: str | None
    credentials: Path
    companies: int
    """Companies the B2B API reported while verifying (``meta.pagination.totalCount``)."""


def is_b2b(kind: str) -> bool:
    row = dependencies.ROWS.get(kind)
    return row is not None and row.b2b


def b2b_kinds(kinds: Iterable[str]) -> list[str]:
    return [kind for kind in kinds if is_b2b(kind)]


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def connection_state(environment: Environment) -> str:
    """What ``status`` shows: ``Connected``, ``not connected`` or ``not configured``."""
    if environment.b2b is None:
        return "not configured"
    try:
        found = b2b_connection(environment)
    except StageSyncError:
        found = None
    return "Connected" if found is not None else "not connected"


async def check_connection(
    environment: Environment, factory: B2BFactory = open_b2b
) -> tuple[str, str | None]:
    """What ``status`` shows, checked live with one read: (``Connected``, None), (``failing``,
    what failed and what to do), or the recorded state when there is no connection to check."""
    state = connection_state(environment)
    if state != "Connected":
        return state, None
    try:
        async with session(environment, ["b2b_companies"], factory) as client:
            assert client is not None
            await client.count("/companies")
    except StageSyncError as error:
        again = f"`stagesync connect b2b {environment.name}` tells what to check."
        return "failing", f"{error.message} {again}"
    return "Connected", None


def require_connection(environment: Environment, kinds: Iterable[str]) -> B2BConnection:
    """The environment's B2B connection; ``B2BNotConnected`` naming it and saying how to connect."""
    wanted = ", ".join(b2b_kinds(kinds))
    if environment.b2b is None:
        raise B2BNotConnected(
            f"{wanted} need B2B Edition, but environment '{environment.name}' has no "
            f"[environments.{environment.name}.b2b] table in the configuration. Add one "
            f"(docs/b2b.md), run `stagesync connect b2b {environment.name}`, or leave the B2B "
            "kinds out with --kinds."
        )
    found = b2b_connection(environment)
    if found is None:
        raise B2BNotConnected(
            f"{wanted} need B2B Edition, but environment '{environment.name}' is not connected "
            f"to it. Run `stagesync connect b2b {environment.name}` first (docs/b2b.md)."
        )
    return found


@asynccontextmanager
async def session(
    environment: Environment, kinds: Iterable[str], factory: B2BFactory = open_b2b
) -> AsyncIterator[B2BClient | None]:
    """Inside the block, B2B kinds reach the environment's B2B API (``ports.b2b_api``). Yields
    None, opening nothing, when ``kinds`` holds no B2B kind."""
    kinds = list(kinds)
    if not b2b_kinds(kinds):
        yield None
        return
    found = require_connection(environment, kinds)
    assert environment.b2b is not None
    token = found.token if found.auth == "password" and found.token else environment.token()
    auth: Auth = "password" if environment.b2b.auth == "password" else "token"
    async with factory(environment.store_hash, token, auth, environment.b2b.api_url) as client:
        with using_b2b(client):
            yield client


async def connect(
    environment: Environment, *, project: Path | None, factory: B2BFactory = open_b2b
) -> ConnectResult:
    """Verify ``environment``'s B2B credentials with a login (password mode) and one read, then
    record the connection (and any token obtained) in the per-user credentials file."""
    b2b = environment.b2b
    if b2b is None:
        raise B2BConnectError(
            f"environment '{environment.name}' has no B2B Edition credentials: add an "
            f'[environments.{environment.name}.b2b] table with auth ("password" or "token"), '
            "email and password_env, as docs/b2b.md shows, then run this again."
        )
    auth: Auth = "password" if b2b.auth == "password" else "token"
    token: str | None = None
    step = "reading the store token"
    try:
        if auth == "password":
            assert b2b.email is not None
            password = b2b.password(environment.name)
            step = f"logging in to B2B Edition as {b2b.email}"
            async with factory(environment.store_hash, "", auth, b2b.api_url) as client:
                token = await client.login(b2b.email, password)
            secret = token
        else:
            secret = environment.token()
        step = "reading companies through the B2B Edition API"
        async with factory(environment.store_hash, secret, auth, b2b.api_url) as client:
            first = await client.count("/companies")
    except ConfigError:
        raise
    except StageSyncError as error:
        listed = PASSWORD_CHECKS if auth == "password" else TOKEN_CHECKS
        checks = "\n".join(f"  - {check}" for check in listed)
        raise B2BConnectError(
            f"Could not connect environment '{environment.name}' to B2B Edition "
            f"({auth} auth, {b2b.api_url}): {step} failed: {error.summary}\nCheck that:\n{checks}"
        ) from None
    path = save_b2b_connection(environment, token=token, connected_at=_now(), project=project)
    return ConnectResult(environment.name, auth, b2b.email, path, first)
