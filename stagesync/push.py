"""Apply a verified plan to a live store: check every operation's precondition, then run the
operations, each as soon as everything it depends on has been applied.

- **Concurrency**: at most ``concurrency`` operations (or batches) write at once; an operation
  waits only for the operations it depends on, never for a whole kind or phase.
- **Batching**: ready operations of one kind and action go to the kind's ``create_many`` /
  ``update_many`` (when it has one), up to its ``batch_size_of`` that action.
- **Journal**: every finished operation is appended (and fsynced) to the journal before its
  dependents start; pre-images of existing entities are journaled before their first write.
- **Retries**: the client retries what is safe to repeat. A write whose outcome is unknown (a
  dropped connection after a POST, a 5xx) is retried here, but only after looking the entity up
  by its natural key, so a create is never sent twice. Validation errors are not retried: the
  operation fails with the platform's message and its dependents are skipped, naming it.
- **Resume**: operations the journal records as done are not run again; the others are
  reconciled with what the store holds now (a create that exists is adopted and completed).

Nothing here knows HTTP: it writes through ``StoreApi`` and the entity modules.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from stagesync.entities import REGISTRY
from stagesync.entities.base import EntityKind, LiveId, Raw
from stagesync.errors import (
    ApiError,
    NotFoundError,
    PlanRefused,
    RateLimitError,
    StageSyncError,
    TransportError,
)
from stagesync.journal import Journal, JournalState
from stagesync.model import Action, Operation, Plan, Record, digest
from stagesync.ports import NoProgress, Progress, ProgressStats, StoreApi, Tally, tallying
from stagesync.pull import LiveState, read_targeted

DEFAULT_CONCURRENCY = 4
OPERATION_ATTEMPTS = 5
"""How often one operation is tried when its outcome was unknown (transport failure, 5xx)."""
RETRY_BASE = 0.5
RETRY_CAP = 30.0


@dataclass(frozen=True)
class OperationResult:
    """What happened to one operation."""

    operation: Operation
    status: str
    """``done``, ``failed``, ``skipped`` (a dependency did not apply), ``drifted`` (its
    precondition failed and ``--allow-drift`` skipped it, or it was done but ``--verify`` found the
    store differs from the plan), ``planned`` (dry run)."""
    error: str | None = None
    requests: int = 0
    duration_ms: int = 0
    throttled: int = 0
    created_id: LiveId | None = None
    resumed: bool = False
    """Done by an earlier run (recorded in the journal)."""
    retries: Mapping[str, int] = field(default_factory=dict)
    """Requests sent again for it, by cause (a batch's are given to its first operation)."""


@dataclass
class Applied:
    """Everything one ``apply_plan`` call learnt: results, pre-images, and the journal state."""

    results: list[OperationResult]
    before: dict[str, Record | None] = field(default_factory=dict)
    """op id -> the destination record before the push touched it (None: it did not exist)."""


def plan_keys(plan: Plan) -> dict[str, set[str]]:
    """Kind -> the keys the plan's operations touch: the only entities whose raw objects and
    records push needs (every other entity only through the lookup)."""
    keys: dict[str, set[str]] = {}
    for op in plan.operations:
        keys.setdefault(op.kind, set()).add(op.key.key)
    return keys


@dataclass(frozen=True)
class Drift:
    """An operation whose precondition no longer holds on the live destination."""

    operation: Operation
    problem: str

    def __str__(self) -> str:
        return f"{self.operation.kind} {self.operation.key.key}: {self.problem}"


def drift(plan: Plan, live: LiveState) -> list[Drift]:
    """Every operation whose destination entity changed since the plan was made.

    A precondition of None means "must not exist" (a create, and the link step after it): the
    key is neither among the records read nor in the lookup (a create's entity is read only
    for its key); otherwise the live record's digest must equal it."""
    drifted = []
    for op in plan.operations:
        current = live.records.get(op.kind, {}).get(op.key.key)
        if op.precondition is None:
            if current is not None or live.lookup.has(op.kind, op.key.key):
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
    concurrency: int = DEFAULT_CONCURRENCY,
    journal: Journal | None = None,
    previous: JournalState | None = None,
    verify: bool = False,
    settings: Mapping[str, str] | None = None,
    channel_names: Mapping[str, str] | None = None,
) -> Applied:
    """Check ``plan`` against the live store, then apply it (unless ``dry_run``): the read,
    check, apply and verify steps of a push in one call, without its journal files.

    Drift refuses the whole plan, unless ``allow_drift``: then only the drifted operations are
    skipped (status ``drifted``); operations that depend on them still run. With ``previous`` (a
    resumed push), operations it records as done are not run again and the drift check is replaced
    by reconciling each remaining operation with the store. ``settings`` reach the entity writes
    through the lookup (``order_status``); ``channel_names`` is the destination's channel map
    (``[environments.NAME.channels]``).
    """
    if concurrency < 1:
        raise StageSyncError(f"--concurrency must be at least 1, got {concurrency}.")
    progress = progress or NoProgress()
    live = await read_destination(
        api,
        plan,
        store=store,
        progress=progress,
        channel_names=channel_names,
        settings=settings,
        whole_creates=previous is not None,
    )
    resuming = previous is not None
    drifted = check_drift(plan, live, store=store, allow_drift=allow_drift, resuming=resuming)
    if isinstance(drifted, PlanRefused):
        raise drifted
    if dry_run:
        return Applied(planned_results(plan, drifted))
    applied = await run_operations(
        api,
        plan,
        live,
        progress=progress,
        concurrency=concurrency,
        journal=journal,
        previous=previous,
        drifted=drifted,
    )
    if verify:
        applied.results = await verify_results(
            api,
            plan,
            applied.results,
            store=store,
            progress=progress,
            channel_names=channel_names,
            settings=settings,
        )
    return applied


