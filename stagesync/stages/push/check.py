"""check: the plan's preconditions and the policy rules against what the destination holds now."""

from __future__ import annotations

from stagesync.entities import REGISTRY
from stagesync.errors import PlanRefused, StageSyncError
from stagesync.push import check_drift
from stagesync.stages import need
from stagesync.stages.plan.guard import refuse_pseudonyms
from stagesync.stages.plan.merge import refuse_conflicts
from stagesync.stages.push.policy import check_policy
from stagesync.stages.push.run import PushRun
from stagesync.stages.store import store_name


async def check(run: PushRun) -> StageSyncError | None:
    """Reads the plan and ``run.live``; sets ``run.drifted``. Refuses a plan with unresolved
    conflicts (``refuse_conflicts``: changed on both sides since the base), when the destination's
    role is production and the plan writes pseudonymised people or deletes real ones its source
    holds only pseudonyms for (``refuse_pseudonyms``: a plan edited by hand), and when an
    operation's precondition no longer holds (drift), listing every one, unless
    ``--allow-drift`` (then only those are skipped). A resumed push reconciles each operation
    with the store instead. Then the policy rules, against what was read: refuses on an
    error-level finding no ``--override`` accepts (``check_policy``)."""
    target = need(run.target)
    conflicted = refuse_conflicts(target.plan, store_name(target.env))
    if conflicted is not None:
        return conflicted
    guarded = refuse_pseudonyms(
        target.plan, need(run.live), REGISTRY, role=target.env.role, store=store_name(target.env)
    )
    if guarded is not None:
        return guarded
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
    return check_policy(run)
