"""report: the human report of the push (``<plan>.result.html``) and the result it returns."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from stagesync.entities import REGISTRY
from stagesync.errors import StageSyncError
from stagesync.files import write_atomic_chunks
from stagesync.journal import journal_path
from stagesync.model import Plan
from stagesync.report.common import Outcome
from stagesync.stages import need
from stagesync.stages.push.record import result_file
from stagesync.stages.push.run import PushResult, PushRun


async def report(run: PushRun) -> StageSyncError | None:
    """Reads everything the stages found; writes ``<plan>.result.html`` (not in a dry run) and
    sets ``run.result``. Never refuses."""
    target, session, applied = need(run.target), need(run.session), need(run.applied)
    results = tuple(applied.results)
    run.result = PushResult(
        target.plan,
        target.env.name,
        results,
        session.requests,
        dry_run=run.options.dry_run,
        notices=push_notices(target.plan),
        findings=run.findings,
        overrides=run.options.overrides,
    )
    if run.options.dry_run:
        return None
    from stagesync.report.html import html_chunks  # the templates: only when writing the report

    html = result_file(run.plan_path, ".result.html")
    statuses = {
        r.operation.id: Outcome(r.status, r.error, r.requests, r.duration_ms / 1000)
        for r in results
    }
    write_atomic_chunks(html, html_chunks(target.plan, statuses, requests=session.requests))
    run.result = replace(
        run.result,
        report=html,
        result_json=run.result_json,
        journal=journal_path(run.plan_path),
        rollback=run.rollback,
        throttled=session.tally.throttled,
        retries=dict(session.tally.retries),
        duration_ms=run.duration_ms,
        activated=run.activated,
        notices=run.result.notices + base_notice(run.base, target.env.name),
    )
    return None


def base_notice(base: Path | str | None, environment: str) -> tuple[str, ...]:
    """What push says about the destination's base (``stagesync.bases``)."""
    if base is None:
        return ()
    if isinstance(base, str):
        return (base[0].upper() + base[1:] + ".",)
    return (f"Recorded the base of {environment} in {base} (commit it with the snapshots).",)


def push_notices(plan: Plan) -> tuple[str, ...]:
    """What the person pushing must hear about this plan before and after it runs."""
    notifying = sorted(
        {
            REGISTRY[op.kind].display_name.lower()
            for op in plan.operations
            if op.kind in REGISTRY and REGISTRY[op.kind].notifies_customers and op.after is not None
        }
    )
    if not notifying:
        return ()
    return (
        f"This plan writes {' and '.join(notifying)}, which may notify customers. The platform "
        "advises disabling transactional emails on the destination before migrating orders and "
        "customers (Settings > Transactional emails).",
    )