async def read_destination(
    api: StoreApi,
    plan: Plan,
    *,
    store: str,
    progress: Progress | None = None,
    verb: str = "read",
    channel_names: Mapping[str, str] | None = None,
    settings: Mapping[str, str] | None = None,
    whole_creates: bool = False,
) -> LiveState:
    """What the destination holds of the plan: the entities its operations name (raw objects
    and records), and the IDs of the entities they and their records reference, each kind read
    as narrowly as it allows (``pull.read_targeted``). Of the entities the plan creates only
    whether they exist is read, unless ``whole_creates`` (a resumed push completes the creates
    an earlier run made; verify compares them). Progress tasks are named ``<verb> <kind>``."""
    absent: dict[str, set[str]] = {}
    if not whole_creates:
        for op in plan.operations:
            if op.precondition is None:
                absent.setdefault(op.kind, set()).add(op.key.key)
    return await read_targeted(
        api,
        plan_keys(plan),
        plan_references(plan),
        absent=absent,
        store=store,
        progress=progress,
        verb=verb,
        channel_names=channel_names,
        settings=settings,
    )


def plan_references(plan: Plan) -> dict[str, set[str]]:
    """Kind -> the keys the plan's desired records point at (references and links): the
    entities whose IDs its writes need."""
    found: dict[str, set[str]] = {}
    for op in plan.operations:
        after = op.after
        if after is not None:
            for ref in REGISTRY[op.kind].all_references(op.key.key, after):
                found.setdefault(ref.kind, set()).add(ref.key)
    return found


def check_drift(
    plan: Plan, live: LiveState, *, store: str, allow_drift: bool, resuming: bool
) -> dict[str, Drift] | PlanRefused:
    """Op id -> drift of every operation whose precondition no longer holds, or the refusal
    listing them (unless ``allow_drift``). A resumed push reconciles instead: nothing drifts."""
    if resuming:
        return {}
    drifted = {d.operation.id: d for d in drift(plan, live)}
    if drifted and not allow_drift:
        return refuse_drift(list(drifted.values()), store)
    return drifted


def planned_results(plan: Plan, drifted: Mapping[str, Drift]) -> list[OperationResult]:
    """A dry run's results: every operation ``planned``, or ``drifted`` with its problem."""
    return [
        OperationResult(op, "drifted", drifted[op.id].problem)
        if op.id in drifted
        else OperationResult(op, "planned")
        for op in plan.operations
    ]


async def run_operations(
    api: StoreApi,
    plan: Plan,
    live: LiveState,
    *,
    progress: Progress,
    concurrency: int,
    journal: Journal | None,
    previous: JournalState | None,
    drifted: Mapping[str, Drift],
) -> Applied:
    """Write every operation (skipping the drifted ones), journaling each as it finishes."""
    runner = _Runner(
        api, plan, live, progress, concurrency, journal, previous or JournalState(), drifted
    )
    results = await runner.run()
    return Applied(results, runner.before)


