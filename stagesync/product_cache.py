"""The products' read cache: what an incremental pull of the same store may take from the snapshot
instead of asking the store again (docs/performance.md, "Incremental pull").

Kept in the snapshot as the hidden file ``products/.platform.jsonl`` (not a record: it names the
store's own ids and dates, which differ between stores and are never compared). Its first line is
``{"store_hash", "store_time", "also"}``; every other line is one product as the pull read it
(``products.fetch_pages``: with its variants, options, modifiers, images, videos, custom fields,
complex rules, metafields and the parts in ``also``), in id order. The next pull lists every
product's id and ``date_modified`` (250 a page), re-reads the new ones, the ones whose
``date_modified`` moved and those modified after ``store_time`` minus ``order_cache.OVERLAP``,
and takes the others from here. Anything else about the cache (missing, another store,
unreadable) means reading every product in full.

The reuse rests on the assumptions ``rests_on`` names: each must be promised by the reference
(``relied_on``) or found to hold by the last probe of that store (``stagesync probe ENV``, kept
beside the configuration). The parts whose assumptions are not (``GROUPS``) are read again for
every product, and the pull says which assumptions a probe would need to check.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

import orjson

from stagesync import assumptions, probe
from stagesync.entities import products
from stagesync.order_cache import OVERLAP
from stagesync.pull import LiveState

CACHE = "products/.platform.jsonl"


def rests_on(stock: bool) -> list[str]:
    """The assumptions reusing a product from the earlier pull rests on: its ``date_modified``
    moves when it or any of its sub-resources read with it changes (and its inventory, when
    stock is recorded). Not on channel assignments: the ID listing reads every product's
    channels (``products.ALWAYS_LISTED``)."""
    ids = [assumptions.PRODUCT_DATE_MODIFIED_MOVES_ON_PRODUCT_WRITE]
    ids += [
        assumptions.product_part(part)
        for part in assumptions.PRODUCT_PARTS
        if part != "channel_assignment"
    ]
    if stock:
        ids.append(assumptions.PRODUCT_DATE_MODIFIED_MOVES_ON_INVENTORY_CHANGE)
    ids.append(assumptions.STORE_TIME_IS_THE_DATE_MODIFIED_CLOCK)
    return ids


GROUPS: dict[str, tuple[str, ...]] = {
    "listing": ("variant", "image", "custom_field", "video", "review", "bulk_pricing_rule"),
    "options": ("option", "modifier"),
    "rules": ("complex_rule", "modifier"),
    "metafields": ("metafield",),
}
"""The groups of parts read again for every product (``products.FRESH_PARTS``) and the parts
whose assumptions they rest on (complex rules also on modifiers: deleting a modifier value
deletes the rules naming it)."""


def fresh_groups(missing: list[str]) -> frozenset[str] | None:
    """The groups of ``GROUPS`` to read again for every product when the assumptions
    ``missing`` are not relied on; None when no product can be reused (one the whole reuse rests
    on is missing)."""
    by_part: dict[str, set[str]] = {}
    for group, parts in GROUPS.items():
        for part in parts:
            by_part.setdefault(assumptions.product_part(part), set()).add(group)
    by_part[assumptions.PRODUCT_DATE_MODIFIED_MOVES_ON_INVENTORY_CHANGE] = {"listing"}
    groups: set[str] = set()
    for id in missing:
        if id not in by_part:
            return None
        groups |= by_part[id]
    return None if groups == set(GROUPS) else frozenset(groups)


def unsupported(
    ids: list[str], config_dir: Path | None, environment: str, store_hash: str
) -> list[str]:
    """Of ``ids``, those neither promised by the reference (``relied_on``) nor found to hold by
    the last probe of ``store_hash`` kept beside the configuration (a probe that found one
    ``differs`` outweighs nothing: it is not relied on)."""
    found = probe.last_results(config_dir, environment, store_hash) if config_dir else None
    return [
        i for i in ids if not assumptions.BY_ID[i].relied_on and (found or {}).get(i) != "holds"
    ]


def previous(
    directory: Path, store_hash: str, fresh: frozenset[str] = frozenset()
) -> products.Reusable | None:
    """What the snapshot at ``directory`` lets a pull of ``store_hash`` reuse (``fresh``: the
    groups read again for every product), or None."""
    try:
        with (directory / CACHE).open("rb") as handle:
            header = orjson.loads(handle.readline())
            if header.get("store_hash") != store_hash:
                return None
            since = datetime.fromisoformat(str(header["store_time"])) - OVERLAP
            also = tuple(str(a) for a in header["also"])
            found: dict[int, tuple[dict[str, object], bytes]] = {}
            for line in handle:
                line = line.rstrip(b"\n")
                if line:
                    raw = orjson.loads(line)
                    found[int(raw["id"])] = ({"date_modified": raw.get("date_modified")}, line)
    except (OSError, orjson.JSONDecodeError, AttributeError, KeyError, ValueError, TypeError):
        return None
    if since.tzinfo is None:
        return None
    return products.Reusable(since, also, found, fresh)


def earlier(directory: Path, store_hash: str) -> bool:
    """Whether the snapshot at ``directory`` holds a products' read cache of ``store_hash``."""
    try:
        with (directory / CACHE).open("rb") as handle:
            return bool(orjson.loads(handle.readline()).get("store_hash") == store_hash)
    except (OSError, orjson.JSONDecodeError, AttributeError):
        return False


def entries(
    live: LiveState, seen: products.Seen, store_hash: str, time: datetime
) -> dict[str, bytes | Iterable[bytes]]:
    """The cache file for the products just pulled (none without products), written as it is
    produced: each product as the pull keeps it (``LiveState``), with the parts ``seen`` says
    the part kinds took out of it, one line each in id order."""
    stored = live.stored.get("products")
    if not stored:
        return {}
    header = {"store_hash": store_hash, "store_time": time.isoformat(), "also": list(seen.also)}
    empty = orjson.dumps(dict.fromkeys(seen.also, []))
    by_id = sorted((int(live.lookup.live_id_of("products", key)), key) for key in stored)

    def lines() -> Iterator[bytes]:
        yield orjson.dumps(header, option=orjson.OPT_SORT_KEYS) + b"\n"
        for product_id, key in by_id:
            raw = stored[key]
            parts = seen.parts.get(product_id, empty) if seen.also else b"{}"
            yield raw if parts == b"{}" else raw[:-1] + b"," + parts[1:]
            yield b"\n"

    return {CACHE: lines()}
