"""The read-only checks of ``stagesync probe``, declared with their assumptions in
stagesync/assumptions.py.

Each check answers ``holds``, ``differs`` (expected vs seen) or ``not checked`` (why). Checks
read one page of a kind at most once (pages are shared between checks), so the probe never sends
more than the sum of the declared ``requests``, stated before it starts. A finding names field
names, JSON types and counts, never a record's values: a report can be attached to a bug as it is.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Literal

from stagesync.errors import ApiError
from stagesync.ports import Params, StoreApi

Status = Literal["holds", "differs", "not checked"]

CLOCK_TOLERANCE = 300
"""Seconds /v2/time may differ from the clock it is compared with."""
PAGE_LIMIT = 250
INCLUDE_PAGE_LIMIT = 10
"""The largest page with ``include=options,modifiers`` (products_catalog.v3.yml)."""
TRIM = 160
PRODUCTS = "/v3/catalog/products"
ASSIGNMENTS = "/v3/catalog/products/channel-assignments"
CHANNEL_SAMPLE = 20
"""Products whose channels a check compares with the assignment list (one page of it)."""
B2B_PAGE = 10
"""Records a B2B check reads (one page)."""


@dataclass(frozen=True)
class Finding:
    status: Status
    expected: str = ""
    seen: str = ""
    why: str = ""


def holds() -> Finding:
    return Finding("holds")


def differs(expected: str, seen: str) -> Finding:
    return Finding("differs", _trim(expected), _trim(seen))


def not_checked(why: str) -> Finding:
    return Finding("not checked", why=why)


@dataclass
class Probe:
    """What a check reads through: the store's API, with pages kept for the next check."""

    api: StoreApi
    clock: Callable[[], float] = time.time
    b2b: Any = None
    """The store's B2B Edition client (``B2BClient``), when B2B is connected."""
    b2b_missing: str = "B2B not connected"
    """Why there is no ``b2b``."""
    _pages: dict[tuple[str, tuple[tuple[str, str], ...]], list[Any]] = field(default_factory=dict)
    _b2b_bodies: dict[tuple[str, int, int], Any] = field(default_factory=dict)

    async def page(self, path: str, params: Params | None = None) -> list[Any]:
        """One page of ``path`` (read once per probe)."""
        key = (path, tuple(sorted((k, str(v)) for k, v in (params or {}).items())))
        if key not in self._pages:
            body = await self.api.get(path, params)
            self._pages[key] = list(body) if isinstance(body, list) else []
        return self._pages[key]

    async def b2b_body(self, path: str, offset: int = 0, limit: int = B2B_PAGE) -> Any:
        """One B2B page's whole answer, envelope included (read once per probe)."""
        key = (path, offset, limit)
        if key not in self._b2b_bodies:
            self._b2b_bodies[key] = await self.b2b.envelope(
                path, {"offset": offset, "limit": limit}
            )
        return self._b2b_bodies[key]

    def rate_limit(self) -> Any:
        """The client's last ``X-Rate-Limit-*`` reading (None when no response carried them)."""
        return getattr(self.api, "rate_limit", None)

    def server_date(self) -> str | None:
        """The ``Date`` header of the client's last response, if it had one."""
        date = getattr(self.api, "server_date", None)
        return date if isinstance(date, str) else None


Check = Callable[[Probe], Awaitable[Finding]]


# --- the checks ------------------------------------------------------------------------------


async def clock(probe: Probe) -> Finding:
    body = await probe.api.get("/v2/time")
    store_time = body.get("time") if isinstance(body, dict) else None
    if not isinstance(store_time, int):
        return differs("/v2/time answers {time: integer}", f"{_shape(body)}")
    date = probe.server_date()
    if date is not None:
        reference, name = parsedate_to_datetime(date).timestamp(), "the response's Date header"
    else:
        reference, name = probe.clock(), "this computer's clock (the store sent no Date header)"
    skew = abs(store_time - reference)
    if skew > CLOCK_TOLERANCE:
        return differs(f"within {CLOCK_TOLERANCE}s of {name}", f"{skew:.0f}s apart")
    return holds()


