"""bind: the plan file, its digest and the destination store it may be pushed to."""

from __future__ import annotations

from stagesync import b2b, planfile
from stagesync.config import load_config
from stagesync.entities import with_dependencies
from stagesync.errors import PlanRefused, StageSyncError
from stagesync.policy.rules import BY_ID
from stagesync.stages.push.run import ORDER_STATUSES, PushRun, Target
from stagesync.stages.store import stock_settings


async def bind(run: PushRun) -> StageSyncError | None:
    """Reads the plan file (format, version, digest), the configuration and the options; sets
    ``run.target``. Refuses an unreadable or edited plan, a plan without or for another
    destination store, an unknown environment, bad options, and B2B kinds without a connection."""
    try:
        bound = _bind(run)
    except StageSyncError as refused:
        return refused
    if isinstance(bound, StageSyncError):
        return bound
    run.target = bound
    return None


def _bind(run: PushRun) -> Target | StageSyncError:
    options, plan_path = run.options, run.plan_path
    if options.order_status not in ORDER_STATUSES:
        return StageSyncError(
            f"--order-status must be one of {', '.join(ORDER_STATUSES)}, "
            f"not {options.order_status!r}."
        )
    plan = planfile.read_plan(plan_path)
    config = load_config(run.config_path)
    name = options.to or plan.destination.environment
    if name is None:
        return PlanRefused(f"{plan_path} does not name its destination environment; pass --to ENV.")
    env = config.environment(name)
    if not plan.destination.store_hash:
        return PlanRefused(
            f"{plan_path} does not record its destination store, so it cannot be checked "
            "against one; nothing was written. Pull the destination and re-run stagesync diff."
        )
    if env.store_hash != plan.destination.store_hash:
        return PlanRefused(
            f"{plan_path} was made for store {plan.destination.store_hash}, but environment "
            f"'{env.name}' is store {env.store_hash}; nothing was written. Push it to the store "
            "it was made for, or make a new plan against this one."
        )
    if options.concurrency < 1:
        return StageSyncError(f"--concurrency must be at least 1, got {options.concurrency}.")
    for rule, reason in options.overrides:
        if rule not in BY_ID:
            return StageSyncError(
                f"--override {rule}: no policy rule has that id. Rules: {', '.join(BY_ID)}."
            )
        if not reason.strip():
            return StageSyncError(f"--override {rule} needs a --reason saying why, on the record.")
    # Every kind push reads (``push.plan_kinds``), not only those it writes: a plan over all
    # kinds reads the B2B ones even when it changes none of them.
    kinds = with_dependencies({*plan.kinds, *(op.kind for op in plan.operations)})
    if b2b.b2b_kinds(kinds):
        b2b.require_connection(env, kinds)
    settings = {"order_status": options.order_status, **stock_settings(plan.stock)}
    theme, _, variation = (options.activate or "").partition(":")
    if options.activate is not None and not theme:
        return StageSyncError('--activate needs a theme name: "THEME" or "THEME:VARIATION".')
    return Target(plan, env, kinds, settings, theme, variation or None)