async def verify_results(
    api: StoreApi,
    plan: Plan,
    results: list[OperationResult],
    *,
    store: str,
    progress: Progress | None = None,
    channel_names: Mapping[str, str] | None = None,
    settings: Mapping[str, str] | None = None,
) -> list[OperationResult]:
    """Re-read the store; every done operation whose entity differs from the plan's desired state
    becomes ``failed`` (the desired state was not reached), naming the fields that differ."""
    now = await read_destination(
        api,
        plan,
        store=store,
        progress=progress,
        verb="verify",
        channel_names=channel_names,
        settings=settings,
        whole_creates=True,
    )
    checked = []
    for result in results:
        op = result.operation
        if result.status == "done":
            current = now.records.get(op.kind, {}).get(op.key.key)
            problem = _difference(op, current)
            if problem:
                result = replace(result, status="failed", error=problem)
        checked.append(result)
    return checked


def _difference(op: Operation, current: Record | None) -> str | None:
    if op.action is Action.DELETE:
        return "verify: still exists on the destination" if current is not None else None
    if current is None:
        return "verify: does not exist on the destination"
    after = op.after  # decoded once (an operation decodes its record on every read)
    assert after is not None
    if digest(current) == digest(after):
        return None
    fields = sorted(
        name
        for name in set(current) | set(after)
        if digest(current.get(name)) != digest(after.get(name))
    )
    return "verify: differs from the plan in " + ", ".join(fields)


# -- the apply loop -----------------------------------------------------------------------------


class _Uncertain(Exception):
    """Internal: an attempt failed in a way that may have left the write applied."""


def _outcome_unknown(error: StageSyncError) -> bool:
    """Whether the store may or may not have applied the write that raised ``error``."""
    if isinstance(error, TransportError | RateLimitError | NotFoundError):
        return True  # 404: a repeated DELETE/PUT whose first answer was lost; look it up
    return isinstance(error, ApiError) and error.status >= 500


def _count_retry(tally: Tally, error: StageSyncError) -> None:
    """Count trying an operation again after ``error`` under its ``ports.RETRY_CAUSES`` key. A
    404 is not counted: it answers a repeat the client already counted (a lost DELETE)."""
    if isinstance(error, RateLimitError):
        tally.add(retry="429")
    elif isinstance(error, TransportError):
        tally.add(retry="connection")
    elif isinstance(error, ApiError) and error.status >= 500:
        tally.add(retry="5xx")


