"""The library surface the CLI (and anyone scripting stagesync) calls: one function per command.

Each function takes plain arguments, does its work through the core and the I/O edge, and returns
a value the caller renders. Nothing here prints; progress goes through the ``Progress`` callback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from stagesync import planfile
from stagesync.bigcommerce import BigCommerceClient
from stagesync.config import Environment, load_config
from stagesync.config import config_path as config_file
from stagesync.entities import REGISTRY, resolve_kinds, resolve_patterns, with_dependencies
from stagesync.errors import PlanError, PlanRefused, StageSyncError
from stagesync.files import write_atomic
from stagesync.model import Plan, Snapshot
from stagesync.plan import Quota, make_plan
from stagesync.ports import Progress, StoreApi
from stagesync.pull import read_live
from stagesync.push import OperationResult, apply_plan
from stagesync.report.html import render_html
from stagesync.snapshot import read_snapshot, write_snapshot


@dataclass(frozen=True)
class PullResult:
    directory: Path
    environment: str
    store_hash: str
    counts: dict[str, int]
    """Records written per kind."""
    requests: int


@dataclass(frozen=True)
class PushResult:
    plan: Plan
    destination: str
    results: tuple[OperationResult, ...]
    requests: int
    dry_run: bool = False
    report: Path | None = None

    @property
    def ok(self) -> bool:
        """Every operation applied (or would be, in a dry run), or was skipped for drift as
        ``--allow-drift`` asked."""
        return all(r.status in ("applied", "planned", "drifted") for r in self.results)

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
    """None when it was not tried (no token)."""
    detail: str
    b2b: str


Connector = Callable[[Environment], AbstractAsyncContextManager[StoreApi]]
"""Opens a store API for an environment. Tests pass one that reaches the emulator in process."""


def connect(environment: Environment) -> AbstractAsyncContextManager[StoreApi]:
    """The real thing: HTTPS to the environment's ``api_url`` with its token."""
    return BigCommerceClient(
        environment.store_hash, environment.token(), api_url=environment.api_url
    )


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
    config_path: Path | None = None, *, connector: Connector = connect
) -> list[EnvironmentStatus]:
    """Every configured environment, with whether its token is set and its store answers."""
    config = load_config(config_path)

    async def probe(environment: Environment) -> EnvironmentStatus:
        token_set = True
        reachable: bool | None = None
        detail = ""
        try:
            environment.token()
        except StageSyncError:
            token_set = False
        if token_set:
            try:
                async with connector(environment) as api:
                    await _check_store(api, environment)
                reachable = True
            except StageSyncError as error:
                reachable, detail = False, str(error).split(". ")[0]
        b2b = "configured, not connected" if environment.b2b else "not configured"
        return EnvironmentStatus(
            environment.name,
            environment.store_hash,
            environment.api_url,
            environment.access_token_env,
            token_set,
            reachable,
            detail,
            b2b,
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
    progress: Progress | None = None,
    connector: Connector = connect,
) -> PullResult:
    """Pull ``environment``'s entities into a snapshot folder (default ``snapshots/<env>``)."""
    env = load_config(config_path).environment(environment)
    selected = resolve_kinds(kinds) if kinds else list(REGISTRY)
    directory = out or Path("snapshots") / environment

    async def fetch() -> tuple[Snapshot, int]:
        async with connector(env) as api:
            await _check_store(api, env)
            live = await read_live(api, selected, store=_store_name(env), progress=progress)
            snapshot = Snapshot(live.kinds(), environment, env.store_hash, _now())
            return snapshot, api.requests_made

    snapshot, requests = asyncio.run(fetch())
    write_snapshot(directory, snapshot, kinds=selected)
    counts = {kind: len(snapshot.records(kind)) for kind in selected}
    return PullResult(directory, environment, env.store_hash, counts, requests)


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
            raise PlanError(
                f"--only names {', '.join(outside)}, which --kinds leaves out; add "
                f"{', '.join(outside)} to --kinds or drop the pattern."
            )
    wanted = selected or ([kind for kind, _ in patterns] if patterns else None)
    read = with_dependencies(wanted) if wanted is not None else None
    before = read_snapshot(source, read)
    after = read_snapshot(destination, read)
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
    return make_plan(
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


def push(
    plan_path: Path,
    *,
    config_path: Path | None = None,
    to: str | None = None,
    dry_run: bool = False,
    allow_drift: bool = False,
    progress: Progress | None = None,
    connector: Connector = connect,
) -> PushResult:
    """Apply exactly the plan at ``plan_path`` to its destination (or ``to``), or refuse."""
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

    async def apply() -> tuple[list[OperationResult], int]:
        async with connector(env) as api:
            await _check_store(api, env)
            results = await apply_plan(
                api,
                plan,
                store=_store_name(env),
                dry_run=dry_run,
                allow_drift=allow_drift,
                progress=progress,
            )
            return results, api.requests_made

    results, requests = asyncio.run(apply())
    report = None
    if not dry_run:
        report = plan_path.with_name(plan_path.stem + ".result.html")
        statuses = {r.operation.id: (r.status, r.error) for r in results}
        write_atomic(report, render_html(plan, statuses))
    return PushResult(plan, env.name, tuple(results), requests, dry_run, report)
