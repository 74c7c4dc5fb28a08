"""Push and pull as short pipelines of named stages (docs/architecture.md).

A stage is a ``Stage``: a name and an async step over the run object (``PushRun``,
``PullRun``). A step returns None to let the run go on, or the error that stops it;
``run_stages`` turns that into a ``Refusal`` naming the stage, and runs no further stage. A
refusal is a result, not an exception: the caller decides what to do with it (``api.push``
raises its error, so the CLI prints it as before).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from stagesync.errors import StageSyncError


@dataclass(frozen=True)
class Refusal:
    """A run stopped before writing anything more: which stage refused, and why."""

    stage: str
    error: StageSyncError

    def __str__(self) -> str:
        return str(self.error)


class Holding(Protocol):
    """A run object: what its stages hold (lock, journal, connection) and how it ended."""

    held: AsyncExitStack
    """Released in reverse order however the run ends."""
    refusal: Refusal | None


Run = TypeVar("Run", bound=Holding)
T = TypeVar("T")


@dataclass(frozen=True)
class Stage(Generic[Run]):
    """One named step of a pipeline."""

    name: str
    step: Callable[[Run], Awaitable[StageSyncError | None]]


async def run_stages(run: Run, stages: Sequence[Stage[Run]]) -> Refusal | None:
    """Run ``stages`` in order over ``run``; the first that refuses ends the run (its refusal
    is ``run.refusal`` while what the run holds is released, and is returned)."""
    async with run.held:
        for stage in stages:
            error = await stage.step(run)
            if error is not None:
                run.refusal = Refusal(stage.name, error)
                break
    return run.refusal


def need(value: T | None) -> T:
    """A field of the run object an earlier stage fills in (the stages run in order)."""
    assert value is not None, "a stage ran before the stage that fills in what it reads"
    return value
