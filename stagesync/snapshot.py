"""The snapshot store: one environment's records as a folder of ID-free JSON files.

    snapshots/staging/
      snapshot.json                          manifest: format, store, per-kind count and digest
      brands/acme.json                       {"kind": "brands", "key": "acme", "record": {...}}
      products/SKU-123~1a2b3c4d.json
      categories/Shoes~9f86d081/Running~e3b0c442.json

``write_snapshot`` replaces a folder atomically; ``read_snapshot`` reads and verifies one;
``record_path`` / ``file_names`` say where a record lives. Pure file I/O: no HTTP, no printing.
The format, the file-name rules and the reasons for them are in ``docs/snapshot-format.md``.
"""

from __future__ import annotations

import gc
import hashlib
import os
import re
import secrets
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from stagesync.errors import SnapshotError
from stagesync.filetree import content_bytes, content_value, file_hash
from stagesync.keys import split_raw
from stagesync.model import (
    REDACTION_SCHEME,
    REDACTION_VERSION,
    KindSnapshot,
    Record,
    Redaction,
    Snapshot,
    canonical_dumps,
    canonical_json,
    digest,
)

FORMAT = "stagesync.snapshot"
FORMAT_VERSION = 1
MANIFEST = "snapshot.json"

NESTED_KINDS = frozenset({"categories"})
CHANNEL_FOLDER = "@"
"""Prefix of the folder holding a non-default channel's category tree: ``categories/@uk/``."""
"""Kinds whose keys are ``/``-separated paths, stored as one folder per path segment."""

FILE_TREE_KINDS = {"themes": "files"}
"""Kinds whose records hold a file tree (field name), stored as real files next to the record:
``themes/<name>.json`` holds the record with each file's hash, ``themes/<name>/files/...`` the
files themselves, so git and reviewers see per-file changes."""

TREE_FOLDER = "files"
MAX_TREE_NAME = 128
_TREE_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\- ]*")

MAX_NAME_BYTES = 64
"""Longest UTF-8 name kept from a key (or path segment) before the ``~hash`` and ``.json``."""

HASH_CHARS = 8
"""Hex digits of sha256(key) appended to every name that is not plain."""

_KIND = re.compile(r"[a-z][a-z0-9_]*")
_PLAIN = re.compile(r"[a-z0-9_][a-z0-9_.-]*")
_WINDOWS_RESERVED = frozenset(
    ["con", "prn", "aux", "nul"]
    + [f"{device}{n}" for device in ("com", "lpt") for n in "0123456789\u00b9\u00b2\u00b3"]
)
_DUMP_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2
_READ_WORKERS = 8
_WRITE_WORKERS = 8
_CHUNK = 256
_WRITES_QUEUED = 2 * _WRITE_WORKERS
_READ_SIZE = 1 << 16
_CACHED_READ_SECONDS = 15e-6


# --- file names ------------------------------------------------------------------------------


def encode_name(text: str) -> str:
    """A file-system-safe name for one key (or one category path segment), without ``.json``.

    A *plain* key, one made only of ``a-z 0-9 _ . -`` that is short, not a Windows device name and
    does not end in ``.`` or ``.json``, is its own name: ``acme``, ``sku-123``. Any other key keeps
    its safe characters (others become ``_``), is cut to ``MAX_NAME_BYTES`` and gets ``~`` and the
    first ``HASH_CHARS`` hex digits of the sha256 of the exact key: ``SKU-123~1a2b3c4d``. Plain
    names are lower case and never contain ``~``; every other name ends in its own key's hash, so
    no two keys share a name, even on a case-insensitive file system, and no name depends on which
    other keys exist.
    """
    if _is_plain(text):
        return text
    return f"{_readable(text)}~{_short_hash(text)}"


def record_path(kind: str, key: str) -> PurePosixPath:
    """Where ``kind``'s record ``key`` lives, relative to the snapshot folder.

    ``record_path("products", "SKU-123") == PurePosixPath("products/SKU-123~<hash>.json")``;
    a category ``Shoes/Running`` lives at ``categories/<Shoes>/<Running>.json``, each segment
    encoded by ``encode_name``. The path never leaves the kind's folder, whatever the key holds.
    """
    _check_kind(kind)
    if kind in NESTED_KINDS:
        segments = split_raw(key)
        if len(segments) > 2 and segments[0] == "":
            # Another channel's tree (``/uk/Shoes``): its folder is ``@`` + the channel's encoded
            # key, a name ``encode_name`` never gives (it never starts with ``@``).
            segments = [CHANNEL_FOLDER + encode_name(segments[1]), *segments[2:]]
            names = [segments[0], *(encode_name(segment) for segment in segments[1:])]
        else:
            names = [encode_name(segment) for segment in segments]
    else:
        names = [encode_name(key)]
    names[-1] += ".json"
    return PurePosixPath(kind, *names)