async def rate_limit_headers(probe: Probe) -> Finding:
    await probe.page("/v3/catalog/products", {"limit": PAGE_LIMIT})
    reading = probe.rate_limit()
    names = ("quota", "left", "window_ms", "reset_ms")
    missing = [n for n in names if reading is None or getattr(reading, n, None) is None]
    if missing:
        return differs("X-Rate-Limit-Requests-Quota/-Left, -Time-Window-Ms/-Reset-Ms", "missing")
    return holds()


async def page_limit(probe: Probe) -> Finding:
    items = await probe.page("/v3/catalog/products", {"limit": PAGE_LIMIT})
    if len(items) > PAGE_LIMIT:
        return differs(f"at most {PAGE_LIMIT} products a page", f"{len(items)}")
    return holds()


async def include_page_limit(probe: Probe) -> Finding:
    params: Params = {"limit": INCLUDE_PAGE_LIMIT, "include": "options,modifiers"}
    try:
        items = await probe.page("/v3/catalog/products", params)
    except ApiError as error:
        return differs(f"limit={INCLUDE_PAGE_LIMIT} accepted with include", f"{error.status}")
    if len(items) > INCLUDE_PAGE_LIMIT:
        return differs(f"at most {INCLUDE_PAGE_LIMIT} products a page", f"{len(items)}")
    return holds()


def product_channels(include_fields: str) -> Check:
    """A check that products listed with ``include=channels`` (and ``include_fields``, as pull
    lists them) each carry ``channels``, an array naming the same channels the store-wide
    assignment list gives for the first ``CHANNEL_SAMPLE`` of them."""

    async def check(probe: Probe) -> Finding:
        params: Params = {
            "limit": PAGE_LIMIT,
            "include": "channels",
            "include_fields": include_fields,
        }
        sample = (await probe.page(PRODUCTS, params))[:CHANNEL_SAMPLE]
        if not sample:
            return not_checked("no product on the store")
        lacking = sum(1 for p in sample if not isinstance(p.get("channels"), list))
        if lacking:
            return differs(
                "channels: array on every product", f"absent or not an array on {lacking}"
            )
        ids = ",".join(str(p["id"]) for p in sample)
        assigned = await probe.page(ASSIGNMENTS, {"product_id:in": ids, "limit": PAGE_LIMIT})
        if len(assigned) >= PAGE_LIMIT:
            return not_checked(f"{PAGE_LIMIT} or more assignments for {len(sample)} products")
        listed = {(p["id"], c) for p in sample for c in p["channels"]}
        found = {(a.get("product_id"), a.get("channel_id")) for a in assigned}
        if listed != found:
            return differs(
                f"the {len(found)} assignment(s) the assignment list gives",
                f"{len(listed)} listed with the products: {len(listed - found)} not in it, "
                f"{len(found - listed)} missing",
            )
        return holds()

    return check


def filter_check(
    path: str,
    filter_name: str,
    value_of: Callable[[list[Any]], str | None],
    matches: Callable[[Any, str], bool],
) -> Check:
    """A check that ``filter_name`` answers exactly the records of the unfiltered page that
    match it (and only records that match it, for records beyond that page)."""

    async def check(probe: Probe) -> Finding:
        unfiltered = await probe.page(path, {"limit": PAGE_LIMIT})
        value = value_of(unfiltered)
        if value is None:
            return not_checked(f"no record on the first page of {path} to filter on")
        filtered = await probe.page(path, {filter_name: value, "limit": PAGE_LIMIT})
        expected = {r["id"] for r in unfiltered if matches(r, value)}
        seen = {r["id"] for r in filtered}
        wrong = sum(1 for r in filtered if not matches(r, value))
        missing = len(expected - seen)
        if wrong or missing:
            return differs(
                f"{len(expected)} matching record(s), no other",
                f"{len(seen)} record(s): {wrong} not matching, {missing} matching ones missing",
            )
        return holds()

    return check


def first(items: list[Any], name: str, count: int) -> str | None:
    values = [str(r[name]) for r in items if isinstance(r, dict) and r.get(name)][:count]
    return ",".join(values) or None


def latest(items: list[Any], name: str) -> str | None:
    values = [r[name] for r in items if isinstance(r, dict) and isinstance(r.get(name), str)]
    return max(values, key=_instant) if values else None


