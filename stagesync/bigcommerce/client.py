"""The HTTP client of one BigCommerce store: the only place stagesync talks to the store API.

``BigCommerceClient`` implements ``stagesync.ports.StoreApi`` over httpx. Paths are relative to
``{api_url}/stores/{store_hash}`` (``/v3/catalog/brands``). v3 bodies are unwrapped to their
``data``; v2 bodies are returned as they are; 204 is ``None``.

Paging (``pages``, and ``get_all`` built on it): v3 fetches page 1, then pages
2..``meta.pagination.total_pages`` concurrently (at most ``PAGES_AHEAD`` ahead of the consumer),
yielded in page order (without ``total_pages`` it follows ``links.next`` one
page at a time); v2 pages until an empty array or 204, or until a page repeats the previous one
(endpoints such as shipping zones ignore ``page``).

Concurrency: a semaphore of ``concurrency`` slots is held around every HTTP send (not while
waiting to retry), plus one per documented per-endpoint limit (``ENDPOINT_CONCURRENCY``, e.g. one
``GET`` of a category tree at a time, one price-list bulk upsert at a time per list).

Pacing: every response's ``X-Rate-Limit-Requests-Left`` / ``X-Rate-Limit-Time-Reset-Ms`` give a
budget of requests for the rest of the window (minus the requests still in flight). When the budget
is spent, requests wait for the window to reset instead of being sent into a 429, so a client at
the quota meets at most about one 429 per window. A 429 stops every request of the client until
its reset, not just the one that met it.

Retry policy (every retry counts towards ``requests_made``; ``max_retries`` bounds all of them):

- **429 Too Many Requests**, any method (the store rejected the request unprocessed). Wait the
  longer of ``X-Rate-Limit-Time-Reset-Ms`` and ``X-Retry-After`` (seconds), capped at 5 minutes.
  A 429 without those headers means platform load: jittered exponential backoff. A 429 that
  outlasts every retry raises ``RateLimitError``.
- **500 / 502 / 503 / 504 and dropped connections, timeouts, protocol errors**: jittered
  exponential backoff (0.5 s doubling, capped at 30 s, each wait between half and all of that),
  only for requests that are safe to repeat: GET, PUT and DELETE. A POST is retried only when it
  provably never reached the store (connect error, connect or pool timeout); a POST that failed
  after it was sent raises, since the store may have applied it (the push engine checks by
  natural key). Until the store has answered once, a transport failure is retried only
  ``FIRST_CONTACT_RETRIES`` times: it most likely means a wrong ``api_url``, not a blip.
- **Any other 4xx** is never retried.

Errors (no httpx exception leaves this package): 401/403 ``AuthError``, 404 ``NotFoundError``,
409/413/422 ``ValidationError``, 429 ``RateLimitError``, other statuses ``ApiError``; each carries
the status, method, full path, the platform's own message (``detail``), the ``entity`` it was
about and the parsed body. An unreachable store is a ``TransportError`` naming ``api_url``. The
access token never appears in messages, reprs or logs.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final

import httpx
import orjson

from stagesync import __version__
from stagesync.bigcommerce.paging import page_params, v3_has_next, v3_total_pages
from stagesync.errors import (
    ApiError,
    AuthError,
    NotFoundError,
    RateLimitError,
    TransportError,
    ValidationError,
)
from stagesync.ports import Params, current_tally

GRAPHQL_PATH: Final = "/graphql"
"""The Admin GraphQL API, relative to /stores/{store_hash} like the REST paths."""

DEFAULT_API_URL: Final = "https://api.bigcommerce.com"

log = logging.getLogger(__name__)

BACKOFF_BASE: Final = 0.5
"""First backoff wait in seconds; doubles on every retry."""
BACKOFF_CAP: Final = 30.0
"""Longest backoff wait in seconds."""
RATE_LIMIT_WAIT_CAP: Final = 300.0
"""Longest wait a 429's headers can ask for, in seconds."""
DETAIL_MAX: Final = 500
"""Longest non-JSON error text kept in a message."""

RETRY_STATUSES: Final = frozenset({500, 502, 503, 504})
REPEATABLE_METHODS: Final = frozenset({"GET", "PUT", "DELETE"})

# Transport failures worth a retry at all (not e.g. UnsupportedProtocol: a bad api_url).
_RETRYABLE_TRANSPORT: Final = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)
# Failures that prove the request never reached the store, so even a POST may be repeated.
FIRST_CONTACT_RETRIES: Final = 2
_NEVER_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