def file_names(kind: str, keys: Iterable[str]) -> dict[str, PurePosixPath]:
    """``record_path`` for many keys, checked to be distinct even case-insensitively.

    Two keys can only share a path if their sha256 digests share the first ``HASH_CHARS`` hex
    digits and their readable parts match; that raises ``SnapshotError`` instead of overwriting.
    """
    paths: dict[str, PurePosixPath] = {}
    seen: dict[str, str] = {}
    for key in keys:
        path = record_path(kind, key)
        folded = str(path).casefold()
        other = seen.setdefault(folded, key)
        if other != key:
            raise SnapshotError(
                f"{kind} keys {other!r} and {key!r} both map to the file {path}. This is a "
                f"hash collision stagesync cannot store; please report it.",
                path=str(path),
            )
        paths[key] = path
    return paths


def tree_path(kind: str, key: str, path: str) -> PurePosixPath:
    """Where file ``path`` of ``kind``'s record ``key`` lives, relative to the snapshot folder:
    ``themes/<encoded name>/files/<path>``. A path segment is kept as it is when it is safe on
    every file system (letters, digits, ``_ . -`` and spaces; not a Windows device name; not
    ending in ``.`` or a space; no ``~``); any other segment is encoded like a key
    (``encode_name``), so nothing escapes the folder whatever the bundle holds."""
    record = record_path(kind, key)
    base = record.with_name(record.name[: -len(".json")])
    segments = path.split("/")
    if not path or any(seg in ("", ".", "..") for seg in segments):
        raise SnapshotError(f"{kind} {key!r} holds an unsafe file path {path!r}.", path=str(base))
    return base.joinpath(TREE_FOLDER, *(_tree_name(seg) for seg in segments))


def _tree_name(segment: str) -> str:
    if (
        len(segment.encode("utf-8", "surrogatepass")) <= MAX_TREE_NAME
        and _TREE_PLAIN.fullmatch(segment)
        and not segment.endswith((".", " "))
        and segment.split(".", 1)[0].casefold() not in _WINDOWS_RESERVED
    ):
        return segment
    return encode_name(segment)


def _is_plain(text: str) -> bool:
    return (
        len(text) <= MAX_NAME_BYTES
        and _PLAIN.fullmatch(text) is not None
        and not text.endswith(".")
        and not text.endswith(".json")
        and text.split(".", 1)[0] not in _WINDOWS_RESERVED
    )


def _readable(text: str) -> str:
    """The key's safe characters: letters and digits of any script, ``_ . -``; others -> ``_``."""
    chars = [ch if ch.isalnum() or ch in "_.-" else "_" for ch in text]
    name = "".join(chars)
    encoded = name.encode("utf-8")
    if len(encoded) > MAX_NAME_BYTES:
        name = encoded[:MAX_NAME_BYTES].decode("utf-8", "ignore")
    if name[:1] in (".", "-"):
        name = "_" + name[1:]  # no hidden files, nothing a shell reads as an option
    stem, dot, rest = name.partition(".")
    if dot and stem.casefold() in _WINDOWS_RESERVED:
        name = f"{stem}_{dot}{rest}"  # "nul.txt" would be the NUL device on Windows
    return name or "_"


def _short_hash(text: str) -> str:
    data = text.encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()[:HASH_CHARS]


def _check_kind(kind: str) -> None:
    if _KIND.fullmatch(kind) is None:
        raise ValueError(f"{kind!r} is not a kind name (snake_case, like 'products')")


# --- writing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamedKind:
    """One kind's records produced one at a time while they are written (a large pull)."""

    keys: Sequence[str]
    """Every key, sorted."""
    records: Callable[[], Iterable[tuple[str, Record]]]
    """(key, record) for every key, in ``keys`` order."""


@dataclass(frozen=True)
class StreamedSnapshot:
    """A snapshot whose records are never all in memory: ``write_snapshot`` writes each record
    as it is produced and computes each kind's digest on the way (the same bytes and digests as
    writing the equivalent ``Snapshot``)."""

    kinds: Mapping[str, StreamedKind]
    environment: str | None
    store_hash: str | None
    pulled_at: str | None
    stock: bool = False


def streamed(records: KindSnapshot) -> StreamedKind:
    keys = sorted(records.records)
    return StreamedKind(keys, lambda: ((key, records.records[key]) for key in keys))


