"""Renders ``stagesync.api.Progress``: rich bars on a terminal, plain lines otherwise.

Progress always goes to stderr, so stdout stays clean for data. ``advance`` is called once per
record or request (100,000 times on a big store), so it only adds to a counter and looks at the
clock; the bars or lines are refreshed at most every ``refresh`` (terminal) or ``interval``
(plain) seconds, and once more when a task finishes::

    with ProgressRenderer() as progress:
        api.pull("staging", progress=progress)

Plain lines look like ``pull products: 120/250`` (``pull products: 120`` while the total is
unknown); pull and push tasks add the requests used, the retries made and their causes (when
there were any) and, while running, an ETA:
``push products: 120/250, 340 requests, 3 retries (2 after 429 (rate limit), 1 after 5xx),
ETA 1m20s``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from stagesync.ports import describe_retries


@dataclass
class _Task:
    done: int = 0
    total: int | None = None
    pending: int = 0
    """Units counted but not yet handed to rich."""
    last: float = 0.0
    """When the task was last shown."""
    rich_id: TaskID | None = None
    finished: bool = False
    started: float = 0.0
    requests: int | None = None
    throttled: int = 0
    retries: Mapping[str, int] = field(default_factory=dict)


class ProgressRenderer:
    """Renders tasks' progress on ``stream`` (stderr by default); implements ``api.Progress``."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        live: bool | None = None,
        interval: float = 2.0,
        refresh: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._live = _is_terminal(self._stream) if live is None else live
        self._interval = interval
        self._refresh = refresh
        self._clock = clock
        self._tasks: dict[str, _Task] = {}
        self._bars: Progress | None = None

    @property
    def live(self) -> bool:
        """True when drawing rich bars, False when printing plain lines."""
        return self._live

    def __enter__(self) -> ProgressRenderer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def start(self, task: str, total: int | None) -> None:
        now = self._clock()
        state = _Task(total=total, last=now, started=now)
        self._tasks[task] = state
        if self._live:
            state.rich_id = self._ensure_bars().add_task(task, total=total, info="")

    def advance(self, task: str, done: int = 1, total: int | None = None) -> None:
        state = self._tasks.get(task)
        if state is None:
            self.start(task, total)
            state = self._tasks[task]
        state.done += done
        state.pending += done
        if total is not None:
            state.total = total
        now = self._clock()
        if now - state.last >= (self._refresh if self._live else self._interval):
            state.last = now
            self._show(task, state)

    def stats(
        self,
        task: str,
        *,
        requests: int,
        throttled: int,
        retries: Mapping[str, int] | None = None,
    ) -> None:
        """Requests used, 429s met and retries made (by cause) by ``task`` so far (shown next to
        done/total)."""
        state = self._tasks.get(task)
        if state is not None:
            state.requests, state.throttled = requests, throttled
            state.retries = dict(retries or {})

    def finish(self, task: str) -> None:
        state = self._tasks.get(task)
        if state is None or state.finished:
            return
        state.finished = True
        if self._live and self._bars is not None and state.rich_id is not None:
            total = state.total if state.total is not None else state.done
            self._bars.update(
                state.rich_id,
                completed=state.done,
                total=max(total, state.done),
                info=_info(state, None),
            )
            state.pending = 0
        else:
            self._line(task, state)

    def close(self) -> None:
        """Stop drawing bars; tasks never finished are left as they are."""
        if self._bars is not None:
            self._bars.stop()
            self._bars = None

    # --- rendering ---------------------------------------------------------------------------

    def _show(self, task: str, state: _Task) -> None:
        if not self._live:
            self._line(task, state)
            return
        if self._bars is not None and state.rich_id is not None:
            info = _info(state, self._clock())
            self._bars.update(state.rich_id, advance=state.pending, total=state.total, info=info)
            state.pending = 0

    def _line(self, task: str, state: _Task) -> None:
        count = f"{state.done}/{state.total}" if state.total is not None else str(state.done)
        info = _info(state, None if state.finished else self._clock())
        self._stream.write(f"{task}: {count}{', ' + info if info else ''}\n")
        self._stream.flush()

    def _ensure_bars(self) -> Progress:
        if self._bars is None:
            console = Console(file=self._stream, force_terminal=True)
            self._bars = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[info]}"),
                console=console,
                refresh_per_second=10,
            )
            self._bars.start()
        return self._bars


def _info(state: _Task, now: float | None) -> str:
    """``340 requests, 3 retries (2 after 429 (rate limit), 1 after 5xx), ETA 1m20s``: what is
    known; retries only when there were some; ETA only while running."""
    parts = []
    if state.requests is not None:
        parts.append(f"{state.requests} request{'' if state.requests == 1 else 's'}")
        retried = describe_retries(state.retries)
        if retried:
            parts.append(retried)
        elif state.throttled:
            parts.append(f"{state.throttled} 429s")
    if now is not None and state.total and 0 < state.done < state.total:
        elapsed = now - state.started
        if elapsed > 0:
            parts.append("ETA " + _duration(elapsed / state.done * (state.total - state.done)))
    return ", ".join(parts)


def _duration(seconds: float) -> str:
    whole = int(seconds + 0.5)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
