"""Helpers shared by the emulator's v2 domains (customer groups, shipping, orders) and the
per-endpoint concurrency limits of every domain.

v2 lists are bare JSON arrays paged by ``page``/``limit`` (default 50, at most 250); a page past the
end is ``204 No Content``. v2 money is a string with four decimals (``"50.0000"``; a number or a
numeric string is accepted on input) and v2 dates are RFC 2822 (``"Tue, 20 Nov 2012 00:00:00
+0000"``) in and out; a date the emulator keeps is stored as ISO 8601 and only rendered in RFC 2822
(``v2_money``, ``v2_date``, ``v2_date_in``). v2 refuses read-only fields on write with a 400
whose body (rendered by the app) is
``[{"status": 400, "message": "The field 'id' cannot be written to. ..."}]``.
"""

from __future__ import annotations

import math
import re
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, TypeVar

from .errors import ApiError
from .store import Store

V2_DEFAULT_LIMIT = 50
V2_MAX_LIMIT = 250

S = TypeVar("S")


def _int(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise ApiError(400, f"The parameter '{name}' must be an integer.") from None
    if value < 1:
        raise ApiError(400, f"The parameter '{name}' must be at least 1.")
    return value


def v2_page(items: list[Any], query: Mapping[str, str]) -> tuple[int, Any]:
    """(status, body) of one v2 list page: a bare array, or 204 with no body past the end."""
    page = _int(query, "page", 1)
    limit = min(_int(query, "limit", V2_DEFAULT_LIMIT), V2_MAX_LIMIT)
    chunk = items[(page - 1) * limit : page * limit]
    return (200, chunk) if chunk else (204, None)


def v2_money(value: Any) -> str | None:
    """v2 money as the platform answers it: a string with four decimals (``50`` and ``"50"`` ->
    ``"50.0000"``); None stays None; anything else is v2's 400."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ApiError(400, f"'{value}' is not a valid amount.")
    try:
        amount = float(value)
    except ValueError:
        raise ApiError(400, f"'{value}' is not a valid amount.") from None
    if not math.isfinite(amount):
        raise ApiError(400, f"'{value}' is not a valid amount.")
    return f"{amount:.4f}"


def _instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        found = value
    else:
        text = str(value).strip()
        try:
            found = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                found = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def v2_date(value: Any) -> str | None:
    """A stored date (ISO 8601 or RFC 2822) as v2 answers it, RFC 2822 in UTC:
    ``"Tue, 20 Nov 2012 00:00:00 +0000"``; None and ``""`` stay as they are."""
    if value is None or value == "":
        return None if value is None else ""
    found = _instant(value)
    if found is None:
        return str(value)
    return format_datetime(found.astimezone(UTC))


def v2_date_in(value: Any, name: str) -> str:
    """A date a v2 write sends (RFC 2822, as the reference says, or ISO 8601) as the emulator
    stores it (ISO 8601 in UTC); anything else is v2's 400 naming the field."""
    found = _instant(value) if isinstance(value, str) and value.strip() else None
    if found is None:
        raise ApiError(
            400, f"The field '{name}' is invalid: '{value}' is not an RFC 2822 or ISO 8601 date."
        )
    return found.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def refuse_read_only(body: Mapping[str, Any], read_only: Iterable[str]) -> None:
    """v2's answer to a write that names a read-only field."""
    for name in read_only:
        if name in body:
            raise ApiError(
                400,
                f"The field '{name}' cannot be written to. Please remove it from your request "
                "before trying again.",
            )


def too_large(most: int) -> ApiError:
    """The platform's answer to a batch over an endpoint's limit."""
    return ApiError(
        413,
        f"The request payload is too large. The maximum items allowed in the array is {most}.",
    )


def require_object(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, f"The request body must be one {what} (a JSON object).")
    return body


def state_of(
    store: Store, registry: weakref.WeakKeyDictionary[Store, S], make: Callable[[], S]
) -> S:
    """A domain's state for one store, created on first use (keeps ``Store`` itself untouched)."""
    found = registry.get(store)
    if found is None:
        found = make()
        registry[store] = found
    return found


# ---- per-endpoint concurrency limits -----------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    method: str
    pattern: re.Pattern[str]
    limit: int


LIMITS: list[Limit] = []
"""Documented per-endpoint concurrency limits; each domain module adds its own with ``limit``."""


def limit(method: str, template: str, most: int) -> None:
    """At most ``most`` concurrent ``method`` requests per store on each path ``template`` matches
    (a path with an id, e.g. one price list's records, is counted on its own)."""
    regex = re.sub(r"\{(\w+)\}", r"[0-9]+", template)
    LIMITS.append(Limit(method, re.compile(f"^{regex}/?$"), most))


@dataclass
class Gate:
    """Requests in flight per (store, method, path); a request over a limit is answered 429."""

    in_flight: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def enter(self, method: str, path: str) -> tuple[str, str, str] | None | bool:
        """The slot taken (release it with ``leave``), None if no limit applies, False if full."""
        parts = path.split("/", 3)
        if len(parts) < 4 or parts[1] != "stores":
            return None
        rest = "/" + parts[3].rstrip("/")
        for entry in LIMITS:
            if entry.method == method and entry.pattern.match(rest):
                slot = (parts[2], method, rest)
                if self.in_flight.get(slot, 0) >= entry.limit:
                    return False
                self.in_flight[slot] = self.in_flight.get(slot, 0) + 1
                return slot
        return None

    def leave(self, slot: tuple[str, str, str]) -> None:
        self.in_flight[slot] -= 1
        if not self.in_flight[slot]:
            del self.in_flight[slot]
