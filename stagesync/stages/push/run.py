"""The run object of a push: its inputs (plan file, options, how to reach the store), then what
each stage finds, in stage order, and the result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from stagesync import planfile
from stagesync.config import Environment
from stagesync.journal import Journal, JournalState
from stagesync.model import Finding, Plan
from stagesync.ports import StoreApi, Tally
from stagesync.pull import LiveState
from stagesync.push import DEFAULT_CONCURRENCY, Applied, Drift, OperationResult
from stagesync.stages.store import StoreRun
from stagesync.storelock import StoreLock

if TYPE_CHECKING:
    from stagesync.bigcommerce.b2b import B2BClient

ORDER_STATUSES = ("pending", "keep")


@dataclass(frozen=True)
class PushOptions:
    """The choices of one push (``stagesync push`` flags)."""

    to: str | None = None
    dry_run: bool = False
    allow_drift: bool = False
    resume: bool = False
    force_unlock: bool = False
    concurrency: int = DEFAULT_CONCURRENCY
    verify: bool = False
    activate: str | None = None
    order_status: str = "pending"
    overrides: tuple[tuple[str, str], ...] = ()
    """(rule id, reason) of each ``--override RULE --reason TEXT``: error-level findings of
    those rules are accepted, on the record (journal and result JSON)."""


@dataclass(frozen=True)
class Target:
    """A plan bound to the destination it will be pushed to (``bind``)."""

    plan: Plan
    env: Environment
    kinds: list[str]
    """The plan's kinds with the kinds they reference (what push reads, and B2B needs)."""
    settings: dict[str, str]
    """Entity settings for the reads and writes (``order_status``, ``stock``)."""
    theme: str
    """Theme to activate afterwards ("" for none), and its variation."""
    variation: str | None

    @cached_property
    def digest(self) -> str:
        """The plan's digest, as its journal records it (hashed once, when first needed)."""
        return planfile.plan_digest(self.plan)


@dataclass(frozen=True)
class Session:
    """The open connection to the destination (``read``)."""

    api: StoreApi
    b2b_api: B2BClient | None
    tally: Tally
    """Requests and 429s from the read on."""

    @property
    def requests(self) -> int:
        return self.api.requests_made + (self.b2b_api.requests_made if self.b2b_api else 0)


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
    findings: tuple[Finding, ...] = ()
    """What the policy rules found (error-level ones all overridden, or the push was refused)."""
    overrides: tuple[tuple[str, str], ...] = ()
    """The ``--override`` rules and their reasons."""

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


@dataclass(eq=False)
class PushRun(StoreRun):
    """One push: its inputs (and ``StoreRun``'s), then what each stage fills in, in stage order.
    Each stage reads the fields of the stages before it."""

    plan_path: Path
    options: PushOptions = PushOptions()

    target: Target | None = None
    """bind."""
    connection: tuple[StoreApi, B2BClient | None] | None = None
    """lock: the destination, opened to claim its lock; ``read`` goes on with it (a dry run,
    which takes no lock, opens it in ``read``)."""
    tally: Tally | None = None
    """lock: requests, 429s and retries from the store check on (``read`` opens it in a dry run)."""
    lock: StoreLock | None = None
    """lock: the store's push lock, released by ``unlock`` (or however the run ends)."""
    journal: Journal | None = None
    """lock: the journal this run appends to (None in a dry run)."""
    previous: JournalState | None = None
    """lock: what earlier runs of this plan did, when this run resumes them."""
    started: str = ""
    """lock: when the run began (its duration is measured from ``clock``)."""
    clock: float = 0.0
    session: Session | None = None
    """read."""
    live: LiveState | None = None
    """read: what the destination holds of the plan."""
    drifted: dict[str, Drift] = field(default_factory=dict)
    """check: op id -> how it drifted (only with ``allow_drift``: else check refuses)."""
    findings: tuple[Finding, ...] = ()
    """check: what the policy rules found (``stages/push/policy.py``)."""
    applied: Applied | None = None
    """apply (then verify)."""
    activated: str | None = None
    """activate."""
    rollback: Path | None = None
    """record (also written when a run with a journal stops early)."""
    result_json: Path | None = None
    """record."""
    duration_ms: int = 0
    """record."""
    base: Path | str | None = None
    """record: the base folder written, or why none was (None: the push was not complete)."""
    result: PushResult | None = None
    """report."""
