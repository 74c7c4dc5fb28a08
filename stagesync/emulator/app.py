"""The emulator: many stores behind one ASGI app, with auth, rate limits, faults and a request log.

Request pipeline for ``/stores/{store_hash}/v2|v3/...`` (see ``Emulator._serve_api``):

1. added latency (``latency_ms``);
2. store lookup (unknown store hash -> 404) and ``X-Auth-Token`` check (-> 401);
3. the store's rate-limit window (quota spent -> 429 with ``X-Retry-After``);
4. the fault decision, BEFORE the handler: 500/502/503 or a dropped connection, nothing applied;
5. the handler (synchronous, so its mutation is atomic);
6. the AFTER-handler fault point (a "lost response": the write is applied, the connection drops).
   Half the dropped connections of writes (POST/PUT/DELETE) are injected here, half before.

Control endpoints under ``/__emulator`` skip all of that: no auth, no quota, not logged.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from . import areas, b2b, themes  # noqa: F401  (areas: every route registers on import)
from .errors import ApiError
from .quirks import Quirks
from .routes import Call, Reply, dispatch
from .store import Store
from .v2 import Gate

UNLIMITED_QUOTA_HEADER = 10_000
WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})
JSON = "application/json"


class DroppedConnection(Exception):
    """Raised inside the app to cut the connection mid-response (an injected fault)."""


@dataclass
class FaultSettings:
    latency_ms: int = 0
    fault_rate: float = 0.0
    quota: int = 0
    window_ms: int = 30_000

    def update(self, body: Mapping[str, Any]) -> None:
        for name, kind in (
            ("latency_ms", int),
            ("fault_rate", float),
            ("quota", int),
            ("window_ms", int),
        ):
            if name not in body:
                continue
            value = body[name]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number")
            if value < 0:
                raise ValueError(f"{name} must not be negative")
            if name == "fault_rate" and value > 1:
                raise ValueError("fault_rate must be between 0 and 1")
            if name == "window_ms" and value == 0:
                raise ValueError("window_ms must be positive")
            setattr(self, name, kind(value))


@dataclass
class FaultDecision:
    """What to do to one request. ``kind``: None (serve it), 500, 502, 503 or ``"drop"``."""

    kind: int | str | None = None
    after_write: bool = False


@dataclass
class _Window:
    started: float = 0.0
    used: int = 0


@dataclass
class _LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    status: int | None
    store_hash: str | None
    body: Any


@dataclass
class _State:
    windows: dict[str, _Window] = field(default_factory=dict)
    log: list[_LoggedRequest] = field(default_factory=list)


def _json(body: Any, status: int, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, headers=dict(headers or {}), media_type=JSON
    )


class Emulator:
    """A fake BigCommerce serving many stores. ``.app`` is the ASGI app."""

    def __init__(
        self,
        stores: Mapping[str, str] | None = None,
        *,
        seed: str = "empty",
        latency_ms: int = 0,
        fault_rate: float = 0.0,
        quota: int = 0,
        window_ms: int = 30_000,
    ) -> None:
        if seed not in ("empty", "demo"):
            raise ValueError(f"unknown seed {seed!r}: use 'empty' or 'demo'")
        self.settings = FaultSettings()
        self.settings.update(
            {
                "latency_ms": latency_ms,
                "fault_rate": fault_rate,
                "quota": quota,
                "window_ms": window_ms,
            }
        )
        self.quirks = Quirks()
        """The platform assumptions this emulator breaks (none by default; ``quirks.py``)."""
        self.rng = random.Random(0)
        """Decides which requests fail; replace or reseed it in tests."""
        self.stores: dict[str, Store] = {}
        self._state = _State()
        self.gate = Gate()
        """Requests in flight on endpoints with a documented concurrency limit."""
        declared = dict(stores or {})
        if seed == "demo":
            declared.setdefault("production", "production-token")
            declared.setdefault("staging", "staging-token")
        for store_hash, token in declared.items():
            self.add_store(store_hash, token)
        if seed == "demo":
            from .seed import seed_demo

            seed_demo(self.stores["production"], self.stores["staging"])

    # ---- stores ---------------------------------------------------------------------------------

    def add_store(self, store_hash: str, token: str) -> Store:
        """Declare a new, empty store (channel 1 and its category tree) accepting ``token``."""
        if not store_hash or "/" in store_hash:
            raise ValueError(f"invalid store hash {store_hash!r}")
        if store_hash in self.stores:
            raise ValueError(f"store {store_hash!r} already exists")
        store = Store(store_hash, token)
        self.stores[store_hash] = store
        return store

    def add_b2b_user(self, store_hash: str, email: str, password: str) -> None:
        """Turn B2B Edition on for a declared store, with a back-office admin user."""
        b2b.add_user(self.stores[store_hash], email, password)

    # ---- the request log ------------------------------------------------------------------------

    @property
    def requests(self) -> list[dict[str, Any]]:
        return [asdict(entry) for entry in self._state.log]

    def clear_requests(self) -> None:
        self._state.log.clear()

    # ---- transports -----------------------------------------------------------------------------

    def transport(self) -> httpx.AsyncBaseTransport:
        """An httpx transport serving this emulator in process (no sockets)."""
        return _InProcessTransport(self)

    # ---- ASGI -----------------------------------------------------------------------------------

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        path: str = scope["path"]
        if path.startswith("/__emulator/"):
            response = await self._serve_control(request, path)
            await response(scope, receive, send)
            return
        if path.startswith(b2b.PREFIXES):  # B2B Edition: its own auth, envelopes and rate limit
            served = await b2b.serve(self, request, path)
            status = served.response.status_code
            query = dict(request.query_params)
            entry = _LoggedRequest(
                request.method, path, query, status, served.store_hash, served.body
            )
            self._state.log.append(entry)
            await served.response(scope, receive, send)
            return
        slot = self.gate.enter(request.method, path)
        if slot is False:
            await self._serve_busy(request, path, scope, receive, send)
            return
        try:
            await self._serve_api(request, path, scope, receive, send)
        finally:
            if isinstance(slot, tuple):
                self.gate.leave(slot)

    async def _serve_busy(
        self, request: Request, path: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """429 for a request over an endpoint's concurrency limit (no rate-limit headers: the
        store's quota is not what ran out)."""
        raw = await request.body()
        parts = path.split("/", 3)
        try:
            body: Any = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            body = None
        entry = _LoggedRequest(
            request.method, path, dict(request.query_params), 429, parts[2], body
        )
        self._state.log.append(entry)
        err = ApiError(429, "Too many concurrent requests to this endpoint; retry shortly.")
        rest = "/" + parts[3] if len(parts) == 4 else ""
        await self._error(err, rest, {})(scope, receive, send)

    async def _serve_control(self, request: Request, path: str) -> Response:
        method = request.method
        if path == "/__emulator/health" and method == "GET":
            return _json({"status": "ok", "stores": sorted(self.stores)}, 200)
        if path == "/__emulator/requests":
            if method == "GET":
                return _json({"requests": self.requests}, 200)
            if method == "DELETE":
                self.clear_requests()
                return Response(status_code=204)
        if path.startswith(themes.DOWNLOAD_PREFIX) and method == "GET":
            bundle = themes.serve_download(path)
            if bundle is None:
                return _json({"error": "this download link is unknown or expired"}, 404)
            return Response(bundle, 200, media_type="application/zip")
        if path == "/__emulator/faults":
            if method == "GET":
                return _json(asdict(self.settings), 200)
            if method == "POST":
                try:
                    body = orjson.loads(await request.body() or b"{}")
                    if not isinstance(body, dict):
                        raise ValueError("send a JSON object")
                    self.settings.update(body)
                except (ValueError, orjson.JSONDecodeError) as err:
                    return _json({"error": str(err)}, 400)
                return _json(asdict(self.settings), 200)
        if path == "/__emulator/quirks":
            if method == "GET":
                return _json(asdict(self.quirks), 200)
            if method == "POST":
                try:
                    body = orjson.loads(await request.body() or b"{}")
                    if not isinstance(body, dict):
                        raise ValueError("send a JSON object")
                    self.quirks.update(body)
                except (ValueError, orjson.JSONDecodeError) as err:
                    return _json({"error": str(err)}, 400)
                return _json(asdict(self.quirks), 200)
        return _json({"error": f"no control endpoint {method} {path}"}, 404)

    def _rate_headers(self, store_hash: str, consume: bool) -> tuple[dict[str, str], bool]:
        """The rate-limit headers for this request, and whether it is over the quota."""
        settings = self.settings
        now = time.monotonic()
        window = self._state.windows.setdefault(store_hash, _Window(started=now))
        if (now - window.started) * 1000 >= settings.window_ms:
            window.started, window.used = now, 0
        reset_ms = max(1, int(settings.window_ms - (now - window.started) * 1000))
        limited = settings.quota > 0 and window.used >= settings.quota
        if consume and not limited:
            window.used += 1
        if settings.quota > 0:
            quota, left = settings.quota, max(settings.quota - window.used, 0)
        else:
            quota = UNLIMITED_QUOTA_HEADER
            left = max(UNLIMITED_QUOTA_HEADER - window.used, UNLIMITED_QUOTA_HEADER // 2)
        headers = {
            "X-Rate-Limit-Time-Window-Ms": str(settings.window_ms),
            "X-Rate-Limit-Time-Reset-Ms": str(reset_ms),
            "X-Rate-Limit-Requests-Quota": str(quota),
            "X-Rate-Limit-Requests-Left": str(left),
        }
        headers = self.quirks.headers(headers)
        if limited:
            headers["X-Retry-After"] = str(max(1, -(-reset_ms // 1000)))
        return headers, limited

    def decide_fault(self, method: str) -> FaultDecision:
        """THE fault decision point for one API request (see the module docstring)."""
        rate = self.settings.fault_rate
        if rate <= 0 or self.rng.random() >= rate:
            return FaultDecision()
        kinds: list[int | str] = [500, 502, 503, "drop"]
        kind = self.rng.choice(kinds)
        # Half the dropped writes drop after the write was applied: the response is lost.
        after_write = kind == "drop" and method in WRITE_METHODS and self.rng.random() < 0.5
        return FaultDecision(kind=kind, after_write=after_write)

    async def _serve_api(
        self, request: Request, path: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        raw = await request.body()
        form = themes.parse_multipart(raw, request.headers.get("content-type", ""))
        try:
            body: Any = orjson.loads(raw) if raw and form is None else None
            bad_json = False
        except orjson.JSONDecodeError:
            body, bad_json = None, True
        query = dict(request.query_params)
        store_hash: str | None = None
        parts = path.split("/", 3)
        if len(parts) >= 3 and parts[1] == "stores" and parts[2]:
            store_hash = parts[2]
        logged = themes.summary(form) if form is not None else body
        entry = _LoggedRequest(request.method, path, query, None, store_hash, logged)
        body = form if form is not None else body
        self._state.log.append(entry)
        if self.settings.latency_ms:
            await asyncio.sleep(self.settings.latency_ms / 1000)
        rest = "/" + parts[3] if len(parts) == 4 else ""
        store = self.stores.get(store_hash) if store_hash else None
        if store is None:
            entry.status = 404
            await self._error(ApiError(404, "Store not found."), rest, {})(scope, receive, send)
            return
        if request.headers.get("x-auth-token") != store.token:
            headers, _ = self._rate_headers(store.store_hash, consume=False)
            err = ApiError(
                401, "You are not authorized to access this resource. Check X-Auth-Token."
            )
            entry.status = 401
            await self._error(err, rest, headers)(scope, receive, send)
            return
        headers, limited = self._rate_headers(store.store_hash, consume=True)
        if limited:
            entry.status = 429
            err = ApiError(
                429, "Too many requests: the store's rate limit for this window is spent."
            )
            await self._error(err, rest, headers)(scope, receive, send)
            return
        decision = self.decide_fault(request.method)
        if decision.kind is not None and not decision.after_write:
            await self._fault(decision, entry, headers, scope, receive, send)
            return
        try:
            if bad_json:
                raise ApiError(400, "Input is invalid", detail="Syntax error")
            base_url = str(request.base_url).rstrip("/")
            seen = self.quirks.query(request.method, query)
            call = Call(params={}, query=seen, body=body, base_url=base_url)
            store.touch_frozen = self.quirks.freezes(request.method, rest)
            try:
                reply = dispatch(store, request.method, rest, call)
            finally:
                store.touch_frozen = False
            if rest == "/v2/time" and reply.status == 200 and self.quirks.clock_offset_s:
                reply.body = {**reply.body, "time": reply.body["time"] + self.quirks.clock_offset_s}
            response = self._reply(reply, headers)
        except ApiError as err:
            response = self._error(err, rest, headers)
        if decision.kind is not None and decision.after_write:
            await self._fault(decision, entry, headers, scope, receive, send)
            return
        entry.status = response.status_code
        await response(scope, receive, send)

    def _reply(self, reply: Reply, headers: Mapping[str, str]) -> Response:
        merged = {**headers, **reply.headers}
        if reply.content is not None:
            return Response(reply.content, reply.status, merged, "application/octet-stream")
        if reply.body is None:
            return Response(status_code=reply.status, headers=merged)
        return _json(reply.body, reply.status, merged)

    def _error(self, err: ApiError, rest: str, headers: Mapping[str, str]) -> Response:
        """``err`` in the error body of the API ``rest`` (the path after the store) belongs to."""
        return _json(err.body_for(rest), err.status, headers)

    async def _fault(
        self,
        decision: FaultDecision,
        entry: _LoggedRequest,
        headers: Mapping[str, str],
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        if decision.kind == "drop":
            entry.status = None
            # Promise a body, then cut the connection before sending it.
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", JSON.encode()), (b"content-length", b"2048")],
                }
            )
            raise DroppedConnection("injected fault: connection dropped")
        status = int(decision.kind or 500)
        entry.status = status
        if status == 500:
            response = _json(ApiError(500, "Internal Server Error").body(), 500, headers)
        else:
            text = "Bad Gateway" if status == 502 else "Service Unavailable"
            response = Response(
                f"<html><body><h1>{status} {text}</h1></body></html>",
                status_code=status,
                headers=dict(headers),
                media_type="text/html",
            )
        await response(scope, receive, send)


class _InProcessTransport(httpx.AsyncBaseTransport):
    """``httpx.ASGITransport`` over the emulator; a dropped connection surfaces as it would over
    a socket, as ``httpx.RemoteProtocolError``."""

    def __init__(self, emulator: Emulator) -> None:
        self._inner = httpx.ASGITransport(app=emulator.app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._inner.handle_async_request(request)
        except DroppedConnection:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body "
                "(incomplete chunked read)",
                request=request,
            ) from None

    async def aclose(self) -> None:
        await self._inner.aclose()
