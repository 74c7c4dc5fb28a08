"""The library surface the CLI (and anyone scripting stagesync) calls: one function per command.

Each function takes plain arguments, does its work through the core and the I/O edge, and returns
a value the caller renders. Nothing here prints; progress goes through the ``Progress`` callback.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from stagesync import b2b, planfile, theme_cache
from stagesync.bigcommerce import BigCommerceClient
from stagesync.config import Environment, load_config
from stagesync.config import config_path as config_file
from stagesync.entities import (
    REGISTRY,
    products,
    resolve_kinds,
    resolve_patterns,
    themes,
    with_dependencies,
)
from stagesync.errors import PlanError, PlanRefused, StageSyncError, UsageError
from stagesync.files import write_atomic_chunks
from stagesync.journal import FORMAT as JOURNAL_FORMAT
from stagesync.journal import FORMAT_VERSION as JOURNAL_VERSION
from stagesync.journal import Journal, JournalState, PushLock, journal_path, lock_path, read_journal
from stagesync.model import Plan, Snapshot
from stagesync.plan import Quota, make_plan
from stagesync.ports import Progress, StoreApi, tallying
from stagesync.pull import LiveState, read_live
from stagesync.push import DEFAULT_CONCURRENCY, Applied, OperationResult, apply_plan
from stagesync.redact import redact_snapshot
from stagesync.report.common import Outcome
from stagesync.report.html import html_chunks
from stagesync.result import result_body, result_chunks
from stagesync.rollback import rollback_plan
from stagesync.snapshot import (
    StreamedKind,
    StreamedSnapshot,
    read_snapshot,
    write_snapshot,
)


@dataclass(frozen=True)
class PullResult:
    directory: Path
    environment: str
    store_hash: str
    counts: dict[str, int]
    """Records written per kind."""
    requests: int
    retries: Mapping[str, int] = field(default_factory=dict)
    """Requests sent again, by cause (``ports.RETRY_CAUSES``); included in ``requests``."""


@dataclass(frozen=True)
class PushResult:
    plan: Plan
    destination: str
    results: tuple[OperationResult, ...]
    requests: int
    dry_run: bool = False
    report: Path | None = None
    activated: str | None = None
    """``theme (variation)`` made active by ``activate``, if it was asked for and done."""

    result_json: Path | None = None
    journal: Path | None = None
    rollback: Path | None = None
    """The rollback plan written (None when nothing was done)."""
    throttled: int = 0
    """429 responses met."""
    retries: Mapping[str, int] = field(default_factory=dict)
    """Requests sent again, by cause (``ports.RETRY_CAUSES``); included in ``requests``."""
    duration_ms: int = 0
    notices: tuple[str, ...] = ()
    """Advice to repeat to the person pushing (e.g. disable transactional emails)."""

    @property
    def ok(self) -> bool:
        """Every operation done (or would be, in a dry run), or skipped for drift as
        ``--allow-drift`` asked."""
        return all(r.status in ("done", "planned", "drifted") for r in self.results)

    @property
    def failed(self) -> tuple[OperationResult, ...]:
        return tuple(r for r in self.results if r.status in ("failed", "skipped"))

    @property
    def drifted(self) -> tuple[OperationResult, ...]:
        return tuple(r for r in self.results if r.status == "drifted")


@dataclass(frozen=True)
class EnvironmentStatus:
    name: str
    store_hash: str
    api_url: str
    token_env: str
    token_set: bool
    reachable: bool | None
    """None when it was not tried (no token, or ``offline``)."""
    detail: str
    """Why the store is not reachable (or why it was not tried), whole."""
    b2b: str
    """``Connected``, ``failing`` (checked live and refused), ``not connected``,
    ``not configured``; offline: ``Connected (not checked)``."""
    hints: tuple[str, ...] = ()
    """What to do about each problem found (unreachable store, failing B2B link)."""


Connector = Callable[[Environment], AbstractAsyncContextManager[StoreApi]]
"""Opens a store API for an environment. Tests pass one that reaches the emulator in process."""


def connect(environment: Environment) -> AbstractAsyncContextManager[StoreApi]:
    """The real thing: HTTPS to the environment's ``api_url`` with its token."""
    return BigCommerceClient(
        environment.store_hash,
        environment.token(),
        api_url=environment.api_url,
        config_file=environment.source,
    )


T = TypeVar("T")


class _Boxed(Generic[T]):
    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<result>"


