"""check: the plan's preconditions against what the destination holds now."""

from __future__ import annotations

from stagesync.errors import PlanRefused, StageSyncError
from stagesync.push import check_drift
from stagesync.stages import need
from stagesync.stages.push.run import PushRun
from stagesync.stages.store import store_name


async def check(run: PushRun) -> StageSyncError | None:
    """Reads the plan and ``run.live``; sets ``run.drifted``. Refuses when an operation's
    precondition no longer holds (drift), listing every one, unless ``--allow-drift`` (then
    only those are skipped). A resumed push reconciles each operation with the store instead."""
    target = need(run.target)
    drifted = check_drift(
        target.plan,
        need(run.live),
        store=store_name(target.env),
        allow_drift=run.options.allow_drift,
        resuming=run.previous is not None,
    )
    if isinstance(drifted, PlanRefused):
        return drifted
    run.drifted = drifted
    return None
