"""What the core needs from a store, without knowing how it is reached.

``stagesync.bigcommerce.BigCommerceClient`` implements ``StoreApi`` over HTTP. Entity modules and
the pull/push orchestration depend on this protocol only, so they never import httpx.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from stagesync.errors import StageSyncError

Params = Mapping[str, str | int]


class StoreApi(Protocol):
    """One store's REST API. Paths are relative to ``/stores/{store_hash}``: ``/v3/catalog/brands``.

    v3 responses are unwrapped: methods return the envelope's ``data``. v2 responses are returned
    as they are. Every method raises ``stagesync.errors.ApiError`` subclasses or ``TransportError``;
    ``entity`` (e.g. ``"product SKU-12"``) is named in the error's message.
    """

    store_hash: str

    @property
    def requests_made(self) -> int:
        """How many HTTP requests this client has sent, retries included."""
        ...

    async def get(self, path: str, params: Params | None = None) -> Any: ...

    async def get_all(
        self, path: str, params: Params | None = None, *, limit: int = 250
    ) -> list[Any]:
        """Every item of a paginated list, in the platform's order (v3 ``page``/``limit``)."""
        ...

    def pages(
        self, path: str, params: Params | None = None, *, limit: int = 250
    ) -> AsyncIterator[list[Any]]:
        """The same items as ``get_all``, one page at a time, fetched as they are consumed (a
        few pages ahead), so a long list is never held whole."""
        ...

    async def post(self, path: str, json: Any, *, entity: str | None = None) -> Any: ...

    async def put(self, path: str, json: Any, *, entity: str | None = None) -> Any: ...

    async def delete(
        self,
        path: str,
        params: Params | None = None,
        *,
        entity: str | None = None,
        json: Any = None,
    ) -> None:
        """DELETE; ``json`` is a body for the endpoints that take one (metafield batches)."""
        ...

    async def upload(
        self, path: str, field: str, filename: str, content: bytes, *, entity: str | None = None
    ) -> Any:
        """POST one file as ``multipart/form-data`` (theme bundles); returns the JSON answer."""
        ...

    async def download(self, url: str) -> bytes:
        """The bytes at an absolute URL the store handed out (a theme download link). The store's
        token is sent only if the URL is on the API's own host."""
        ...

    async def graphql(
        self, query: str, variables: Mapping[str, Any] | None = None, *, entity: str | None = None
    ) -> Any:
        """One request to the store's Admin GraphQL API; returns the answer's ``data`` (errors
        raise ``ApiError``). Used where the platform offers no REST endpoint (translations)."""
        ...


class B2BApi(Protocol):
    """One store's B2B Edition REST Management API. Paths are relative to ``/api/v3/io``:
    ``/companies``, ``/ip/invoices`` (invoice management).

    Responses are unwrapped from the ``{code, data, meta}`` envelope: methods return ``data``.
    Errors are raised as for ``StoreApi``.
    """

    store_hash: str

    @property
    def requests_made(self) -> int: ...

    async def get(self, path: str, params: Params | None = None) -> Any: ...

    async def get_all(
        self, path: str, params: Params | None = None, *, limit: int = 250
    ) -> list[Any]:
        """Every item of an ``offset``/``limit`` paged list (``meta.pagination.totalCount``)."""
        ...

    async def post(self, path: str, json: Any, *, entity: str | None = None) -> Any: ...

    async def put(self, path: str, json: Any, *, entity: str | None = None) -> Any: ...

    async def delete(
        self, path: str, params: Params | None = None, *, entity: str | None = None
    ) -> None: ...


class B2BNotConnected(StageSyncError):
    """A B2B Edition kind was read or written without a B2B API for the store."""


_B2B: ContextVar[B2BApi | None] = ContextVar("stagesync_b2b", default=None)


@contextmanager
def using_b2b(api: B2BApi | None) -> Iterator[None]:
    """Make ``api`` the B2B API that B2B kinds use inside the block (and tasks it starts).

    Entity functions receive the store's ``StoreApi``; B2B kinds reach their own API through
    ``b2b_api()`` so every kind keeps one signature.
    """
    token = _B2B.set(api)
    try:
        yield
    finally:
        _B2B.reset(token)


def b2b_api() -> B2BApi:
    """The B2B API of the current pull or push; ``B2BNotConnected`` when there is none."""
    api = _B2B.get()
    if api is None:
        raise B2BNotConnected(
            "B2B Edition kinds need the environment's B2B credentials: add an "
            "[environments.NAME.b2b] table and run `stagesync connect b2b NAME`."
        )
    return api


class Progress(Protocol):
    """Receives progress of long operations; the CLI renders it with rich (or plain lines)."""

    def start(self, task: str, total: int | None) -> None:
        """A task begins (``"pull products"``); total is None while unknown."""

    def advance(self, task: str, done: int = 1, total: int | None = None) -> None:
        """``done`` more units of ``task`` finished; total may become known."""

    def finish(self, task: str) -> None: ...


@runtime_checkable
class ProgressStats(Protocol):
    """Optional extra a ``Progress`` may implement: request figures of a running task.

    Pull and push call it (when the renderer has it) with the requests used so far by the task,
    the 429 responses met and the retries made by cause, so the renderer can show them next to
    done/total.
    """

    def stats(
        self,
        task: str,
        *,
        requests: int,
        throttled: int,
        retries: Mapping[str, int] | None = None,
    ) -> None: ...


@dataclass
class Tally:
    """Requests sent (retries included), 429s met and retries made (by cause: ``RETRY_CAUSES``)
    while it is the current tally.

    A store client adds every request it sends to ``current_tally()`` and to its parents, so push
    can say what each operation cost even when operations run concurrently.
    """

    requests: int = 0
    throttled: int = 0
    parent: Tally | None = None
    retries: dict[str, int] = field(default_factory=dict)
    """Cause (``"429"``, ``"5xx"``, ``"connection"``) -> requests sent again for it."""

    def add(self, *, requests: int = 0, throttled: int = 0, retry: str | None = None) -> None:
        tally: Tally | None = self
        while tally is not None:
            tally.requests += requests
            tally.throttled += throttled
            if retry is not None:
                tally.retries[retry] = tally.retries.get(retry, 0) + 1
            tally = tally.parent


RETRY_CAUSES = {
    "429": "429 (rate limit)",
    "5xx": "5xx",
    "connection": "dropped connection",
}
"""Why a request was sent again -> how messages name it."""


def describe_retries(retries: Mapping[str, int]) -> str:
    """``3 retries (2 after 5xx, 1 after dropped connection)``; "" when there were none."""
    total = sum(retries.values())
    if not total:
        return ""
    causes = ", ".join(
        f"{retries[cause]} after {name}"
        for cause, name in RETRY_CAUSES.items()
        if retries.get(cause)
    )
    return f"{total} {'retry' if total == 1 else 'retries'} ({causes})"


_TALLY: ContextVar[Tally | None] = ContextVar("stagesync_tally", default=None)


def current_tally() -> Tally | None:
    return _TALLY.get()


@contextmanager
def tallying() -> Iterator[Tally]:
    """Count the requests sent inside the block (in this task and tasks it starts)."""
    tally = Tally(parent=_TALLY.get())
    token = _TALLY.set(tally)
    try:
        yield tally
    finally:
        _TALLY.reset(token)


class NoProgress:
    def start(self, task: str, total: int | None) -> None:
        pass

    def advance(self, task: str, done: int = 1, total: int | None = None) -> None:
        pass

    def finish(self, task: str) -> None:
        pass