def run_quietly(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, for coroutines that return a whole store or plan's worth of objects.

    When ``asyncio.run`` restores the SIGINT handler, Python 3.11 formats the finished task,
    result included, with ``repr`` (``signal.getsignal`` tries it as an enum value); for a pull
    of 10,000 products that string alone took 120 MB. The result travels boxed instead.
    """

    async def boxed() -> _Boxed[T]:
        return _Boxed(await coroutine)

    return asyncio.run(boxed()).value


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


async def _check_store(api: StoreApi, environment: Environment) -> None:
    """Refuse to talk to a store other than the one configured (a token for the wrong store)."""
    info = await api.get("/v2/store")
    live_hash = str(info.get("id", environment.store_hash)) if isinstance(info, dict) else ""
    if live_hash and live_hash != environment.store_hash:
        raise StageSyncError(
            f"environment '{environment.name}' is configured for store {environment.store_hash}, "
            f"but {environment.api_url} answered as store {live_hash}. Fix store_hash in the "
            "configuration."
        )


def status(
    config_path: Path | None = None,
    *,
    offline: bool = False,
    connector: Connector = connect,
    b2b_factory: b2b.B2BFactory = b2b.open_b2b,
) -> list[EnvironmentStatus]:
    """Every configured environment, with whether its token is set, whether its store answers
    and whether its B2B Edition connection works (one read each). ``offline`` sends nothing and
    shows the B2B connection as recorded."""
    config = load_config(config_path)

    async def probe(environment: Environment) -> EnvironmentStatus:
        token_set = True
        reachable: bool | None = None
        detail = "not checked" if offline else ""
        hints: list[str] = []
        try:
            environment.token()
        except StageSyncError:
            token_set = False
            detail = "token not set"
        if token_set and not offline:
            try:
                async with connector(environment) as api:
                    await _check_store(api, environment)
                reachable = True
            except StageSyncError as error:
                reachable, detail = False, error.summary
                if error.hint:
                    hints.append(error.hint)
        if offline:
            link = b2b.connection_state(environment)
            state = f"{link} (not checked)" if link == "Connected" else link
        else:
            state, problem = await b2b.check_connection(environment, b2b_factory)
            if problem is not None:
                hints.append(f"B2B Edition: {problem}")
        return EnvironmentStatus(
            environment.name,
            environment.store_hash,
            environment.api_url,
            environment.access_token_env,
            token_set,
            reachable,
            detail,
            state,
            tuple(hints),
        )

    async def probe_all() -> list[EnvironmentStatus]:
        envs = [config.environments[name] for name in sorted(config.environments)]
        return list(await asyncio.gather(*(probe(env) for env in envs)))

    return asyncio.run(probe_all())


def pull(
    environment: str,
    *,
    config_path: Path | None = None,
    kinds: Sequence[str] | None = None,
    out: Path | None = None,
    redact: bool = False,
    stock: bool | None = None,
    progress: Progress | None = None,
    connector: Connector = connect,
    b2b_factory: b2b.B2BFactory = b2b.open_b2b,
) -> PullResult:
    """Pull ``environment``'s entities into a snapshot folder (default ``snapshots/<env>``).
    ``redact`` replaces personal data with stable pseudonyms before anything is written.
    ``stock`` records inventory levels (default: the environment's ``stock`` setting).
    Without ``kinds``, B2B kinds are pulled when the environment has B2B credentials."""
    env = load_config(config_path).environment(environment)
    with_stock = env.stock if stock is None else stock
    selected = resolve_kinds(kinds) if kinds else _default_kinds(env)
    directory = out or Path("snapshots") / environment

    reusable = theme_cache.previous(directory, env.store_hash) if "themes" in selected else {}
    retries: dict[str, int] = {}

    async def fetch() -> tuple[LiveState, int, dict[str, bytes]]:
        themes.REUSE.set(reusable)
        needed = with_dependencies(selected)
        async with connector(env) as api, b2b.session(env, needed, b2b_factory) as b2b_api:
            with tallying() as tally:
                await _check_store(api, env)
                # Records are normalised one at a time as they are written (themes whole: their
                # download cache needs the raw objects).
                keep = {"themes": None} if "themes" in selected else {}
                live = await read_live(
                    api,
                    selected,
                    store=_store_name(env),
                    progress=progress,
                    channel_names=env.channels,
                    keep=keep,
                    settings=stock_settings(with_stock),
                )
            retries.update(tally.retries)
            extras = theme_cache.entries(live, env.store_hash) if "themes" in selected else {}
            b2b_requests = b2b_api.requests_made if b2b_api is not None else 0
            return live, api.requests_made + b2b_requests, extras

    live, requests, extras = run_quietly(fetch())
    pulled_at = _now()
    snapshot: Snapshot | StreamedSnapshot
    if redact:
        snapshot = Snapshot(live.kinds(), environment, env.store_hash, pulled_at, with_stock)
        snapshot = redact_snapshot(snapshot, REGISTRY)
        counts = {kind: len(snapshot.records(kind)) for kind in selected}
    else:
        streams = {kind: _stream(live, kind) for kind in selected}
        snapshot = StreamedSnapshot(streams, environment, env.store_hash, pulled_at, with_stock)
        counts = {kind: len(stream.keys) for kind, stream in streams.items()}
    write_snapshot(directory, snapshot, kinds=selected, extras=extras)
    return PullResult(directory, environment, env.store_hash, counts, requests, retries)


def _stream(live: LiveState, kind: str) -> StreamedKind:
    return StreamedKind(live.keys(kind), lambda: live.iter_records(kind))


def _default_kinds(env: Environment) -> list[str]:
    """Every kind; B2B kinds only when the environment has B2B credentials configured."""
    return [kind for kind in REGISTRY if env.b2b is not None or not b2b.is_b2b(kind)]


def connect_b2b(
    environment: str,
    *,
    config_path: Path | None = None,
    b2b_factory: b2b.B2BFactory = b2b.open_b2b,
) -> b2b.ConnectResult:
    """Verify ``environment``'s B2B Edition credentials and record the connection."""
    config = load_config(config_path)
    env = config.environment(environment)
    project = config.path.parent if config.path is not None else None
    return asyncio.run(b2b.connect(env, project=project, factory=b2b_factory))


def stock_settings(stock: bool) -> dict[str, str]:
    """The entity settings that make live reads record inventory levels (migrate stock)."""
    return {products.STOCK: "yes"} if stock else {}


def _store_name(env: Environment) -> str:
    return f"{env.name} (store {env.store_hash})"


def diff(
    source: Path,
    destination: Path,
    *,
    kinds: Sequence[str] | None = None,
    only: Sequence[str] | None = None,
    deps: bool = True,
    prune: bool = False,
    config_path: Path | None = None,
) -> Plan:
    """The plan that makes ``destination``'s snapshot look like ``source``'s, for the selected
    kinds (``kinds``) and entities (``only``: ``KIND:GLOB`` patterns), with the entities they
    reference unless ``deps`` is False, and deletes only with ``prune``."""
    selected = resolve_kinds(kinds) if kinds else None
    patterns = resolve_patterns(only) if only else []
    if selected is not None and patterns:
        outside = sorted({kind for kind, _ in patterns} - set(selected))
        if outside:
            raise UsageError(
                f"--only names {', '.join(outside)}, which --kinds leaves out; add "
                f"{', '.join(outside)} to --kinds or drop the pattern."
            )
    wanted = selected or ([kind for kind, _ in patterns] if patterns else None)
    read = with_dependencies(wanted) if wanted is not None else None
    before = read_snapshot(source, read)
    after = read_snapshot(destination, read)
    _check_b2b_connected((before, after), wanted, config_path)
    # A selected kind missing from the destination is unknown there, not empty: planning it would
    # create every one of its entities.
    unpulled = [k for k in before.kinds if k not in after.kinds and (wanted is None or k in wanted)]
    if unpulled:
        env = after.environment or "ENV"
        raise PlanError(
            f"{destination} has no {', '.join(unpulled)}: they were not pulled, so stagesync "
            f"cannot tell what exists there. Pull them (stagesync pull {env} --kinds "
            f"{','.join(unpulled)}) or leave them out with --kinds.",
            path=str(destination),
        )
    if before.stock != after.stock:
        stocked, plain = (source, destination) if before.stock else (destination, source)
        raise PlanError(
            f"{stocked} was pulled with inventory levels and {plain} without, so their stock "
            "cannot be compared. Pull both the same way: set stock = true for both environments "
            "(or pull both with --stock) to migrate stock, or neither.",
            path=str(plain),
        )
    plan = make_plan(
        before,
        after,
        REGISTRY,
        created_at=_now(),
        kinds=wanted,
        only=patterns,
        deps=deps,
        prune=prune,
        quota=destination_quota(after, config_path),
    )
    return replace(plan, stock=True) if before.stock else plan


def _check_b2b_connected(
    snapshots: Sequence[Snapshot], wanted: Sequence[str] | None, config_path: Path | None
) -> None:
    """B2B kinds are diffed only between connected environments: each snapshot's environment
    (when the configuration names it) must be connected to B2B Edition."""
    kinds = b2b.b2b_kinds(wanted if wanted is not None else {k for s in snapshots for k in s.kinds})
    chosen, _ = config_file(config_path)
    if not kinds or not chosen.is_file():
        return
    config = load_config(chosen)
    for snapshot in snapshots:
        env = config.environments.get(snapshot.environment or "")
        if env is not None:
            b2b.require_connection(env, kinds)


def destination_quota(snapshot: Snapshot, config_path: Path | None = None) -> Quota:
    """The request quota of the snapshot's environment, from the configuration when there is one
    (found as every command finds it) that names the environment or its store; else the
    Standard/Plus default of 150 requests per 30 s."""
    chosen, _ = config_file(config_path)
    if not chosen.is_file():
        return Quota()
    config = load_config(chosen)
    env = config.environments.get(snapshot.environment or "")
    if env is None and snapshot.store_hash:
        env = config.find_environment_by_store(snapshot.store_hash)
    return Quota(env.quota, env.window_ms) if env is not None else Quota()


def load_plan(path: Path) -> Plan:
    """Read and verify a plan file (format, version, digest)."""
    return planfile.read_plan(path)


def save_plan(plan: Plan, path: Path) -> None:
    """Write a plan file atomically."""
    planfile.write_plan(plan, path)


def rollback_path(plan_path: Path) -> Path:
    """Where push writes the rollback plan: ``rollback-plan.json`` beside ``plan.json``,
    ``<name>.rollback-plan.json`` beside any other plan file."""
    if plan_path.name == "plan.json":
        return plan_path.with_name("rollback-plan.json")
    return plan_path.with_name(plan_path.stem + ".rollback-plan.json")


def push(
    plan_path: Path,
    *,
    config_path: Path | None = None,
    to: str | None = None,
    dry_run: bool = False,
    allow_drift: bool = False,
    resume: bool = False,
    force_unlock: bool = False,
    concurrency: int = DEFAULT_CONCURRENCY,
    verify: bool = False,
    activate: str | None = None,
    order_status: str = "pending",
    progress: Progress | None = None,
    connector: Connector = connect,
    b2b_factory: b2b.B2BFactory = b2b.open_b2b,
) -> PushResult:
    """Apply exactly the plan at ``plan_path`` to its destination (or ``to``), or refuse.

    Beside the plan it keeps a journal (``<plan>.journal.jsonl``) and, while running, a lock; it
    writes the result report (``<plan>.result.json`` and ``.result.html``) and the rollback plan.

    ``activate`` (``THEME`` or ``THEME:VARIATION``) then makes that theme active on the default
    storefront, if every operation was done.

    ``order_status``: ``pending`` (created orders are Pending) or ``keep`` (the source's).
    """
    if order_status not in ORDER_STATUSES:
        raise StageSyncError(
            f"--order-status must be one of {', '.join(ORDER_STATUSES)}, not {order_status!r}."
        )
    plan = load_plan(plan_path)
    config = load_config(config_path)
    name = to or plan.destination.environment
    if name is None:
        raise PlanRefused(f"{plan_path} does not name its destination environment; pass --to ENV.")
    env = config.environment(name)
    if not plan.destination.store_hash:
        raise PlanRefused(
            f"{plan_path} does not record its destination store, so it cannot be checked "
            "against one; nothing was written. Pull the destination and re-run stagesync diff."
        )
    if env.store_hash != plan.destination.store_hash:
        raise PlanRefused(
            f"{plan_path} was made for store {plan.destination.store_hash}, but environment "
            f"'{env.name}' is store {env.store_hash}; nothing was written. Push it to the store "
            "it was made for, or make a new plan against this one."
        )
    if concurrency < 1:
        raise StageSyncError(f"--concurrency must be at least 1, got {concurrency}.")

    plan_kinds = with_dependencies({op.kind for op in plan.operations})
    if b2b.b2b_kinds(plan_kinds):
        b2b.require_connection(env, plan_kinds)

    theme, _, variation = (activate or "").partition(":")
    if activate is not None and not theme:
        raise StageSyncError('--activate needs a theme name: "THEME" or "THEME:VARIATION".')
    retries: dict[str, int] = {}

    async def apply(
        journal: Journal | None, previous: JournalState | None
    ) -> tuple[Applied, int, int, str | None]:
        async with connector(env) as api, b2b.session(env, plan_kinds, b2b_factory) as b2b_api:
            with tallying() as tally:
                await _check_store(api, env)
                applied = await apply_plan(
                    api,
                    plan,
                    store=_store_name(env),
                    dry_run=dry_run,
                    allow_drift=allow_drift,
                    progress=progress,
                    concurrency=concurrency,
                    journal=journal,
                    previous=previous,
                    verify=verify,
                    settings={"order_status": order_status, **stock_settings(plan.stock)},
                    channel_names=env.channels,
                )
            retries.update(tally.retries)
            activated = None
            ok = all(r.status == "done" for r in applied.results)
            if theme and ok and not dry_run:
                chosen = await themes.activate(api, theme, variation or None)
                activated = f"{theme} ({chosen})"
            b2b_requests = b2b_api.requests_made if b2b_api is not None else 0
            return applied, api.requests_made + b2b_requests, tally.throttled, activated

    if dry_run:
        applied, requests, _, _ = run_quietly(apply(None, None))
        return PushResult(
            plan,
            env.name,
            tuple(applied.results),
            requests,
            dry_run=True,
            notices=push_notices(plan),
        )

    digest = planfile.plan_digest(plan)
    journal_file = journal_path(plan_path)
    with PushLock(lock_path(plan_path, env.store_hash), plan=plan_path, force=force_unlock):
        previous = read_journal(journal_file, digest)
        if previous.other_plan:
            if not previous.finished:
                raise PlanRefused(
                    f"{journal_file} belongs to an unfinished push of another plan (digest "
                    f"{previous.plan_digest}); nothing was written. Finish that push with "
                    "--resume, or move the journal away if you abandon it."
                )
            # The journal of a finished push of an earlier plan: keep it, out of the way.
            journal_file.replace(journal_file.with_name(journal_file.name + ".previous"))
            previous = JournalState()
        if previous.runs and not resume:
            raise PlanRefused(
                f"{plan_path} was pushed before and its journal {journal_file} records "
                f"{len(previous.done)} finished operation(s); nothing was written. Continue that "
                f"push with --resume, or make a new plan."
            )
        started, clock = _now(), time.monotonic()
        journal = Journal(journal_file)
        journal.write_now(
            {
                "event": "begin",
                "format": JOURNAL_FORMAT,
                "format_version": JOURNAL_VERSION,
                "plan_digest": digest,
                "store_hash": env.store_hash,
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started_at": started,
                "resume": bool(previous.runs),
            }
        )
        try:
            applied, requests, throttled, activated = run_quietly(
                apply(journal, previous if previous.runs else None)
            )
            journal.write_now({"event": "end", "finished_at": _now()})
        except PlanRefused:
            # Refused before any write (drift): the run did nothing, so it must not make the
            # next push of this plan, or of a new plan, look like a push to resume.
            journal.write_now({"event": "end", "finished_at": _now(), "refused": True})
            raise
        finally:
            journal.close()
            rollback = _write_rollback(plan, plan_path, digest)
    results = applied.results
    duration = int((time.monotonic() - clock) * 1000)
    report = plan_path.with_name(plan_path.stem + ".result.html")
    statuses = {
        r.operation.id: Outcome(r.status, r.error, r.requests, r.duration_ms / 1000)
        for r in results
    }
    write_atomic_chunks(report, html_chunks(plan, statuses, requests=requests))
    result_json = plan_path.with_name(plan_path.stem + ".result.json")
    body = result_body(
        plan,
        results,
        plan_file=str(plan_path),
        plan_digest=digest,
        environment=env.name,
        store_hash=env.store_hash,
        started_at=started,
        finished_at=_now(),
        duration_ms=duration,
        requests=requests,
        throttled=throttled,
        retries=retries,
        concurrency=concurrency,
        resumed=bool(previous.runs),
        verified=verify,
        journal=str(journal_file),
        rollback_plan=str(rollback) if rollback else None,
        lazy=True,
    )
    write_atomic_chunks(result_json, result_chunks(body))
    return PushResult(
        plan,
        env.name,
        tuple(results),
        requests,
        report=report,
        result_json=result_json,
        journal=journal_file,
        rollback=rollback,
        throttled=throttled,
        retries=retries,
        duration_ms=duration,
        activated=activated,
        notices=push_notices(plan),
    )


def _write_rollback(plan: Plan, plan_path: Path, digest: str) -> Path | None:
    """Write the rollback plan of everything the journal records as done (None if nothing)."""
    state = read_journal(journal_path(plan_path), digest)
    if not state.done:
        return None
    path = rollback_path(plan_path)
    undo = rollback_plan(
        plan, set(state.done), state.before, created_at=_now(), plan_name=str(plan_path)
    )
    planfile.write_plan(undo, path)
    return path


ORDER_STATUSES = ("pending", "keep")


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