# ASSUMPTION_PRODUCT_DUPLICATE_SKU_409, ASSUMPTION_PRODUCT_DUPLICATE_NAME_409 and
# ASSUMPTION_MISSING_FIELDS_422: a rejected payload answers 409/422 with a v3 error body.
_ERROR_TYPES: Final[Mapping[int, type[ApiError]]] = {
    401: AuthError,
    403: AuthError,
    404: NotFoundError,
    409: ValidationError,
    413: ValidationError,
    422: ValidationError,
    429: RateLimitError,
}

Sleep = Callable[[float], Awaitable[None]]

PAGES_AHEAD: Final = 16
"""Most list pages requested ahead of the one being consumed (``pages``): enough to keep every
concurrency slot busy, few enough that a long list is not buffered whole."""

PACING_MARGIN: Final = 0.05
"""Seconds added to a window's reset time before sending again (clock skew, latency)."""

ENDPOINT_CONCURRENCY: Final[tuple[tuple[str, str, int], ...]] = (
    # (methods, path pattern relative to the store, most requests in flight) as documented
    # (reference: bigcommerce-api.md 4.2). A limit is shared by every path its pattern matches,
    # except that a group named ``each`` counts each value on its own: ``PUT
    # /v3/pricelists/{id}/records`` allows one bulk upsert at a time *per price list*.
    ("GET", r"/v3/catalog/trees/(\d+/)?categories", 1),
    ("GET|PUT|DELETE", r"/v3/catalog/categories(/\d+)?", 40),
    ("PUT", r"/v3/customers", 3),
    ("POST", r"/v3/customers/addresses", 10),
    ("PUT", r"/v3/customers/addresses", 3),
    ("POST|PUT", r"/v3/customers/attributes", 3),
    ("PUT", r"/v3/customers/attribute-values", 3),
    ("PUT", r"/v3/customers/form-field-values", 10),
    ("GET|POST", r"/v2/customer_groups", 40),
    ("DELETE", r"/v2/customer_groups/\d+", 40),
    ("DELETE", r"/v3/pricelists/\d+", 1),
    ("POST", r"/v3/pricelists/records", 10),
    ("PUT", r"/v3/pricelists/records", 1),
    ("GET", r"/v3/pricelists/\d+/records", 10),
    ("POST", r"/v3/pricelists/(?P<each>\d+)/records", 10),
    ("PUT", r"/v3/pricelists/(?P<each>\d+)/records", 1),
    ("PUT", r"/v3/pricelists/\d+/assignments", 25),
    ("GET|POST|PUT|DELETE", r"/v3/promotions(/\d+)?", 40),
    ("GET", r"/v3/promotions/\d+/codes", 10),
    ("POST", r"/v3/promotions/\d+/codegen", 10),
)
"""Documented per-endpoint concurrency limits (exceeding them is answered 429). The price-list
bulk upsert is documented as both 2 and "one at a time" per list: one it is."""

_ENDPOINT_RULES: Final = tuple(
    (frozenset(methods.split("|")), re.compile(pattern + r"/?"), limit)
    for methods, pattern, limit in ENDPOINT_CONCURRENCY
)


@dataclass(frozen=True)
class RateLimit:
    """The store API quota as of the last response that reported it (``X-Rate-Limit-*``)."""

    quota: int | None
    """Requests allowed per window (``X-Rate-Limit-Requests-Quota``)."""
    left: int | None
    """Requests left in the current window (``X-Rate-Limit-Requests-Left``)."""
    window_ms: int | None
    """Window length (``X-Rate-Limit-Time-Window-Ms``)."""
    reset_ms: int | None
    """Time until the window refreshes (``X-Rate-Limit-Time-Reset-Ms``)."""

    @classmethod
    def from_headers(cls, headers: httpx.Headers) -> RateLimit | None:
        values = (
            _int_header(headers, "x-rate-limit-requests-quota"),
            _int_header(headers, "x-rate-limit-requests-left"),
            _int_header(headers, "x-rate-limit-time-window-ms"),
            _int_header(headers, "x-rate-limit-time-reset-ms"),
        )
        if all(value is None for value in values):
            return None
        return cls(*values)


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    number = _float_header(headers, name)
    return None if number is None else int(number)


