"""record: the journal's last line, the rollback plan and the push result
(``<plan>.result.json``)."""

from __future__ import annotations

import time
from pathlib import Path

from stagesync import planfile
from stagesync.bases import destination_snapshot, record_base
from stagesync.errors import StageSyncError
from stagesync.files import write_atomic_chunks
from stagesync.journal import journal_path, read_journal
from stagesync.model import Plan
from stagesync.result import result_body, result_chunks
from stagesync.rollback import rollback_plan
from stagesync.stages import need
from stagesync.stages.push.policy import policy_record
from stagesync.stages.push.run import PushRun
from stagesync.stages.store import now


async def record(run: PushRun) -> StageSyncError | None:
    """Reads ``run.applied`` and the journal; writes the journal's ``end`` line, the rollback
    plan (``rollback_path``) and ``<plan>.result.json``; sets ``run.rollback``,
    ``run.result_json`` and ``run.duration_ms``. When every operation was done, records the
    destination's base (``stagesync.bases``) from its snapshot ``snapshots/<env>`` (in the
    current folder, else beside the configuration or the plan) and sets
    ``run.base``. Never refuses."""
    target, session, applied = need(run.target), need(run.session), need(run.applied)
    need(run.journal).write_now({"event": "end", "finished_at": now()})
    close_journal(run)
    run.duration_ms = int((time.monotonic() - run.clock) * 1000)
    run.result_json = result_file(run.plan_path, ".result.json")
    if all(r.status == "done" for r in applied.results):
        run.base = record_base(
            destination_snapshot(
                target.env.name, Path(target.env.source).parent, run.plan_path.parent
            ),
            target.plan,
            [r.operation.id for r in applied.results],
            need(run.live).records,
            now(),
        )
    body = result_body(
        target.plan,
        applied.results,
        plan_file=str(run.plan_path),
        plan_digest=target.digest,
        environment=target.env.name,
        store_hash=target.env.store_hash,
        started_at=run.started,
        finished_at=now(),
        duration_ms=run.duration_ms,
        requests=session.requests,
        throttled=session.tally.throttled,
        retries=session.tally.retries,
        concurrency=run.options.concurrency,
        resumed=run.previous is not None,
        verified=run.options.verify,
        journal=str(journal_path(run.plan_path)),
        rollback_plan=str(run.rollback) if run.rollback else None,
        policy=policy_record(run.findings, run.options.overrides)
        if run.findings or run.options.overrides
        else None,
        lazy=True,
        base=str(run.base) if isinstance(run.base, Path) else None,
    )
    write_atomic_chunks(run.result_json, result_chunks(body))
    return None


def close_journal(run: PushRun) -> None:
    """Close the run's journal (marking a refused run, which wrote nothing, as not counting) and
    write the rollback plan of what it records as done. Runs however the run ends."""
    journal = run.journal
    if journal is None:
        return
    run.journal = None
    if run.refusal is not None:
        journal.write_now({"event": "end", "finished_at": now(), "refused": True})
    journal.close()
    target = need(run.target)
    run.rollback = write_rollback(target.plan, run.plan_path, target.digest)


def write_rollback(plan: Plan, plan_path: Path, digest: str) -> Path | None:
    """Write the rollback plan of everything the journal records as done (None if nothing)."""
    state = read_journal(journal_path(plan_path), digest)
    if not state.done:
        return None
    path = rollback_path(plan_path)
    undo = rollback_plan(
        plan, set(state.done), state.before, created_at=now(), plan_name=str(plan_path)
    )
    planfile.write_plan(undo, path)
    return path


def rollback_path(plan_path: Path) -> Path:
    """Where push writes the rollback plan: ``rollback-plan.json`` beside ``plan.json``,
    ``<name>.rollback-plan.json`` beside any other plan file."""
    if plan_path.name == "plan.json":
        return plan_path.with_name("rollback-plan.json")
    return plan_path.with_name(plan_path.stem + ".rollback-plan.json")


def result_file(plan_path: Path, suffix: str) -> Path:
    """``<plan>.result.json`` / ``<plan>.result.html`` beside the plan file."""
    return plan_path.with_name(plan_path.stem + suffix)
