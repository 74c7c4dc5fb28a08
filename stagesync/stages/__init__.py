"""Push and pull as short pipelines of named stages (docs/architecture.md).

A push stage is a ``Stage``: a name and an async step over the run object. A step returns None to
let the run go on, or the error that stops it; ``run_stages`` turns that into a ``Refusal``
naming the stage, and runs no further stage. A refusal is a result, not an exception: the caller
decides what to do with it (``api.push`` raises its error, so the CLI prints it as before).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from stagesync.errors import StageSyncError

Run = TypeVar("Run")


@dataclass(frozen=True)
class Refusal:
    """A run stopped before writing anything more: which stage refused, and why."""

    stage: str
    error: StageSyncError

    def __str__(self) -> str:
        return str(self.error)


@dataclass(frozen=True)
class Stage(Generic[Run]):
    """One named step of a pipeline."""

    name: str
    step: Callable[[Run], Awaitable[StageSyncError | None]]


async def run_stages(run: Run, stages: Sequence[Stage[Run]]) -> Refusal | None:
    """Run ``stages`` in order over ``run``; the first that refuses ends the run."""
    for stage in stages:
        error = await stage.step(run)
        if error is not None:
            return Refusal(stage.name, error)
    return None
