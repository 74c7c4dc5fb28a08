"""Small pieces every entity module uses: dropping fields, keying lists, syncing child lists."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from stagesync.entities.base import Raw
from stagesync.errors import StageSyncError
from stagesync.model import Record, digest

T = TypeVar("T")


def chunked(items: Sequence[T], size: int) -> list[list[T]]:
    """Consecutive lists of at most ``size`` items (a batch endpoint's limit)."""
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, got {size}")
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


class DuplicateKey(StageSyncError):
    """Two live objects of one kind share a natural key, so neither can be addressed by it."""


def without(obj: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """A copy of ``obj`` minus ``fields`` (read-only, ID or separately handled fields)."""
    drop = set(fields)
    return {name: value for name, value in obj.items() if name not in drop}


def unique_by_key(
    kind: str, raws: Iterable[Raw], key_of: Callable[[Raw], str], store: str = "the store"
) -> dict[str, Raw]:
    """Key -> raw object; a duplicate key is an error naming both objects."""
    out: dict[str, Raw] = {}
    for raw in raws:
        key = key_of(raw)
        if key in out:
            raise DuplicateKey(
                f'{kind} "{key}" appears twice on {store} (ids {out[key].get("id")} and '
                f"{raw.get('id')}): stagesync addresses {kind} by this key, so it must be unique. "
                f"Rename one of them in the store, then pull again."
            )
        out[key] = raw
    return out


async def sync_children(
    desired: Mapping[str, Record],
    live: Mapping[str, tuple[int, Record]],
    *,
    create: Callable[[str, Record], Awaitable[None]],
    update: Callable[[int, str, Record], Awaitable[None]],
    delete: Callable[[int, str], Awaitable[None]],
) -> None:
    """Make a live child list (id, normalised record by key) match ``desired`` with the fewest
    writes: delete what is gone, update what differs, create what is new, in that order (so a
    freed unique value can be reused)."""
    for key in sorted(set(live) - set(desired)):
        await delete(live[key][0], key)
    for key in sorted(set(desired) & set(live)):
        live_id, live_record = live[key]
        if digest(live_record) != digest(desired[key]):
            await update(live_id, key, desired[key])
    for key in sorted(set(desired) - set(live)):
        await create(key, desired[key])
