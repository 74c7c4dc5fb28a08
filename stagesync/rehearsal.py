"""``stagesync rehearse``: the real push of a plan, against an emulated replica of its destination.

1. **replica**: the destination snapshot the plan was made from (its digest must be the plan's)
   is loaded into an emulator in this process (``stagesync.emulator.load``);
2. **push**: the push stages run unchanged (``api.PUSH``) on a copy of the plan in a scratch
   folder, their connector and B2B factory reaching the replica: the configured store is never
   contacted;
3. **converge**: the replica is read again and every entity the plan touches must equal the
   source snapshot's;
4. **roll back**: the rollback plan the push wrote is pushed to the replica the same way, which
   must then read back as the destination snapshot;
5. **report**: ``<plan>.rehearsal.json`` (the push result format, with a ``rehearsal`` object)
   and ``<plan>.rehearsal.html`` beside the plan.

docs/rehearse.md says what this proves and what it cannot.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson

from stagesync import planfile
from stagesync.api import PUSH, run_quietly
from stagesync.bigcommerce import BigCommerceClient
from stagesync.bigcommerce.b2b import Auth, B2BClient
from stagesync.config import Environment, load_config
from stagesync.emulator import Emulator
from stagesync.emulator.load import differences, load
from stagesync.entities import REGISTRY, with_dependencies
from stagesync.errors import PlanRefused, StageSyncError
from stagesync.files import write_atomic_chunks
from stagesync.model import Plan, Snapshot
from stagesync.ports import Progress, StoreApi, using_b2b
from stagesync.pull import read_live
from stagesync.push import OperationResult
from stagesync.report.common import Outcome
from stagesync.result import result_chunks
from stagesync.snapshot import read_snapshot
from stagesync.stages import Refusal, run_stages
from stagesync.stages.push.run import PushOptions, PushResult, PushRun
from stagesync.stages.store import stock_settings

REPLICA_URL = "http://replica.invalid"
"""The URL the replica's clients name: requests never leave the process."""


@dataclass(frozen=True)
class Rehearsal:
    """What a rehearsal found."""

    push: PushResult
    snapshot: Path
    source: Path
    differences: tuple[str, ...]
    """Entities the plan touches that differ from the source afterwards (the plan did not
    converge)."""
    rollback_operations: int
    rollback_failed: tuple[OperationResult, ...]
    rollback_differences: tuple[str, ...]
    """Entities that differ from the destination snapshot after the rollback plan ran."""
    result_json: Path
    report: Path

    @property
    def rejected(self) -> tuple[OperationResult, ...]:
        return tuple(r for r in self.push.results if r.status == "failed")

    @property
    def skipped(self) -> tuple[OperationResult, ...]:
        return tuple(r for r in self.push.results if r.status == "skipped")

    @property
    def converged(self) -> bool:
        return not self.differences

    @property
    def rolled_back(self) -> bool:
        return not self.rollback_failed and not self.rollback_differences

    @property
    def ok(self) -> bool:
        return self.push.ok and self.converged and self.rolled_back

    @property
    def duration_at_quota(self) -> float:
        """Seconds the requests used take at the destination's quota (as the plan estimates)."""
        return replace(self.push.plan, estimated_requests=self.push.requests).estimated_seconds


def find_source(plan: Plan, plan_path: Path, config_path: Path | None) -> Path | None:
    """The source snapshot where ``stagesync pull`` puts it by default (``snapshots/<source
    environment>`` in the current folder, the plan's or the configuration's), if its digest is
    the plan's."""
    name = plan.source.environment
    if not name:
        return None
    folders = [Path.cwd(), plan_path.resolve().parent]
    if config_path is not None:
        folders.append(config_path.resolve().parent)
    for folder in dict.fromkeys(folders):
        candidate = folder / "snapshots" / name
        if (candidate / "snapshot.json").is_file():
            try:
                snapshot = read_snapshot(candidate)
            except StageSyncError:
                continue
            if matching(snapshot, plan, plan.source.digest) is not None:
                return candidate
    return None


