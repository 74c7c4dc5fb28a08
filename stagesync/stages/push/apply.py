"""apply: write the plan's operations (or, in a dry run, say what would be written)."""

from __future__ import annotations

from stagesync.errors import StageSyncError
from stagesync.ports import NoProgress
from stagesync.push import Applied, planned_results, run_operations
from stagesync.stages import need
from stagesync.stages.push.run import PushRun


async def apply(run: PushRun) -> StageSyncError | None:
    """Reads the plan, ``run.live``, ``run.drifted`` and ``run.previous``; writes every
    operation through ``run.session``, journaling each; sets ``run.applied``. Never refuses:
    an operation that fails is a result."""
    target = need(run.target)
    run.applied = await run_operations(
        need(run.session).api,
        target.plan,
        need(run.live),
        progress=run.progress or NoProgress(),
        concurrency=run.options.concurrency,
        journal=run.journal,
        previous=run.previous,
        drifted=run.drifted,
    )
    return None


async def preview(run: PushRun) -> StageSyncError | None:
    """A dry run's apply: sets ``run.applied`` to every operation ``planned`` (or ``drifted``)."""
    run.applied = Applied(planned_results(need(run.target).plan, run.drifted))
    return None
