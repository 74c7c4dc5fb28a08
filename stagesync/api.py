"""The library surface the CLI (and anyone scripting stagesync) calls: one function per command.

Each function takes plain arguments, does its work through the core and the I/O edge, and returns
a value the caller renders. Nothing here prints; progress goes through the ``Progress`` callback.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from stagesync import b2b, planfile
from stagesync import probe as probing
from stagesync.assumptions import REGISTRY as ASSUMPTIONS
from stagesync.bases import Drift
from stagesync.config import Config, Environment, load_config
from stagesync.config import config_path as config_file
from stagesync.entities import (
    REGISTRY,
    resolve_kinds,
    resolve_patterns,
    with_dependencies,
)
from stagesync.errors import PlanError, StageSyncError, UsageError
from stagesync.errors import PlanRefused as PlanRefused
from stagesync.model import Plan, Snapshot
from stagesync.plan import Quota, make_plan
from stagesync.policy.check import check_plan as check_plan
from stagesync.policy.check import plan_findings
from stagesync.ports import Progress
from stagesync.push import DEFAULT_CONCURRENCY
from stagesync.snapshot import (
    read_snapshot,
)
from stagesync.stages import Refusal, Stage, need, run_stages
from stagesync.stages.pull.listing import list_kinds
from stagesync.stages.pull.normalise import normalise
from stagesync.stages.pull.read import read_store
from stagesync.stages.pull.run import PullOptions, PullRun
from stagesync.stages.pull.run import PullResult as PullResult
from stagesync.stages.pull.write import write
from stagesync.stages.push.activate import activate
from stagesync.stages.push.apply import apply, preview
from stagesync.stages.push.bind import bind
from stagesync.stages.push.check import check
from stagesync.stages.push.lock import lock
from stagesync.stages.push.read import read
from stagesync.stages.push.record import record
from stagesync.stages.push.record import rollback_path as rollback_path
from stagesync.stages.push.report import push_notices as push_notices
from stagesync.stages.push.report import report
from stagesync.stages.push.run import ORDER_STATUSES as ORDER_STATUSES
from stagesync.stages.push.run import PushOptions, PushRun
from stagesync.stages.push.run import PushResult as PushResult
from stagesync.stages.push.unlock import unlock
from stagesync.stages.push.verify import verify
from stagesync.stages.store import (
    Connector,
    check_store,
    connect,
    now,
)

if TYPE_CHECKING:  # the replica's emulator and HTTP clients load only when rehearsing
    from stagesync.rehearsal import Rehearsal


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
                    await check_store(api, environment)
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


PULL: tuple[Stage[PullRun], ...] = (
    Stage("list", list_kinds),
    Stage("read", read_store),
    Stage("normalise", normalise),
    Stage("write", write),
)
"""The stages of a pull, in order (docs/architecture.md)."""


def pull(
    environment: str,
    *,
    config_path: Path | None = None,
    kinds: Sequence[str] | None = None,
    out: Path | None = None,
    redact: bool = False,
    stock: bool | None = None,
    full: bool = False,
    progress: Progress | None = None,
    connector: Connector = connect,
    b2b_factory: b2b.B2BFactory = b2b.open_b2b,
) -> PullResult:
    """Pull ``environment``'s entities into a snapshot folder (default ``snapshots/<env>``).
    ``redact`` replaces personal data with stable pseudonyms before anything is written.
    ``stock`` records inventory levels (default: the environment's ``stock`` setting).
    Without ``kinds``, B2B kinds are pulled when the environment has B2B credentials.
    Into a folder that holds an earlier pull of the same store, only what may have changed since
    is read (the snapshot written is the same); ``full`` reads everything."""
    options = PullOptions(kinds, out, redact, stock, full)
    run = PullRun(
        environment,
        options,
        config_path=config_path,
        progress=progress,
        connector=connector,
        b2b_factory=b2b_factory,
    )
    refusal = run_quietly(run_stages(run, PULL))
    if refusal is not None:
        raise refusal.error
    return need(run.result)


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


def probe(
    environment: str,
    *,
    config_path: Path | None = None,
    announce: Callable[[int], None] | None = None,
    connector: Connector = connect,
    b2b_factory: b2b.B2BFactory = b2b.open_b2b,
) -> probing.ProbeReport:
    """Check, with reads only, the assumptions of the registry (stagesync/assumptions.py) that
    have a check, on ``environment``'s store. ``announce`` receives the most requests the probe
    will send, before the first one. The result is kept beside the configuration
    (``.stagesync/probe/ENV.json``), where pull reads which assumptions hold on that store."""
    config = load_config(config_path)
    env = config.environment(environment)
    env.token()  # a missing token is an error before the probe says it starts
    checked = [a for a in ASSUMPTIONS if a.check is not None]
    if announce is not None:
        announce(probing.budget(checked))

    async def run() -> probing.ProbeReport:
        async with contextlib.AsyncExitStack() as stack:
            store = await stack.enter_async_context(connector(env))
            client, why = await _probe_b2b(stack, env, b2b_factory)
            return await probing.run(environment, store, checked, b2b=client, b2b_missing=why)

    report = asyncio.run(run())
    if config.path is not None:
        probing.save(report, config.path.parent, environment)
    return report


async def _probe_b2b(
    stack: contextlib.AsyncExitStack, env: Environment, factory: b2b.B2BFactory
) -> tuple[Any, str]:
    """The environment's B2B client for the probe's B2B checks (closed with ``stack``), or None
    and why not."""
    if b2b.connection_state(env) != "Connected":
        return None, "B2B not connected"
    try:
        client = await stack.enter_async_context(b2b.session(env, ["b2b_companies"], factory))
    except StageSyncError as error:
        return None, f"B2B not reachable: {error.message}"
    return client, ""


def probe_write(
    environment: str,
    *,
    config_path: Path | None = None,
    announce: Callable[[int], None] | None = None,
    connector: Connector = connect,
    b2b_factory: b2b.B2BFactory = b2b.open_b2b,
) -> probing.ProbeReport:
    """``probe`` and then the checks that need writes (``--write``), on a ``sandbox`` store only.
    What they create is journaled beside stagesync.toml and deleted again (``probe_resume``
    finishes a cleanup a stopped run left)."""
    from stagesync.probe_writes import Journal

    config = load_config(config_path)
    env = config.environment(environment)
    if env.role != "sandbox":
        raise StageSyncError(
            f"probe --write creates and deletes entities, so it runs only on a sandbox store; "
            f'environment {environment} has role = "{env.role}". Set role = "sandbox" '
            f"for [environments.{environment}] in stagesync.toml if its store is one, or run "
            "the probe without --write (reads only)."
        )
    env.token()
    journal = Journal(_probe_journal(config, environment))
    if journal.pending():
        raise StageSyncError(
            f"an earlier probe --write of {environment} left entities to delete "
            f"({journal.path}); run stagesync probe {environment} --resume first."
        )
    if announce is not None:
        announce(probing.budget(ASSUMPTIONS, write=True))

    async def run() -> probing.ProbeReport:
        async with contextlib.AsyncExitStack() as stack:
            store = await stack.enter_async_context(connector(env))
            client, why = await _probe_b2b(stack, env, b2b_factory)
            return await probing.run_write(
                environment, store, ASSUMPTIONS, journal, b2b=client, b2b_missing=why
            )

    report = asyncio.run(run())
    if config.path is not None:  # what pull relies on (``probe.last_results``)
        probing.save(report, config.path.parent, environment)
    return report


def probe_resume(
    environment: str, *, config_path: Path | None = None, connector: Connector = connect
) -> int:
    """Delete what a stopped ``probe --write`` of ``environment`` left (its cleanup journal
    lists it); the number of entities deleted."""
    from stagesync.probe_writes import Journal, delete_pending

    config = load_config(config_path)
    env = config.environment(environment)
    journal = Journal(_probe_journal(config, environment))
    if not journal.pending():
        journal.finish()
        return 0
    env.token()

    async def run() -> int:
        async with connector(env) as store:
            return await delete_pending(store, journal)

    return asyncio.run(run())


def _probe_journal(config: Config, environment: str) -> Path:
    from stagesync.probe_writes import journal_path

    project = config.path.parent if config.path is not None else Path.cwd()
    return journal_path(project, environment)


def diff(
    source: Path,
    destination: Path,
    *,
    kinds: Sequence[str] | None = None,
    only: Sequence[str] | None = None,
    deps: bool = True,
    missing_only: bool = False,
    prune: bool = False,
    config_path: Path | None = None,
    base: Path | None = None,
    use_base: bool = True,
    resolve: Sequence[str] = (),
) -> Plan:
    """The plan that makes ``destination``'s snapshot look like ``source``'s, for the selected
    kinds (``kinds``) and entities (``only``: ``KIND:GLOB`` patterns), with the entities they
    reference unless ``deps`` is False (with ``missing_only``, only those the destination lacks:
    the differing ones are listed in the plan's ``left_alone``), and deletes only with
    ``prune``. The plan records the policy rules' findings (docs/policy.md).

    Three-way against ``base`` (default: the destination's recorded base, when there is one;
    none with ``use_base=False``): what changed on the destination since the base is kept, and
    what changed on both sides is a conflict, resolved by ``resolve`` patterns
    (``KIND:GLOB=source|destination``)."""
    from stagesync.bases import read_base
    from stagesync.stages.plan.merge import parse_resolution

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
    resolutions = [parse_resolution(text, sorted(REGISTRY)) for text in resolve]
    ancestor = read_base(destination, after, base, read) if use_base else None
    if resolutions and ancestor is None:
        raise UsageError(
            "--resolve needs a base: pass --base DIR, or push once to record the destination's "
            "base (and drop --no-base)."
        )
    plan = make_plan(
        before,
        after,
        REGISTRY,
        created_at=now(),
        kinds=wanted,
        only=patterns,
        deps=deps,
        missing_only=missing_only,
        prune=prune,
        quota=destination_quota(after, config_path),
        role=destination_role(after, config_path),
        base=ancestor,
        resolutions=resolutions,
    )
    findings = plan_findings(plan, after, destination, config_path)
    return replace(plan, stock=before.stock or plan.stock, findings=findings)


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


def destination_environment(
    snapshot: Snapshot, config_path: Path | None = None
) -> Environment | None:
    """The snapshot's environment in the configuration, when there is one (found as every
    command finds it) that names the environment or its store."""
    chosen, _ = config_file(config_path)
    if not chosen.is_file():
        return None
    config = load_config(chosen)
    env = config.environments.get(snapshot.environment or "")
    if env is None and snapshot.store_hash:
        env = config.find_environment_by_store(snapshot.store_hash)
    return env


def destination_quota(snapshot: Snapshot, config_path: Path | None = None) -> Quota:
    """The request quota of the snapshot's environment (``destination_environment``); else the
    Standard/Plus default of 150 requests per 30 s."""
    env = destination_environment(snapshot, config_path)
    return Quota(env.quota, env.window_ms) if env is not None else Quota()


def destination_role(snapshot: Snapshot, config_path: Path | None = None) -> str:
    """The ``role`` of the snapshot's environment (``destination_environment``); production,
    the strictest, when no configuration names it."""
    env = destination_environment(snapshot, config_path)
    return env.role if env is not None else "production"


def drift(
    environment: str,
    *,
    config_path: Path | None = None,
    base: Path | None = None,
    progress: Progress | None = None,
    connector: Connector = connect,
    b2b_factory: b2b.B2BFactory = b2b.open_b2b,
) -> Drift:
    """What changed on ``environment``'s store since its base (``base``, default its recorded
    base ``snapshots/.bases/ENV``): the base's kinds are pulled whole into a temporary folder
    and compared with it. Nothing in the snapshots folder changes."""
    import tempfile

    from stagesync.bases import base_folder, drift_since
    from stagesync.errors import SnapshotError

    folder = base or base_folder(Path("snapshots") / environment, environment)
    if not (folder / "snapshot.json").is_file():
        raise SnapshotError(
            f"{environment} has no base at {folder}: push to it once (each successful push "
            "records one), or pass a snapshot to compare with using --base DIR.",
            path=str(folder),
        )
    recorded = read_snapshot(folder)
    with tempfile.TemporaryDirectory(prefix=".stagesync-drift-") as work:
        pulled = pull(
            environment,
            config_path=config_path,
            kinds=sorted(recorded.kinds),
            out=Path(work) / environment,
            stock=recorded.stock,
            progress=progress,
            connector=connector,
            b2b_factory=b2b_factory,
        )
        live = read_snapshot(pulled.directory)
    if recorded.store_hash and recorded.store_hash != live.store_hash:
        raise SnapshotError(
            f"{folder} is a snapshot of store {recorded.store_hash}, not of {environment} "
            f"(store {live.store_hash}): pass {environment}'s base with --base DIR.",
            path=str(folder),
        )
    changes = drift_since(recorded, live)
    return Drift(environment, folder, recorded.pulled_at, changes, pulled.requests)


def load_plan(path: Path) -> Plan:
    """Read and verify a plan file (format, version, digest)."""
    return planfile.read_plan(path)


def save_plan(plan: Plan, path: Path) -> None:
    """Write a plan file atomically."""
    planfile.write_plan(plan, path)


PUSH: tuple[Stage[PushRun], ...] = (
    Stage("bind", bind),
    Stage("lock", lock),
    Stage("read", read),
    Stage("check", check),
    Stage("apply", apply),
    Stage("verify", verify),
    Stage("activate", activate),
    Stage("unlock", unlock),
    Stage("record", record),
    Stage("report", report),
)
"""The stages of a push, in order (docs/architecture.md)."""

DRY_RUN: tuple[Stage[PushRun], ...] = (
    Stage("bind", bind),
    Stage("read", read),
    Stage("check", check),
    Stage("apply", preview),
    Stage("report", report),
)
"""A dry run: no lock, no journal, nothing written."""


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
    overrides: Sequence[tuple[str, str]] = (),
    progress: Progress | None = None,
    connector: Connector = connect,
    b2b_factory: b2b.B2BFactory = b2b.open_b2b,
) -> PushResult:
    """Apply exactly the plan at ``plan_path`` to its destination (or ``to``), or refuse (raise
    the refusing stage's error; ``run_push`` returns the ``Refusal`` instead).

    Beside the plan it keeps a journal (``<plan>.journal.jsonl``); while it runs, it holds the
    push lock on the store (``storelock``). It writes the result report (``<plan>.result.json``
    and ``.result.html``) and the rollback plan.

    ``activate`` (``THEME`` or ``THEME:VARIATION``) then makes that theme active on the default
    storefront, if every operation was done.

    ``order_status``: ``pending`` (created orders are Pending) or ``keep`` (the source's).

    ``overrides``: (rule id, reason) pairs accepting that rule's error-level policy findings,
    which otherwise refuse the push (docs/policy.md); both are recorded.
    """
    options = PushOptions(
        to,
        dry_run,
        allow_drift,
        resume,
        force_unlock,
        concurrency,
        verify,
        activate,
        order_status,
        tuple(overrides),
    )
    run = PushRun(
        plan_path,
        options,
        config_path=config_path,
        progress=progress,
        connector=connector,
        b2b_factory=b2b_factory,
    )
    outcome = run_push(run)
    if isinstance(outcome, Refusal):
        raise outcome.error
    return outcome


def rehearse(
    plan_path: Path,
    snapshot: Path,
    *,
    source: Path | None = None,
    config_path: Path | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    verify: bool = False,
    order_status: str = "pending",
    progress: Progress | None = None,
) -> Rehearsal:
    """Push the plan at ``plan_path`` to an emulated replica of its destination loaded from
    ``snapshot`` (the destination snapshot the plan was made from), check that it converges to
    ``source`` (default: ``snapshots/<source environment>``, if its digest is the plan's) and
    that its rollback plan restores the snapshot; writes ``<plan>.rehearsal.json`` and
    ``.rehearsal.html``. Nothing is sent to the destination store (docs/rehearse.md)."""
    from stagesync.rehearsal import rehearse as run_rehearsal

    options = PushOptions(concurrency=concurrency, verify=verify, order_status=order_status)
    return run_rehearsal(
        plan_path,
        snapshot,
        source_dir=source,
        config_path=config_path,
        options=options,
        progress=progress,
    )


def run_push(run: PushRun) -> PushResult | Refusal:
    """Run the stages of ``run`` (``PUSH``, or ``DRY_RUN``): the result, or the ``Refusal`` of
    the stage that refused. Whatever the run held (lock, journal, connection) is released."""
    refusal = run_quietly(run_stages(run, DRY_RUN if run.options.dry_run else PUSH))
    if refusal is not None:
        return refusal
    return need(run.result)