def matching(snapshot: Snapshot, plan: Plan, wanted: str) -> Snapshot | None:
    """``snapshot`` as the plan read it, if its digest is ``wanted``: the whole snapshot, or the
    part a ``diff --kinds`` read (the plan's kinds and the kinds they reference)."""
    if snapshot.digest == wanted:
        return snapshot
    part = with_dependencies(plan.kinds)
    narrowed = replace(snapshot, kinds={k: v for k, v in snapshot.kinds.items() if k in part})
    return narrowed if narrowed.digest == wanted else None


def rehearse(
    plan_path: Path,
    snapshot_dir: Path,
    *,
    source_dir: Path | None,
    config_path: Path | None,
    options: PushOptions,
    progress: Progress | None = None,
) -> Rehearsal:
    """Rehearse the push of ``plan_path`` against a replica loaded from ``snapshot_dir`` (the
    module docstring says how); ``source_dir`` defaults to ``find_source``'s."""
    plan = planfile.read_plan(plan_path)
    destination = matching(read_snapshot(snapshot_dir), plan, plan.destination.digest)
    if destination is None:
        found = read_snapshot(snapshot_dir).digest
        raise PlanRefused(
            f"{snapshot_dir} is not the destination snapshot {plan_path} was made from: the plan "
            f"records {plan.destination.digest}, the snapshot is {found}. Rehearse against the "
            "snapshot the plan was made from (or make a new plan from this one)."
        )
    source_dir = source_dir or find_source(plan, plan_path, config_path)
    if source_dir is None:
        raise StageSyncError(
            f"rehearse needs the source snapshot {plan_path} was made from (digest "
            f"{plan.source.digest}) to check that the plan converges; none was found at "
            f"snapshots/{plan.source.environment or 'ENV'}. Pass it with --source DIR."
        )
    source = matching(read_snapshot(source_dir), plan, plan.source.digest)
    if source is None:
        raise PlanRefused(
            f"{source_dir} is not the source snapshot {plan_path} was made from: the plan "
            f"records {plan.source.digest}, the snapshot is {read_snapshot(source_dir).digest}."
        )
    env = load_config(config_path).environment(options.to or plan.destination.environment or "ENV")
    replica = Emulator({})
    with tempfile.TemporaryDirectory(prefix="stagesync-rehearsal-") as scratch:
        work = Path(scratch) / "plan.json"
        shutil.copyfile(plan_path, work)
        run_quietly(
            load(
                replica,
                env.store_hash,
                destination,
                directory=snapshot_dir,
                channel_names=env.channels,
                progress=progress,
            )
        )
        token = replica.stores[env.store_hash].token
        pushed = _push(work, replica, token, config_path, options, progress)
        settings = {"order_status": "keep", **stock_settings(plan.stock)}
        after = run_quietly(_read(replica, token, env, plan.kinds, settings))
        converge = differences(source, after, {op.key for op in plan.operations})
        undo_failed: tuple[OperationResult, ...] = ()
        undo_count = 0
        if pushed.rollback is not None:
            undo = _push(
                pushed.rollback,
                replica,
                token,
                config_path,
                replace(options, verify=False, activate=None),
                progress,
            )
            undo_count, undo_failed = len(undo.results), undo.failed
        back = run_quietly(_read(replica, token, env, list(destination.kinds), settings))
        rollback_differences = differences(destination, back, None)
        outcome = Rehearsal(
            pushed,
            snapshot_dir,
            source_dir,
            tuple(converge),
            undo_count,
            undo_failed,
            tuple(rollback_differences),
            plan_path.with_name(plan_path.stem + ".rehearsal.json"),
            plan_path.with_name(plan_path.stem + ".rehearsal.html"),
        )
        _write_reports(outcome, plan_path, destination, source, Path(scratch))
    return outcome


