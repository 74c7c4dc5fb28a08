"""The one form a snapshot gives v2 money and v2 dates, whatever form a store answered them in.

v2 answers money as a string with four decimals (``"50.0000"``) and dates in RFC 2822
(``"Tue, 20 Nov 2012 00:00:00 +0000"``), but stores (and older emulators) have also answered
numbers and ISO 8601. A snapshot holds money as the four-decimal string and a date as ISO 8601 in
UTC (``2012-11-20T00:00:00+00:00``), so the same store state always writes the same bytes. A value
that cannot be read as money or a date is kept as it is: nothing is rounded away or dropped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

_AMOUNT = re.compile(r"\s*-?\d+(\.\d*)?\s*")


def money(value: Any) -> Any:
    """``50``, ``50.0``, ``"50"``, ``"50.0000"`` -> ``"50.0000"``; a value with more than four
    significant decimals, or not a number, is kept as it is."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        amount = float(value)
    elif isinstance(value, str) and _AMOUNT.fullmatch(value):
        amount = float(value)
    else:
        return value
    if not math.isfinite(amount) or round(amount, 4) != amount:
        return value
    return f"{amount:.4f}"


def instant(value: Any) -> datetime | None:
    """A date in RFC 2822 or ISO 8601 as an aware instant (UTC when it names no offset); None
    when it is neither."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            found = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def date(value: Any) -> Any:
    """A v2 date as a snapshot holds it: ISO 8601 in UTC; kept as it is when unreadable."""
    found = instant(value)
    if found is None:
        return value
    return found.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def rfc2822(value: Any) -> Any:
    """A snapshot's date as v2 takes it in a write (RFC 2822); kept as it is when unreadable."""
    found = instant(value)
    return value if found is None else format_datetime(found.astimezone(UTC))


def amounts(record: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """``record`` with each of ``names`` it holds in the one money form."""
    return {k: money(v) if k in names else v for k, v in record.items()}


def settings_money(record: dict[str, Any], fields: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    """``record`` with the money inside its settings objects (``fields``: object -> amounts) in
    the one money form."""
    out = dict(record)
    for name, names in fields.items():
        if isinstance(out.get(name), dict):
            out[name] = amounts(out[name], names)
    return out