def write_snapshot(
    directory: Path,
    snapshot: Snapshot | StreamedSnapshot,
    *,
    kinds: Iterable[str] | None = None,
    extras: Mapping[str, bytes | Iterable[bytes]] | None = None,
    based_on: Mapping[str, Any] | None = None,
) -> None:
    """Replace the snapshot folder ``directory`` with ``snapshot``, atomically.

    The new snapshot is built in a hidden sibling folder, flushed to disk, then swapped in; if
    anything fails, ``directory`` is left exactly as it was. With ``kinds`` (a partial pull), only
    those kinds are written from ``snapshot`` and every other kind of the existing folder is carried
    over unchanged, files and manifest entry. Raises ``SnapshotError`` if a record cannot be
    serialised or written, or if ``directory`` holds something other than a snapshot.
    ``extras`` are hidden files written with it (relative path -> bytes, each name starting with
    ``.``): caches that are not part of any record, like the themes' download cache.
    ``based_on`` goes to the manifest as it is: what a pull read, and from when (``pull``).
    A ``StreamedSnapshot`` is written record by record, never held whole.
    """
    directory = Path(directory)
    if kinds is None:
        selected = sorted(snapshot.kinds)
    else:
        selected = sorted(set(kinds))
        missing = [kind for kind in selected if kind not in snapshot.kinds]
        if missing:
            raise ValueError(f"kinds {missing} are not in the snapshot being written")
    for kind in selected:
        _check_kind(kind)

    previous = _existing_manifest(directory, partial=kinds is not None)
    carried: dict[str, dict[str, Any]] = {}
    if kinds is not None and previous is not None:
        _check_same_store(directory, previous, snapshot)
        carried = {k: v for k, v in previous.kinds.items() if k not in selected}

    remove_stale_work_folders(directory)
    staging = _work_folder(directory, "tmp")
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
        entries: dict[str, dict[str, Any]] = {}
        with ThreadPoolExecutor(_WRITE_WORKERS) as pool:
            for kind in selected:
                source = snapshot.kinds[kind]
                if isinstance(source, KindSnapshot):
                    source = streamed(source)
                entries[kind] = _write_kind(pool, directory, staging, kind, source)
        for kind, entry in carried.items():
            if (directory / kind).is_dir():
                shutil.copytree(directory / kind, staging / kind, copy_function=_link_or_copy)
            entries[kind] = entry
        for name, data in sorted((extras or {}).items()):
            rel = PurePosixPath(name)
            if not rel.name.startswith(".") or ".." in rel.parts or rel.is_absolute():
                raise ValueError(f"extra snapshot file {name!r} must be a hidden file inside it")
            (staging / rel.parent).mkdir(parents=True, exist_ok=True)
            _write_file(staging / rel, data)  # a large one written as its chunks come
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "environment": snapshot.environment,
            "store_hash": snapshot.store_hash,
            "pulled_at": snapshot.pulled_at,
            "kinds": entries,
        }
        if snapshot.stock:  # only when asked for, so other manifests stay as they were
            manifest["stock"] = True
        redaction = _redaction_written(snapshot, previous, carried)
        if redaction is not None:
            marker = redaction.to_json()
            manifest["redaction"] = {**marker, "digest": _redaction_digest(marker, entries)}
        if based_on is not None:
            manifest["based_on"] = dict(based_on)
        _write_file(staging / MANIFEST, orjson.dumps(manifest, option=_DUMP_OPTIONS) + b"\n")
        _fsync_tree_dirs(staging)
        _swap(staging, directory)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        where = error.filename or directory
        raise SnapshotError(
            f"could not write the snapshot {directory}: {error.strerror or error} ({where}). "
            f"The previous snapshot is unchanged; fix the cause and pull again.",
            path=str(where),
        ) from error
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _redaction_written(
    snapshot: Snapshot | StreamedSnapshot,
    previous: _Manifest | None,
    carried: Mapping[str, Any],
) -> Redaction | None:
    """The marker of the folder written: this snapshot's, with that of the kinds a partial
    pull carries over from a redacted folder."""
    new = snapshot.redaction if isinstance(snapshot, Snapshot) else None
    kept = previous.redaction.only(carried) if previous and previous.redaction else None
    if kept is None or not kept.kinds:
        return new
    if new is None:
        return kept
    return Redaction(new.version, new.keyed, {**kept.kinds, **new.kinds})


def _redaction_digest(marker: Mapping[str, Any], entries: Mapping[str, Any]) -> str:
    """Binds a redaction marker to the digests of the kinds it names."""
    kinds = {kind: entries[kind]["digest"] for kind in sorted(marker["kinds"])}
    return digest({"redaction": marker, "kinds": kinds})


