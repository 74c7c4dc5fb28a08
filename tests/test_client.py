"""BigCommerceClient against httpx.MockTransport handlers: paging, retries, error mapping."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import httpx
import pytest

from stagesync import __version__
from stagesync.bigcommerce import DEFAULT_API_URL, BigCommerceClient, RateLimit
from stagesync.bigcommerce.client import BACKOFF_CAP, FIRST_CONTACT_RETRIES
from stagesync.errors import (
    ApiError,
    AuthError,
    NotFoundError,
    RateLimitError,
    StageSyncError,
    TransportError,
    ValidationError,
)
from stagesync.ports import StoreApi

T = TypeVar("T")
TOKEN = "secret-token-0123456789"
API_URL = "https://api.example.test"
Handler = (
    Callable[[httpx.Request], httpx.Response]
    | Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]
)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class Sleeps(list[float]):
    """An injected sleep that records how long it was asked to wait, and returns at once."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_client(handler: Handler, sleeps: Sleeps | None = None, **kwargs: Any) -> BigCommerceClient:
    return BigCommerceClient(
        "abc",
        TOKEN,
        api_url=API_URL,
        transport=httpx.MockTransport(handler),
        sleep=sleeps if sleeps is not None else Sleeps(),
        **kwargs,
    )


def v3_page(items: list[Any], page: int, total_pages: int) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "data": items,
            "meta": {"pagination": {"current_page": page, "total_pages": total_pages}},
        },
    )


