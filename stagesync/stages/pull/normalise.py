"""normalise: the store's raw objects as ID-free records, redacted when asked."""

from __future__ import annotations

from datetime import datetime

from stagesync import order_cache, product_cache, theme_cache
from stagesync.entities import REGISTRY
from stagesync.errors import StageSyncError
from stagesync.model import Snapshot
from stagesync.pull import LiveState
from stagesync.redact import redact_snapshot
from stagesync.snapshot import StreamedKind, StreamedSnapshot
from stagesync.stages import need
from stagesync.stages.pull.run import PullRun
from stagesync.stages.store import now


async def normalise(run: PullRun) -> StageSyncError | None:
    """Reads ``run.live``; sets ``run.snapshot`` (streamed: each record is normalised as it is
    written; with ``--redact``, whole, personal data replaced by stable pseudonyms),
    ``run.counts`` and ``run.extras`` (the themes' download cache, the orders' read cache unless
    redacted). Never refuses."""
    listing, live = need(run.listing), need(run.live)
    env, kinds = listing.env, listing.kinds
    pulled_at = now()
    if run.options.redact:
        whole = Snapshot(live.kinds(), run.environment, env.store_hash, pulled_at, listing.stock)
        run.snapshot = redact_snapshot(whole, REGISTRY)
        run.counts = {kind: len(run.snapshot.records(kind)) for kind in kinds}
    else:
        streams = {kind: _stream(live, kind) for kind in kinds}
        run.snapshot = StreamedSnapshot(
            streams, run.environment, env.store_hash, pulled_at, listing.stock
        )
        run.counts = {kind: len(stream.keys) for kind, stream in streams.items()}
    run.extras = {}
    if "themes" in kinds:
        run.extras.update(theme_cache.entries(live, env.store_hash))
    if "orders" in kinds and not run.options.redact:
        began = datetime.fromisoformat(run.based_on["store_time"])
        run.extras.update(order_cache.entries(live, env.store_hash, began))
    if run.products_seen is not None:
        began = datetime.fromisoformat(run.based_on["store_time"])
        run.extras.update(product_cache.entries(live, run.products_seen, env.store_hash, began))
    return None


def _stream(live: LiveState, kind: str) -> StreamedKind:
    return StreamedKind(live.keys(kind), lambda: live.iter_records(kind))
