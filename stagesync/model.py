"""The values everything else passes around: keys, records, snapshots, changes, operations, plans.

Records are plain dicts (they are JSON anyway); everything about them is a frozen dataclass.
Nothing here does I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from types import EllipsisType
from typing import Any

import orjson

Record = dict[str, Any]
"""One entity's ID-free body, exactly as stored in its snapshot file."""


_LONG_MIN, _LONG_MAX = -(2**63), 2**63
_POINT_ZERO = re.compile(rb"\.0(?![0-9])")
_EXPONENT = re.compile(rb"[0-9]e\+")


def _may_hold_whole_float(data: bytes) -> bool:
    """Whether orjson's ``data`` may hold a float without a fractional part (``189.0``,
    ``1e+16``), cheaply: literal searches, no walk. Strings may match too (``"v1.0"``), which
    only costs a second, exact pass."""
    return _POINT_ZERO.search(data) is not None or (b"+" in data and bool(_EXPONENT.search(data)))


def canonical_number(value: float) -> int | float:
    """The one form of a number: a float without a fractional part is an int (``189.0`` ->
    ``189``, ``-0.0`` -> ``0``), as stores write whole numbers either way; floats beyond 64-bit
    integers (which JSON readers give back as floats anyway) stay floats."""
    if value.is_integer() and _LONG_MIN <= value < _LONG_MAX:
        return int(value)
    return value


