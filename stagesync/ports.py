"""What the core needs from a store, without knowing how it is reached.

``stagesync.bigcommerce.BigCommerceClient`` implements ``StoreApi`` over HTTP. Entity modules and
the pull/push orchestration depend on this protocol only, so they never import httpx.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

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

    async def post(self, path: str, json: Any, *, entity: str | None = None) -> Any: ...

    async def put(self, path: str, json: Any, *, entity: str | None = None) -> Any: ...

    async def delete(
        self, path: str, params: Params | None = None, *, entity: str | None = None
    ) -> None: ...

    async def upload(
        self, path: str, field: str, filename: str, content: bytes, *, entity: str | None = None
    ) -> Any:
        """POST one file as ``multipart/form-data`` (theme bundles); returns the JSON answer."""
        ...

    async def download(self, url: str) -> bytes:
        """The bytes at an absolute URL the store handed out (a theme download link). The store's
        token is sent only if the URL is on the API's own host."""
        ...


class Progress(Protocol):
    """Receives progress of long operations; the CLI renders it with rich (or plain lines)."""

    def start(self, task: str, total: int | None) -> None:
        """A task begins (``"pull products"``); total is None while unknown."""

    def advance(self, task: str, done: int = 1, total: int | None = None) -> None:
        """``done`` more units of ``task`` finished; total may become known."""

    def finish(self, task: str) -> None: ...


class NoProgress:
    def start(self, task: str, total: int | None) -> None:
        pass

    def advance(self, task: str, done: int = 1, total: int | None = None) -> None:
        pass

    def finish(self, task: str) -> None:
        pass