def sequence(*responses: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    """A handler answering with ``responses`` in turn (raising the exceptions), and its log."""
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler, seen


def call(client: BigCommerceClient, method: str, path: str = "/v3/catalog/products") -> Any:
    async def go() -> Any:
        async with client:
            if method == "GET":
                return await client.get(path)
            if method == "PUT":
                return await client.put(path, {"id": 1}, entity="product SKU-1")
            if method == "POST":
                return await client.post(path, {"name": "x"}, entity="product SKU-1")
            return await client.delete(path, entity="product SKU-1")

    return run(go())


# -- requests and bodies ---------------------------------------------------------------------


def test_sends_auth_and_standard_headers_to_the_store_base_url() -> None:
    handler, seen = sequence(httpx.Response(200, json={"data": {"id": 1}, "meta": {}}))
    assert call(make_client(handler), "POST") == {"id": 1}
    request = seen[0]
    assert str(request.url) == f"{API_URL}/stores/abc/v3/catalog/products"
    assert request.headers["X-Auth-Token"] == TOKEN
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == f"stagesync/{__version__}"
    assert json.loads(request.content) == {"name": "x"}


def test_implements_store_api() -> None:
    api: StoreApi = make_client(sequence()[0])  # checked by mypy
    assert api.store_hash == "abc"
    assert api.requests_made == 0
    assert isinstance(api, BigCommerceClient)
    run(api.aclose())


def test_default_api_url() -> None:
    assert DEFAULT_API_URL == "https://api.bigcommerce.com"

    async def go() -> str:
        async with BigCommerceClient("abc", TOKEN) as api:
            return api.api_url

    assert run(go()) == DEFAULT_API_URL


def test_v3_is_unwrapped_v2_is_not_and_204_is_none() -> None:
    handler, seen = sequence(
        httpx.Response(200, json={"data": [{"id": 1}], "meta": {}}),
        httpx.Response(200, json={"data": "v2 keeps its body", "id": "abc"}),
        httpx.Response(204),
        httpx.Response(204),
    )

    async def go() -> list[Any]:
        async with make_client(handler) as api:
            results = [
                await api.get("/v3/catalog/brands", {"name": "Acme"}),
                await api.get("/v2/store"),
                await api.put("/v3/catalog/brands/1", {"name": "B"}),
            ]
            await api.delete("/v3/catalog/brands", {"id:in": "1,2"})
            return results

    assert run(go()) == [[{"id": 1}], {"data": "v2 keeps its body", "id": "abc"}, None]
    assert seen[0].url.params["name"] == "Acme"
    assert seen[3].method == "DELETE"
    assert seen[3].url.params["id:in"] == "1,2"


def test_store_info_and_request_count() -> None:
    handler, seen = sequence(httpx.Response(200, json={"id": "abc", "default_channel_id": 1}))

    async def go() -> tuple[dict[str, Any], int]:
        async with make_client(handler) as api:
            return await api.store_info(), api.requests_made

    assert run(go()) == ({"id": "abc", "default_channel_id": 1}, 1)
    assert seen[0].url.path == "/stores/abc/v2/store"


def test_rate_limit_headers_are_recorded() -> None:
    headers = {
        "X-Rate-Limit-Requests-Quota": "150",
        "X-Rate-Limit-Requests-Left": "149",
        "X-Rate-Limit-Time-Window-Ms": "30000",
        "X-Rate-Limit-Time-Reset-Ms": "29000",
    }
    handler, _ = sequence(httpx.Response(200, json={"data": []}, headers=headers))
    client = make_client(handler)
    assert client.rate_limit is None
    call(client, "GET")
    assert client.rate_limit == RateLimit(quota=150, left=149, window_ms=30000, reset_ms=29000)


def test_the_token_is_not_in_the_repr() -> None:
    client = make_client(sequence()[0])
    assert TOKEN not in repr(client)
    assert "abc" in repr(client)
    run(client.aclose())


# -- paging ----------------------------------------------------------------------------------


def test_get_all_v3_fetches_remaining_pages_concurrently_and_keeps_their_order() -> None:
    in_flight = 0
    most_in_flight = 0
    pages_requested: list[int] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most_in_flight
        page = int(request.url.params["page"])
        assert request.url.params["limit"] == "2"
        assert request.url.params["include"] == "variants"
        pages_requested.append(page)
        in_flight += 1
        most_in_flight = max(most_in_flight, in_flight)
        await asyncio.sleep(0.002 * (6 - page))  # later pages answer first
        in_flight -= 1
        return v3_page([f"p{page}a", f"p{page}b"], page, 5)

    async def go() -> list[Any]:
        async with make_client(handler, concurrency=3) as api:
            items = await api.get_all("/v3/catalog/products", {"include": "variants"}, limit=2)
            assert api.requests_made == 5
            return items

    assert run(go()) == [f"p{p}{s}" for p in range(1, 6) for s in "ab"]
    assert pages_requested[0] == 1
    assert sorted(pages_requested) == [1, 2, 3, 4, 5]
    assert 1 < most_in_flight <= 3


def test_get_all_v3_failing_page_raises_and_stops_the_other_pages() -> None:
    finished: list[int] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        if page == 3:
            return httpx.Response(404, json={"status": 404, "title": "Gone"})
        if page > 1:
            await asyncio.sleep(0.05)
        finished.append(page)
        return v3_page([page], page, 6)

    async def go() -> None:
        async with make_client(handler) as api:
            with pytest.raises(NotFoundError):
                await api.get_all("/v3/catalog/products")
            await asyncio.sleep(0.1)  # long enough for any page left running to finish

    run(go())
    assert finished == [1]


def test_get_all_v3_single_page_and_empty_list() -> None:
    handler, seen = sequence(v3_page([1, 2], 1, 1), v3_page([], 1, 0))

    async def go() -> list[list[Any]]:
        async with make_client(handler) as api:
            return [await api.get_all("/v3/catalog/brands"), await api.get_all("/v3/pages")]

    assert run(go()) == [[1, 2], []]
    assert len(seen) == 2
    assert seen[0].url.params["limit"] == "250"


def test_get_all_v3_follows_next_links_when_no_page_count() -> None:
    def body(items: list[int], nxt: str | None) -> httpx.Response:
        links = {"next": nxt} if nxt else {}
        return httpx.Response(200, json={"data": items, "meta": {"pagination": {"links": links}}})

    handler, seen = sequence(body([1], "?page=2"), body([2], "?page=3"), body([3], None))

    async def go() -> list[Any]:
        async with make_client(handler) as api:
            return await api.get_all("/v3/pricelists/1/records")

    assert run(go()) == [1, 2, 3]
    assert [r.url.params["page"] for r in seen] == ["1", "2", "3"]


@pytest.mark.parametrize("end", [httpx.Response(204), httpx.Response(200, json=[])])
def test_get_all_v2_pages_until_empty_or_204(end: httpx.Response) -> None:
    handler, seen = sequence(
        httpx.Response(200, json=[{"id": 1}, {"id": 2}]),
        httpx.Response(200, json=[{"id": 3}]),
        end,
    )

    async def go() -> list[Any]:
        async with make_client(handler) as api:
            return await api.get_all("/v2/customer_groups", limit=2)

    assert run(go()) == [{"id": 1}, {"id": 2}, {"id": 3}]
    assert [r.url.params["page"] for r in seen] == ["1", "2", "3"]
    assert all(r.url.params["limit"] == "2" for r in seen)


def test_get_all_v2_stops_when_the_endpoint_ignores_page() -> None:
    zones = [{"id": 1, "name": "US"}]
    handler, seen = sequence(httpx.Response(200, json=zones), httpx.Response(200, json=zones))

    async def go() -> list[Any]:
        async with make_client(handler) as api:
            return await api.get_all("/v2/shipping/zones")

    assert run(go()) == zones
    assert len(seen) == 2


def test_concurrency_bounds_requests_in_flight() -> None:
    in_flight = 0
    most_in_flight = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most_in_flight
        in_flight += 1
        most_in_flight = max(most_in_flight, in_flight)
        await asyncio.sleep(0.001)
        in_flight -= 1
        return httpx.Response(200, json={"data": {}})

    async def go() -> None:
        async with make_client(handler, concurrency=2) as api:
            await asyncio.gather(*(api.get(f"/v3/catalog/brands/{i}") for i in range(10)))
            assert api.requests_made == 10

    run(go())
    assert most_in_flight == 2


# -- retries ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reset_ms", "retry_after", "expected"),
    [("4000", "2", 4.0), ("1500", "3", 3.0), ("2500", None, 2.5), (None, "7", 7.0)],
)
def test_429_waits_the_longer_of_reset_and_retry_after(
    reset_ms: str | None, retry_after: str | None, expected: float
) -> None:
    headers = {"X-Rate-Limit-Requests-Left": "0"}
    if reset_ms is not None:
        headers["X-Rate-Limit-Time-Reset-Ms"] = reset_ms
    if retry_after is not None:
        headers["X-Retry-After"] = retry_after
    handler, seen = sequence(
        httpx.Response(429, headers=headers), httpx.Response(200, json={"data": "ok"})
    )
    sleeps = Sleeps()
    client = make_client(handler, sleeps)
    assert call(client, "GET") == "ok"
    assert sleeps == [expected]
    assert len(seen) == 2
    assert client.throttled == 1
    assert client.requests_made == 2