def dump_record(kind: str, key: str, record: Record) -> bytes:
    """The exact bytes of one record file: sorted keys, 2-space indent, trailing newline, every
    number in its one form (``189``, never ``189.0``: ``stagesync.model.canonical_number``)."""
    document = {"kind": kind, "key": key, "record": record}
    return canonical_dumps(document, _DUMP_OPTIONS) + b"\n"


def _write_kind(
    pool: ThreadPoolExecutor, directory: Path, staging: Path, kind: str, source: StreamedKind
) -> dict[str, Any]:
    """Write one kind's record files; its manifest entry (count and digest, the digest computed
    on the way over the same canonical JSON as ``KindSnapshot.digest``)."""
    paths = file_names(kind, source.keys)
    folders: set[PurePosixPath] = set()
    batch: list[tuple[str, bytes]] = []
    pending: deque[Future[None]] = deque()
    hasher = hashlib.sha256(b"{")
    count = 0
    for key, record in source.records():
        rel = paths[key]
        if not isinstance(record, dict):
            raise SnapshotError(
                f"cannot write {kind} {key!r} to {directory / rel}: its record is a "
                f"{type(record).__name__}, not a JSON object.",
                path=str(directory / rel),
            )
        try:
            # An exact-size copy: orjson's own bytes carry a 32 KiB allocation each, and
            # thousands wait in the write queue.
            data = bytes(memoryview(dump_record(kind, key, record)))
            hasher.update(b"," if count else b"")
            hasher.update(orjson.dumps(key) + b":" + canonical_json(record))
        except orjson.JSONEncodeError as error:
            raise SnapshotError(
                f"cannot write {kind} {key!r} to {directory / rel}: {error}. A record may hold "
                f"only JSON values (strings, numbers, booleans, null, lists, objects with string "
                f"keys); this is a bug in the {kind} normaliser.",
                path=str(directory / rel),
            ) from error
        count += 1
        if rel.parent not in folders:
            (staging / rel.parent).mkdir(parents=True, exist_ok=True)
            folders.add(rel.parent)
        if kind in FILE_TREE_KINDS:
            data = _write_tree(staging, kind, key, record)
        batch.append((os.path.join(staging, rel), data))
        if len(batch) >= _CHUNK:
            pending.append(pool.submit(_write_files, batch))
            batch = []
            while len(pending) > _WRITES_QUEUED:  # bound what waits to be written
                pending.popleft().result()
    if batch:
        pending.append(pool.submit(_write_files, batch))
    for future in pending:
        future.result()
    if count != len(paths):
        raise ValueError(f"{kind}: {count} records written for {len(paths)} keys")
    hasher.update(b"}")
    return {"count": count, "digest": "sha256:" + hasher.hexdigest()}


def _write_tree(staging: Path, kind: str, key: str, record: Record) -> bytes:
    """Write a record's file tree under ``staging``; the bytes of its record file, which lists
    each file's hash instead of its content."""
    field = FILE_TREE_KINDS[kind]
    files = record.get(field) or {}
    if not isinstance(files, dict):
        raise SnapshotError(
            f"cannot write {kind} {key!r}: its {field!r} is not a file tree.", path=kind
        )
    index: dict[str, str] = {}
    seen: dict[str, str] = {}
    for path in sorted(files):
        rel = tree_path(kind, key, path)
        other = seen.setdefault(str(rel).casefold(), path)
        if other != path:
            raise SnapshotError(
                f"{kind} {key!r} holds the files {other!r} and {path!r}, which differ only in "
                "case; they cannot both be stored on every file system. Rename one.",
                path=str(rel),
            )
        try:
            data = content_bytes(files[path])
        except ValueError as error:
            raise SnapshotError(
                f"cannot write {kind} {key!r} file {path!r}: {error}.", path=str(rel)
            ) from None
        (staging / rel.parent).mkdir(parents=True, exist_ok=True)
        _write_file(staging / rel, data)
        index[path] = file_hash(data)
    return dump_record(kind, key, {**record, field: index})


def _write_files(batch: list[tuple[str, bytes]]) -> None:
    for path, data in batch:
        _write_file(path, data)


