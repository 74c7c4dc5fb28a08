"""The checks of ``stagesync probe ENV --write``: what incremental pull and push rely on and only
writes can show, declared with their assumptions in stagesync/assumptions.py.

The probe creates its own entities, every name and SKU in the ``stagesync-probe-`` namespace, and
deletes them all again. Before each create it appends the entity to a cleanup journal
(``.stagesync/probe/ENV.cleanup.jsonl`` beside stagesync.toml, fsynced), and after each delete it
marks it deleted; a run that ends with nothing left removes the journal. A run stopped before it
cleaned up (an interrupt, a lost connection) leaves the journal, and ``stagesync probe ENV
--resume`` deletes what it lists: by ID when the create's answer was recorded, otherwise by name.

Checks share their entities (``WriteProbe`` creates them once), so the probe never sends more
than the sum of the declared ``requests``. Findings name statuses, field names and counts, never
a record's values.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from stagesync.errors import ApiError
from stagesync.ports import StoreApi
from stagesync.probe_checks import Finding, _instant, differs, holds, not_checked

PREFIX = "stagesync-probe-"
PRODUCTS = "/v3/catalog/products"
CATEGORIES = "/v3/catalog/trees/categories"
PROMOTIONS = "/v3/promotions"
BATCH_LIMIT = 10
"""Products per ``PUT /v3/catalog/products`` (products_catalog.v3.yml)."""
PRODUCT_COUNT = BATCH_LIMIT + 1
TICK = 1.1
"""Seconds between creating the products and writing their parts: ``date_modified`` counts
whole seconds, so a write in the same second as the create could not be told apart."""
PARTS = (
    "variant",
    "option",
    "modifier",
    "image",
    "custom_field",
    "metafield",
    "video",
    "review",
    "bulk_pricing_rule",
    "complex_rule",
)
"""The product sub-resources whose writes the probe checks move the product's date_modified,
one product each (in this order: the first ``len(PARTS)`` of the probe's products)."""
WITH_VARIANT = (PARTS.index("variant"), PARTS.index("complex_rule"))
"""The probe's products created with one variant (and so one option): the variant's own, and
the complex rule's (a rule names a modifier value and a variant)."""
VIDEO_ID = "z3fRu9pkuXE"
"""The YouTube id products_catalog.v3.yml gives as its example of a product video's
``video_id``: the probe adds it when no product of the store has a video to copy."""
MISSING_PARENT = 2_000_000_000
"""A category id no store has, to make one item of a batch fail."""


def journal_path(project: Path, environment: str) -> Path:
    return project / ".stagesync" / "probe" / f"{environment}.cleanup.jsonl"


class Unexpected(Exception):
    """The store answered a write in a shape the probe cannot go on from."""


@dataclass(frozen=True)
class Entry:
    kind: str
    """``product``, ``category`` or ``promotion``."""
    label: str
    """Unique in the journal (the entity's name, in the probe's namespace)."""
    find: dict[str, str]
    """The list filter that finds it when its ID was never recorded (``name`` or ``sku``)."""
    id: int | None = None


class Journal:
    """The cleanup journal: what the probe created (or was about to) and has not deleted yet."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _append(self, line: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as out:
            out.write(orjson.dumps(line) + b"\n")
            out.flush()
            os.fsync(out.fileno())

    def creating(self, kind: str, label: str, find: dict[str, str] | None = None) -> None:
        """Before the create request: the entity may exist from now on."""
        line = {"event": "create", "kind": kind, "label": label, "find": find or {"name": label}}
        self._append(line)

    def created(self, kind: str, label: str, entity_id: int) -> None:
        self._append({"event": "created", "kind": kind, "label": label, "id": entity_id})

    def deleted(self, kind: str, label: str) -> None:
        self._append({"event": "deleted", "kind": kind, "label": label})

    def pending(self) -> list[Entry]:
        """What may still exist, oldest first (a line cut short by a kill is ignored)."""
        if not self.path.exists():
            return []
        entries: dict[tuple[str, str], Entry] = {}
        for raw in self.path.read_bytes().splitlines():
            try:
                line = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(line, dict):
                continue
            key = (str(line.get("kind")), str(line.get("label")))
            event = line.get("event")
            find = line.get("find")
            if event == "create" and isinstance(find, dict):
                entries.setdefault(key, Entry(*key, {str(k): str(v) for k, v in find.items()}))
            elif event == "created" and key in entries and isinstance(line.get("id"), int):
                entries[key] = Entry(*key, entries[key].find, id=line["id"])
            elif event == "deleted":
                entries.pop(key, None)
        return list(entries.values())

    def finish(self) -> None:
        """Remove the journal when nothing it lists is left."""
        if self.path.exists() and not self.pending():
            self.path.unlink()


@dataclass
class WriteProbe:
    """What a write check works through: the store's API, the journal, and the entities the
    checks share (created once, on first use)."""

    api: StoreApi
    journal: Journal
    tag: str = field(default_factory=lambda: secrets.token_hex(3))
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _once: dict[str, Any] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def name(self, what: str) -> str:
        return f"{PREFIX}{self.tag}-{what}"

    async def create(
        self, kind: str, label: str, path: str, body: Any, find: dict[str, str] | None = None
    ) -> Any:
        """POST ``body`` to ``path``, journaled as ``kind`` ``label`` before the request."""
        self.journal.creating(kind, label, find)
        try:
            made = await self.api.post(path, body, entity=f"probe {kind}")
        except ApiError as error:
            if 400 <= error.status < 500:  # refused: nothing was created
                self.journal.deleted(kind, label)
            raise
        if isinstance(made, dict) and isinstance(made.get("id"), int):
            self.journal.created(kind, label, made["id"])
        return made

    async def once(self, step: str, work: Callable[[], Awaitable[Any]]) -> Any:
        """``work``'s result, run the first time ``step`` is asked for (its error, every time)."""
        lock = self._locks.setdefault(step, asyncio.Lock())
        async with lock:
            if step not in self._once:
                try:
                    self._once[step] = ("ok", await work())
                except ApiError as error:
                    self._once[step] = ("error", error)
            outcome, value = self._once[step]
        if outcome == "error":
            raise value
        return value

    # -- shared entities ------------------------------------------------------------------

    async def products(self) -> list[dict[str, Any]]:
        """``PRODUCT_COUNT`` products; those of ``WITH_VARIANT`` with one variant (and so one
        option)."""

        async def make() -> list[dict[str, Any]]:
            made = []
            for index in range(PRODUCT_COUNT):
                name = self.name(f"product-{index}")
                body: dict[str, Any] = {
                    "name": name,
                    "sku": name.upper(),
                    "type": "physical",
                    "weight": 1,
                    "price": 1,
                    "is_visible": False,
                }
                if index in WITH_VARIANT:
                    body["variants"] = [
                        {
                            "sku": f"{name.upper()}-A",
                            "option_values": [{"option_display_name": "Probe", "label": "A"}],
                        }
                    ]
                made.append(await self.create("product", name, PRODUCTS, body))
            for index in WITH_VARIANT:
                product = made[index]
                if not product.get("variants"):
                    path = f"{PRODUCTS}/{product['id']}/variants"
                    product["variants"] = await self.api.get(path)
            return made

        result: list[dict[str, Any]] = await self.once("products", make)
        return result

    async def moved(self) -> dict[str, Finding]:
        """Per part: whether writing it moved its product's date_modified."""

        async def check() -> dict[str, Finding]:
            made = await self.products()
            image_url, video_id = await self._media()
            found: dict[str, Finding] = {}
            rule = made[PARTS.index("complex_rule")]
            try:
                rule["modifiers"] = [
                    await self.api.post(
                        f"{PRODUCTS}/{rule['id']}/modifiers",
                        {
                            "display_name": "Probe",
                            "type": "radio_buttons",
                            "required": False,
                            "option_values": [{"label": "A", "sort_order": 0}],
                        },
                    )
                ]
            except ApiError as error:
                found["complex_rule"] = not_checked(
                    f"the store answered {error.status} to the modifier the rule names"
                )
            ids = ",".join(str(p["id"]) for p in made[: len(PARTS)])
            query = {"id:in": ids, "limit": len(PARTS), "include_fields": "date_modified"}
            before = await self._dates(query)
            await self.sleep(TICK)
            written: dict[str, str] = {}
            for part, product in zip(PARTS, made, strict=False):
                if part in found:
                    continue
                if part == "image" and image_url is None:
                    found[part] = not_checked("no product on the store has an image to copy")
                    continue
                try:
                    path = await self._write_part(part, product, image_url, video_id)
                except ApiError as error:
                    found[part] = not_checked(f"the store answered {error.status} to the write")
                except Unexpected as error:
                    found[part] = not_checked(str(error))
                else:
                    if path is not None:
                        written[part] = path
            now = await self._dates(query)
            _compare(found, made, before, now, "write")
            deleting = {p: path for p, path in written.items() if found[p].status == "holds"}
            if deleting:
                await self.sleep(TICK)
                for part, path in deleting.items():
                    try:
                        await self.api.delete(path)
                    except ApiError as error:
                        found[part] = not_checked(
                            f"the store answered {error.status} to the delete"
                        )
                later = await self._dates(query)
                _compare(found, made, now, later, "delete", set(deleting))
            return found

        result: dict[str, Finding] = await self.once("moved", check)
        return result

    async def _dates(self, query: dict[str, Any]) -> dict[int, Any]:
        """Each listed product's date_modified, by id."""
        page = await self.api.get(PRODUCTS, query)
        return {p["id"]: p.get("date_modified") for p in page or [] if isinstance(p, dict)}

    async def _media(self) -> tuple[str | None, str]:
        """The URL of an image a product of the store already has, and the id of a video one
        has (``VIDEO_ID`` when none has): the probe copies them rather than naming a host the
        store would have to download from."""
        page = await self.api.get(PRODUCTS, {"include": "primary_image,videos", "limit": 50})
        image_url: str | None = None
        video_id = VIDEO_ID
        for product in reversed(page or []):
            if not isinstance(product, dict):
                continue
            image = product.get("primary_image")
            url = image.get("url_zoom") if isinstance(image, dict) else None
            if isinstance(url, str) and url:
                image_url = url
            for video in product.get("videos") or []:
                if isinstance(video, dict) and isinstance(video.get("video_id"), str):
                    video_id = video["video_id"]
        return image_url, video_id

    async def _write_part(
        self, part: str, product: dict[str, Any], image_url: str | None, video_id: str
    ) -> str | None:
        """Write ``part`` of ``product``: the path of what it created (None for the variant's
        update)."""
        base = f"{PRODUCTS}/{product['id']}"
        variants = product.get("variants") or []
        if part in ("variant", "complex_rule") and not variants:
            raise Unexpected("the product created with a variant has none")
        if part == "variant":
            await self.api.put(f"{base}/variants/{variants[0]['id']}", {"price": 2})
            return None
        if part == "complex_rule":
            modifier = (product.get("modifiers") or [{}])[0]
            values = modifier.get("option_values") or []
            if not values:
                raise Unexpected("the modifier the rule names has no value")
            conditions = [
                {"modifier_id": modifier["id"], "modifier_value_id": values[0]["id"]},
                {"variant_id": variants[0]["id"]},
            ]
            body = {"enabled": False, "conditions": conditions}
            return _created(
                f"{base}/complex-rules", await self.api.post(f"{base}/complex-rules", body)
            )
        bodies: dict[str, tuple[str, dict[str, Any]]] = {
            "option": (
                "options",
                {
                    "display_name": "Probe",
                    "type": "radio_buttons",
                    "option_values": [{"label": "A", "sort_order": 0}],
                },
            ),
            "modifier": ("modifiers", {"display_name": "Probe", "type": "text", "required": False}),
            "image": ("images", {"image_url": image_url}),
            "custom_field": ("custom-fields", {"name": "stagesync-probe", "value": "1"}),
            "video": ("videos", {"video_id": video_id, "type": "youtube"}),
            "review": (
                "reviews",
                {
                    "title": "stagesync-probe",
                    "text": "",
                    "status": "disapproved",
                    "rating": 1,
                    "date_reviewed": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                },
            ),
            "bulk_pricing_rule": (
                "bulk-pricing-rules",
                {"quantity_min": 10, "quantity_max": 20, "type": "percent", "amount": 1},
            ),
            "metafield": (
                "metafields",
                {
                    "permission_set": "app_only",
                    "namespace": "stagesync-probe",
                    "key": "probe",
                    "value": "1",
                },
            ),
        }
        segment, body = bodies[part]
        return _created(f"{base}/{segment}", await self.api.post(f"{base}/{segment}", body))

    # -- cleanup --------------------------------------------------------------------------

    async def cleanup(self) -> None:
        await delete_pending(self.api, self.journal)


def _created(path: str, answer: Any) -> str | None:
    """The path of the sub-resource a POST to ``path`` created (None without its id)."""
    if isinstance(answer, dict) and isinstance(answer.get("id"), int):
        return f"{path}/{answer['id']}"
    return None


def _compare(
    found: dict[str, Finding],
    made: list[dict[str, Any]],
    before: dict[int, Any],
    after: dict[int, Any],
    what: str,
    only: set[str] | None = None,
) -> None:
    """Set ``found`` for each part (of ``only``, or not found yet) from its product's
    date_modified ``before`` and ``after`` its ``what`` (a write or a delete)."""
    for part, product in zip(PARTS, made, strict=False):
        checking = part not in found if only is None else part in only
        if not checking or (only is not None and found[part].status != "holds"):
            continue
        earlier, seen = before.get(product["id"]), after.get(product["id"])
        if not isinstance(earlier, str) or not isinstance(seen, str):
            found[part] = differs("date_modified: string", "absent")
        elif _instant(seen) > _instant(earlier):
            found[part] = holds()
        else:
            found[part] = differs(
                f"date_modified later than before the {part.replace('_', ' ')} {what}",
                "unchanged",
            )


async def delete_pending(api: StoreApi, journal: Journal) -> int:
    """Delete everything ``journal`` lists as possibly existing; the number deleted."""
    pending = journal.pending()
    gone = 0
    for kind in ("promotion", "category", "product"):
        entries = [e for e in pending if e.kind == kind]
        if not entries:
            continue
        ids: dict[str, int] = {}
        for entry in entries:
            found = entry.id if entry.id is not None else await _find(api, kind, entry.find)
            if found is None:
                journal.deleted(kind, entry.label)  # never created: nothing to delete
            else:
                ids[entry.label] = found
        if not ids:
            continue
        await _delete(api, kind, sorted(set(ids.values())))
        for label in ids:
            journal.deleted(kind, label)
        gone += len(ids)
    journal.finish()
    return gone


async def _find(api: StoreApi, kind: str, find: dict[str, str]) -> int | None:
    """The ID of the one entity ``find`` names (its values must all start with the probe's
    namespace, so nothing else is ever deleted)."""
    if not find or not all(v.casefold().startswith(PREFIX) for v in find.values()):
        return None
    path = {"product": PRODUCTS, "category": CATEGORIES, "promotion": PROMOTIONS}[kind]
    found = await api.get(path, find)
    for item in found or []:
        if isinstance(item, dict) and all(
            str(item.get(k)).casefold() == v.casefold() for k, v in find.items()
        ):
            value = item.get("category_id", item.get("id"))
            return int(value) if isinstance(value, int) else None
    return None


async def _delete(api: StoreApi, kind: str, ids: list[int]) -> None:
    joined = ",".join(str(i) for i in ids)
    if kind == "product":
        await api.delete(PRODUCTS, {"id:in": joined}, entity="probe products")
    elif kind == "category":
        await api.delete(CATEGORIES, {"category_id:in": joined}, entity="probe categories")
    else:
        for promotion_id in ids:
            codes = await api.get(f"{PROMOTIONS}/{promotion_id}/codes")
            if codes:
                code_ids = ",".join(str(c["id"]) for c in codes)
                await api.delete(f"{PROMOTIONS}/{promotion_id}/codes", {"id:in": code_ids})
            await api.delete(f"{PROMOTIONS}/{promotion_id}", entity="probe promotion")


WriteCheck = Callable[[WriteProbe], Awaitable[Finding]]


# -- the checks ---------------------------------------------------------------------------


def moves(part: str) -> WriteCheck:
    async def check(probe: WriteProbe) -> Finding:
        return (await probe.moved())[part]

    return check


async def batch_limit(probe: WriteProbe) -> Finding:
    await probe.moved()  # a batch write moves date_modified: after that check has read it
    made = await probe.products()
    ten = [{"id": p["id"], "is_visible": False} for p in made[:BATCH_LIMIT]]
    try:
        answered = await probe.api.put(PRODUCTS, ten, entity="probe products")
    except ApiError as error:
        return differs(f"{BATCH_LIMIT} products accepted", f"{error.status}")
    if not isinstance(answered, list) or len(answered) != BATCH_LIMIT:
        count = len(answered) if isinstance(answered, list) else 0
        return differs(f"{BATCH_LIMIT} products answered", f"{count}")
    eleven = [{"id": p["id"], "is_visible": False} for p in made]
    try:
        await probe.api.put(PRODUCTS, eleven, entity="probe products")
    except ApiError as error:
        if 400 <= error.status < 500:
            return holds()
        return differs(f"{BATCH_LIMIT + 1} products refused with a 4xx", f"{error.status}")
    return differs(f"{BATCH_LIMIT + 1} products refused", "accepted")


def duplicate(field_name: str) -> WriteCheck:
    """Creating a product whose SKU or name another has answers 409 with a v3 error body."""

    async def check(probe: WriteProbe) -> Finding:
        first = (await probe.products())[0]
        name = probe.name(f"duplicate-{field_name}")
        body: dict[str, Any] = {
            "name": name,
            "sku": name.upper(),
            "type": "physical",
            "weight": 1,
            "price": 1,
            field_name: first[field_name],
        }
        try:
            # Found again by what it does not share with the first product.
            find = {"sku": name.upper()} if field_name == "name" else {"name": name}
            await probe.create("product", name, PRODUCTS, body, find)
        except ApiError as error:
            return _error_body(error, 409, field_name)
        return differs("409", "the duplicate was created")

    return check


async def missing_fields(probe: WriteProbe) -> Finding:
    name = probe.name("missing-fields")
    try:
        await probe.create("product", name, PRODUCTS, {"name": name, "type": "physical"})
    except ApiError as error:
        return _error_body(error, 422, "price")
    return differs("422", "the product was created")


def _error_body(error: ApiError, status: int, field_name: str) -> Finding:
    expected = f'{status} {{"status", "title", "errors": {{"{field_name}": …}}}}'
    body = error.body if isinstance(error.body, dict) else {}
    errors = body.get("errors")
    names = sorted(errors) if isinstance(errors, dict) else []
    shape = f"{error.status} {{{', '.join(sorted(body))}}}"
    if names:
        shape += f" errors: {', '.join(names)}"
    if (
        error.status != status
        or body.get("status") != status
        or not isinstance(body.get("title"), str)
        or field_name not in names
    ):
        return differs(expected, shape)
    return holds()


async def partial_batch(probe: WriteProbe) -> Finding:
    trees = await probe.api.get("/v3/catalog/trees")
    tree = next((t for t in trees or [] if 1 in (t.get("channels") or [])), None)
    if tree is None:
        return not_checked("no category tree for channel 1")
    good, bad = probe.name("category"), probe.name("category-orphan")
    probe.journal.creating("category", good)
    probe.journal.creating("category", bad)
    items = [
        {"name": good, "tree_id": tree["id"], "parent_id": 0},
        {"name": bad, "tree_id": tree["id"], "parent_id": MISSING_PARENT},
    ]
    try:
        made = await probe.api.post(CATEGORIES, items, entity="probe categories")
    except ApiError as error:
        return differs("the valid item created, the invalid one reported (207)", f"{error.status}")
    made = made if isinstance(made, list) else []
    for item in made:
        if isinstance(item, dict) and isinstance(item.get("category_id"), int):
            probe.journal.created("category", str(item.get("name")), item["category_id"])
    names = [item.get("name") for item in made if isinstance(item, dict)]
    if bad not in names:
        probe.journal.deleted("category", bad)  # refused: nothing to delete
    if names != [good]:
        return differs("data holds the one valid category", f"{len(made)} categories in data")
    return holds()


async def promotion_replace(probe: WriteProbe) -> Finding:
    """stagesync replaces a promotion by deleting it (its codes first) and creating it again:
    the name and codes must be free again at once, and usage counts start at 0."""
    name = probe.name("promotion")
    code = name.upper()
    body = {
        "redemption_type": "COUPON",
        "name": name,
        "status": "DISABLED",
        "rules": [{"action": {"cart_value": {"discount": {"fixed_amount": "1"}}}}],
    }
    first = await probe.create("promotion", name, PROMOTIONS, body)
    first_code = await probe.api.post(f"{PROMOTIONS}/{first['id']}/codes", {"code": code})
    await probe.api.delete(f"{PROMOTIONS}/{first['id']}/codes", {"id:in": str(first_code["id"])})
    await probe.api.delete(f"{PROMOTIONS}/{first['id']}", entity="probe promotion")
    probe.journal.deleted("promotion", name)
    try:
        again = await probe.create("promotion", name, PROMOTIONS, body)
    except ApiError as error:
        return differs("the name free again once deleted", f"{error.status}")
    try:
        await probe.api.post(f"{PROMOTIONS}/{again['id']}/codes", {"code": code})
    except ApiError as error:
        return differs("the coupon code free again once deleted", f"{error.status}")
    read = await probe.api.get(f"{PROMOTIONS}/{again['id']}")
    kept = {k: read.get(k) for k in ("name", "redemption_type", "status", "rules")}
    wanted = {k: body[k] for k in kept}
    if kept != wanted:
        changed = sorted(k for k in kept if kept[k] != wanted[k])
        return differs("the recreated promotion reads back as sent", f"differs: {changed}")
    if read.get("current_uses") not in (0, None):
        return differs("current_uses 0", "not 0")
    return holds()


ASSIGNMENTS = "/v3/catalog/products/channel-assignments"
CHANNEL_ASSIGNMENT_REQUESTS = 6
"""The channels, the date before, the assignment, the date after it, the unassignment and the
date after that."""


async def channel_assignment(probe: WriteProbe) -> Finding:
    """Assigning the probe's last product (no other check writes it) to a second channel, and
    unassigning it, each move its date_modified. The product's delete takes the assignment
    with it, should the unassignment not be reached."""
    await probe.moved()
    product = (await probe.products())[-1]
    channels = await probe.api.get("/v3/channels")
    other = next(
        (
            c["id"]
            for c in channels or []
            if isinstance(c, dict) and isinstance(c.get("id"), int) and c["id"] != 1
        ),
        None,
    )
    if other is None:
        return not_checked("the store has no channel besides 1 to assign the product to")
    query = {"id:in": str(product["id"]), "include_fields": "date_modified"}
    pair = {"product_id": product["id"], "channel_id": other}
    before = await probe._dates(query)
    await probe.sleep(TICK)
    await probe.api.put(ASSIGNMENTS, [pair], entity="probe channel assignment")
    now = await probe._dates(query)
    found = _moved(before.get(product["id"]), now.get(product["id"]), "assignment")
    if found.status != "holds":
        return found
    await probe.sleep(TICK)
    filters = {"product_id:in": str(product["id"]), "channel_id:in": str(other)}
    await probe.api.delete(ASSIGNMENTS, filters, entity="probe channel assignment")
    later = await probe._dates(query)
    return _moved(now.get(product["id"]), later.get(product["id"]), "unassignment")


def _moved(earlier: Any, seen: Any, what: str) -> Finding:
    if not isinstance(earlier, str) or not isinstance(seen, str):
        return differs("date_modified: string", "absent")
    if _instant(seen) > _instant(earlier):
        return holds()
    return differs(f"date_modified later than before the channel {what}", "unchanged")