def canonical_value(value: Any) -> Any:
    """``value`` with every number in its one form (``canonical_number``), at any depth: so
    ``189`` and ``189.0`` are the same value to every digest, diff and snapshot file."""
    if isinstance(value, float):
        return canonical_number(value)
    if isinstance(value, dict):
        return {name: canonical_value(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [canonical_value(item) for item in value]
    return value


def held_json(value: Any) -> bytes:
    """``value`` as orjson writes it, in a bytes object of its exact size: for what is held in
    memory by the thousand (orjson hands out bytes with a 32 KiB allocation behind each, which a
    small object kept for every product would multiply several times)."""
    return bytes(memoryview(orjson.dumps(value)))


def canonical_dumps(value: Any, option: int) -> bytes:
    """``orjson.dumps(value, option=option)`` with every number in its one form. Values without
    whole floats (most records) are serialised once, and never walked in Python."""
    data = orjson.dumps(value, option=option)
    if _may_hold_whole_float(data):
        data = orjson.dumps(canonical_value(value), option=option)
    return data


def canonical_json(value: Any) -> bytes:
    """The one serialisation digests are computed over: sorted keys, no whitespace, numbers
    compared by value (``canonical_value``)."""
    return canonical_dumps(value, orjson.OPT_SORT_KEYS)


def compact_json(value: Any) -> bytes:
    """``canonical_json(value)`` in a bytes object of its exact size (see ``held_json``)."""
    return bytes(memoryview(canonical_json(value)))


_NO_FIELDS = b"[]"


def digest(value: Any) -> str:
    """sha256 of a value's canonical JSON, as ``sha256:<hex>``."""
    return "sha256:" + hashlib.sha256(canonical_json(value)).hexdigest()


@dataclass(frozen=True, order=True)
class EntityKey:
    """An entity addressed by its natural key: ``EntityKey("products", "SKU-12")``."""

    kind: str
    key: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}"


class Action(Enum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self]

    @property
    def destructive(self) -> bool:
        return self in (Action.REPLACE, Action.DELETE)


_SYMBOLS = {Action.CREATE: "+", Action.UPDATE: "~", Action.REPLACE: "-/+", Action.DELETE: "-"}


@dataclass(frozen=True)
class KindSnapshot:
    """All records of one kind, by key."""

    records: Mapping[str, Record]

    @cached_property
    def digest(self) -> str:
        """Computed once (records are not changed after a snapshot is made)."""
        return digest({key: self.records[key] for key in sorted(self.records)})


REDACTION_SCHEME = "stagesync-pseudonyms"
"""The pseudonym scheme of ``stagesync.redact``, as a redacted snapshot names it."""
REDACTION_VERSION = 1
"""The version of its pseudonym shapes; a change to any of them is a new version."""


@dataclass(frozen=True)
class Redaction:
    """What a redacted snapshot says about itself (``snapshot.json``'s ``redaction``): the
    pseudonym scheme's version, whether the pseudonyms were keyed with a secret, and for each
    kind redacted, the pseudonym type of its key (when the key is personal) and of each field."""

    version: int
    keyed: bool
    kinds: Mapping[str, Mapping[str, Any]]
    """kind -> ``{"key": type or None, "fields": {field: type}}``."""

    def to_json(self) -> dict[str, Any]:
        return {
            "scheme": REDACTION_SCHEME,
            "version": self.version,
            "keyed": self.keyed,
            "kinds": {kind: dict(self.kinds[kind]) for kind in sorted(self.kinds)},
        }

    def only(self, kinds: Iterable[str]) -> Redaction:
        """The same marker for ``kinds`` alone."""
        wanted = set(kinds)
        return Redaction(
            self.version, self.keyed, {k: v for k, v in self.kinds.items() if k in wanted}
        )


@dataclass(frozen=True)
class Snapshot:
    """A whole environment's records, by kind then key. Kinds absent were not pulled."""

    kinds: Mapping[str, KindSnapshot]
    environment: str | None = None
    store_hash: str | None = None
    pulled_at: str | None = None
    stock: bool = False
    """Pulled with inventory levels (``stock = true`` or ``pull --stock``)."""
    redaction: Redaction | None = None
    """Set when personal data was pseudonymised (``pull --redact``); None otherwise."""

    def records(self, kind: str) -> Mapping[str, Record]:
        found = self.kinds.get(kind)
        return found.records if found else {}

    def get(self, key: EntityKey) -> Record | None:
        return self.records(key.kind).get(key.key)

    def __iter__(self) -> Iterator[tuple[EntityKey, Record]]:
        for kind in sorted(self.kinds):
            records = self.kinds[kind].records
            for key in sorted(records):
                yield EntityKey(kind, key), records[key]

    @cached_property
    def digest(self) -> str:
        """Covers every kind's digest and, in a redacted snapshot, its redaction marker."""
        kinds = {kind: self.kinds[kind].digest for kind in sorted(self.kinds)}
        if self.redaction is None:
            return digest(kinds)
        return digest({"kinds": kinds, "redaction": self.redaction.to_json()})


@dataclass(frozen=True)
class FieldChange:
    """One changed field inside a record; ``path`` is dotted (``variants[SKU-1].price``)."""

    path: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Change:
    """One entity that differs between source and destination (output of ``diff``)."""

    key: EntityKey
    action: Action
    before: Record | None
    after: Record | None
    fields: tuple[FieldChange, ...] = ()


LINK_SUFFIX = "#link"
"""Suffix of the id of a link operation: ``products:SKU-1#link``."""


@dataclass(frozen=True, init=False, repr=False)
class Operation:
    """One step of a plan: make the destination's entity ``key`` look like ``after``.

    ``after`` and ``fields`` are kept as compact canonical JSON and decoded each time they are
    read (a fresh value every time): a loaded plan of 100,000 products holds a few KB of bytes
    per operation instead of its records as Python objects. ``after_json`` and ``fields_json``
    are those bytes, for writers that embed them as they are."""

    id: str
    action: Action
    key: EntityKey
    after_json: bytes | None
    """``canonical_json(after)``; None when ``after`` is None."""
    precondition: str | None
    """Digest of the destination record the plan was computed against; None: must not exist."""
    fields_json: bytes
    """Canonical JSON of ``fields`` as the plan file has them: ``[{"after", "before", "path"}]``."""
    depends_on: tuple[str, ...]
    reason: str
    note: str | None
    """Why a replace cannot be an update (the kind's ``must_replace``); None otherwise."""

    def __init__(
        self,
        id: str,
        action: Action,
        key: EntityKey,
        after: Record | None | EllipsisType = ...,
        precondition: str | None = None,
        fields: tuple[FieldChange, ...] | EllipsisType = ...,
        depends_on: tuple[str, ...] = (),
        reason: str = "selected",
        note: str | None = None,
        *,
        after_json: bytes | None | EllipsisType = ...,
        fields_json: bytes | EllipsisType = ...,
    ) -> None:
        """``after`` and ``fields`` as values; ``after_json`` / ``fields_json`` (their canonical
        bytes) are taken when those are not given (``dataclasses.replace`` passes them)."""
        if after is not ...:
            after_json = None if after is None else compact_json(after)
        elif after_json is ...:
            after_json = None
        if fields is not ...:
            fields_json = (
                compact_json(
                    [{"path": f.path, "before": f.before, "after": f.after} for f in fields]
                )
                if fields
                else _NO_FIELDS
            )
        elif fields_json is ...:
            fields_json = _NO_FIELDS
        set_ = object.__setattr__
        set_(self, "id", id)
        set_(self, "action", action)
        set_(self, "key", key)
        set_(self, "after_json", after_json)
        set_(self, "precondition", precondition)
        set_(self, "fields_json", fields_json)
        set_(self, "depends_on", tuple(depends_on))
        set_(self, "reason", reason)
        set_(self, "note", note)

    @property
    def after(self) -> Record | None:
        """The desired record (decoded afresh on every read: callers may change their copy)."""
        if self.after_json is None:
            return None
        value: Record = orjson.loads(self.after_json)
        return value

    @property
    def fields(self) -> tuple[FieldChange, ...]:
        if self.fields_json == _NO_FIELDS:
            return ()
        return tuple(
            FieldChange(f["path"], f["before"], f["after"]) for f in orjson.loads(self.fields_json)
        )

    def __repr__(self) -> str:
        return (
            f"Operation(id={self.id!r}, action={self.action!r}, key={self.key!r}, "
            f"after={self.after!r}, precondition={self.precondition!r}, fields={self.fields!r}, "
            f"depends_on={self.depends_on!r}, reason={self.reason!r}, note={self.note!r})"
        )

    @property
    def kind(self) -> str:
        return self.key.kind

    @property
    def is_link(self) -> bool:
        """The second step of create-then-link: writes only the entity's link fields."""
        return self.id.endswith(LINK_SUFFIX)

    def describe(self) -> str:
        """One line, as logs, reports and tests print it: ``~ products SKU-12 (price, name)``."""
        line = f"{self.action.symbol} {self.key.kind} {self.key.key}"
        if self.is_link:
            line += " link"
        if self.fields:
            line += " (" + ", ".join(top_fields(self.fields)) + ")"
        return line


@dataclass(frozen=True)
class Endpoint:
    """One side of a plan: where the data came from or goes to."""

    environment: str | None
    store_hash: str | None
    digest: str
    redaction: Redaction | None = None
    """The snapshot's redaction marker (a source pulled with ``--redact``)."""


WITHHELD_REASON = (
    "pseudonymised people never go to an environment whose role is production: pseudonymised "
    "records of these kinds are not written, and real ones are not deleted because the source "
    "holds only pseudonyms for them (docs/redaction.md)"
)
"""Why the redaction guard leaves records out, as the plan file and every report say it."""


@dataclass(frozen=True)
class Withheld:
    """What the redaction guard left out of a plan for one person-bearing kind
    (``stagesync.stages.plan.guard``): pseudonymised records not written, and real records not
    deleted because the source holds only pseudonyms for them."""

    kind: str
    writes: int = 0
    deletes: int = 0

    def describe(self) -> str:
        """``customers: 3 pseudonymised not written, 2 real not deleted``."""
        parts = []
        if self.writes:
            parts.append(f"{self.writes} pseudonymised not written")
        if self.deletes:
            parts.append(f"{self.deletes} real not deleted")
        return f"{self.kind}: {', '.join(parts)}"


@dataclass(frozen=True)
class Finding:
    """What a policy rule (``stagesync.policy``) found in a plan: the rule's id, its severity
    (``error`` or ``warn``), the entity (``kind`` and ``key``; ``key`` None: the whole kind; both
    None: the whole plan), what was found and how to fix it."""

    rule: str
    severity: str
    message: str
    fix: str
    kind: str | None = None
    key: str | None = None

    @property
    def entity(self) -> str:
        """``products SKU-1``, ``customers`` (the whole kind) or ``plan``."""
        if self.kind is None:
            return "plan"
        return self.kind if self.key is None else f"{self.kind} {self.key}"


WHOLE_RECORD = "*"
"""The path of a conflict over a whole record (deleted on one side, changed on the other)."""


@dataclass(frozen=True)
class ConflictField:
    """One field changed on both sides since the base, to different values."""

    path: str
    """A top-level field, or ``WHOLE_RECORD``."""
    base: Any
    source: Any
    destination: Any


@dataclass(frozen=True)
class Conflict:
    """An entity changed on both sides since the base (``stagesync.stages.plan.merge``), with
    its conflicting fields and how a ``--resolve`` pattern resolved it (None: unresolved, and
    push refuses the plan)."""

    kind: str
    key: str
    fields: tuple[ConflictField, ...]
    resolution: str | None = None
    """``source`` or ``destination``."""


@dataclass(frozen=True)
class Kept:
    """An entity changed on the destination alone since the base: its changed fields (or
    ``WHOLE_RECORD`` when created or deleted there) are kept, not reverted."""

    kind: str
    key: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class LeftAlone:
    """A dependency the plan does not write (``diff --deps missing``): the destination has it,
    and it differs there in ``fields`` (top-level field names)."""

    key: EntityKey
    fields: tuple[str, ...]
    needed_by: str
    """Who references it, as an operation's reason says it: ``dependency of promotion X``."""

    def describe(self) -> str:
        """``products SG-TNT-01 (price)``."""
        line = f"{self.key.kind} {self.key.key}"
        return line + (" (" + ", ".join(self.fields) + ")" if self.fields else "")


@dataclass(frozen=True)
class Plan:
    source: Endpoint
    destination: Endpoint
    operations: tuple[Operation, ...]
    created_at: str
    warnings: tuple[str, ...] = ()
    estimated_requests: int = 0
    kinds: tuple[str, ...] = field(default=())
    """The kinds the plan was computed over (push reads exactly these from the destination)."""
    quota: int = 150
    """Requests per ``window_ms`` the destination allows (its environment's ``quota``)."""
    window_ms: int = 30000
    stock: bool = False
    """Both snapshots were pulled with inventory levels: push reads and writes them too."""
    findings: tuple[Finding, ...] = ()
    """What the policy rules found when the plan was made (``stagesync.policy``), errors first."""
    withheld: tuple[Withheld, ...] = ()
    """What the redaction guard left out, by kind (only into an environment whose role is
    production)."""
    left_alone: tuple[LeftAlone, ...] = ()
    """Dependencies that differ on the destination and were not brought along (``--deps
    missing``): what the destination keeps that the source has otherwise."""
    base: Endpoint | None = None
    """The snapshot a three-way plan was merged against (None: a two-way plan)."""
    conflicts: tuple[Conflict, ...] = ()
    kept: tuple[Kept, ...] = ()
    resolutions: tuple[str, ...] = ()
    """The ``--resolve`` patterns (``KIND:GLOB=source|destination``), as given."""

    @property
    def unresolved(self) -> tuple[Conflict, ...]:
        """Conflicts no ``--resolve`` pattern resolved: push refuses the plan while any remain."""
        return tuple(c for c in self.conflicts if c.resolution is None)

    @property
    def estimated_seconds(self) -> float:
        """How long ``estimated_requests`` take at the destination's quota (whole windows: a
        window's quota is spent at once, then the next window is awaited)."""
        if self.quota <= 0:
            return 0.0
        waits = max(0, -(-self.estimated_requests // self.quota) - 1)
        return waits * self.window_ms / 1000

    @property
    def empty(self) -> bool:
        return not self.operations

    def counts(self) -> dict[str, dict[str, int]]:
        """Operations per kind and action: ``{"products": {"create": 3, "update": 1}}``."""
        out: dict[str, dict[str, int]] = {}
        for op in self.operations:
            per_kind = out.setdefault(op.kind, {})
            per_kind[op.action.value] = per_kind.get(op.action.value, 0) + 1
        return out


def top_fields(fields: Iterable[FieldChange]) -> tuple[str, ...]:
    """The record fields ``fields`` change, sorted: ``("price", "variants")``."""
    return tuple(sorted({_top_field(f.path) for f in fields}))


def _top_field(path: str) -> str:
    """The record field a change path starts in: ``variants[SKU-1].price`` -> ``variants``; a
    file of a file tree, ``files/templates/pages/home.html`` -> ``files``."""
    head = path.split("/", 1)[0] if "/" in path.split("[")[0].split(".")[0] else path
    return head.split(".")[0].split("[")[0]
