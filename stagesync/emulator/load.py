"""Loading a pulled snapshot into an emulated store (``emulator serve --load HASH=DIR``, and the
replica ``stagesync rehearse`` pushes to).

Nothing here writes the emulator's state directly. The store is read as stagesync reads any store,
the plan that makes it hold the snapshot is made with stagesync's own diff (``prune``: whatever
the store holds of the snapshot's kinds and the snapshot lacks goes), and that plan is applied
with stagesync's own push code through the emulator's in-process transport. So every kind is
written the way it writes itself to the platform, every object gets a fresh emulator ID, and the
store then pulls back as exactly the snapshot: ``load`` reads it again and refuses (``LoadError``,
naming each entity that differs) when it does not.

Two things a snapshot does not hold are made up: B2B Edition is switched on for a store given B2B
kinds, and a channel that records name but the snapshot does not hold (its ``channels`` kind was
not pulled) is created as a copy of the default storefront under that name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from stagesync import b2b as b2b_kinds
from stagesync.entities import REGISTRY, channels
from stagesync.errors import StageSyncError
from stagesync.model import EntityKey, KindSnapshot, Record, Snapshot, digest
from stagesync.plan import make_plan
from stagesync.ports import Progress, StoreApi, using_b2b
from stagesync.pull import read_live
from stagesync.push import apply_plan
from stagesync.snapshot import read_snapshot
from stagesync.stages.store import now, stock_settings

from . import b2b
from .app import Emulator
from .store import Store

API_URL = "http://emulator.local"
"""The URL the loading client names (requests never leave the process)."""


class LoadError(StageSyncError):
    """A snapshot that could not be loaded into an emulated store (the message says why)."""


@dataclass(frozen=True)
class Loaded:
    """A snapshot loaded into an emulated store."""

    store_hash: str
    directory: Path | None
    digest: str
    """The snapshot's digest, which the store now pulls back as."""
    records: int
    operations: int
    requests: int


def parse_load_arg(value: str) -> tuple[str, Path]:
    """``"HASH=SNAPSHOT_DIR"`` -> ``("HASH", Path("SNAPSHOT_DIR"))``; ValueError saying what is
    wrong otherwise."""
    store_hash, sep, folder = value.partition("=")
    store_hash, folder = store_hash.strip(), folder.strip()
    if not sep or not store_hash or not folder:
        raise ValueError(
            f"invalid load {value!r}: expected HASH=SNAPSHOT_DIR, "
            "e.g. --load staging=snapshots/staging"
        )
    if "/" in store_hash or any(ch.isspace() for ch in store_hash):
        raise ValueError(f"invalid store hash {store_hash!r}: no '/' or spaces allowed")
    return store_hash, Path(folder)