def test_429_without_rate_headers_backs_off_exponentially() -> None:
    handler, _ = sequence(*[httpx.Response(429)] * 4, httpx.Response(200, json={"data": "ok"}))
    sleeps = Sleeps()
    assert call(make_client(handler, sleeps), "GET") == "ok"
    assert len(sleeps) == 4
    for retry, wait in enumerate(sleeps):
        ceiling = min(BACKOFF_CAP, 0.5 * 2**retry)
        assert ceiling / 2 <= wait <= ceiling


def test_429_is_retried_for_post_too() -> None:
    handler, seen = sequence(
        httpx.Response(429, headers={"X-Rate-Limit-Time-Reset-Ms": "100"}),
        httpx.Response(200, json={"data": {"id": 9}}),
    )
    assert call(make_client(handler), "POST") == {"id": 9}
    assert len(seen) == 2


def test_429_that_outlasts_the_retries_raises_rate_limit_error() -> None:
    handler, seen = sequence(*[httpx.Response(429, headers={"X-Retry-After": "1"})] * 4)
    client = make_client(handler, max_retries=3)
    with pytest.raises(RateLimitError) as caught:
        call(client, "GET")
    assert caught.value.status == 429
    assert "after 3 retries" in str(caught.value)
    assert len(seen) == 4
    assert client.throttled == 4


