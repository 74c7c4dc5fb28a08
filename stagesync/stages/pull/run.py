"""The run object of a pull: its inputs (environment, options, how to reach the store), then
what each stage finds, in stage order, and the result."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stagesync.config import Environment
from stagesync.entities import orders, products, themes
from stagesync.model import Snapshot
from stagesync.pull import LiveState
from stagesync.snapshot import StreamedSnapshot
from stagesync.stages.store import StoreRun


@dataclass(frozen=True)
class PullOptions:
    """The choices of one pull (``stagesync pull`` flags)."""

    kinds: Sequence[str] | None = None
    out: Path | None = None
    redact: bool = False
    stock: bool | None = None
    full: bool = False
    """``--full``: read everything, even where the earlier snapshot would let the pull read only
    what changed."""


@dataclass(frozen=True)
class PullResult:
    directory: Path
    environment: str
    store_hash: str
    counts: dict[str, int]
    """Records written per kind."""
    requests: int
    retries: Mapping[str, int] = field(default_factory=dict)
    """Requests sent again, by cause (``ports.RETRY_CAUSES``); included in ``requests``."""
    notes: tuple[str, ...] = ()
    """What the person running the pull should know (why a kind was read in full)."""


@dataclass(frozen=True)
class Listing:
    """What a pull reads, by kind (``list``)."""

    env: Environment
    kinds: list[str]
    """The kinds pulled (their dependencies are read too, for their IDs)."""
    directory: Path
    stock: bool
    reusable: themes.Reusable
    """Theme bundles the snapshot at ``directory`` holds that need no new download."""
    orders: orders.Reusable | None = None
    """What the snapshot at ``directory`` read of the store's orders, for an incremental pull
    (None: read every order in full)."""
    products: products.Reusable | None = None
    """What the snapshot at ``directory`` read of the store's products, for an incremental
    pull (None: read every product in full)."""
    notes: tuple[str, ...] = ()
    """What the person running the pull should know (why a kind is read in full)."""


@dataclass(eq=False)
class PullRun(StoreRun):
    """One pull: its inputs (and ``StoreRun``'s), then what each stage fills in, in stage order.
    Each stage reads the fields of the stages before it."""

    environment: str
    options: PullOptions = PullOptions()

    listing: Listing | None = None
    """list."""
    live: LiveState | None = None
    """read: the store's entities of the listed kinds, identified (records normalised on
    demand)."""
    requests: int = 0
    """read."""
    products_seen: products.Seen | None = None
    """read: every product as read, for the products' read cache (None: none kept)."""
    retries: dict[str, int] = field(default_factory=dict)
    """read: requests sent again, by cause."""
    based_on: dict[str, Any] = field(default_factory=dict)
    """read: what the pull was based on, for ``snapshot.json`` (the store's clock when the read
    began, the overlap margin, and the instant changes were read after; null for a full read)."""
    snapshot: Snapshot | StreamedSnapshot | None = None
    """normalise: the records to write (streamed: normalised one at a time as written)."""
    counts: dict[str, int] = field(default_factory=dict)
    """normalise: records per kind."""
    extras: dict[str, bytes | Iterable[bytes]] = field(default_factory=dict)
    """normalise: hidden files written beside the records (the themes' download cache)."""
    result: PullResult | None = None
    """write."""
