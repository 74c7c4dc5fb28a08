"""The push journal, beside the plan file (the push lock is on the store: ``storelock``).

Journal (``<plan>.journal.jsonl``): one JSON object per line, appended and fsynced before anything
that depends on it runs. Lines, by ``event``:

- ``begin``: a run started (``plan_digest``, ``store_hash``, ``pid``, ``host``, ``started_at``,
  ``resume``);
- ``before``: the pre-image of an entity (``op``, ``record``), written before its first write;
- ``done`` / ``failed`` / ``skipped``: an operation finished (``op``, ``created`` (``{"kind:key":
  id}``), ``requests``, ``duration_ms``, ``error``);
- ``policy``: what the policy rules found and the ``--override`` pairs given (``findings``,
  ``overrides``), when there are any;
- ``end``: a run finished (``finished_at``); ``refused``: it was refused before any write (drift,
  a policy finding, or the store answered as another store), so it does not count as a run.

A line cut short by a kill is ignored when the journal is read back. Writes are group-committed:
lines appended while an fsync runs go out together with the next one, so many concurrent
operations cost one fsync per round, not one each.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from stagesync.errors import StageSyncError

FORMAT = "stagesync.journal"
FORMAT_VERSION = 1


def journal_path(plan_path: Path) -> Path:
    return plan_path.with_name(plan_path.stem + ".journal.jsonl")


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class JournalState:
    """What earlier runs of a plan recorded."""

    runs: int = 0
    done: dict[str, dict[str, Any]] = field(default_factory=dict)
    """op id -> its ``done`` line."""
    before: dict[str, Any] = field(default_factory=dict)
    """op id -> pre-image record."""
    before_ids: dict[str, int | str] = field(default_factory=dict)
    """op id -> the live id the entity had before the push touched it."""
    finished: bool = False
    """The last run wrote ``end``."""
    plan_digest: str | None = None
    """The digest of the plan the journal's first run pushed."""
    other_plan: bool = False
    """The journal belongs to another plan (whose lines are not read)."""


def read_journal(path: Path, plan_digest: str) -> JournalState:
    """Read back what runs of the plan with ``plan_digest`` recorded (``other_plan`` is set when
    the journal belongs to another plan)."""
    state = JournalState()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return state
    for line in data.splitlines():
        if not line.strip():
            continue
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue  # a line cut short by a kill: the operation is simply not recorded
        if not isinstance(entry, dict):
            continue
        event = entry.get("event")
        if state.other_plan and event != "begin":
            if event == "end":
                state.finished = True
            continue
        if event == "begin":
            if state.plan_digest is None:
                state.plan_digest = entry.get("plan_digest")
            if entry.get("plan_digest") != plan_digest:
                state.other_plan = True
                continue
            state.runs += 1
            state.finished = False
        elif event == "before" and isinstance(entry.get("op"), str):
            state.before.setdefault(entry["op"], entry.get("record"))
            if isinstance(entry.get("live_id"), int):
                state.before_ids.setdefault(entry["op"], entry["live_id"])
        elif event == "done" and isinstance(entry.get("op"), str):
            state.done[entry["op"]] = entry
        elif event == "end":
            state.finished = True
            if entry.get("refused") is True:
                state.runs -= 1  # refused before writing anything: as if it never ran
    return state


class Journal:
    """Appends lines to the journal; ``await record(entry)`` returns once the line is on disk."""

    def __init__(self, path: Path, *, fsync: bool = True) -> None:
        self.path = path
        self._fsync = fsync
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        # A kill may have cut the last line short: start ours on a fresh line.
        size = os.fstat(self._fd).st_size
        if size:
            with path.open("rb") as existing:
                existing.seek(size - 1)
                if existing.read(1) != b"\n":
                    os.write(self._fd, b"\n")
        self._pending: list[tuple[bytes, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    def write_now(self, entry: dict[str, Any]) -> None:
        """Append one line synchronously (outside the apply loop: begin, end)."""
        self._write(_line(entry))

    async def record(self, entry: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._pending.append((_line(entry), future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        await future

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await asyncio.to_thread(self._write, b"".join(line for line, _ in batch))
            except OSError as error:
                failure = StageSyncError(
                    f"could not write the push journal {self.path} ({error}); stopped so that "
                    "no write goes unrecorded. Free disk space or fix permissions, then push "
                    "again with --resume."
                )
                for _, future in batch:
                    if not future.done():
                        future.set_exception(failure)
                continue
            for _, future in batch:
                if not future.done():
                    future.set_result(None)

    def _write(self, data: bytes) -> None:
        os.write(self._fd, data)
        if self._fsync:
            os.fsync(self._fd)

    def close(self) -> None:
        os.close(self._fd)


def _line(entry: dict[str, Any]) -> bytes:
    return orjson.dumps(entry) + b"\n"