def _float_header(headers: httpx.Headers, name: str) -> float | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        number = float(raw.strip())
    except ValueError:
        return None
    return number if number >= 0 and number == number else None  # drops negatives and NaN


class BigCommerceClient:
    """One store's REST API (v2 and v3) over HTTP; see the module docstring for the retry policy.

    ``async with BigCommerceClient(store_hash, token) as api:``
    ``    brands = await api.get_all("/v3/catalog/brands")``
    """

    def __init__(
        self,
        store_hash: str,
        token: str,
        *,
        api_url: str = DEFAULT_API_URL,
        transport: httpx.AsyncBaseTransport | None = None,
        concurrency: int = 8,
        max_retries: int = 6,
        sleep: Sleep = asyncio.sleep,
        timeout: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        config_file: str = "stagesync.toml",
    ) -> None:
        """``config_file`` is where ``api_url`` was set, named by messages that ask to fix it."""
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {max_retries}")
        self.store_hash = store_hash
        self.api_url = api_url.rstrip("/")
        self.config_file = config_file
        self.max_retries = max_retries
        self._reached = False
        self.throttled = 0
        """How many 429 responses this client has seen, retried or not."""
        self.retries: dict[str, int] = {}
        """Requests sent again, by cause (``"429"``, ``"5xx"``, ``"connection"``)."""
        self.rate_limit: RateLimit | None = None
        """The quota headers of the last response that carried them."""
        self.server_date: str | None = None
        """The ``Date`` header of the last response, if it had one (``stagesync probe``)."""
        self._token = token
        self._prefix = self._path_prefix(store_hash)
        self._sleep = sleep
        self._semaphore = asyncio.Semaphore(concurrency)
        self._random = random.Random()
        self._requests = 0
        self._clock = clock
        self._budget: int | None = None
        """Requests we may still send before ``_reset_at`` (None: unknown, send)."""
        self._reset_at = 0.0
        self._in_flight = 0
        self._endpoint_slots: dict[tuple[int, str | None], asyncio.Semaphore] = {}
        try:
            self._http = httpx.AsyncClient(
                base_url=f"{self.api_url}{self._prefix}",
                transport=transport,
                timeout=httpx.Timeout(timeout),
                limits=httpx.Limits(max_connections=max(concurrency, 10)),
                follow_redirects=False,
                headers={
                    **self._auth_headers(token),
                    "Accept": "application/json",
                    "Content-Type": "application/json",
                    "User-Agent": f"stagesync/{__version__}",
                },
            )
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise TransportError(
                f"api_url {self.api_url!r} is not a usable URL ({exc}).",
                url=self.api_url,
                hint=f"Check api_url in {config_file} (e.g. {DEFAULT_API_URL}).",
            ) from None

    def _path_prefix(self, store_hash: str) -> str:
        """The path every request's path is relative to (a subclass serves another API)."""
        return f"/stores/{store_hash}"

    def _auth_headers(self, token: str) -> dict[str, str]:
        """The headers that authenticate every request."""
        return {"X-Auth-Token": token}

    def _rate_limit_of(self, headers: httpx.Headers) -> RateLimit | None:
        """The quota a response reports (the store API's ``X-Rate-Limit-*`` headers)."""
        return RateLimit.from_headers(headers)

    def __repr__(self) -> str:
        return f"BigCommerceClient(store_hash={self.store_hash!r}, api_url={self.api_url!r})"

    async def __aenter__(self) -> BigCommerceClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def requests_made(self) -> int:
        """How many HTTP requests this client has sent, retries included."""
        return self._requests

    # -- StoreApi ----------------------------------------------------------------------------

    async def get(self, path: str, params: Params | None = None) -> Any:
        response = await self._request("GET", path, params=params)
        return self._payload(path, response)

    async def get_all(
        self, path: str, params: Params | None = None, *, limit: int = 250
    ) -> list[Any]:
        """Every item of a list: v3 by ``meta.pagination``, v2 page by page until empty or 204.

        v3: page 1 first, then the remaining pages concurrently, concatenated in page order.
        """
        items: list[Any] = []
        async for page in self.pages(path, params, limit=limit):
            items.extend(page)
        return items

    def pages(
        self, path: str, params: Params | None = None, *, limit: int = 250
    ) -> AsyncIterator[list[Any]]:
        """The items of a list one page at a time, in the platform's order, fetched lazily.

        v3 with a page count: page 1 first, then at most ``PAGES_AHEAD`` further pages in flight
        while the caller consumes earlier ones, so a long list is never held whole.
        """
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        if _is_v2(path):
            return self._pages_v2(path, params, limit)
        return self._pages_v3(path, params, limit)

    async def post(self, path: str, json: Any, *, entity: str | None = None) -> Any:
        response = await self._request("POST", path, json=json, entity=entity)
        return self._payload(path, response)

    async def put(self, path: str, json: Any, *, entity: str | None = None) -> Any:
        response = await self._request("PUT", path, json=json, entity=entity)
        return self._payload(path, response)

    async def delete(
        self,
        path: str,
        params: Params | None = None,
        *,
        entity: str | None = None,
        json: Any = None,
    ) -> None:
        await self._request("DELETE", path, params=params, json=json, entity=entity)

    async def upload(
        self, path: str, field: str, filename: str, content: bytes, *, entity: str | None = None
    ) -> Any:
        boundary = f"stagesync-{secrets.token_hex(12)}"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="{filename}"\r\nContent-Type: application/zip\r\n\r\n'
        ).encode()
        body = head + content + f"\r\n--{boundary}--\r\n".encode()
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        response = await self._request("POST", path, raw=body, headers=headers, entity=entity)
        return self._payload(path, response)

    async def download(self, url: str) -> bytes:
        target = httpx.URL(url)
        own = httpx.URL(self.api_url)
        headers = None if target.host == own.host else {"X-Auth-Token": ""}
        response = await self._request("GET", url, headers=headers, absolute=True)
        return response.content

    async def graphql(
        self, query: str, variables: Mapping[str, Any] | None = None, *, entity: str | None = None
    ) -> Any:
        """One Admin GraphQL request (``POST /graphql``); returns its ``data``. GraphQL answers
        errors with 200 and an ``errors`` list: those raise ``ApiError`` naming ``entity``."""
        body = {"query": query, "variables": dict(variables or {})}
        reading = not query.lstrip().startswith("mutation")  # a query can be repeated
        response = await self._request(
            "POST", GRAPHQL_PATH, json=body, entity=entity, repeatable=reading
        )
        answer = _parse(response, self._prefix + GRAPHQL_PATH, "POST", self._token)
        errors = answer.get("errors") if isinstance(answer, dict) else None
        if errors or not isinstance(answer, dict):
            messages = [_message_of(e) for e in errors or []] or ["the answer had no data"]
            raise ApiError(
                status=response.status_code,
                method="POST",
                path=self._prefix + GRAPHQL_PATH,
                detail="; ".join(messages),
                entity=entity,
                body=answer,
            )
        return answer.get("data")

    # -- extras --------------------------------------------------------------------------------

    async def store_info(self) -> dict[str, Any]:
        """``GET /v2/store``: ``id`` is the store hash, plus currency, units and plan."""
        info = await self.get("/v2/store")
        if not isinstance(info, dict):
            raise ApiError(
                status=200,
                method="GET",
                path=f"{self._prefix}/v2/store",
                detail="the store information was not a JSON object",
                body=info,
            )
        return info

    # -- paging --------------------------------------------------------------------------------

    async def _pages_v3(
        self, path: str, params: Params | None, limit: int
    ) -> AsyncIterator[list[Any]]:
        # ASSUMPTION_PAGE_LIMIT_250: a page holds at most ``limit`` (250) records.
        first = await self._get_body(path, page_params(params, 1, limit))
        total_pages = v3_total_pages(first)
        items = _items(first)
        if total_pages is not None:
            if items:
                yield items
            ahead: deque[asyncio.Future[Any]] = deque()
            upcoming = iter(range(2, total_pages + 1))
            try:
                while True:
                    for page in upcoming:
                        query = page_params(params, page, limit)
                        ahead.append(asyncio.ensure_future(self._get_body(path, query)))
                        if len(ahead) >= PAGES_AHEAD:
                            break
                    if not ahead:
                        return
                    while not ahead[0].done():  # a later page's failure ends it at once
                        done, _ = await asyncio.wait(ahead, return_when=asyncio.FIRST_COMPLETED)
                        for task in done:
                            if not task.cancelled() and task.exception() is not None:
                                task.result()
                    items = _items(ahead.popleft().result())
                    if items:
                        yield items
            finally:
                # Stopped early or one page failed: stop the others rather than leave them
                # running unobserved.
                for task in ahead:
                    task.cancel()
                await asyncio.gather(*ahead, return_exceptions=True)
        # No page count (e.g. a cursor-style list): follow "next" links one page at a time.
        page, body = 1, first
        if items:
            yield items
        while v3_has_next(body) and _items(body):
            page += 1
            body = await self._get_body(path, page_params(params, page, limit))
            items = _items(body)
            if items:
                yield items

    async def _pages_v2(
        self, path: str, params: Params | None, limit: int
    ) -> AsyncIterator[list[Any]]:
        previous: Any = None
        page = 1
        while True:
            body = await self._get_body(path, page_params(params, page, limit))
            if not body:  # 204 or []
                return
            if not isinstance(body, list):  # not a list endpoint: one object
                yield [body]
                return
            if body == previous:  # the endpoint ignores page (e.g. shipping zones)
                return
            yield list(body)
            previous = body
            page += 1

    async def _get_body(self, path: str, params: Params) -> Any:
        response = await self._request("GET", path, params=params)
        return _parse(response, self._prefix + path, "GET", self._token)

    # -- the one place requests are sent -------------------------------------------------------

    def _payload(self, path: str, response: httpx.Response) -> Any:
        body = _parse(response, self._prefix + path, response.request.method, self._token)
        if not _is_v2(path) and isinstance(body, dict) and "data" in body:
            return body["data"]
        return body

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        entity: str | None = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        absolute: bool = False,
        repeatable: bool | None = None,
    ) -> httpx.Response:
        content = raw if json is None else orjson.dumps(json)
        query = dict(params) if params else None
        full_path = path if absolute else self._prefix + path
        retries = 0
        while True:
            try:
                async with self._semaphore, self._endpoint_slot(method, path):
                    await self._pace()
                    self._requests += 1
                    tally = current_tally()
                    if tally is not None:
                        tally.add(requests=1)
                    request = self._http.build_request(
                        method, path, params=query, content=content, headers=headers
                    )
                    if headers and headers.get("X-Auth-Token") == "":
                        del request.headers["X-Auth-Token"]  # never send the token elsewhere
                    self._in_flight += 1
                    try:
                        response = await self._http.send(request)
                    finally:
                        self._in_flight -= 1
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                limit = self.max_retries if self._reached else FIRST_CONTACT_RETRIES
                if retries < min(limit, self.max_retries) and _may_retry_transport(
                    method if repeatable is None else ("GET" if repeatable else "POST"), exc
                ):
                    wait = self._backoff(retries)
                    reason = _redact(_reason(exc), self._token)
                    log.debug("%s %s: %s; retry in %.2fs", method, full_path, reason, wait)
                    retries += 1
                    self._count_retry("connection")
                    await self._sleep(wait)
                    continue
                raise self._transport_error(method, full_path, exc, retries) from None

            self._reached = True
            self.server_date = response.headers.get("date")
            self._note_rate_limit(response)
            status = response.status_code
            if status == 429:
                self.throttled += 1
                tally = current_tally()
                if tally is not None:
                    tally.add(throttled=1)
                if retries < self.max_retries:
                    wait = self._rate_limit_wait(response, retries)
                    log.debug("%s %s: 429; retry in %.2fs", method, full_path, wait)
                    retries += 1
                    self._count_retry("429")
                    # Hold back every other request of this client until the window resets.
                    self._budget = 0
                    self._reset_at = max(self._reset_at, self._clock() + wait)
                    await self._sleep(wait)
                    self._budget = None
                    continue
            elif status in RETRY_STATUSES and (
                method in REPEATABLE_METHODS if repeatable is None else repeatable
            ):
                if retries < self.max_retries:
                    wait = self._backoff(retries)
                    log.debug("%s %s: %d; retry in %.2fs", method, full_path, status, wait)
                    retries += 1
                    self._count_retry("5xx")
                    await self._sleep(wait)
                    continue
            if status >= 400:
                raise self._api_error(response, method, full_path, entity, retries)
            return response

    def _count_retry(self, cause: str) -> None:
        self.retries[cause] = self.retries.get(cause, 0) + 1
        tally = current_tally()
        if tally is not None:
            tally.add(retry=cause)

    def _backoff(self, retries: int) -> float:
        ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2.0**retries)
        return ceiling * (0.5 + self._random.random() / 2)

    def _rate_limit_wait(self, response: httpx.Response, retries: int) -> float:
        rate_limit = self._rate_limit_of(response.headers)
        reset_ms = None if rate_limit is None else rate_limit.reset_ms
        retry_after = _float_header(response.headers, "x-retry-after")
        waits = [w for w in (None if reset_ms is None else reset_ms / 1000, retry_after) if w]
        if not waits:  # no (useful) rate headers: platform load
            return self._backoff(retries)
        return min(max(waits), RATE_LIMIT_WAIT_CAP)

    def _note_rate_limit(self, response: httpx.Response) -> None:
        # ASSUMPTION_RATE_LIMIT_HEADERS: every store API response carries its quota.
        rate_limit = self._rate_limit_of(response.headers)
        if rate_limit is not None:
            self.rate_limit = rate_limit
            if rate_limit.left is not None and rate_limit.reset_ms is not None:
                # Requests still in flight may not be counted in "left" yet: assume they are not.
                self._budget = max(rate_limit.left - self._in_flight, 0)
                self._reset_at = self._clock() + rate_limit.reset_ms / 1000

    async def _pace(self) -> None:
        """Wait for the window to reset when this window's budget of requests is spent."""
        if self._budget is None:
            return
        if self._budget > 0:
            self._budget -= 1
            return
        wait = self._reset_at - self._clock()
        if wait > 0:
            log.debug("quota spent; waiting %.2fs for the window to reset", wait)
            await self._sleep(min(wait + PACING_MARGIN, RATE_LIMIT_WAIT_CAP))
        self._budget = None  # a new window: the next response tells us its budget

    @asynccontextmanager
    async def _endpoint_slot(self, method: str, path: str) -> AsyncIterator[None]:
        """Hold a slot of the endpoint's documented concurrency limit, if it has one."""
        bare = path.split("?", 1)[0]
        for index, (methods, pattern, limit) in enumerate(_ENDPOINT_RULES):
            match = pattern.fullmatch(bare) if method in methods else None
            if match is None:
                continue
            key = (index, match.groupdict().get("each"))
            slot = self._endpoint_slots.get(key)
            if slot is None:
                slot = self._endpoint_slots[key] = asyncio.Semaphore(limit)
            async with slot:
                yield
            return
        yield

    # -- errors --------------------------------------------------------------------------------

    def _api_error(
        self,
        response: httpx.Response,
        method: str,
        full_path: str,
        entity: str | None,
        retries: int,
    ) -> ApiError:
        status = response.status_code
        body = _parse_loose(response, self._token)
        message = _redact(platform_message(body, response), self._token)
        error_type = _ERROR_TYPES.get(status, ApiError)
        after = f" after {retries} {'retry' if retries == 1 else 'retries'}" if retries else ""
        hint: str | None = None
        if status == 401:
            detail = f"the store rejected the access token ({message})"
            hint = (
                f"Check that the token in the environment's access_token_env variable is a "
                f"current API account token of store {self.store_hash} and that api_url "
                f"points at that store's API."
            )
        elif status == 403:
            detail = f"the access token may not do this ({message})"
            hint = (
                "Check the API account's OAuth scopes for this resource (e.g. "
                "store_v2_products for the catalogue, modify rather than read-only for "
                "writes); a 403 can also mean a plan limit."
            )
        elif status == 429:
            detail = f"the store's API quota stayed exhausted{after} ({message})"
            hint = "Try again later, or lower the concurrency; other apps share the quota."
        elif status in RETRY_STATUSES:
            detail = f"{message}{after}" if after else message
            hint = "The platform failed to answer; try again later."
        else:
            detail = message
        return error_type(
            status=status,
            method=method,
            path=full_path,
            detail=detail,
            entity=entity,
            body=body,
            hint=hint,
        )

    def _transport_error(
        self, method: str, full_path: str, exc: Exception, retries: int
    ) -> TransportError:
        reason = _redact(_reason(exc), self._token)
        after = f" after {retries} {'retry' if retries == 1 else 'retries'}" if retries else ""
        if method == "POST" and not isinstance(exc, _NEVER_SENT) and _is_retryable(exc):
            return TransportError(
                f"the connection to {self.api_url} failed after POST {full_path} was sent "
                f"({reason}); the store may have applied it, so it was not repeated. Check the "
                f"store for the record before trying again.",
                url=self.api_url,
            )
        return TransportError(
            f"could not reach {self.api_url} ({method} {full_path}: {reason}){after}.",
            url=self.api_url,
            hint=f"Check api_url in {self.config_file} and the network.",
        )


