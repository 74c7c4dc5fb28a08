"""Channels by key, for every kind whose records name a channel (customers, price-list
assignments, shipping methods, pages, widget templates, widgets, placements, custom template
associations).

Channel 1, the default storefront every store has (under the store's own name), is keyed
``default`` whatever it is called, so it matches the other store's channel 1; every other channel
is keyed by its name.

``channels`` is not a kind stagesync moves yet, but it is already read like one: ``read_live``
fetches ``/v3/channels`` once (``fetch``) and puts every channel in the lookup under the kind
name ``channels`` (``remember``), before any kind is identified or normalised. Kinds then turn ids
into keys with ``key_of`` / ``keys_of`` and back with ``id_of`` / ``ids_of``, never fetching
channels themselves. When channels become a kind, this module gains its ``KIND`` and the lookup
is filled the way every other kind's is.
"""

from __future__ import annotations

from collections.abc import Iterable

from stagesync.entities.base import Lookup, Raw, UnresolvedReference
from stagesync.entities.common import unique_by_key
from stagesync.model import EntityKey
from stagesync.ports import StoreApi

NAME = "channels"
"""The kind name channels are kept under in the lookup."""
PATH = "/v3/channels"
DEFAULT = "default"
DEFAULT_ID = 1


async def fetch(api: StoreApi) -> list[Raw]:
    return await api.get_all(PATH)


def channel_key(raw: Raw) -> str:
    return DEFAULT if int(raw["id"]) == DEFAULT_ID else str(raw["name"])


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key(NAME, raws, channel_key)


def remember(lookup: Lookup, raws: list[Raw]) -> None:
    """Put every channel of ``raws`` in ``lookup`` (key <-> id)."""
    for key, raw in identify(raws).items():
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
            f'channel "{key}" does not exist on {lookup.store}. Create it (or rename the '
            "destination's channel to match), then push again.",
            reference=EntityKey(NAME, key),
        )
    return lookup.id_of(NAME, key)


async def ids_of(api: StoreApi, lookup: Lookup, keys: Iterable[str]) -> list[int]:
    return sorted([await id_of(api, lookup, key) for key in keys])
