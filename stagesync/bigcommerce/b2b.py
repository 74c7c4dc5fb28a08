"""The HTTP client of one store's B2B Edition API (``stagesync.ports.B2BApi``).

B2B Edition lives on its own host (``https://api-b2b.bigcommerce.com``) with its own
authentication, envelope, paging and rate limit, but the same retry, pacing and error-mapping
rules as the store API, so ``B2BClient`` is a ``BigCommerceClient`` with those four things
replaced:

- **Paths** are relative to ``/api/v3/io`` (``/companies``, ``/ip/invoices``); the store is named
  by the credentials, not the path.
- **Auth**: ``token`` mode sends the store API token (with the B2B Edition scope) as
  ``X-Auth-Token`` plus ``X-Store-Hash``; ``password`` mode sends the token obtained from
  ``POST /api/io/auth/backend`` (``login``) as ``authToken`` and no store hash, as the
  platform asks.
- **Envelope** ``{code, data, meta}``: methods return ``data``.
- **Paging**: ``offset``/``limit``; the first page's ``meta.pagination.totalCount`` says how many
  more pages to fetch, and those are fetched concurrently, concatenated in offset order.
- **Rate limit**: 150 requests per minute per store, reported as ``X-Requests-Remaining`` and
  ``X-Request-Window-Resets-After`` (seconds), which drive the same pacing as the store API's.

Secrets (the token, and the password during ``login``) never appear in messages or logs.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any, Final, Literal

import httpx

from stagesync.bigcommerce.client import BigCommerceClient, RateLimit, _float_header, _parse
from stagesync.bigcommerce.paging import b2b_offsets
from stagesync.errors import ApiError, AuthError
from stagesync.ports import Params

DEFAULT_B2B_API_URL: Final = "https://api-b2b.bigcommerce.com"
PREFIX: Final = "/api/v3/io"
LOGIN_PATH: Final = "/api/io/auth/backend"
TOKEN_NAME: Final = "stagesync"
"""The name B2B Edition records for the tokens stagesync obtains (its back-office token list)."""

Auth = Literal["token", "password"]

_ALLOCATED_RE: Final = re.compile(r"(\d+)\D+(\d+)")


class B2BClient(BigCommerceClient):
    """``async with B2BClient(store_hash, token, auth="token") as b2b:``
    ``    companies = await b2b.get_all("/companies")``

    ``auth="token"``: ``token`` is the store API token with the B2B Edition scope.
    ``auth="password"``: ``token`` is one obtained by ``login``.
    """

    def __init__(
        self,
        store_hash: str,
        token: str,
        *,
        auth: Auth = "token",
        api_url: str = DEFAULT_B2B_API_URL,
        **options: Any,
    ) -> None:
        self.auth = auth
        super().__init__(store_hash, token, api_url=api_url, **options)

    def __repr__(self) -> str:
        return f"B2BClient(store_hash={self.store_hash!r}, api_url={self.api_url!r})"

    async def __aenter__(self) -> B2BClient:
        return self

    def _path_prefix(self, store_hash: str) -> str:
        return PREFIX

    def _auth_headers(self, token: str) -> dict[str, str]:
        if not token:
            return {}
        if self.auth == "password":
            return {"authToken": token}
        return {"X-Auth-Token": token, "X-Store-Hash": self.store_hash}

    def _rate_limit_of(self, headers: httpx.Headers) -> RateLimit | None:
        return b2b_rate_limit(headers)

    # -- B2BApi ---------------------------------------------------------------------------------

    async def pages(
        self, path: str, params: Params | None = None, *, limit: int = 250
    ) -> AsyncIterator[list[Any]]:
        """B2B lists page by ``offset``: the whole list, as one page."""
        items = await self.get_all(path, params, limit=limit)
        if items:
            yield items

    async def get_all(
        self, path: str, params: Params | None = None, *, limit: int = 250
    ) -> list[Any]:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        first = await self._get_body(path, {**(params or {}), "offset": 0, "limit": limit})
        items = _data(first)
        total = _total_count(first)
        if total is None or len(items) < limit:
            return items
        tasks = [
            asyncio.ensure_future(
                self._get_body(path, {**(params or {}), "offset": offset, "limit": limit})
            )
            for offset in b2b_offsets(total, limit)
        ]
        try:
            bodies = await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        for body in bodies:
            items.extend(_data(body))
        return items

    async def envelope(self, path: str, params: Params | None = None) -> Any:
        """One ``GET``'s whole answer, envelope included (``stagesync probe`` checks it).
        ASSUMPTION_B2B_ENVELOPE_OFFSET_PAGING: ``get_all`` relies on its ``meta.pagination``."""
        return await self._get_body(path, dict(params or {}))

    async def count(self, path: str, params: Params | None = None) -> int:
        """How many items a list holds (``meta.pagination.totalCount`` of a one-item page)."""
        body = await self._get_body(path, {**(params or {}), "offset": 0, "limit": 1})
        total = _total_count(body)
        return len(_data(body)) if total is None else total

    # -- login ------------------------------------------------------------------------------------

    async def login(self, email: str, password: str) -> str:
        """Exchange a B2B back-office user's email and password for an API token
        (``POST /api/io/auth/backend``, the platform's deprecated but supported login)."""
        url = f"{self.api_url}{LOGIN_PATH}"
        body = {"storeHash": self.store_hash, "email": email, "password": password}
        try:
            response = await self._request(
                "POST", url, json={**body, "name": TOKEN_NAME}, absolute=True, entity="B2B login"
            )
        except AuthError as error:
            raise AuthError(
                status=error.status,
                method=error.method,
                path=error.path,
                detail=f"B2B Edition rejected the email and password of {email} "
                f"({_without(_message(error), password)})",
                entity=None,
                body=None,
            ) from None
        except ApiError as error:
            raise type(error)(
                status=error.status,
                method=error.method,
                path=error.path,
                detail=_without(error.detail, password),
                body=None,
            ) from None
        payload = _parse(response, LOGIN_PATH, "POST", password)
        token = _login_token(payload)
        if token is None:
            raise ApiError(
                status=response.status_code,
                method="POST",
                path=LOGIN_PATH,
                detail="the login answer held no token",
                hint="Check that b2b.api_url points at the B2B Edition API.",
            )
        return token

    def _api_error(
        self,
        response: httpx.Response,
        method: str,
        full_path: str,
        entity: str | None,
        retries: int,
    ) -> ApiError:
        error = super()._api_error(response, method, full_path, entity, retries)
        if error.status not in (401, 403) or full_path.endswith(LOGIN_PATH):
            return error
        what = "the B2B token" if self.auth == "password" else "the store token"
        hint = (
            "Run `stagesync connect b2b ENV` again to log in afresh."
            if self.auth == "password"
            else "Check that the store API token has the B2B Edition scope (modify) and that "
            "B2B Edition is activated on the store."
        )
        return type(error)(
            status=error.status,
            method=error.method,
            path=error.path,
            detail=f"B2B Edition rejected {what} ({_message(error)})",
            entity=entity,
            body=error.body,
            hint=hint,
        )


# -- helpers -----------------------------------------------------------------------------------


def b2b_rate_limit(headers: httpx.Headers) -> RateLimit | None:
    """The quota from B2B Edition's ``X-Requests-*`` headers (e.g. ``150 times/60 s``)."""
    allocated = headers.get("x-requests-allocated")
    quota: int | None = None
    window_ms: int | None = None
    if allocated:
        match = _ALLOCATED_RE.search(allocated)
        if match:
            quota, window_ms = int(match.group(1)), int(match.group(2)) * 1000
    length = _float_header(headers, "x-requests-window-length")
    if length is not None:
        window_ms = int(length * 1000)
    left = _float_header(headers, "x-requests-remaining")
    resets = _float_header(headers, "x-request-window-resets-after")
    values = (
        quota,
        None if left is None else int(left),
        window_ms,
        None if resets is None else int(resets * 1000),
    )
    if all(value is None for value in values):
        return None
    return RateLimit(*values)


def _data(body: Any) -> list[Any]:
    if not isinstance(body, dict):
        return list(body) if isinstance(body, list) else []
    data = body.get("data")
    if data is None:
        return []
    return list(data) if isinstance(data, list) else [data]


def _total_count(body: Any) -> int | None:
    if not isinstance(body, dict):
        return None
    meta = body.get("meta")
    pagination = meta.get("pagination") if isinstance(meta, dict) else None
    total = pagination.get("totalCount") if isinstance(pagination, dict) else None
    if isinstance(total, bool) or not isinstance(total, int):
        return None
    return total


def _login_token(payload: Any) -> str | None:
    data = payload.get("data") if isinstance(payload, dict) else None
    if isinstance(data, list) and data:
        data = data[0]
    if isinstance(data, dict) and isinstance(data.get("token"), str) and data["token"]:
        return str(data["token"])
    return None


def _message(error: ApiError) -> str:
    detail = error.detail
    for prefix in ("the store rejected the access token (", "the access token may not do this ("):
        if detail.startswith(prefix) and detail.endswith(")"):
            return detail[len(prefix) : -1]
    return detail


def _without(text: str, secret: str) -> str:
    return text.replace(secret, "***") if secret else text
