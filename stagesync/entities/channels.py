"""Channels, keyed by name (``/v3/channels``); the kind every record naming a channel refers to
(customers, price-list assignments, shipping methods, promotions, pages, widget templates,
widgets, placements, custom template associations, categories of other channels' trees, product
locales).

Channel 1, the default storefront every store has (under the store's own name), is keyed
``default`` whatever it is called, so it matches the other store's channel 1; every other channel
is keyed by its name, or by the key ``[environments.NAME.channels]`` maps to its name
(``uk = "uk-staging"``: the store's channel ``uk-staging`` is keyed ``uk``), so two stores whose
channels are named differently still line up. The map reaches this module through
``Lookup.channel_names``.

Kinds turn ids into keys with ``key_of`` / ``keys_of`` and back with ``id_of`` / ``ids_of``, never
fetching channels themselves: ``read_live`` reads channels like any other kind, before the kinds
that need them. Push creates or updates channels only when the plan selects the ``channels`` kind
(``stagesync.plan`` never brings them along); the platform cannot delete a channel.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from stagesync.entities.base import EntityKind, Lookup, Raw, UnresolvedReference
from stagesync.entities.common import unique_by_key, without
from stagesync.errors import StageSyncError
from stagesync.model import EntityKey, Record
from stagesync.ports import StoreApi

NAME = "channels"
"""The kind name channels are kept under in the lookup."""
PATH = "/v3/channels"
DEFAULT = "default"
DEFAULT_ID = 1


async def fetch(api: StoreApi) -> list[Raw]:
    return await api.get_all(PATH)


READ_ONLY = ("id", "name", "date_created", "date_modified", "icon_url", "is_enabled")
"""``name`` is the key (or mapped to it); ``is_enabled`` is deprecated and follows ``status``;
``icon_url`` is the platform's."""
WRITABLE = ("external_id", "status", "is_listable_from_ui", "is_visible")
"""What ``PUT /v3/channels/{id}`` changes; ``type`` and ``platform`` are fixed at creation."""
FIXED = ("type", "platform")


def channel_key(raw: Raw, names: Mapping[str, str] | None = None) -> str:
    """The key of a raw channel: ``default`` for channel 1, else the key ``names`` (key -> name
    on this store) maps its name to, else its name."""
    if int(raw["id"]) == DEFAULT_ID:
        return DEFAULT
    name = str(raw["name"])
    for key, mapped in (names or {}).items():
        if mapped == name:
            return key
    return name


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key(NAME, raws, channel_key)


def identify_with(raws: list[Raw], lookup: Lookup) -> dict[str, Raw]:
    names = lookup.channel_names
    return unique_by_key(NAME, raws, lambda raw: channel_key(raw, names))


def name_on_store(lookup: Lookup, key: str) -> str:
    """The name channel ``key`` has (or gets) on ``lookup``'s store."""
    return lookup.channel_names.get(key, key)


def remember(lookup: Lookup, raws: list[Raw]) -> None:
    """Put every channel of ``raws`` in ``lookup`` (key <-> id)."""
    for key, raw in identify_with(raws, lookup).items():
        lookup.add(NAME, key, int(raw["id"]))


async def ensure(api: StoreApi, lookup: Lookup) -> None:
    """Fill ``lookup`` with the store's channels unless a live read already did (every store
    has channel 1, so a filled lookup is never empty)."""
    if not lookup.ids(NAME):
        remember(lookup, await fetch(api))


def key_of(lookup: Lookup, channel_id: object) -> str:
    """The key of channel ``channel_id`` (missing: the default storefront). A channel the store
    does not list is kept as ``#id``, which a push then reports as missing."""
    live_id = int(str(channel_id)) if channel_id else DEFAULT_ID
    try:
        return lookup.key_of(NAME, live_id)
    except UnresolvedReference:
        return DEFAULT if live_id == DEFAULT_ID else f"#{live_id}"


def keys_of(lookup: Lookup, ids: Iterable[object]) -> list[str]:
    return sorted(key_of(lookup, i) for i in ids)


async def id_of(api: StoreApi, lookup: Lookup, key: str | None) -> int:
    """The destination's id of channel ``key`` (None: the default storefront)."""
    if key is None or key == DEFAULT:
        return DEFAULT_ID
    await ensure(api, lookup)
    if not lookup.has(NAME, key):
        raise UnresolvedReference(
            f'channel "{key}" does not exist on {lookup.store}. {how_to_map(key)}',
            reference=EntityKey(NAME, key),
        )
    return lookup.id_of(NAME, key)


async def ids_of(api: StoreApi, lookup: Lookup, keys: Iterable[str]) -> list[int]:
    return sorted([await id_of(api, lookup, key) for key in keys])


def how_to_map(key: str, environment: str = "NAME") -> str:
    """What to do about a channel key the destination does not resolve."""
    return (
        f"Map it to one of its channels in stagesync.toml ([environments.{environment}.channels] "
        f'{_toml_key(key)} = "<channel name there>"), or select channels (--kinds channels,...) '
        "so the plan creates it."
    )


def _toml_key(key: str) -> str:
    return key if key.replace("-", "").replace("_", "").isalnum() else f'"{key}"'


# ---- the kind --------------------------------------------------------------------------------


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    return without(raw, READ_ONLY)


def no_references(key: str, record: Record) -> Iterable[EntityKey]:
    return ()


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    if key == DEFAULT:
        raise StageSyncError(
            f"{lookup.store} has no channel 1 (the default storefront), which every store has. "
            "Check the store hash in stagesync.toml."
        )
    body = {**record, "name": name_on_store(lookup, key)}
    created = await api.post(PATH, body, entity=f"channel {key}")
    return int(created["id"])


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    fixed = [f for f in FIXED if f in record and record[f] != live.get(f)]
    if fixed:
        raise StageSyncError(
            f"channel {key}: the platform cannot change a channel's {' or '.join(fixed)} "
            f"({', '.join(f'{live.get(f)} -> {record[f]}' for f in fixed)}). Create a new "
            "channel under another name instead."
        )
    body = {name: value for name, value in record.items() if name not in FIXED}
    await api.put(f"{PATH}/{live['id']}", body, entity=f"channel {key}")


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    raise StageSyncError(
        f"channel {key}: the platform cannot delete channels. Set its status to archived on the "
        "source (or in the control panel) instead, then plan again without --prune for channels."
    )


def warnings(key: str, after: Record, before: Record | None) -> list[str]:
    if before is None:
        return []
    fixed = [f for f in FIXED if after.get(f) != before.get(f)]
    if not fixed:
        return []
    return [
        f"channel {key}: {' and '.join(fixed)} cannot change on the platform; this update will "
        "fail. Create a channel under another name instead."
    ]


KIND = EntityKind(
    name=NAME,
    singular="channel",
    display_name="Channels",
    fetch=fetch,
    identify=identify,
    identify_with=identify_with,
    live_id=lambda raw: int(raw["id"]),
    normalise=normalise,
    references=no_references,
    create=create,
    update=update,
    delete=delete,
    warnings=warnings,
)
