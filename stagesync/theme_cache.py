"""The themes' download cache: which theme bundle a snapshot holds, so the next pull of the same
store skips downloading bundles that did not change.

Kept in the snapshot as the hidden file ``themes/.platform.json`` (not a record: it names the
store's own theme uuids and dates, which differ between stores and are never compared):
``{"store_hash", "themes": {name: {"uuid", "updated_at", "files_digest"}}}``. A theme is reused
only if the store still lists it with the same uuid and ``updated_at`` and the snapshot's copy
still has the same ``files_digest``; anything else (no cache, another store, an unreadable
snapshot) just means downloading again.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from stagesync.entities import themes
from stagesync.errors import StageSyncError
from stagesync.pull import LiveState
from stagesync.snapshot import read_snapshot

CACHE = "themes/.platform.json"


def previous(directory: Path, store_hash: str) -> themes.Reusable:
    """What the snapshot at ``directory`` holds that a pull of ``store_hash`` may reuse."""
    try:
        cache = orjson.loads((directory / CACHE).read_bytes())
        if cache.get("store_hash") != store_hash:
            return {}
        records = read_snapshot(directory, ["themes"]).records("themes")
    except (OSError, orjson.JSONDecodeError, StageSyncError, AttributeError):
        return {}
    out = {}
    for name, entry in (cache.get("themes") or {}).items():
        record = records.get(name)
        if (
            isinstance(entry, dict)
            and record
            and entry.get("files_digest") == record.get("files_digest")
        ):
            out[name] = (str(entry.get("uuid")), str(entry.get("updated_at")), record)
    return out


def entries(live: LiveState, store_hash: str) -> dict[str, bytes]:
    """The cache file for what was just pulled."""
    found = {
        name: {
            "uuid": raw.get("uuid"),
            "updated_at": raw.get("updated_at"),
            "files_digest": live.records["themes"][name]["files_digest"],
        }
        for name, raw in sorted(live.raws.get("themes", {}).items())
    }
    if not found:
        return {}
    body = {"store_hash": store_hash, "themes": found}
    return {CACHE: orjson.dumps(body, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"}