class _Runner:
    def __init__(
        self,
        api: StoreApi,
        plan: Plan,
        live: LiveState,
        progress: Progress,
        concurrency: int,
        journal: Journal | None,
        previous: JournalState,
        drifted: Mapping[str, Drift],
    ) -> None:
        self.api = api
        self.plan = plan
        self.live = live
        self.progress = progress
        self.slots = asyncio.Semaphore(concurrency)
        self.journal = journal
        self.previous = previous
        self.drifted = drifted
        self.resuming = previous.runs > 0
        self.outcomes: dict[str, asyncio.Future[OperationResult]] = {}
        self.batchers: dict[tuple[str, Action], _Batcher] = {}
        self.in_flight = 0
        self.before: dict[str, Record | None] = dict(previous.before)
        self.before_ids: dict[str, LiveId] = dict(previous.before_ids)
        self.random = random.Random()
        self.totals: dict[str, int] = {}
        self.kind_stats: dict[str, list[int]] = {}
        """kind -> [requests, throttled]."""
        self.kind_retries: dict[str, dict[str, int]] = {}
        """kind -> cause -> retries."""

    async def run(self) -> list[OperationResult]:
        loop = asyncio.get_running_loop()
        for op in self.plan.operations:
            self.totals[op.kind] = self.totals.get(op.kind, 0) + 1
            self.outcomes[op.id] = loop.create_future()
        for kind, total in self.totals.items():
            self.progress.start(f"push {kind}", total)
        self._expect_batches()
        tasks = [asyncio.create_task(self._run(op)) for op in self.plan.operations]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        for kind in self.totals:
            self.progress.finish(f"push {kind}")
        return [self.outcomes[op.id].result() for op in self.plan.operations]

    def _expect_batches(self) -> None:
        """Make a batcher per (kind, action) that batches, and tell it which of its operations
        to wait for: all but those that depend (transitively) on another operation of the same
        batcher (a child category waits for its parent's batch)."""
        if self.resuming:
            return
        groups: dict[str, tuple[str, Action]] = {}
        after: dict[str, set[tuple[str, Action]]] = {}
        """op id -> the batch groups it depends on, transitively."""
        for op in self.plan.operations:  # dependencies come first
            upstream: set[tuple[str, Action]] = set()
            for d in op.depends_on:
                upstream |= after.get(d, set())
                if d in groups:
                    upstream.add(groups[d])
            after[op.id] = upstream
            entity = REGISTRY[op.kind]
            if self._batchable(entity, op):
                key = groups[op.id] = (op.kind, op.action)
                if key not in self.batchers:
                    self.batchers[key] = _Batcher(self, entity, op.action)
                if key not in upstream:
                    self.batchers[key].expected.add(op.id)

    def busy(self, change: int) -> None:
        """Count writes in flight (single operations and running batches): a batch waits for
        its expected operations only while some write may still make them ready."""
        self.in_flight += change
        for batcher in self.batchers.values():
            batcher.changed.set()

    async def _run(self, op: Operation) -> None:
        try:
            result = await self._decide(op)
        finally:
            batcher = self.batchers.get((op.kind, op.action))
            if batcher is not None:
                batcher.settle(op.id)  # skipped, drifted, failed early: not coming
        if self.journal is not None and not result.resumed:
            entry: dict[str, Any] = {
                "event": result.status,
                "op": op.id,
                "created": {f"{op.kind}:{op.key.key}": result.created_id}
                if result.created_id is not None
                else {},
                "requests": result.requests,
                "duration_ms": result.duration_ms,
            }
            if result.error:
                entry["error"] = result.error
            await self.journal.record(entry)
        self._count(op.kind, result)
        self.outcomes[op.id].set_result(result)

    def _count(self, kind: str, result: OperationResult) -> None:
        task = f"push {kind}"
        stats = self.kind_stats.setdefault(kind, [0, 0])
        stats[0] += result.requests
        stats[1] += result.throttled
        retries = self.kind_retries.setdefault(kind, {})
        for cause, count in result.retries.items():
            retries[cause] = retries.get(cause, 0) + count
        if isinstance(self.progress, ProgressStats):
            self.progress.stats(task, requests=stats[0], throttled=stats[1], retries=retries)
        self.progress.advance(task)

    async def _decide(self, op: Operation) -> OperationResult:
        if op.id in self.drifted:
            return OperationResult(op, "drifted", f"skipped: {self.drifted[op.id].problem}")
        for dependency in op.depends_on:
            outcome = self.outcomes.get(dependency)
            if outcome is None:
                continue
            before = await outcome
            if before.status not in ("done", "drifted"):
                why = f"skipped: {before.operation.describe()} did not apply"
                return OperationResult(op, "skipped", why)
        recorded = self.previous.done.get(op.id)
        if recorded is not None:
            for name, live_id in (recorded.get("created") or {}).items():
                kind, _, key = name.partition(":")
                if isinstance(live_id, int):
                    self.live.lookup.add(kind, key, live_id)
            if op.action is Action.DELETE:
                self.live.lookup.remove(op.kind, op.key.key)
            return OperationResult(op, "done", resumed=True)
        entity = REGISTRY[op.kind]
        if not self.resuming and self._batchable(entity, op):
            batcher = self.batchers[(op.kind, op.action)]
            batcher.arriving += 1  # ready: the batch it joins waits for it
            try:
                await self._save_before(op)
            except BaseException:
                batcher.arrived()
                raise
            return await batcher.submit(op)
        self.busy(+1)
        try:
            await self._save_before(op)
            async with self.slots:
                # On resume the live read just made is current: _attempt reconciles with it.
                return await self.apply_single(op, uncertain=False)
        finally:
            self.busy(-1)

    def _batchable(self, entity: EntityKind, op: Operation) -> bool:
        if entity.batch_size_of(op.action) < 2 or op.is_link:
            return False
        if op.action is Action.CREATE:
            return entity.create_many is not None
        return op.action is Action.UPDATE and entity.update_many is not None

    async def _save_before(self, op: Operation) -> None:
        if op.id in self.before:
            return
        current = self.live.records.get(op.kind, {}).get(op.key.key)
        self.before[op.id] = current
        raw = self.live.raws.get(op.kind, {}).get(op.key.key)
        if raw is not None:
            self.before_ids[op.id] = REGISTRY[op.kind].live_id(raw)
        if current is not None and self.journal is not None:
            entry: dict[str, Any] = {"event": "before", "op": op.id, "record": current}
            entry["live_id"] = self.before_ids.get(op.id)
            await self.journal.record(entry)

    async def apply_single(self, op: Operation, *, uncertain: bool) -> OperationResult:
        """One operation, retried when its outcome is unknown; never a blind repeat."""
        started = time.monotonic()
        entity = REGISTRY[op.kind]
        attempt = 0
        with tallying() as tally:
            while True:
                attempt += 1
                try:
                    created = await self._attempt(entity, op, uncertain=uncertain)
                except StageSyncError as error:
                    if _outcome_unknown(error) and attempt < OPERATION_ATTEMPTS:
                        uncertain = True
                        _count_retry(tally, error)
                        await asyncio.sleep(self._backoff(attempt))
                        continue
                    return self._result(op, "failed", started, tally, error=str(error))
                return self._result(op, "done", started, tally, created_id=created)

    def _result(
        self,
        op: Operation,
        status: str,
        started: float,
        tally: Tally,
        *,
        error: str | None = None,
        created_id: LiveId | None = None,
        share: int = 1,
        index: int = 0,
    ) -> OperationResult:
        requests = _share(tally.requests, share, index)
        throttled = _share(tally.throttled, share, index)
        duration = int((time.monotonic() - started) * 1000)
        retries = dict(tally.retries) if index == 0 else {}
        return OperationResult(
            op, status, error, requests, duration, throttled, created_id=created_id, retries=retries
        )

    def _backoff(self, attempt: int) -> float:
        ceiling = min(RETRY_CAP, RETRY_BASE * 2.0 ** (attempt - 1))
        return ceiling * (0.5 + self.random.random() / 2)

    async def _attempt(
        self, entity: EntityKind, op: Operation, *, uncertain: bool
    ) -> LiveId | None:
        """Apply ``op`` once. ``uncertain``: an earlier attempt (or run) may have applied part or
        all of it, so first look the entity up by its natural key. Returns a created id."""
        api, lookup, key = self.api, self.live.lookup, op.key.key
        if op.is_link:  # writes only the link fields of an entity that exists: safe to repeat
            assert op.after is not None and entity.link is not None
            await entity.link(api, key, op.after, lookup)
            return None
        raws = self.live.raws.setdefault(op.kind, {})
        current: Raw | None = raws.get(key)
        if uncertain:
            current = await entity.find_live(api, key, lookup)
        if op.action in (Action.DELETE, Action.REPLACE):
            original_id = self.before_ids.get(op.id)
            replaced_already = (
                op.action is Action.REPLACE
                and current is not None
                and original_id is not None
                and entity.live_id(current) != original_id
            )
            if current is not None and not replaced_already:
                await entity.delete(api, key, current, lookup)
                current = None
            if not replaced_already:
                lookup.remove(op.kind, key)
            if op.action is Action.DELETE:
                raws.pop(key, None)
                return None
        after = op.after  # decoded once for this write
        assert after is not None
        if op.action in (Action.CREATE, Action.REPLACE) and current is None:
            new_id = await entity.create(api, key, after, lookup)
            lookup.add(op.kind, key, new_id)
            return new_id
        if current is None:
            raise StageSyncError(
                f"{entity.describe_one(key)} no longer exists on {lookup.store}; it was not "
                "updated. Pull the destination again and make a new plan."
            )
        # An update, or a create/replace the store already holds (its answer was lost, or an
        # earlier run was stopped): finish it with an update, which writes only what differs.
        live_id = entity.live_id(current)
        lookup.add(op.kind, key, live_id)
        raws[key] = current
        if digest(entity.normalise(key, current, lookup)) != digest(after):
            await entity.update(api, key, after, current, lookup)
        return live_id if op.action is not Action.UPDATE else None


