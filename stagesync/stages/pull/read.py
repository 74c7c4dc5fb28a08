"""read: open the store, confirm it is the configured one, read the listed kinds."""

from __future__ import annotations

from stagesync import order_cache
from stagesync.entities import orders, products, themes, with_dependencies
from stagesync.errors import StageSyncError
from stagesync.ports import tallying
from stagesync.pull import read_live
from stagesync.stages import need
from stagesync.stages.pull.run import PullRun
from stagesync.stages.store import open_store, stock_settings, store_name


async def read_store(run: PullRun) -> StageSyncError | None:
    """Reads the store's clock (``GET /v2/time``), then the store (its B2B API too for B2B kinds)
    for ``run.listing``'s kinds and the kinds they reference; sets ``run.based_on``, ``run.live``
    and ``run.requests``. Orders the earlier snapshot read and that cannot have changed since are
    completed from its cache (``listing.orders``). Records are normalised later, one at
    a time as they are written (themes whole: their download cache needs the raw objects).
    Refuses when the store answers as another store than the configuration names."""
    listing = need(run.listing)
    env = listing.env
    themes.REUSE.set(listing.reusable)
    tally = run.held.enter_context(tallying())  # from the store check on
    opened = await open_store(run, env, with_dependencies(listing.kinds))
    if isinstance(opened, StageSyncError):
        return opened
    api, b2b_api = opened
    # ASSUMPTION_STORE_TIME_ANSWERS: /v2/time answers, on the clock the store's responses carry.
    began = order_cache.store_time(await api.get("/v2/time"))
    orders.REUSE.set(listing.orders)
    products.REUSE.set(listing.products)
    if "products" in listing.kinds and not run.options.redact:
        run.products_seen = products.Seen()
        products.SEEN.set(run.products_seen)
    since = min(
        (r.since for r in (listing.orders, listing.products) if r is not None), default=None
    )
    run.based_on = {
        "store_time": began.isoformat(),
        "overlap_seconds": int(order_cache.OVERLAP.total_seconds()),
        "changes_since": since.isoformat() if since is not None else None,
    }
    run.live = await read_live(
        api,
        listing.kinds,
        store=store_name(env),
        progress=run.progress,
        channel_names=env.channels,
        keep={"themes": None} if "themes" in listing.kinds else {},
        settings=stock_settings(listing.stock),
    )
    run.retries = dict(tally.retries)
    run.requests = api.requests_made + (b2b_api.requests_made if b2b_api is not None else 0)
    return None