def test_backoff_is_capped() -> None:
    handler, _ = sequence(*[httpx.Response(503)] * 11)
    sleeps = Sleeps()
    with pytest.raises(ApiError):
        call(make_client(handler, sleeps, max_retries=10), "GET")
    assert len(sleeps) == 10
    assert max(sleeps) <= BACKOFF_CAP
    assert sleeps[-1] >= BACKOFF_CAP / 2


@pytest.mark.parametrize("status", [500, 502, 503, 504])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_server_errors_are_retried_for_repeatable_methods(status: int, method: str) -> None:
    handler, seen = sequence(httpx.Response(status), httpx.Response(204))
    sleeps = Sleeps()
    assert call(make_client(handler, sleeps), method) is None
    assert len(seen) == 2
    assert len(sleeps) == 1


def test_server_error_on_post_is_not_retried() -> None:
    handler, seen = sequence(httpx.Response(500, text="Internal Server Error"))
    with pytest.raises(ApiError) as caught:
        call(make_client(handler), "POST")
    assert caught.value.status == 500
    assert caught.value.method == "POST"
    assert len(seen) == 1


def test_server_errors_that_outlast_the_retries_raise_api_error() -> None:
    handler, seen = sequence(*[httpx.Response(502)] * 3)
    with pytest.raises(ApiError) as caught:
        call(make_client(handler, max_retries=2), "GET")
    assert type(caught.value) is ApiError
    assert caught.value.status == 502
    assert "after 2 retries" in str(caught.value)
    assert len(seen) == 3


def dropped(kind: type[httpx.TransportError]) -> Exception:
    return kind("connection dropped")


@pytest.mark.parametrize("kind", [httpx.RemoteProtocolError, httpx.ReadError, httpx.ReadTimeout])
@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_dropped_connection_is_retried_for_get_and_put(
    kind: type[httpx.TransportError], method: str
) -> None:
    handler, seen = sequence(dropped(kind), httpx.Response(200, json={"data": "ok"}))
    sleeps = Sleeps()
    assert call(make_client(handler, sleeps), method) == "ok"
    assert len(seen) == 2
    assert len(sleeps) == 1


@pytest.mark.parametrize("kind", [httpx.RemoteProtocolError, httpx.ReadError, httpx.ReadTimeout])
def test_dropped_connection_is_not_retried_for_post(kind: type[httpx.TransportError]) -> None:
    handler, seen = sequence(dropped(kind), httpx.Response(200, json={"data": "ok"}))
    sleeps = Sleeps()
    with pytest.raises(TransportError) as caught:
        call(make_client(handler, sleeps), "POST")
    assert len(seen) == 1
    assert sleeps == []
    message = str(caught.value)
    assert "may have applied it" in message
    assert "/stores/abc/v3/catalog/products" in message
    assert caught.value.url == API_URL


@pytest.mark.parametrize("kind", [httpx.ConnectError, httpx.ConnectTimeout])
def test_post_is_retried_when_it_never_reached_the_store(kind: type[httpx.TransportError]) -> None:
    handler, seen = sequence(dropped(kind), dropped(kind), httpx.Response(200, json={"data": 1}))
    sleeps = Sleeps()
    assert call(make_client(handler, sleeps), "POST") == 1
    assert len(seen) == 3
    assert len(sleeps) == 2


def test_post_that_never_connects_raises_could_not_reach_after_retries() -> None:
    handler, seen = sequence(*[dropped(httpx.ConnectError)] * 3)
    with pytest.raises(TransportError) as caught:
        call(make_client(handler, max_retries=2), "POST")
    assert len(seen) == 3
    assert str(caught.value).startswith(f"could not reach {API_URL} (POST /stores/abc/v3/")
    assert "after 2 retries" in str(caught.value)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 413, 422])
@pytest.mark.parametrize("method", ["GET", "PUT", "POST", "DELETE"])
def test_client_errors_are_never_retried(status: int, method: str) -> None:
    handler, seen = sequence(httpx.Response(status, json={"status": status, "title": "No"}))
    sleeps = Sleeps()
    with pytest.raises(ApiError):
        call(make_client(handler, sleeps), method)
    assert len(seen) == 1
    assert sleeps == []


