"""read: open the store, confirm it is the configured one, read the listed kinds."""

from __future__ import annotations

from stagesync import b2b
from stagesync.entities import themes, with_dependencies
from stagesync.errors import StageSyncError
from stagesync.pull import read_live
from stagesync.stages import need
from stagesync.stages.pull.run import PullRun
from stagesync.stages.store import stock_settings, store_name, wrong_store


async def read_store(run: PullRun) -> StageSyncError | None:
    """Reads the store (its B2B API too for B2B kinds) for ``run.listing``'s kinds and the kinds
    they reference; sets ``run.live`` and ``run.requests``. Records are normalised later, one at
    a time as they are written (themes whole: their download cache needs the raw objects).
    Refuses when the store answers as another store than the configuration names."""
    listing = need(run.listing)
    env = listing.env
    themes.REUSE.set(listing.reusable)
    needed = with_dependencies(listing.kinds)
    api = await run.held.enter_async_context(run.connector(env))
    b2b_api = await run.held.enter_async_context(b2b.session(env, needed, run.b2b_factory))
    refused = await wrong_store(api, env)
    if refused is not None:
        return refused
    run.live = await read_live(
        api,
        listing.kinds,
        store=store_name(env),
        progress=run.progress,
        channel_names=env.channels,
        keep={"themes": None} if "themes" in listing.kinds else {},
        settings=stock_settings(listing.stock),
    )
    run.requests = api.requests_made + (b2b_api.requests_made if b2b_api is not None else 0)
    return None