def _push(
    plan_path: Path,
    replica: Emulator,
    token: str,
    config_path: Path | None,
    options: PushOptions,
    progress: Progress | None,
) -> PushResult:
    """Run the push stages on ``plan_path``, reaching the replica instead of the store."""

    def connector(environment: Environment) -> AbstractAsyncContextManager[StoreApi]:
        return BigCommerceClient(
            environment.store_hash, token, api_url=REPLICA_URL, transport=replica.transport()
        )

    def b2b_factory(store_hash: str, _token: str, _auth: Auth, _url: str) -> B2BClient:
        return B2BClient(
            store_hash, token, auth="token", api_url=REPLICA_URL, transport=replica.transport()
        )

    run = PushRun(
        plan_path,
        replace(options, dry_run=False, resume=False),
        config_path=config_path,
        progress=progress,
        connector=connector,
        b2b_factory=b2b_factory,
    )
    refusal = run_quietly(run_stages(run, PUSH))
    if isinstance(refusal, Refusal):
        raise refusal.error
    assert run.result is not None
    return run.result


async def _read(
    replica: Emulator,
    token: str,
    env: Environment,
    kinds: Sequence[str],
    settings: Mapping[str, str],
) -> Snapshot:
    """The replica's records of ``kinds``, read as pull reads a store."""
    async with _client(replica, env.store_hash, token) as api:
        live = await read_live(
            api,
            [k for k in REGISTRY if k in kinds],
            store=f"the replica of {env.name}",
            verb="rehearse: read",
            channel_names=env.channels,
            settings=settings,
        )
    return Snapshot(live.kinds(), environment=env.name, store_hash=env.store_hash)


@asynccontextmanager
async def _client(replica: Emulator, store_hash: str, token: str) -> AsyncIterator[StoreApi]:
    async with (
        BigCommerceClient(
            store_hash, token, api_url=REPLICA_URL, transport=replica.transport()
        ) as api,
        B2BClient(
            store_hash, token, auth="token", api_url=REPLICA_URL, transport=replica.transport()
        ) as b2b_api,
    ):
        with using_b2b(b2b_api):
            yield api


def _write_reports(
    outcome: Rehearsal, plan_path: Path, destination: Snapshot, source: Snapshot, scratch: Path
) -> None:
    """The push's result JSON and HTML report, marked as a rehearsal's, beside the plan."""
    from stagesync.report.html import html_chunks

    pushed = outcome.push
    undo_failed = [f"{r.operation.describe()}: {r.error}" for r in outcome.rollback_failed]
    body: dict[str, Any] = orjson.loads((scratch / "plan.result.json").read_bytes())
    body.update(plan=str(plan_path), journal=None, rollback_plan=None)
    body["rehearsal"] = {
        "snapshot": str(outcome.snapshot),
        "snapshot_digest": destination.digest,
        "source": str(outcome.source),
        "source_digest": source.digest,
        "rejected": len(outcome.rejected),
        "skipped": len(outcome.skipped),
        "converged": outcome.converged,
        "differences": list(outcome.differences),
        "rollback_operations": outcome.rollback_operations,
        "rollback_failed": undo_failed,
        "rolled_back": outcome.rolled_back,
        "rollback_differences": list(outcome.rollback_differences),
        "estimated_requests": pushed.plan.estimated_requests,
        "duration_at_quota_s": outcome.duration_at_quota,
    }
    write_atomic_chunks(outcome.result_json, result_chunks(body))
    statuses = {
        r.operation.id: Outcome(r.status, r.error, r.requests, r.duration_ms / 1000)
        for r in pushed.results
    }
    lines = [
        ("Replica of", f"{pushed.destination}, loaded from {outcome.snapshot}"),
        ("Rejected", f"{len(outcome.rejected)} operations, {len(outcome.skipped)} skipped"),
        ("Converges", "yes" if outcome.converged else f"no: {'; '.join(outcome.differences)}"),
        (
            "Rolls back",
            "yes"
            if outcome.rolled_back
            else "no: " + "; ".join([*undo_failed, *outcome.rollback_differences]),
        ),
        (
            "Requests",
            f"{pushed.requests} used, {pushed.plan.estimated_requests} estimated; "
            f"{outcome.duration_at_quota:.0f} s at {pushed.plan.quota} per "
            f"{pushed.plan.window_ms / 1000:g} s",
        ),
    ]
    write_atomic_chunks(
        outcome.report,
        html_chunks(pushed.plan, statuses, requests=pushed.requests, rehearsal=lines),
    )
