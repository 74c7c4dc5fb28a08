"""Channels by name, for the content kinds whose records name their channel instead of its id.

The default storefront (channel 1), which every store has under the store's own name, is
recorded as ``null``: it is the same channel on every store whatever it is called.

``channels`` is not a kind of its own yet; its IDs are kept in the lookup slot ``CHANNELS``.
"""

from __future__ import annotations

from stagesync.entities.base import Lookup, Raw
from stagesync.errors import StageSyncError
from stagesync.ports import StoreApi

PATH = "/v3/channels"
CHANNELS = "channel_names"
"""Lookup slot: channel name -> channel id (not a kind of its own)."""
FIELD = "_channel"
"""Set on each raw object by ``annotate``: the name of its ``channel_id``'s channel (None for
the default storefront)."""
DEFAULT = 1


async def names(api: StoreApi) -> dict[int, str]:
    return {int(c["id"]): str(c["name"]) for c in await api.get_all(PATH)}


async def annotate(api: StoreApi, raws: list[Raw]) -> list[Raw]:
    """``raws`` with ``_channel`` set to the name of each one's channel (None: channel 1)."""
    by_id = await names(api) if any(int(r.get("channel_id") or 1) != 1 for r in raws) else {}
    for raw in raws:
        channel = int(raw.get("channel_id") or DEFAULT)
        raw[FIELD] = None if channel == DEFAULT else by_id.get(channel, str(channel))
    return raws


async def channel_id(api: StoreApi, lookup: Lookup, name: str | None) -> int:
    """The id of the channel called ``name`` on the destination (None: the default channel)."""
    if name is None:
        return DEFAULT
    if not lookup.has(CHANNELS, name):
        for cid, cname in (await names(api)).items():
            if not lookup.has(CHANNELS, cname):
                lookup.add(CHANNELS, cname, cid)
    if not lookup.has(CHANNELS, name):
        raise StageSyncError(
            f'channel "{name}" does not exist on {lookup.store}. Create it (or rename the '
            f"destination's channel to match), then push again."
        )
    return lookup.id_of(CHANNELS, name)
