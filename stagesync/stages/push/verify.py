"""verify: with ``--verify``, re-read the destination and compare it with the plan."""

from __future__ import annotations

from stagesync.errors import StageSyncError
from stagesync.push import verify_results
from stagesync.stages import need
from stagesync.stages.push.run import PushRun
from stagesync.stages.store import store_name


async def verify(run: PushRun) -> StageSyncError | None:
    """Reads the store again (only with ``--verify``); every done operation whose entity differs
    from the plan becomes ``failed`` in ``run.applied``. Never refuses."""
    if not run.options.verify:
        return None
    target, applied = need(run.target), need(run.applied)
    applied.results = await verify_results(
        need(run.session).api,
        target.plan,
        applied.results,
        store=store_name(target.env),
        progress=run.progress,
        channel_names=target.env.channels,
        settings=target.settings,
    )
    return None
