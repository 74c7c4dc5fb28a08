"""Coalescing concurrent single-entity writes into the platform's batch requests.

Push applies one operation per entity, many at once. Kinds whose endpoint takes a batch
(customers: 10 per request; price-list records: 1,000 per upsert, one upsert at a time per list)
hand each write to a ``Batcher``, which sends what has queued up in batches of at most ``size``,
one request at a time, and gives each caller its own result. When a batch is refused, its items
are sent one by one, so a single bad entity fails alone (the platform does not always say which
item of a batch was wrong).

Batchers live as long as the push's ``Lookup`` (one per destination store and run).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from stagesync.entities.base import Lookup
from stagesync.errors import StageSyncError

T = TypeVar("T")
R = TypeVar("R")

GATHER_SECONDS = 0.01
"""How long a batch waits for more items before its first request is sent."""

SendFn = Callable[[list[T]], Awaitable[Sequence[R]]]


def chunked(items: Sequence[T], size: int) -> list[list[T]]:
    """Consecutive lists of at most ``size`` items (entities cannot import the HTTP edge's
    ``chunks``)."""
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, got {size}")
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


class Batcher(Generic[T, R]):
    """Queue items; one drain loop sends them ``size`` at a time through ``send``, which returns
    one result per item, in order."""

    def __init__(self, size: int, send: SendFn[T, R]) -> None:
        self.size = size
        self._send = send
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._draining = False
        self.requests = 0

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if not self._draining:
            self._draining = True
            asyncio.ensure_future(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            # Let writes that become ready at about the same time join this batch: a few
            # milliseconds, against requests that take far longer.
            await asyncio.sleep(GATHER_SECONDS)
            while self._pending:
                batch = self._pending[: self.size]
                del self._pending[: self.size]
                await self._run(batch)
        finally:
            self._draining = False

    async def _run(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            self.requests += 1
            results = await self._send([item for item, _ in batch])
        except StageSyncError as error:
            if len(batch) == 1:
                batch[0][1].set_exception(error)
                return
            for one in batch:  # find the bad one(s): each alone
                await self._run([one])
            return
        except BaseException as error:  # never leave a caller waiting forever
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            raise
        for (_, future), result in zip(batch, results, strict=True):
            future.set_result(result)


_BATCHERS: weakref.WeakKeyDictionary[Lookup, dict[str, Any]] = weakref.WeakKeyDictionary()


def batcher(lookup: Lookup, name: str, make: Callable[[], Batcher[T, R]]) -> Batcher[T, R]:
    """The batcher called ``name`` for this push (created on first use)."""
    slots = _BATCHERS.setdefault(lookup, {})
    if name not in slots:
        slots[name] = make()
    found: Batcher[T, R] = slots[name]
    return found


def lock(lookup: Lookup, name: str) -> asyncio.Lock:
    """A lock shared by this push's writes of ``name`` (e.g. defining customer attributes)."""
    slots = _BATCHERS.setdefault(lookup, {})
    if name not in slots:
        slots[name] = asyncio.Lock()
    found: asyncio.Lock = slots[name]
    return found


def limiter(lookup: Lookup, name: str, most: int) -> asyncio.Semaphore:
    """A semaphore shared by this push's requests to one endpoint with a documented concurrency
    limit (``PUT /v3/customers/attribute-values``: 3)."""
    slots = _BATCHERS.setdefault(lookup, {})
    if name not in slots:
        slots[name] = asyncio.Semaphore(most)
    found: asyncio.Semaphore = slots[name]
    return found