# -- error mapping ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, ApiError),
        (401, AuthError),
        (403, AuthError),
        (404, NotFoundError),
        (405, ApiError),
        (409, ValidationError),
        (413, ValidationError),
        (422, ValidationError),
        (507, ApiError),
    ],
)
def test_status_maps_to_error_type(status: int, error_type: type[ApiError]) -> None:
    handler, _ = sequence(httpx.Response(status, json={"status": status, "title": "Nope"}))
    with pytest.raises(ApiError) as caught:
        call(make_client(handler), "PUT")
    assert type(caught.value) is error_type
    assert caught.value.status == status


def test_422_carries_the_platform_message_entity_and_body() -> None:
    body = {
        "status": 422,
        "title": "Missing Required Fields",
        "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
        "errors": {"name": "Please provide a name.", "price": "Please provide a price."},
    }
    handler, _ = sequence(httpx.Response(422, json=body))
    with pytest.raises(ValidationError) as caught:
        call(make_client(handler), "POST")
    error = caught.value
    assert error.status == 422
    assert error.method == "POST"
    assert error.path == "/stores/abc/v3/catalog/products"
    assert error.entity == "product SKU-1"
    assert error.body == body
    assert error.detail == (
        "Missing Required Fields: name: Please provide a name.; price: Please provide a price."
    )
    assert str(error) == (
        "422 from POST /stores/abc/v3/catalog/products (product SKU-1): Missing Required "
        "Fields: name: Please provide a name.; price: Please provide a price."
    )


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            [{"status": 400, "message": "The field 'item_total' cannot be written to."}],
            "The field 'item_total' cannot be written to.",
        ),
        (
            {"errors": [{"status": 409, "title": "Customer group name must be unique"}]},
            "Customer group name must be unique",
        ),
        (
            {
                "code": 422,
                "data": {"errors": [{"id": "companyName", "_detail": "already exists"}]},
                "meta": {"message": "Validation failed"},
            },
            "Validation failed: companyName: already exists",
        ),
        (
            {"code": 401, "data": {"errMsg": "Invalid credentials"}, "meta": {"message": "Auth"}},
            "Auth: Invalid credentials",
        ),
        (
            {"code": 404, "data": {"errMsg": "Not found"}, "meta": {"message": "Not found"}},
            "Not found",
        ),
        ({"status": 400, "title": "Input is invalid", "detail": "Syntax error"}, None),
    ],
)
def test_platform_messages_of_each_api_family(body: Any, detail: str | None) -> None:
    handler, _ = sequence(httpx.Response(400, json=body))
    with pytest.raises(ApiError) as caught:
        call(make_client(handler), "PUT", "/v2/orders/1")
    if detail is None:
        assert "Input is invalid" in caught.value.detail
        assert "Syntax error" in caught.value.detail
    else:
        assert caught.value.detail == detail


def test_non_json_error_body_is_shortened_text() -> None:
    handler, _ = sequence(httpx.Response(400, text="<html>" + "x" * 5000 + "</html>"))
    with pytest.raises(ApiError) as caught:
        call(make_client(handler), "GET")
    assert caught.value.detail.startswith("<html>xxx")
    assert len(caught.value.detail) <= 500


def test_empty_error_body_uses_the_reason_phrase() -> None:
    handler, _ = sequence(httpx.Response(404))
    with pytest.raises(NotFoundError) as caught:
        call(make_client(handler), "GET", "/v3/catalog/brands/7")
    assert caught.value.detail == "Not Found"
    assert caught.value.path == "/stores/abc/v3/catalog/brands/7"


def test_401_says_the_token_was_rejected_and_what_to_check() -> None:
    handler, _ = sequence(httpx.Response(401, json={"status": 401, "title": "Unauthorized"}))
    with pytest.raises(AuthError) as caught:
        call(make_client(handler), "GET")
    message = str(caught.value)
    assert "rejected the access token" in message
    assert "access_token_env" in message
    assert "abc" in message


