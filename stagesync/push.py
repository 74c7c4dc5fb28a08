"""Apply a verified plan to a live store: check every operation's precondition, then run the
operations, each as soon as everything it depends on has been applied.

An operation whose dependency failed is skipped (and says which); independent operations go on.
Nothing here knows HTTP: it writes through ``StoreApi`` and the entity modules.
"""

from __future__ import annotations

import asyncio
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
    """``applied``, ``failed``, ``skipped`` (a dependency did not apply), ``planned`` (dry run),
    ``drifted`` (its precondition failed and ``--allow-drift`` skipped it)."""
    error: str | None = None
    requests: int = 0


def plan_kinds(plan: Plan) -> list[str]:
    kinds = set(plan.kinds) | {op.kind for op in plan.operations}
    return [kind for kind in REGISTRY if kind in kinds]


@dataclass(frozen=True)
class Drift:
    """An operation whose precondition no longer holds on the live destination."""

    operation: Operation
    problem: str

    def __str__(self) -> str:
        return f"{self.operation.kind} {self.operation.key.key}: {self.problem}"


def drift(plan: Plan, live: LiveState) -> list[Drift]:
    """Every operation whose destination entity changed since the plan was made.

    A precondition of None means "must not exist" (a create, and the link step after it);
    otherwise the live record's digest must equal it."""
    drifted = []
    for op in plan.operations:
        current = live.records.get(op.kind, {}).get(op.key.key)
        if op.precondition is None:
            if current is not None:
                drifted.append(Drift(op, "now exists on the destination"))
        elif current is None:
            drifted.append(Drift(op, "no longer exists on the destination"))
        elif digest(current) != op.precondition:
            drifted.append(Drift(op, "changed on the destination"))
    return drifted


def refuse_drift(drifted: list[Drift], store: str) -> PlanRefused:
    lines = list(dict.fromkeys(str(d) for d in drifted))
    listing = "\n".join(f"  - {line}" for line in lines)
    return PlanRefused(
        f"{store} changed after the plan was made, so nothing was written. Drifted "
        f"({len(lines)}):\n{listing}\nPull the destination again and re-run stagesync diff to "
        "make a new plan (or push with --allow-drift to skip only these operations).",
        drifted=lines,
    )


async def apply_plan(
    api: StoreApi,
    plan: Plan,
    *,
    store: str,
    dry_run: bool = False,
    allow_drift: bool = False,
    progress: Progress | None = None,
) -> list[OperationResult]:
    """Check ``plan`` against the live store, then apply it (unless ``dry_run``).

    Drift refuses the whole plan, unless ``allow_drift``: then only the drifted operations are
    skipped (status ``drifted``); operations that depend on them still run."""
    progress = progress or NoProgress()
    live = await read_live(api, plan_kinds(plan), store=store, progress=progress, verb="read")
    drifted = {d.operation.id: d for d in drift(plan, live)}
    if drifted and not allow_drift:
        raise refuse_drift(list(drifted.values()), store)
    if dry_run:
        return [
            OperationResult(op, "drifted", drifted[op.id].problem)
            if op.id in drifted
            else OperationResult(op, "planned")
            for op in plan.operations
        ]

    task = "push"
    progress.start(task, len(plan.operations))
    outcomes: dict[str, asyncio.Task[OperationResult]] = {}

    async def run(op: Operation) -> OperationResult:
        if op.id in drifted:
            progress.advance(task)
            return OperationResult(op, "drifted", f"skipped: {drifted[op.id].problem}")
        for dependency in op.depends_on:
            before = await outcomes[dependency]
            if before.status not in ("applied", "drifted"):
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
    if op.is_link:
        assert op.after is not None and entity.link is not None
        await entity.link(api, key, op.after, live.lookup)
        return
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
