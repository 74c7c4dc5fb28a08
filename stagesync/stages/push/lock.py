"""lock: the destination's push lock (kept on the store), and the journal of this plan's earlier
runs."""

from __future__ import annotations

import os
import socket
import time

from stagesync.errors import PlanRefused, StageSyncError
from stagesync.journal import FORMAT as JOURNAL_FORMAT
from stagesync.journal import FORMAT_VERSION as JOURNAL_VERSION
from stagesync.journal import Journal, JournalState, journal_path, read_journal
from stagesync.ports import tallying
from stagesync.stages import need
from stagesync.stages.push.record import close_journal
from stagesync.stages.push.run import PushRun
from stagesync.stages.store import now, open_store, store_name
from stagesync.storelock import PushLocked, StoreLock


async def lock(run: PushRun) -> StageSyncError | None:
    """Opens the destination (``run.connection``, which ``read`` goes on with) and claims its
    push lock on the store (``storelock``), held until ``unlock`` or however the run ends; reads
    the journal beside the plan file, sets ``run.previous`` (what an earlier run did, when
    resuming) and opens ``run.journal`` with a ``begin`` line. Refuses when the store answers as
    another store, when another push holds the store's lock, when the journal belongs to an
    unfinished push of another plan, and when the plan was pushed before without ``--resume``."""
    target, plan_path = need(run.target), run.plan_path
    run.tally = run.held.enter_context(tallying())  # from the store check on
    opened = await open_store(run, target.env, target.kinds)
    if isinstance(opened, StageSyncError):
        return opened
    run.connection = opened
    store_lock = StoreLock(
        opened[0],
        store=store_name(target.env),
        plan=plan_path,
        plan_digest=target.digest,
        estimated_requests=target.plan.estimated_requests,
        force=run.options.force_unlock,
    )
    run.held.push_async_callback(store_lock.release)  # also when acquire fails half-way
    try:
        await store_lock.acquire()
    except PushLocked as refused:
        return refused
    run.lock = store_lock
    journal_file = journal_path(plan_path)
    previous = read_journal(journal_file, target.digest)
    if previous.other_plan:
        if not previous.finished:
            return PlanRefused(
                f"{journal_file} belongs to an unfinished push of another plan (digest "
                f"{previous.plan_digest}); nothing was written. Finish that push with "
                "--resume, or move the journal away if you abandon it."
            )
        # The journal of a finished push of an earlier plan: keep it, out of the way.
        journal_file.replace(journal_file.with_name(journal_file.name + ".previous"))
        previous = JournalState()
    if previous.runs and not run.options.resume:
        return PlanRefused(
            f"{plan_path} was pushed before and its journal {journal_file} records "
            f"{len(previous.done)} finished operation(s); nothing was written. Continue that "
            f"push with --resume, or make a new plan."
        )
    run.previous = previous if previous.runs else None
    run.started, run.clock = now(), time.monotonic()
    run.journal = Journal(journal_file)
    run.held.callback(close_journal, run)
    run.journal.write_now(
        {
            "event": "begin",
            "format": JOURNAL_FORMAT,
            "format_version": JOURNAL_VERSION,
            "plan_digest": target.digest,
            "store_hash": target.env.store_hash,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": run.started,
            "resume": run.previous is not None,
        }
    )
    return None