def test_403_names_scopes() -> None:
    handler, _ = sequence(httpx.Response(403, json={"status": 403, "title": "Forbidden"}))
    with pytest.raises(AuthError) as caught:
        call(make_client(handler), "PUT")
    assert "scope" in str(caught.value)


def test_non_json_success_body_is_an_api_error_pointing_at_api_url() -> None:
    handler, _ = sequence(
        httpx.Response(200, text="<html>welcome</html>", headers={"content-type": "text/html"})
    )
    with pytest.raises(ApiError) as caught:
        call(make_client(handler), "GET")
    assert "not JSON" in str(caught.value)
    assert "api_url" in str(caught.value)


def test_unreachable_store_is_a_transport_error_naming_the_url() -> None:
    async def go() -> None:
        async with BigCommerceClient(
            "abc", TOKEN, api_url="http://127.0.0.1:9", max_retries=2, sleep=Sleeps(), timeout=5
        ) as api:
            await api.get("/v2/store")

    with pytest.raises(TransportError) as caught:
        run(go())
    message = str(caught.value)
    assert "http://127.0.0.1:9" in message
    assert "api_url in stagesync.toml" in message
    assert "after 2 retries" in message
    assert caught.value.url == "http://127.0.0.1:9"
    assert caught.value.__cause__ is None


def test_unusable_api_url_is_a_transport_error() -> None:
    with pytest.raises(TransportError, match="api_url"):
        BigCommerceClient("abc", TOKEN, api_url="http://example.test:port")

    async def go(api_url: str) -> None:
        async with BigCommerceClient("abc", TOKEN, api_url=api_url, sleep=Sleeps()) as api:
            await api.get("/v2/store")

    for api_url in ("ftp://example.test",):
        with pytest.raises(TransportError, match="api_url in stagesync.toml") as caught:
            run(go(api_url))
        assert "retries" not in str(caught.value)


def test_no_httpx_exception_escapes() -> None:
    handler, _ = sequence(httpx.DecodingError("bad gzip"))
    with pytest.raises(StageSyncError) as caught:
        call(make_client(handler), "GET")
    assert not isinstance(caught.value, httpx.HTTPError)
    assert isinstance(caught.value, TransportError)


def test_the_token_never_appears_in_error_messages() -> None:
    echo = {"status": 401, "title": f"Token {TOKEN} is not valid"}
    handler, _ = sequence(
        httpx.Response(401, json=echo),
        httpx.ConnectError(f"cannot connect with {TOKEN}"),
        httpx.Response(502, text=f"proxy saw X-Auth-Token: {TOKEN}"),
    )
    errors: list[StageSyncError] = []

    async def go() -> None:
        async with make_client(handler, max_retries=0) as api:
            for method in ("GET", "POST", "GET"):
                try:
                    if method == "GET":
                        await api.get("/v3/catalog/products")
                    else:
                        await api.post("/v3/catalog/products", {"name": "x"})
                except StageSyncError as exc:
                    errors.append(exc)

    run(go())
    assert [type(e) for e in errors] == [AuthError, TransportError, ApiError]
    assert isinstance(errors[0], AuthError)
    assert TOKEN not in json.dumps(errors[0].body)
    for error in errors:
        assert TOKEN not in str(error)
        assert TOKEN not in repr(error)
        assert TOKEN not in getattr(error, "detail", "")


def test_connection_failures_before_first_contact_are_retried_briefly() -> None:
    """A store that never answered is most likely a wrong api_url: fail fast."""
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ConnectError("refused", request=request)

    sleeps = Sleeps()
    client = make_client(handler, sleeps)
    with pytest.raises(TransportError):
        run(client.get("/v3/catalog/brands"))
    assert calls == 1 + FIRST_CONTACT_RETRIES
    assert len(sleeps) == FIRST_CONTACT_RETRIES


def test_connection_failures_after_first_contact_get_every_retry() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx.Response(200, json={"data": [], "meta": {}})
        raise httpx.ConnectError("refused", request=request)

    client = make_client(handler, Sleeps(), max_retries=5)
    run(client.get("/v3/catalog/brands"))
    with pytest.raises(TransportError):
        run(client.get("/v3/catalog/brands"))
    assert calls == 1 + 1 + 5
