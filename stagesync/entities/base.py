"""The declarative description every entity kind exports, and the ID lookup pull and push share.

An ``EntityKind`` says how to fetch a kind's raw API objects, how to key and normalise them into
ID-free records, what those records reference, and how to turn a record back into writes. It acts
only through ``stagesync.ports.StoreApi``; it never imports httpx.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from stagesync.entities import dependencies
from stagesync.errors import StageSyncError
from stagesync.model import Action, EntityKey, Record, Snapshot
from stagesync.ports import StoreApi

Raw = dict[str, Any]
"""One object exactly as the store's API returned it (IDs included)."""

LiveId = int | str
"""A store-local ID: an integer, or a UUID string (widgets, placements, themes)."""


class UnresolvedReference(StageSyncError):
    """A record points at an entity the store does not have (or a raw object at an unknown ID)."""

    def __init__(self, message: str, *, reference: EntityKey) -> None:
        super().__init__(message)
        self.reference = reference


class Lookup:
    """Live IDs of one store, by kind and natural key, and back.

    Pull fills it from the raw objects it fetched and uses ``key_of`` to replace foreign-key IDs
    with natural keys. Push fills it from the live destination, adds every ID it creates, and uses
    ``id_of`` to turn natural keys back into that store's IDs.
    """

    def __init__(self, store: str = "the store") -> None:
        self.store = store
        self.settings: dict[str, str] = {}
        """Push options entity writes follow (``order_status``: ``pending`` or ``keep``)."""
        self.channel_names: dict[str, str] = {}
        """Channel key -> the channel's name on this store (``[environments.NAME.channels]``);
        channels not listed are keyed by their own name (``entities.channels``)."""
        self._ids: dict[str, dict[str, LiveId]] = {}
        self._keys: dict[str, dict[LiveId, str]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.gone: list[str] = []
        """What a pull kept without a reference to an entity the store no longer lists
        (``key_or_gone``), one line each, for the person running it."""

    def lock(self, name: str) -> asyncio.Lock:
        """A lock shared by the writes of one push (e.g. defining customer attributes once)."""
        return self._locks.setdefault(name, asyncio.Lock())

    def add(self, kind: str, key: str, live_id: LiveId) -> None:
        self._ids.setdefault(kind, {})[key] = live_id
        self._keys.setdefault(kind, {})[live_id] = key

    def remove(self, kind: str, key: str) -> None:
        live_id = self._ids.get(kind, {}).pop(key, None)
        if live_id is not None:
            self._keys[kind].pop(live_id, None)

    def has(self, kind: str, key: str) -> bool:
        return key in self._ids.get(kind, {})

    def id_of(self, kind: str, key: str) -> int:
        """The integer ID of ``kind``'s entity ``key`` (``uuid_of`` for UUID kinds)."""
        value = self.live_id_of(kind, key)
        if not isinstance(value, int):
            raise TypeError(f"{kind} ids are UUIDs: use uuid_of")
        return value

    def uuid_of(self, kind: str, key: str) -> str:
        """The UUID of ``kind``'s entity ``key`` (widget templates, widgets, themes...)."""
        return str(self.live_id_of(kind, key))

    def live_id_of(self, kind: str, key: str) -> LiveId:
        try:
            return self._ids[kind][key]
        except KeyError:
            raise UnresolvedReference(
                f'{kind} "{key}" does not exist on {self.store}. Include {kind} in the plan '
                f"(drop --no-deps) or create it there first.",
                reference=EntityKey(kind, key),
            ) from None

    def key_of(self, kind: str, live_id: LiveId) -> str:
        try:
            return self._keys[kind][live_id]
        except KeyError:
            raise UnresolvedReference(
                f"{self.store} returned a reference to {kind} id {live_id}, which it does not "
                f"list. Pull again; if it persists, the store's data is inconsistent.",
                reference=EntityKey(kind, str(live_id)),
            ) from None

    def key_or_gone(
        self, kind: str, live_id: LiveId, owner: str, kept: str = "kept without it"
    ) -> str | None:
        """``key_of``, or None for an entity the store no longer lists where the platform keeps
        naming it after a delete (an order's line item, a customer of an old order), noted in
        ``gone`` with ``owner`` (``orders 1001``) and what became of the reference (``kept``)."""
        if self.has_id(kind, live_id):
            return self.key_of(kind, live_id)
        self.note_gone(owner, f"{kind} id {live_id}", kept)
        return None

    def note_gone(self, owner: str, named: str, kept: str) -> None:
        """Note once that ``owner`` names ``named``, which the store no longer lists."""
        note = f"{owner}: {named} no longer exists; {kept}"
        if note not in self.gone:
            self.gone.append(note)

    def ids(self, kind: str) -> Mapping[str, LiveId]:
        return self._ids.get(kind, {})

    def has_id(self, kind: str, live_id: LiveId) -> bool:
        return live_id in self._keys.get(kind, {})


FetchFn = Callable[[StoreApi], Awaitable[list[Raw]]]
FetchPagesFn = Callable[[StoreApi, Sequence[str]], AsyncIterator[list[Raw]]]
"""(api, also) -> pages; ``also``: what other kinds read with this listing (``ListedWith``)
want it to include."""
IdentifyFn = Callable[[list[Raw]], dict[str, Raw]]
NormaliseFn = Callable[[str, Raw, Lookup], Record]
ReferencesFn = Callable[[str, Record], Iterable[EntityKey]]
CreateFn = Callable[[StoreApi, str, Record, Lookup], Awaitable[LiveId]]
UpdateFn = Callable[[StoreApi, str, Record, Raw, Lookup], Awaitable[None]]
DeleteFn = Callable[[StoreApi, str, Raw, Lookup], Awaitable[None]]
EstimateFn = Callable[[Action, Record | None], int]
WarningsFn = Callable[[str, Record, Record | None], list[str]]


def no_warnings(key: str, after: Record, before: Record | None) -> list[str]:
    return []


FindFn = Callable[[StoreApi, str, Lookup], Awaitable[Raw | None]]
CreateManyFn = Callable[[StoreApi, list[tuple[str, Record]], Lookup], Awaitable[Sequence[LiveId]]]
UpdateManyFn = Callable[[StoreApi, list[tuple[str, Record, Raw]], Lookup], Awaitable[None]]


BatchExtraFn = Callable[[Action, Sequence[tuple[Record | None, Record | None]]], int]
LinkFn = Callable[[StoreApi, str, Record, Lookup], Awaitable[None]]
ReplaceFn = Callable[[str, Record, Record], str | None]
ReadCostFn = Callable[[int, Snapshot], int]

CHANNELS = "channels"
CHANNEL_FIELDS = ("channel", "channels", "origin_channel")
"""Record fields that hold channel keys (a key or a list of keys) in every kind that names
channels; ``EntityKind.all_references`` reads them so the plan can order channel creates first
and refuse channels the destination cannot resolve."""


def channel_references(record: Record) -> set[EntityKey]:
    found: set[EntityKey] = set()
    for name in CHANNEL_FIELDS:
        value = record.get(name)
        values = value if isinstance(value, list) else [value]
        found |= {EntityKey(CHANNELS, v) for v in values if isinstance(v, str) and v}
    return found


PAGE_SIZE = 250
"""The ``limit`` the client asks for on every list (``BigCommerceClient.get_all``)."""


def one_request(action: Action, record: Record | None) -> int:
    """The cost of kinds whose every write is a single request (replace: delete + create)."""
    return 2 if action is Action.REPLACE else 1


def no_references(key: str, record: Record) -> Iterable[EntityKey]:
    return ()


QUERY_BUDGET = 1800
"""Characters one ``:in`` filter's value may take (keys joined by commas, before URL encoding):
with the path and the other parameters a request stays inside the 2,048 characters every proxy
between here and the platform accepts. The platform documents no limit of its own."""
IDS_PER_REQUEST = 150
"""IDs per ``id:in`` (or ``resource_id:in``) request: 150 IDs of up to ten digits and their
commas fit ``QUERY_BUDGET``."""


def packed(
    values: Sequence[str],
    most: int,
    budget: int = QUERY_BUDGET,
    measure: Callable[[str], int] = len,
) -> list[list[str]]:
    """``values`` in consecutive groups of at most ``most`` whose comma-joined length, as
    ``measure`` counts it (``encoded_length``: as sent), fits ``budget`` (a value longer than
    the budget goes alone)."""
    groups: list[list[str]] = []
    size = 0
    comma = measure(",")
    for value in values:
        length = measure(value)
        if groups and len(groups[-1]) < most and size + comma + length <= budget:
            groups[-1].append(value)
            size += comma + length
        else:
            groups.append([value])
            size = length
    return groups


def encoded_length(value: str) -> int:
    """The characters ``value`` takes in a URL's query once percent-encoded (``@`` and ``,``
    take three): for filter values whose keys are full of them (emails)."""
    return len(quote(value, safe=""))


def id_requests(count: int) -> int:
    """Requests to read ``count`` objects by ``id:in`` (none for none)."""
    return -(-count // IDS_PER_REQUEST)


ByKeysFn = Callable[[StoreApi, Sequence[str]], Awaitable[list[Raw]]]
ByIdsFn = Callable[[StoreApi, Sequence[LiveId]], Awaitable[list[Raw]]]
KeysCostFn = Callable[[Sequence[str], Snapshot], int]
NamesFn = Callable[[Raw], Iterable[tuple[str, LiveId]]]


def names_nothing(raw: Raw) -> Iterable[tuple[str, LiveId]]:
    return ()


@dataclass(frozen=True)
class TargetedRead:
    """How push reads only the entities of a kind that its plan touches, with the narrowest
    filter the platform documents, instead of listing the whole kind (``EntityKind.targeted``).

    Every reader may answer more objects than asked for (a filter that matches case-insensitively
    or by name): push identifies what comes back and takes each key as it is. It must never
    answer fewer: an object with one of the keys asked for that a reader misses would turn a
    "now exists" or "changed" into a silent pass."""

    how: str
    """How the kind is read, as ``docs/performance.md`` tabulates it."""
    by_keys: ByKeysFn | None = None
    """(api, keys) -> complete raw objects (as ``fetch`` makes them) of those keys, for the
    plan's operations on this kind. None: the kind's operations read it whole."""
    requests: KeysCostFn | None = None
    """(keys, destination snapshot) -> requests ``by_keys`` takes for them."""
    names: NamesFn = names_nothing
    """A complete raw object -> (kind, live ID) of every entity it references: what push must
    identify to normalise it. Every kind this kind depends on must be covered."""
    lean_by_keys: ByKeysFn | None = None
    """(api, keys) -> raw objects with only what ``identify`` and ``live_id`` need: entities
    the plan's records reference by key, read for their IDs."""
    lean_key_requests: Callable[[Sequence[str]], int] | None = None
    lean_by_ids: ByIdsFn | None = None
    """(api, IDs) -> lean raw objects of those IDs: entities live objects reference, read for
    their keys."""
    lean_id_requests: Callable[[int], int] = id_requests

    @property
    def referable(self) -> bool:
        """Whether the kind can be read for the IDs and keys of some entities only."""
        return self.lean_by_keys is not None and self.lean_by_ids is not None


def pages(count: int, page_size: int = PAGE_SIZE) -> int:
    """Requests to list ``count`` objects at ``page_size`` a page (an empty list takes one)."""
    return max(1, -(-count // page_size))


def v2_pages(count: int) -> int:
    """Requests to list ``count`` objects of a v2 endpoint: the client reads until an empty page
    (or 204), so a list that has objects takes one page more than they fill."""
    return -(-count // PAGE_SIZE) + 1


def listing(count: int, destination: Snapshot) -> int:
    """The default listing cost: ``pages`` of the kind's own objects."""
    return pages(count)


def v2_listing(count: int, destination: Snapshot) -> int:
    return v2_pages(count)


@dataclass(frozen=True)
class ListedWith:
    """A kind whose objects come with another kind's listing (products carry their reviews and
    bulk pricing rules with ``include=``): when both are read together, that listing asks for
    ``include`` too and ``take`` turns each of its pages into this kind's raw objects, so this
    kind costs no listing of its own."""

    kind: str
    include: str
    take: Callable[[list[Raw]], list[Raw]]


@dataclass(frozen=True)
class EntityKind:
    name: str
    """snake_case plural used everywhere: ``products``."""
    singular: str
    """How messages name one: ``product``."""
    display_name: str
    """How people and reports name the kind: ``Products``."""
    fetch: FetchFn
    """Every raw object of this kind from a store, with whatever sub-resources normalise needs."""
    identify: IdentifyFn
    """Natural key -> raw object; raises StageSyncError naming both on a duplicate key."""
    live_id: Callable[[Raw], LiveId]
    normalise: NormaliseFn
    """(key, raw, lookup) -> ID-free record."""
    references: ReferencesFn
    """(key, record) -> the entities this record points at (parents included)."""
    create: CreateFn
    update: UpdateFn
    delete: DeleteFn
    estimate_requests: EstimateFn = one_request
    """Requests one write of a record costs (using the endpoints' batch limits)."""
    read_requests: ReadCostFn = listing
    """(count, destination snapshot) -> requests ``fetch`` takes to list ``count`` objects of this
    kind at the page size the client uses; the snapshot gives the parents of kinds listed per
    parent (price-list records per price list)."""
    links: ReferencesFn = no_references
    """(key, record) -> references held in ``link_fields``: ones that may be written after the
    entity exists. A reference cycle through them is broken by creating first and linking in a
    later update (``link``). ``references`` must not repeat them."""
    link_fields: tuple[str, ...] = ()
    """The record fields ``links`` reads (emptied in the create, written by ``link``)."""
    link: LinkFn | None = None
    """Write only ``link_fields`` of an entity that exists (key -> live id via the lookup)."""
    links_need_targets_written: bool = False
    """Whether a link is valid only once its target's planned write is done, not merely once the
    target exists (a category's product sort order names products the plan may be adding to the
    category; a related product only has to exist)."""
    must_replace: ReplaceFn | None = None
    """(key, before, after) -> why this change cannot be made in place (then the plan replaces:
    delete, then create), or None when an update will do."""
    warnings: WarningsFn = no_warnings
    """(key, desired record, destination record or None) -> plan warnings for writing it: what
    the platform cannot express or stagesync cannot push (said in the plan, never lost silently)."""
    aliases: tuple[str, ...] = field(default=())
    identify_with: Callable[[list[Raw], Lookup], dict[str, Raw]] | None = None
    """Replaces ``identify`` for kinds whose keys embed other kinds' keys (a placement names its
    widget and entity): called with the lookup already holding the kinds in ``depends_on``."""
    find: FindFn | None = None
    """(api, key, lookup) -> the live raw object with that natural key, or None. Push asks it
    before repeating a write whose answer was lost. Default: the targeted read of that key, or
    fetch the whole kind, and identify."""
    create_many: CreateManyFn | None = None
    """Optional batch create: several (key, record) pairs in as few requests as the API allows;
    returns the new ids in the same order. Raises if any item failed (push then retries the items
    one by one, after looking each up by key)."""
    update_many: UpdateManyFn | None = None
    """Optional batch update of several (key, record, live raw) triples."""
    batch_size: int = 1
    """How many operations push hands ``create_many`` / ``update_many`` at once (and the plan's
    estimate counts one shared request per ``batch_size`` operations of a batch group)."""
    update_batch_size: int = 0
    """How many operations push hands ``update_many`` at once when that differs from
    ``batch_size`` (0: the same): a kind whose updates write some part in larger batches than
    the rest (products: base fields ten a ``PUT``, changed variants fifty a ``PUT``)."""
    batch_extra: BatchExtraFn | None = None
    """(action, [(destination record, desired record)] of one batch) -> requests that batch
    writes beyond one per operation's ``estimate_requests`` less the batch's shared write
    (products: their changed variants, written together)."""
    pii_fields: tuple[tuple[str, str], ...] = field(default=())
    """Personal data in this kind's records: (field name at any depth, pseudonym type), the type
    one of ``email``, ``name``, ``phone``, ``address``, ``text`` (see ``stagesync.redact``)."""
    pii_key: str | None = None
    """The pseudonym type of the natural key itself when the key is personal data (``email``)."""
    redacted_key: Callable[[Record], str] | None = None
    """For a key built from personal fields (``<owner email>/<list name>``): the key of a record
    once those fields are pseudonymised, computed from the record (``stagesync.redact``)."""
    belongs_to_people: bool = False
    """Records that belong to a customer or company account without holding personal data
    themselves (a B2B order's data, an invoice): guarded like kinds with personal data."""
    notifies_customers: bool = False
    """Writes of this kind may send emails to the store's customers (orders, customers)."""
    targeted: TargetedRead | None = None
    """How push reads only the entities its plan touches (None: the kind is read whole)."""
    fetch_keys: FetchFn | None = None
    """Every object with only what ``identify`` (or ``identify_with``) and ``live_id`` need: how
    push reads a kind whole when it needs only its IDs. None: ``fetch``."""
    keys_read_requests: ReadCostFn | None = None
    """Requests ``fetch_keys`` takes (as ``read_requests``)."""
    fetch_pages: FetchPagesFn | None = None
    """Optional streaming ``fetch``: the same raw objects one page at a time, so pull and push
    never hold a large kind's whole listing. Setting it promises that ``identify`` works page by
    page (an object's key depends on that object alone); pull checks keys across pages."""
    listed_with: ListedWith | None = None
    """Read from another kind's listing when that kind is read too (``fetch`` otherwise, and for
    ``find``)."""

    def batch_size_of(self, action: Action) -> int:
        """How many operations of ``action`` push hands over together."""
        if action is Action.UPDATE and self.update_batch_size:
            return self.update_batch_size
        return self.batch_size

    @property
    def bears_people(self) -> bool:
        """Records of people or of their accounts: pseudonymised ones never go to production
        (``stagesync.stages.plan.guard``)."""
        return bool(self.pii_fields or self.pii_key or self.belongs_to_people)

    @property
    def depends_on(self) -> tuple[str, ...]:
        """Kinds this kind's records reference: its row in ``entities.dependencies``."""
        return dependencies.depends_on(self.name)

    @property
    def referable(self) -> bool:
        """Whether push can read some of this kind's entities for their keys and IDs only."""
        return self.targeted is not None and self.targeted.referable

    def describe_one(self, key: str) -> str:
        return f"{self.singular} {key}"

    async def find_live(self, api: StoreApi, key: str, lookup: Lookup) -> Raw | None:
        """The live object keyed ``key`` now, by the cheapest lookup the kind offers: its
        ``find``, its targeted read, or the whole kind."""
        if self.find is not None:
            return await self.find(api, key, lookup)
        if self.targeted is not None and self.targeted.by_keys is not None:
            return self.identify(await self.targeted.by_keys(api, [key])).get(key)
        return self.identify(await self.fetch(api)).get(key)

    def plan_warnings(
        self, action: Action, key: str, record: Record | None, before: Record | None
    ) -> list[str]:
        """The plan's warnings for one operation on this kind (none for deletes)."""
        if record is None or action is Action.DELETE:
            return []
        out = list(self.warnings(key, record, before))
        if self.notifies_customers:
            out.append(
                f"Writing {self.display_name.lower()} may notify customers: disable "
                "transactional emails on the destination before pushing (the platform's advice "
                "for migrating orders and customers)."
            )
        return out

    def all_references(self, key: str, record: Record) -> set[EntityKey]:
        """Every entity ``record`` points at (references and links), itself excluded. For kinds
        that bring channels along, the channel keys in ``CHANNEL_FIELDS`` count too."""
        me = EntityKey(self.name, key)
        found = set(self.references(key, record)) | set(self.links(key, record))
        if CHANNELS in self.depends_on and self.name != CHANNELS:
            found |= channel_references(record)
        found.discard(me)
        return found

    def without_links(self, record: Record) -> Record:
        """``record`` with its link fields emptied: what a create writes before linking."""
        out = dict(record)
        for name in self.link_fields:
            if name in out:
                out[name] = [] if isinstance(out[name], list) else None
        return out
