"""The library surface the CLI (and anyone scripting stagesync) calls: one function per command.

Each function takes plain arguments, does its work through the core and the I/O edge, and returns
a value the caller renders. Nothing here prints; progress goes through the ``Progress`` callback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from stagesync.model import Operation, Plan


class Progress(Protocol):
    """Receives progress of long operations; the CLI renders it with rich (or plain lines)."""

    def start(self, task: str, total: int | None) -> None:
        """A task begins (``"pull products"``); total is None while unknown."""

    def advance(self, task: str, done: int = 1, total: int | None = None) -> None:
        """``done`` more units of ``task`` finished; total may become known."""

    def finish(self, task: str) -> None: ...


class NoProgress:
    def start(self, task: str, total: int | None) -> None:
        pass

    def advance(self, task: str, done: int = 1, total: int | None = None) -> None:
        pass

    def finish(self, task: str) -> None:
        pass


@dataclass(frozen=True)
class PullResult:
    directory: Path
    environment: str
    store_hash: str
    counts: dict[str, int]
    """Records written per kind."""
    requests: int


@dataclass(frozen=True)
class OperationResult:
    operation: Operation
    status: str
    """``applied``, ``failed``, ``skipped`` (a dependency failed) or ``planned`` (dry run)."""
    error: str | None = None
    requests: int = 0


@dataclass(frozen=True)
class PushResult:
    plan: Plan
    destination: str
    results: tuple[OperationResult, ...]
    requests: int
    dry_run: bool = False
    report: Path | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(r.status in ("applied", "planned") for r in self.results)

    @property
    def failed(self) -> tuple[OperationResult, ...]:
        return tuple(r for r in self.results if r.status in ("failed", "skipped"))


def pull(
    environment: str,
    *,
    config_path: Path | None = None,
    kinds: Sequence[str] | None = None,
    out: Path | None = None,
    progress: Progress | None = None,
) -> PullResult:
    """Pull ``environment``'s entities into a snapshot folder (default ``snapshots/<env>``)."""
    raise NotImplementedError


def diff(
    source: Path,
    destination: Path,
    *,
    kinds: Sequence[str] | None = None,
) -> Plan:
    """The plan that makes ``destination``'s snapshot look like ``source``'s."""
    raise NotImplementedError


def load_plan(path: Path) -> Plan:
    """Read and verify a plan file (format, version, digest)."""
    raise NotImplementedError


def save_plan(plan: Plan, path: Path) -> None:
    """Write a plan file atomically."""
    raise NotImplementedError


def push(
    plan_path: Path,
    *,
    config_path: Path | None = None,
    to: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> PushResult:
    """Apply exactly the plan at ``plan_path`` to its destination (or ``to``), or refuse."""
    raise NotImplementedError
