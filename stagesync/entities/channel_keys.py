"""Channels by name, for kinds that reference them (customers, price-list assignments, shipping
methods). Channel 1, the default storefront every store has, is keyed ``default`` whatever it is
called, so it matches the other store's channel 1; every other channel by its name."""

from __future__ import annotations

from collections.abc import Iterable

from stagesync.entities.base import Lookup
from stagesync.errors import StageSyncError
from stagesync.ports import StoreApi

DEFAULT = "default"
SLOT = "channel_keys"
"""Lookup slot holding channel ids by key (channels are not a kind of their own yet)."""


async def channel_keys(api: StoreApi) -> dict[int, str]:
    """Channel id -> key, for one store."""
    out: dict[int, str] = {}
    for raw in await api.get_all("/v3/channels"):
        channel_id = int(raw["id"])
        key = DEFAULT if channel_id == 1 else str(raw["name"])
        if key in out.values():
            raise StageSyncError(
                f'two channels are keyed "{key}" on the store: stagesync names channels by name '
                '(channel 1 is "default"). Rename one of them, then try again.'
            )
        out[channel_id] = key
    return out


def keys_of(ids: Iterable[int], names: dict[int, str]) -> list[str]:
    return sorted(names.get(int(i), f"#{i}") for i in ids)


async def ids_of(api: StoreApi, lookup: Lookup, keys: Iterable[str]) -> list[int]:
    """Live channel ids of ``keys`` on the push's destination (loaded once)."""
    if not lookup.ids(SLOT):
        for channel_id, key in (await channel_keys(api)).items():
            lookup.add(SLOT, key, channel_id)
    return sorted(lookup.id_of(SLOT, key) for key in keys)