def load_snapshot(
    emulator: Emulator,
    store_hash: str,
    directory: Path,
    *,
    channel_names: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> Loaded:
    """Load the snapshot at ``directory`` into ``emulator``'s store ``store_hash`` (declared
    with the token ``<hash>-token`` when it is not). Raises ``SnapshotError`` for an unreadable
    snapshot and ``LoadError`` when the store does not end up holding it."""
    from stagesync.api import run_quietly

    snapshot = read_snapshot(directory)
    return run_quietly(
        load(
            emulator,
            store_hash,
            snapshot,
            directory=directory,
            channel_names=channel_names,
            progress=progress,
        )
    )


async def load(
    emulator: Emulator,
    store_hash: str,
    snapshot: Snapshot,
    *,
    directory: Path | None = None,
    channel_names: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> Loaded:
    """``load_snapshot`` for a snapshot already read, inside a running event loop.
    ``channel_names`` (channel key -> name on the store, as ``[environments.NAME.channels]``)
    names the channels created; pulling the store with the same map gives the snapshot back."""
    kinds = list(snapshot.kinds)
    _check_complete(snapshot, directory)
    store = emulator.stores.get(store_hash) or emulator.add_store(store_hash, f"{store_hash}-token")
    if b2b_kinds.b2b_kinds(kinds):
        _enable_b2b(store)
    names = dict(channel_names or {})
    settings = {"order_status": "keep", **stock_settings(snapshot.stock)}
    where = f"emulated store {store_hash}"
    async with _opened(emulator, store_hash, store.token, bool(b2b_kinds.b2b_kinds(kinds))) as api:

        async def read() -> Snapshot:
            wanted = [*kinds, *([] if channels.NAME in kinds else [channels.NAME])]
            live = await read_live(
                api, wanted, store=where, verb="load: read", channel_names=names, settings=settings
            )
            return Snapshot(live.kinds(), store_hash=store_hash, stock=snapshot.stock)

        before = await read()
        source = _with_named_channels(snapshot, before)
        plan = make_plan(source, before, REGISTRY, created_at=now(), prune=True)
        applied = await apply_plan(
            api,
            plan,
            store=where,
            progress=progress,
            settings=settings,
            channel_names=names,
        )
        failed = [r for r in applied.results if r.status != "done"]
        if failed:
            lines = "\n".join(
                f"  - {r.status} {r.operation.describe()}: {r.error or ''}".rstrip(": ")
                for r in failed[:20]
            )
            more = f"\n  ... and {len(failed) - 20} more" if len(failed) > 20 else ""
            raise LoadError(
                f"could not load {directory or 'the snapshot'} into {where}: "
                f"{len(failed)} of {len(plan.operations)} operations did not apply:\n{lines}{more}"
            )
        after = await read()
        differs = differences(snapshot, after)
        if differs:
            listing = "\n".join(f"  - {line}" for line in differs[:20])
            raise LoadError(
                f"{where} does not pull back as {directory or 'the snapshot'} after loading it; "
                f"these entities differ:\n{listing}\nThe emulator cannot hold them as the "
                "snapshot records them; leave their kinds out of the snapshot (pull --kinds)."
            )
        requests = api.requests_made
    return Loaded(
        store_hash,
        directory,
        snapshot.digest,
        sum(len(kind.records) for kind in snapshot.kinds.values()),
        len(plan.operations),
        requests,
    )


def _check_complete(snapshot: Snapshot, directory: Path | None) -> None:
    """Refuse a snapshot whose records name entities of kinds it does not hold (pulled with
    ``--kinds``): there is nothing to make them from. Channels are the exception (see above)."""
    absent: dict[str, set[str]] = {}
    for kind, records in snapshot.kinds.items():
        if kind not in REGISTRY:
            continue
        for key, record in records.records.items():
            for ref in REGISTRY[kind].all_references(key, record):
                if ref.kind not in snapshot.kinds and ref.kind != channels.NAME:
                    absent.setdefault(ref.kind, set()).add(ref.key)
    if absent:
        lines = "\n".join(
            f"  - {kind}: {', '.join(sorted(keys)[:5])}{' ...' if len(keys) > 5 else ''}"
            for kind, keys in sorted(absent.items())
        )
        raise LoadError(
            f"{directory or 'the snapshot'} names entities of kinds it does not hold, so they "
            f"cannot be loaded:\n{lines}\nPull those kinds too (stagesync pull ENV --kinds "
            f"{','.join([*sorted(snapshot.kinds), *sorted(absent)])}), or pull the whole store."
        )


def _enable_b2b(store: Store) -> None:
    """Switch B2B Edition on for ``store`` (as ``--b2b-user`` does, without a back-office user:
    the loader reaches it with the store's token)."""
    state = b2b.state(store)
    if not state.enabled:
        state.enabled = True
        state.next_id = 1 + 1000 * (sum(store.store_hash.encode()) % 7)


@asynccontextmanager
async def _opened(
    emulator: Emulator, store_hash: str, token: str, with_b2b: bool
) -> AsyncIterator[StoreApi]:
    """The store's API (and its B2B API, when needed) through the in-process transport."""
    from stagesync.bigcommerce import BigCommerceClient
    from stagesync.bigcommerce.b2b import B2BClient

    async with BigCommerceClient(
        store_hash, token, api_url=API_URL, transport=emulator.transport()
    ) as api:
        if not with_b2b:
            yield api
            return
        async with B2BClient(
            store_hash, token, auth="token", api_url=API_URL, transport=emulator.transport()
        ) as b2b_api:
            with using_b2b(b2b_api):
                yield api


def _with_named_channels(snapshot: Snapshot, store: Snapshot) -> Snapshot:
    """``snapshot``, plus a ``channels`` record (a copy of the store's default storefront) for
    every channel its records name that neither it nor the store holds."""
    if channels.NAME in snapshot.kinds:
        return snapshot
    named = {
        ref.key
        for kind, records in snapshot.kinds.items()
        if kind in REGISTRY
        for key, record in records.records.items()
        for ref in REGISTRY[kind].all_references(key, record)
        if ref.kind == channels.NAME
    }
    held = store.records(channels.NAME)
    default = held.get(channels.DEFAULT, {})
    made: dict[str, Record] = {key: dict(held[key]) for key in held}
    made.update({key: dict(default) for key in named if key not in held})
    kinds = {**snapshot.kinds, channels.NAME: KindSnapshot(made)}
    return replace(snapshot, kinds=kinds)


def differences(
    expected: Snapshot, actual: Snapshot, keys: set[EntityKey] | None = None
) -> list[str]:
    """``kind key: what differs`` for the entities of ``keys`` (None: every entity of
    ``expected``'s kinds, on either side)."""
    if keys is None:
        keys = {key for key, _ in expected} | {
            key for key, _ in actual if key.kind in expected.kinds
        }
    lines = []
    for key in sorted(keys):
        want, got = expected.get(key), actual.get(key)
        if want is None and got is None:
            continue
        if got is None:
            lines.append(f"{key.kind} {key.key}: missing")
        elif want is None:
            lines.append(f"{key.kind} {key.key}: present, not in the snapshot")
        elif digest(want) != digest(got):
            fields = sorted(
                n for n in set(want) | set(got) if digest(want.get(n)) != digest(got.get(n))
            )
            lines.append(f"{key.kind} {key.key}: {', '.join(fields)} differ")
    return lines