# -- helpers -----------------------------------------------------------------------------------


def _is_v2(path: str) -> bool:
    return path.startswith("/v2/") or path == "/v2"


def _is_retryable(exc: Exception) -> bool:
    return isinstance(exc, _RETRYABLE_TRANSPORT)


def _may_retry_transport(method: str, exc: Exception) -> bool:
    if not _is_retryable(exc):
        return False
    return method in REPEATABLE_METHODS or isinstance(exc, _NEVER_SENT)


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _redact(text: str, secret: str) -> str:
    return text.replace(secret, "***") if secret else text


def _items(body: Any) -> list[Any]:
    """The items of one v3 list page (``data``), or of a body without an envelope."""
    if body is None:
        return []
    data = body.get("data", []) if isinstance(body, dict) else body
    if data is None:
        return []
    return list(data) if isinstance(data, list) else [data]


def _parse(response: httpx.Response, full_path: str, method: str, token: str) -> Any:
    """The JSON body of a successful response; None for 204 or an empty body."""
    if response.status_code == 204 or not response.content.strip():
        return None
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        content_type = response.headers.get("content-type", "no content type")
        raise ApiError(
            status=response.status_code,
            method=method,
            path=full_path,
            detail=f"the answer was not JSON ({content_type}): "
            f"{_redact(_excerpt(response.text), token)!r}",
            hint="Check that api_url in stagesync.toml points at the BigCommerce API.",
            body=None,
        ) from None