def _write_file(path: str | Path, data: bytes | Iterable[bytes]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        for chunk in (data,) if isinstance(data, bytes) else data:
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _link_or_copy(source: str, destination: str) -> None:
    """Carry a file over unchanged: a hard link when the file system allows, else a copy."""
    try:
        os.link(source, destination)
    except OSError:
        _write_file(destination, Path(source).read_bytes())


def _fsync_tree_dirs(root: Path) -> None:
    """Make the new folders' entries durable too (needed on Linux before a rename)."""
    if os.name != "posix":
        return
    for folder, _, _ in os.walk(root):
        _fsync_dir(folder)


def _fsync_dir(folder: str | Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap(staging: Path, directory: Path) -> None:
    if not directory.exists():
        os.rename(staging, directory)
        _fsync_dir(directory.parent)
        return
    aside = _work_folder(directory, "old")
    os.rename(directory, aside)
    try:
        os.rename(staging, directory)
    except BaseException:
        os.rename(aside, directory)
        raise
    _fsync_dir(directory.parent)
    shutil.rmtree(aside, ignore_errors=True)


# -- work folders: ".NAME.tmp-PID-START-RANDOM" (being built), ".NAME.old-..." (being replaced) --

_LEGACY_STALE_AFTER = 24 * 3600.0
"""Seconds untouched after which a work folder of an older stagesync (no owner in its name) is
taken as abandoned."""


def _work_folder(directory: Path, role: str) -> Path:
    """A hidden sibling of ``directory`` named after the process that owns it: its pid and start
    time, so a later pull can tell a folder a killed pull left behind from one still in use."""
    pid = os.getpid()
    owner = f"{pid}-{_process_start(pid) or 0}"
    return directory.parent / f".{directory.name}.{role}-{owner}-{secrets.token_hex(4)}"


def remove_stale_work_folders(directory: Path) -> list[Path]:
    """Remove the work folders of ``directory`` that no running process owns (a pull killed with
    SIGKILL leaves its ``.NAME.tmp-*`` behind); returns them. Only names of this exact pattern are
    touched; an ``.old-`` folder only once ``directory`` exists again (the swap it belonged to
    completed), so a previous snapshot is never lost."""
    if not directory.parent.is_dir():
        return []
    pattern = re.compile(
        rf"\.{re.escape(directory.name)}\.(tmp|old)-"
        r"(?:(?P<pid>\d+)-(?P<start>\d+)-[0-9a-f]{8}|(?P<legacy>[0-9a-f]{8}))"
    )
    removed = []
    for entry in directory.parent.iterdir():
        match = pattern.fullmatch(entry.name)
        if match is None or entry.is_symlink() or not entry.is_dir():
            continue
        if match[1] == "old" and not directory.is_dir():
            continue
        if match["legacy"] is not None:
            stale = time.time() - entry.stat().st_mtime > _LEGACY_STALE_AFTER
        else:
            stale = not _running(int(match["pid"]), int(match["start"]))
        if stale:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _process_start(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot, from /proc); None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        return int(stat.rsplit(")", 1)[1].split()[19])  # field 22, counted after "(comm)"
    except (OSError, ValueError, IndexError):
        return None


def _running(pid: int, start: int) -> bool:
    """Whether process ``pid`` exists and is the one that started at ``start`` (0: unknown, so
    any process with that pid counts: a folder is kept rather than risk removing a live one)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return start == 0 or _process_start(pid) in (start, None)


def _existing_manifest(directory: Path, *, partial: bool) -> _Manifest | None:
    """The manifest of the folder about to be replaced; refuses to replace anything else.

    A full pull may replace a damaged snapshot (that is how one repairs it); a partial pull needs
    a readable manifest, as it carries the other kinds over.
    """
    if not directory.exists():
        return None
    if not directory.is_dir():
        raise SnapshotError(
            f"{directory} is a file, not a snapshot folder; choose another folder (--out).",
            path=str(directory),
        )
    if not (directory / MANIFEST).exists():
        if not _looks_like_snapshot(directory):
            raise SnapshotError(
                f"{directory} is not a stagesync snapshot (it has no {MANIFEST}) and is not "
                f"empty; stagesync will not replace it. Choose a new or empty folder (--out).",
                path=str(directory),
            )
        return None
    try:
        return _read_manifest(directory)
    except SnapshotError as error:
        if partial:
            raise SnapshotError(
                f"{error.message} A partial pull (--kinds) keeps the other kinds from it, so "
                f"pull all kinds instead.",
                path=error.path,
            ) from None
        return None


def _looks_like_snapshot(directory: Path) -> bool:
    """Empty, or holding only kind folders and hidden files: a snapshot that lost its manifest."""
    with os.scandir(directory) as entries:
        return all(
            entry.name.startswith(".") or (entry.is_dir() and _KIND.fullmatch(entry.name))
            for entry in entries
        )


def _check_same_store(
    directory: Path, previous: _Manifest, snapshot: Snapshot | StreamedSnapshot
) -> None:
    if previous.store_hash and snapshot.store_hash and previous.store_hash != snapshot.store_hash:
        raise SnapshotError(
            f"{directory} holds a snapshot of store {previous.store_hash}, not "
            f"{snapshot.store_hash}; a partial pull would mix two stores. Pull all kinds, or "
            f"pull into another folder (--out).",
            path=str(directory / MANIFEST),
        )


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Manifest:
    kinds: dict[str, dict[str, Any]]
    environment: str | None
    store_hash: str | None
    pulled_at: str | None
    stock: bool = False
    redaction: Redaction | None = None


def read_snapshot(directory: Path, kinds: Iterable[str] | None = None) -> Snapshot:
    """Read and verify the snapshot folder ``directory`` (only ``kinds`` if given).

    Kinds the manifest does not list are not in the result (they were never pulled). Raises
    ``SnapshotError``, with ``.path`` the offending file, if the folder is missing, is not a
    snapshot or is from a newer stagesync, or if a record file is unreadable, malformed, in the
    wrong folder, duplicates a key, or the files disagree with the manifest.
    """
    directory = Path(directory)
    manifest = _read_manifest(directory)
    if kinds is None:
        wanted = sorted(manifest.kinds)
        _check_no_unlisted_folders(directory, manifest)
    else:
        wanted = sorted({kind for kind in kinds if kind in manifest.kinds})

    files = {
        kind: _record_files(directory / kind, recurse=kind not in FILE_TREE_KINDS)
        for kind in wanted
    }
    with _gc_paused():
        result = _read_kinds(directory, manifest, files)
    return Snapshot(
        kinds=result,
        environment=manifest.environment,
        store_hash=manifest.store_hash,
        pulled_at=manifest.pulled_at,
        stock=manifest.stock,
        redaction=manifest.redaction.only(wanted) if manifest.redaction else None,
    )


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Parsing builds millions of containers that are all kept; the cyclic GC would rescan them
    again and again for nothing (it makes reading about twice as slow)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read_kinds(
    directory: Path, manifest: _Manifest, files: dict[str, list[str]]
) -> dict[str, KindSnapshot]:
    contents = iter(_read_all([path for paths in files.values() for path in paths]))
    result: dict[str, KindSnapshot] = {}
    for kind, paths in files.items():
        records: dict[str, Record] = {}
        found_in: dict[str, str] = {}
        for path in paths:
            key, record = _parse_record(kind, path, next(contents))
            if kind in FILE_TREE_KINDS:
                record = _read_tree(directory, kind, key, record, path)
            if key in records:
                raise SnapshotError(
                    f"{found_in[key]} and {path} both hold {kind} {key!r}; a key may appear "
                    f"once. Delete the copy that is wrong, or pull again.",
                    path=path,
                )
            records[key] = record
            found_in[key] = path
        result[kind] = KindSnapshot(records)
        _verify_kind(directory, kind, result[kind], manifest.kinds[kind])
    return result


def _read_tree(directory: Path, kind: str, key: str, record: Record, path: str) -> Record:
    """The record with its file tree read back from ``<kind>/<name>/files/``, each file checked
    against the hash its record file lists; a missing, changed or unlisted file is an error."""
    field = FILE_TREE_KINDS[kind]
    index = record.get(field)
    if not isinstance(index, dict) or not all(isinstance(v, str) for v in index.values()):
        raise SnapshotError(
            f'{path} needs "{field}": {{path: "sha256:..."}} listing its files. Pull again.',
            path=path,
        )
    advice = "Pull again, or restore the folder from git."
    files: dict[str, Any] = {}
    expected: set[str] = set()
    for name in sorted(index):
        rel = tree_path(kind, key, name)
        expected.add(str(rel))
        try:
            data = _read_file(str(directory / rel))
        except OSError as error:
            raise SnapshotError(
                f"{directory / rel}, a file of {kind} {key!r}, cannot be read "
                f"({error.strerror}). {advice}",
                path=str(directory / rel),
            ) from None
        if file_hash(data) != index[name]:
            raise SnapshotError(
                f"{directory / rel} does not match the hash {path} lists for it: it was edited "
                f"after the pull. {advice}",
                path=str(directory / rel),
            )
        files[name] = content_value(data)
    base = tree_path(kind, key, "x").parent
    for folder, _, names in os.walk(directory / base):
        for name in names:
            rel_name = PurePosixPath(Path(folder, name).relative_to(directory).as_posix())
            if str(rel_name) not in expected:
                raise SnapshotError(
                    f"{directory / rel_name} is not listed in {path}: it was added after the "
                    f"pull. {advice}",
                    path=str(directory / rel_name),
                )
    return {**record, field: files}


def _read_manifest(directory: Path) -> _Manifest:
    path = directory / MANIFEST
    if not directory.is_dir():
        hint = ""
        leftovers = sorted(directory.parent.glob(f".{directory.name}.old-*"))
        if leftovers and not directory.exists():
            hint = (
                f" ({leftovers[0]} is a snapshot an interrupted write set aside; rename it to "
                f"{directory.name} to use it)"
            )
        what = "is not a folder" if directory.exists() else "does not exist"
        raise SnapshotError(
            f"snapshot folder {directory} {what}; run `stagesync pull ENV` first{hint}.",
            path=str(directory),
        )

    def invalid(problem: str) -> SnapshotError:
        return SnapshotError(f"{directory} is not a stagesync snapshot: {problem}.", path=str(path))

    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise invalid(f"it has no {MANIFEST}; pull again (`stagesync pull ENV`)") from None
    except orjson.JSONDecodeError as error:
        raise invalid(f"{path} is not valid JSON ({_json_position(error)})") from None
    except OSError as error:
        raise invalid(f"{path} cannot be read ({error.strerror})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise invalid(f'{path} does not have "format": "{FORMAT}"')
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise invalid(f'{path} has no valid "format_version"')
    if version > FORMAT_VERSION:
        raise SnapshotError(
            f"{path} has format_version {version}, newer than this stagesync reads "
            f"({FORMAT_VERSION}); upgrade stagesync to read it.",
            path=str(path),
        )
    entries = data.get("kinds")
    if not isinstance(entries, dict) or not all(
        isinstance(kind, str)
        and _KIND.fullmatch(kind)
        and isinstance(entry, dict)
        and isinstance(entry.get("count"), int)
        and isinstance(entry.get("digest"), str)
        for kind, entry in entries.items()
    ):
        raise invalid(f'{path} needs "kinds": {{kind: {{"count": int, "digest": str}}}}')
    text = {}
    for field in ("environment", "store_hash", "pulled_at"):
        value = data.get(field)
        if value is not None and not isinstance(value, str):
            raise invalid(f'{path} has a non-string "{field}"')
        text[field] = value
    if not isinstance(data.get("stock", False), bool):
        raise invalid(f'{path} has a non-boolean "stock"')
    redaction = _read_redaction(data.get("redaction"), path, entries, invalid)
    return _Manifest(
        kinds=entries, stock=bool(data.get("stock", False)), redaction=redaction, **text
    )


def _read_redaction(
    value: Any,
    path: Path,
    entries: Mapping[str, Any],
    invalid: Callable[[str], SnapshotError],
) -> Redaction | None:
    """The manifest's ``redaction`` marker, checked: absent (None) or naming the pseudonym
    scheme, a version this stagesync knows, and kinds the manifest lists."""
    if value is None:
        return None
    shape = f'{path} has a malformed "redaction" (docs/snapshot-format.md)'
    if not isinstance(value, dict) or value.get("scheme") != REDACTION_SCHEME:
        raise invalid(shape)
    version, kinds = value.get("version"), value.get("kinds")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise invalid(shape)
    if not isinstance(kinds, dict) or not isinstance(value.get("keyed"), bool):
        raise invalid(shape)
    for kind, entry in kinds.items():
        if kind not in entries or not isinstance(entry, dict):
            raise invalid(f'{path} marks {kind!r} as redacted but does not list it in "kinds"')
        if not isinstance(entry.get("fields"), dict):
            raise invalid(shape)
    marker = {k: v for k, v in value.items() if k != "digest"}
    if value.get("digest") != _redaction_digest(marker, entries):
        raise invalid(
            f'the "redaction" of {path} does not match its digest: the manifest was edited by '
            "hand. Pull again"
        )
    if version > REDACTION_VERSION:
        raise SnapshotError(
            f"{path} was redacted with pseudonym scheme {version}, newer than this stagesync "
            f"knows ({REDACTION_VERSION}); upgrade stagesync to read it.",
            path=str(path),
        )
    return Redaction(version, value["keyed"], kinds)


def _check_no_unlisted_folders(directory: Path, manifest: _Manifest) -> None:
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.is_dir() and _KIND.fullmatch(entry.name) and entry.name not in manifest.kinds:
                raise SnapshotError(
                    f"{entry.path} holds records of kind {entry.name!r}, which "
                    f"{directory / MANIFEST} does not list: the snapshot was edited by hand or "
                    f"only partly copied. Pull again, or delete that folder.",
                    path=entry.path,
                )


def _record_files(folder: Path, *, recurse: bool = True) -> list[str]:
    """Every record file under a kind's folder, sorted; a missing folder holds none. Without
    ``recurse``, only the folder's own files (the rest are file trees)."""
    found: list[str] = []

    def walk(path: str) -> None:
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if recurse:
                        walk(entry.path)
                elif entry.name.endswith(".json"):
                    found.append(entry.path)

    try:
        walk(str(folder))
    except FileNotFoundError:
        return []
    except NotADirectoryError:
        raise SnapshotError(
            f"{folder} should be the folder of its kind's records but is a file; pull again.",
            path=str(folder),
        ) from None
    found.sort()
    return found


def _read_all(paths: list[str]) -> Iterator[bytes | OSError]:
    """The bytes of each file, in order.

    The first chunk is read in this thread and timed: files in the OS cache take a few
    microseconds each, and then threads only add contention. Files that come from the disk take
    far longer, and then a pool of threads (which release the GIL while they wait) reads the rest
    two to three times faster.
    """
    started = time.perf_counter()
    first = _read_chunk(paths[:_CHUNK])
    elapsed = time.perf_counter() - started
    yield from first
    rest = paths[_CHUNK:]
    if not rest:
        return
    if elapsed < _CACHED_READ_SECONDS * len(first):
        yield from _read_chunk(rest)
        return
    chunks = [rest[i : i + _CHUNK] for i in range(0, len(rest), _CHUNK)]
    with ThreadPoolExecutor(_READ_WORKERS) as pool:
        for contents in pool.map(_read_chunk, chunks):
            yield from contents


def _read_chunk(paths: list[str]) -> list[bytes | OSError]:
    out: list[bytes | OSError] = []
    for path in paths:
        try:
            out.append(_read_file(path))
        except OSError as error:
            out.append(error)
    return out


def _read_file(path: str) -> bytes:
    """open, one read, close: record files are small, and a short read of a file means its end."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        data = os.read(fd, _READ_SIZE)
        if len(data) == _READ_SIZE:
            parts = [data]
            while more := os.read(fd, _READ_SIZE):
                parts.append(more)
            data = b"".join(parts)
        return data
    finally:
        os.close(fd)


def _parse_record(kind: str, path: str, content: bytes | OSError) -> tuple[str, Record]:
    if isinstance(content, OSError):
        raise SnapshotError(
            f"cannot read the record file {path}: {content.strerror}.", path=path
        ) from content
    try:
        data = orjson.loads(content)
    except orjson.JSONDecodeError as error:
        raise SnapshotError(
            f"{path} is not valid JSON ({_json_position(error)}). Fix the file (git diff shows "
            f"what changed), or pull again.",
            path=path,
        ) from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("kind"), str)
        or not isinstance(data.get("key"), str)
        or not isinstance(data.get("record"), dict)
    ):
        raise SnapshotError(
            f'{path} is not a stagesync record file: it needs "kind" and "key" (strings) and '
            f'"record" (an object). Fix the file, or pull again.',
            path=path,
        )
    if data["kind"] != kind:
        raise SnapshotError(
            f"{path} holds a {data['kind']} record but lies in the {kind} folder; it was moved "
            f"or copied by hand. Move it back to {data['kind']}/, or pull again.",
            path=path,
        )
    return data["key"], data["record"]


def _verify_kind(
    directory: Path, kind: str, records: KindSnapshot, entry: Mapping[str, Any]
) -> None:
    folder = directory / kind
    advice = (
        "the snapshot was edited by hand or only partly copied. Pull again "
        "(`stagesync pull ENV`), or restore the folder from git."
    )
    if len(records.records) != entry["count"]:
        raise SnapshotError(
            f"{directory / MANIFEST} lists {entry['count']} {kind} but {folder} holds "
            f"{len(records.records)} record files: {advice}",
            path=str(folder),
        )
    if records.digest != entry["digest"] and _written_digest(records) != entry["digest"]:
        raise SnapshotError(
            f"the {kind} records in {folder} do not match the digest in "
            f"{directory / MANIFEST}: {advice}",
            path=str(folder),
        )


def _written_digest(records: KindSnapshot) -> str:
    """The digest over the records as written, numbers as they are: what stagesync wrote in
    manifests before numbers had one form (a snapshot pulled then, holding ``189.0``, still
    reads; its records compare by value all the same)."""
    ordered = {key: records.records[key] for key in sorted(records.records)}
    as_written = orjson.dumps(ordered, option=orjson.OPT_SORT_KEYS)
    return "sha256:" + hashlib.sha256(as_written).hexdigest()


def _json_position(error: orjson.JSONDecodeError) -> str:
    return f"line {error.lineno}, column {error.colno}: {error.msg}"