def _share(total: int, parts: int, index: int) -> int:
    """``total`` split over ``parts`` as evenly as integers allow (the shares add up to it)."""
    return total // parts + (1 if index < total % parts else 0)


class _Batcher:
    """Collects ready operations of one kind and action and applies them in batches.

    A batch is cut when the queue holds a full batch, or when no operation it waits for is still
    to come: ``arriving`` ones (their dependencies applied; their pre-image is being journaled)
    and, while some write is in flight that may make them ready, ``expected`` ones (the
    batcher's operations that do not depend on one another: price-list records whose products
    are being created one by one). So operations that become ready together or soon after one
    another share a batch (23 customers -> 10, 10, 3), and each batch holds one concurrency slot
    while it runs."""

    def __init__(self, runner: _Runner, entity: EntityKind, action: Action) -> None:
        self.runner = runner
        self.entity = entity
        self.action = action
        self.queue: list[tuple[Operation, asyncio.Future[OperationResult]]] = []
        self.arriving = 0
        self.expected: set[str] = set()
        self.changed = asyncio.Event()
        self.draining = False
        self.running: set[asyncio.Task[None]] = set()

    def arrived(self) -> None:
        self.arriving -= 1
        self.changed.set()

    def settle(self, op_id: str) -> None:
        if op_id in self.expected:
            self.expected.discard(op_id)
            self.changed.set()

    async def submit(self, op: Operation) -> OperationResult:
        future: asyncio.Future[OperationResult] = asyncio.get_running_loop().create_future()
        self.queue.append((op, future))
        self.settle(op.id)
        self.arrived()
        if not self.draining:
            self.draining = True
            self._start(self._drain())
        return await future

    def _start(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self.running.add(task)
        task.add_done_callback(self.running.discard)

    async def _drain(self) -> None:
        size = self.entity.batch_size_of(self.action)
        try:
            while self.queue:
                # Operations that became ready in the same round are still waking up.
                await asyncio.sleep(0)
                while len(self.queue) < size and (
                    self.arriving or (self.expected and self.runner.in_flight)
                ):
                    self.changed.clear()
                    await self.changed.wait()
                await self.runner.slots.acquire()
                chunk, self.queue = self.queue[:size], self.queue[size:]
                self.runner.busy(+1)
                self._start(self._run_chunk(chunk))
        finally:
            self.draining = False

    async def _run_chunk(
        self, chunk: list[tuple[Operation, asyncio.Future[OperationResult]]]
    ) -> None:
        try:
            results = await self._apply(chunk)
            for (_, future), result in zip(chunk, results, strict=True):
                future.set_result(result)
        except BaseException as error:  # pragma: no cover - programming errors surface here
            for _, future in chunk:
                if not future.done():
                    future.set_exception(error)
            raise
        finally:
            self.runner.slots.release()
            self.runner.busy(-1)

    async def _apply(
        self, chunk: list[tuple[Operation, asyncio.Future[OperationResult]]]
    ) -> list[OperationResult]:
        runner, entity = self.runner, self.entity
        ops = [op for op, _ in chunk]
        if len(ops) == 1:
            return [await runner.apply_single(ops[0], uncertain=False)]
        started = time.monotonic()
        lookup = runner.live.lookup
        raws = runner.live.raws.setdefault(entity.name, {})
        ids: list[LiveId | None]
        with tallying() as tally:
            try:
                if self.action is Action.CREATE:
                    assert entity.create_many is not None
                    pairs = [(op.key.key, op.after or {}) for op in ops]
                    new_ids = await entity.create_many(runner.api, pairs, lookup)
                    for op, new_id in zip(ops, new_ids, strict=True):
                        lookup.add(op.kind, op.key.key, new_id)
                    ids = list(new_ids)
                else:
                    assert entity.update_many is not None
                    triples = [(op.key.key, op.after or {}, raws[op.key.key]) for op in ops]
                    await entity.update_many(runner.api, triples, lookup)
                    ids = [None] * len(ops)
            except StageSyncError as error:
                failed = True
                if _outcome_unknown(error):  # applied one by one below: a retry
                    _count_retry(tally, error)
            else:
                failed = False
        if not failed:
            return [
                runner._result(
                    op, "done", started, tally, created_id=new_id, share=len(ops), index=i
                )
                for i, (op, new_id) in enumerate(zip(ops, ids, strict=True))
            ]
        # The batch failed (one bad item, or an unknown outcome): one by one, each looked up by
        # its natural key first, so nothing the batch did apply is written twice.
        return [await runner.apply_single(op, uncertain=True) for op in ops]


def result_summary(results: list[OperationResult]) -> dict[str, int]:
    counts = {"done": 0, "failed": 0, "skipped": 0, "drifted": 0, "planned": 0}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    return {status: n for status, n in counts.items() if n or status != "planned"}