def _parse_loose(response: httpx.Response, token: str) -> Any:
    """An error body, token redacted: parsed JSON if it is JSON, else its text (None if empty)."""
    text = _redact(response.text, token)
    if not text.strip():
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= DETAIL_MAX else text[: DETAIL_MAX - 1] + "…"


def platform_message(body: Any, response: httpx.Response | None = None) -> str:
    """The platform's own words from an error body, whichever API family it came from.

    v3: ``{"title", "detail", "errors": {field: message}}`` → ``"Title: field: message; …"``;
    v2: ``[{"status", "message"}]``; customers v2: ``{"errors": [{"title"}]}``;
    B2B: ``{"code", "meta": {"message"}, "data": {"errors": [...]} | {"errMsg"}}``;
    anything else: its text, shortened.
    """
    fallback = response.reason_phrase if response is not None else ""
    if isinstance(body, list):
        parts = [_message_of(entry) for entry in body]
        return "; ".join(p for p in parts if p) or fallback or "error"
    if isinstance(body, dict):
        head = [str(body[k]) for k in ("title", "message") if isinstance(body.get(k), str)]
        meta = body.get("meta")
        if isinstance(meta, dict) and isinstance(meta.get("message"), str):
            head.append(meta["message"])
        if isinstance(body.get("detail"), str) and body["detail"] not in head:
            head.append(body["detail"])
        details = _error_details(body.get("errors"))
        data = body.get("data")
        if isinstance(data, dict):
            details += _error_details(data.get("errors"))
            if isinstance(data.get("errMsg"), str) and data["errMsg"] not in head:
                details.append(data["errMsg"])  # B2B repeats meta.message there: say it once
        text = ": ".join(filter(None, ["; ".join(head), "; ".join(details)]))
        return text or _excerpt(orjson.dumps(body).decode()) or fallback
    if isinstance(body, str) and body.strip():
        return _excerpt(body)
    return fallback or "no error message"


def _error_details(errors: Any) -> list[str]:
    if isinstance(errors, dict):
        return [f"{field}: {_message_of(msg)}" for field, msg in errors.items()]
    if isinstance(errors, list):
        return [m for m in (_message_of(e) for e in errors) if m]
    if isinstance(errors, str):
        return [errors]
    return []


def _message_of(entry: Any) -> str:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict):
        for key in ("message", "_detail", "detail", "title", "errMsg"):
            value = entry.get(key)
            if isinstance(value, str):
                prefix = f"{entry['id']}: " if "id" in entry and key == "_detail" else ""
                return prefix + value
        return orjson.dumps(entry).decode()
    if isinstance(entry, list):
        return ", ".join(_message_of(e) for e in entry)
    return "" if entry is None else str(entry)
