"""write: the snapshot folder, swapped in whole."""

from __future__ import annotations

from stagesync.errors import StageSyncError
from stagesync.snapshot import write_snapshot
from stagesync.stages import need
from stagesync.stages.pull.run import PullResult, PullRun


async def write(run: PullRun) -> StageSyncError | None:
    """Reads ``run.snapshot`` and ``run.extras``; writes the snapshot folder atomically (a
    failed write leaves the earlier snapshot as it was); sets ``run.result``. Never refuses."""
    listing = need(run.listing)
    assert run.snapshot is not None, "normalise runs first"
    write_snapshot(
        listing.directory,
        run.snapshot,
        kinds=listing.kinds,
        extras=run.extras,
        based_on=run.based_on or None,
    )
    run.result = PullResult(
        listing.directory,
        run.environment,
        listing.env.store_hash,
        run.counts,
        run.requests,
        run.retries,
        (*listing.notes, *(run.live.lookup.gone if run.live else ())),
    )
    return None
