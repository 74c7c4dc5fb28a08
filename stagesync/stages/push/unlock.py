"""unlock: release the store's push lock once the writes are over."""

from __future__ import annotations

from stagesync.errors import StageSyncError
from stagesync.stages.push.run import PushRun


async def unlock(run: PushRun) -> StageSyncError | None:
    """Deletes the lock ``lock`` claimed on the store (before ``record`` counts the requests, so
    the result counts this one too). A run that stops earlier releases it as it ends. Never
    refuses."""
    if run.lock is not None:
        await run.lock.release()
    return None