def _instant(text: str) -> float:
    """An RFC 3339 (v3) or RFC 2822 (v2) timestamp as seconds."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return parsedate_to_datetime(text).timestamp()


def listed(name: str) -> Callable[[Any, str], bool]:
    """Whether a record's ``name`` is one of a comma-separated list (SKUs match whatever their
    letter case, as the platform matches them)."""
    return lambda record, value: str(record.get(name)).casefold() in value.casefold().split(",")


def since(name: str) -> Callable[[Any, str], bool]:
    return lambda record, value: _instant(str(record.get(name))) >= _instant(value)


JSON_TYPES: Mapping[type, str] = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
    type(None): "null",
}


def fields_check(path: str, fields: Mapping[str, str]) -> Check:
    """A check that every record of the first page has ``fields`` with these JSON types
    (``"string|null"``: null allowed)."""

    async def check(probe: Probe) -> Finding:
        items = await probe.page(path, {"limit": PAGE_LIMIT})
        if not items:
            return not_checked(f"no record on the first page of {path}")
        return _types(items, fields)

    return check


async def b2b_envelope(probe: Probe) -> Finding:
    """``{code, data: [...], meta: {pagination: {totalCount, offset, limit}}}``, at most
    ``limit`` records, and ``offset=1`` starting at the first page's second record."""
    if probe.b2b is None:
        return not_checked(probe.b2b_missing)
    body = await probe.b2b_body("/companies")
    data = body.get("data") if isinstance(body, dict) else None
    meta = body.get("meta") if isinstance(body, dict) else None
    pagination = meta.get("pagination") if isinstance(meta, dict) else None
    wanted = ("totalCount", "offset", "limit")
    if (
        not isinstance(data, list)
        or not isinstance(pagination, dict)
        or not all(_json_type(pagination.get(n)) == "integer" for n in wanted)
    ):
        pages = _shape(pagination) if isinstance(pagination, dict) else "absent"
        return differs(
            "{code, data: array, meta: {pagination: {totalCount, offset, limit: integer}}}",
            f"{_shape(body)}; pagination {pages}",
        )
    if len(data) > B2B_PAGE:
        return differs(f"at most {B2B_PAGE} records for limit={B2B_PAGE}", f"{len(data)}")
    if len(data) >= 2:
        second = await probe.b2b_body("/companies", 1, 1)
        rest = second.get("data") if isinstance(second, dict) else None
        if not isinstance(rest, list) or not rest or rest[0] != data[1]:
            return differs("offset=1 answers the second record of offset=0", "another record")
    return holds()


def b2b_fields_check(path: str, fields: Mapping[str, str]) -> Check:
    """``fields_check`` for the first page of a B2B list."""

    async def check(probe: Probe) -> Finding:
        if probe.b2b is None:
            return not_checked(probe.b2b_missing)
        body = await probe.b2b_body(path)
        items = body.get("data") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            return not_checked(f"no record on the first page of B2B {path}")
        return _types(items, fields)

    return check


def _types(items: list[Any], fields: Mapping[str, str]) -> Finding:
    wrong: dict[str, str] = {}
    for record in items:
        for name, allowed in fields.items():
            kind = "absent" if name not in record else _json_type(record[name])
            if not _allowed(kind, allowed):
                wrong.setdefault(name, kind)
    if wrong:
        return differs(
            ", ".join(f"{n}: {fields[n]}" for n in wrong),
            ", ".join(f"{n}: {k}" for n, k in wrong.items()),
        )
    return holds()


def _allowed(kind: str, allowed: str) -> bool:
    """``allowed`` is JSON types joined by ``|``; an integer is also a number."""
    kinds = allowed.split("|")
    return kind in kinds or (kind == "integer" and "number" in kinds)


def _json_type(value: Any) -> str:
    return JSON_TYPES.get(type(value), type(value).__name__)


def _shape(body: Any) -> str:
    if isinstance(body, dict):
        return "{" + ", ".join(f"{k}: {_json_type(v)}" for k, v in body.items()) + "}"
    return _json_type(body)


def _trim(text: str) -> str:
    return text if len(text) <= TRIM else text[: TRIM - 1] + "…"
