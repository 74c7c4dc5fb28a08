"""Apply a verified plan to a live store: check every operation's precondition, then run the
operations, each as soon as everything it depends on has been applied.

An operation whose dependency failed is skipped (and says which); independent operations go on.
Nothing here knows HTTP: it writes through ``StoreApi`` and the entity modules.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from stagesync.entities import REGISTRY
from stagesync.errors import PlanRefused, StageSyncError
from stagesync.model import Action, Operation, Plan, digest
from stagesync.ports import NoProgress, Progress, StoreApi
from stagesync.pull import LiveState, read_live


@dataclass(frozen=True)
class OperationResult:
    """What happened to one operation."""

    operation: Operation
    status: str
    """``applied``, ``failed``, ``skipped`` (a dependency did not apply), ``planned`` (dry run)."""
    error: str | None = None
    requests: int = 0


def plan_kinds(plan: Plan) -> list[str]:
    kinds = set(plan.kinds) | {op.kind for op in plan.operations}
    return [kind for kind in REGISTRY if kind in kinds]


def drift(plan: Plan, live: LiveState) -> list[str]:
    """Every operation whose destination entity changed since the plan was made, one line each."""
    drifted = []
    for op in plan.operations:
        current = live.records.get(op.kind, {}).get(op.key.key)
        if op.action is Action.CREATE:
            if current is not None:
                drifted.append(f"{op.kind} {op.key.key}: now exists on the destination")
        elif current is None:
            drifted.append(f"{op.kind} {op.key.key}: no longer exists on the destination")
        elif digest(current) != op.precondition:
            drifted.append(f"{op.kind} {op.key.key}: changed on the destination")
    return drifted


async def apply_plan(
    api: StoreApi,
    plan: Plan,
    *,
    store: str,
    dry_run: bool = False,
    progress: Progress | None = None,
    settings: Mapping[str, str] | None = None,
) -> list[OperationResult]:
    """Check ``plan`` against the live store, then apply it (unless ``dry_run``). ``settings``
    reach the entity writes through the lookup (``order_status``)."""
    progress = progress or NoProgress()
    live = await read_live(api, plan_kinds(plan), store=store, progress=progress, verb="read")
    live.lookup.settings.update(settings or {})
    drifted = drift(plan, live)
    if drifted:
        listing = "\n".join(f"  - {line}" for line in drifted)
        raise PlanRefused(
            f"{store} changed after the plan was made, so nothing was written. Drifted:\n"
            f"{listing}\nPull the destination again and re-run stagesync diff to make a new plan.",
            drifted=drifted,
        )
    if dry_run:
        return [OperationResult(op, "planned") for op in plan.operations]

    task = "push"
    progress.start(task, len(plan.operations))
    outcomes: dict[str, asyncio.Task[OperationResult]] = {}

    async def run(op: Operation) -> OperationResult:
        for dependency in op.depends_on:
            before = await outcomes[dependency]
            if before.status != "applied":
                progress.advance(task)
                why = f"skipped: {before.operation.describe()} did not apply"
                return OperationResult(op, "skipped", why)
        try:
            await apply_one(api, op, live)
        except StageSyncError as error:
            return OperationResult(op, "failed", str(error))
        finally:
            progress.advance(task)
        return OperationResult(op, "applied")

    for op in plan.operations:
        outcomes[op.id] = asyncio.create_task(run(op))
    results = [await outcomes[op.id] for op in plan.operations]
    progress.finish(task)
    return results


async def apply_one(api: StoreApi, op: Operation, live: LiveState) -> None:
    entity = REGISTRY[op.kind]
    key = op.key.key
    if op.action in (Action.DELETE, Action.REPLACE):
        await entity.delete(api, key, live.raws[op.kind][key], live.lookup)
        live.lookup.remove(op.kind, key)
    if op.action in (Action.CREATE, Action.REPLACE):
        assert op.after is not None
        new_id = await entity.create(api, key, op.after, live.lookup)
        live.lookup.add(op.kind, key, new_id)
    elif op.action is Action.UPDATE:
        assert op.after is not None
        await entity.update(api, key, op.after, live.raws[op.kind][key], live.lookup)
