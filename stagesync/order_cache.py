"""The orders' read cache: what an incremental pull of the same store may take from the snapshot
instead of asking the store again (docs/performance.md, "Incremental pull").

Kept in the snapshot as the hidden file ``orders/.platform.json`` (not a record: it names the
store's own order ids and dates, which differ between stores and are never compared):
``{"store_hash", "store_time", "orders": {id: {"date_modified", "_products", "_coupons"}}}``.
``store_time`` is the store's own clock (``GET /v2/time``) when that pull began. The next pull
re-reads every order modified after ``store_time`` minus ``OVERLAP`` and every order whose
``date_modified`` differs from the cached one; anything else about the cache (missing, another
store, unreadable) just means reading every order in full.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from stagesync.entities import orders
from stagesync.pull import LiveState

CACHE = "orders/.platform.json"
OVERLAP = timedelta(minutes=5)
"""How far before the earlier pull's store time changes are looked for again: covers writes that
landed in the same second as that time, and clock skew between the platform's servers
(``ASSUMPTION_STORE_TIME_IS_THE_DATE_MODIFIED_CLOCK``)."""


def previous(directory: Path, store_hash: str) -> orders.Reusable | None:
    """What the snapshot at ``directory`` lets a pull of ``store_hash`` reuse, or None."""
    try:
        cache = orjson.loads((directory / CACHE).read_bytes())
        if cache.get("store_hash") != store_hash:
            return None
        since = datetime.fromisoformat(str(cache["store_time"])) - OVERLAP
        details = cache["orders"]
    except (OSError, orjson.JSONDecodeError, AttributeError, KeyError, ValueError, TypeError):
        return None
    if not isinstance(details, dict) or since.tzinfo is None:
        return None
    usable = {
        str(key): entry
        for key, entry in details.items()
        if isinstance(entry, dict) and all(isinstance(entry.get(n), list) for n in orders.REUSED)
    }
    return orders.Reusable(since, usable)


def store_time(answer: object) -> datetime:
    """The instant ``GET /v2/time`` answered (``{"time": <Unix seconds>}``)."""
    seconds = answer.get("time") if isinstance(answer, dict) else None
    if not isinstance(seconds, int) or isinstance(seconds, bool):
        raise ValueError(f"GET /v2/time answered {answer!r}, not {{'time': <Unix seconds>}}")
    return datetime.fromtimestamp(seconds, UTC)


def entries(live: LiveState, store_hash: str, time: datetime) -> dict[str, bytes]:
    """The cache file for the orders just pulled (none without orders)."""
    found = {}
    for raw in live.iter_raws("orders"):
        found[str(raw["id"])] = {
            "date_modified": raw.get("date_modified"),
            **{name: raw.get(name) or [] for name in orders.REUSED},
        }
    if not found:
        return {}
    body = {"store_hash": store_hash, "store_time": time.isoformat(), "orders": found}
    return {CACHE: orjson.dumps(body, option=orjson.OPT_SORT_KEYS) + b"\n"}
