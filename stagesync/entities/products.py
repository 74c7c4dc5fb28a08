"""Products with their variants, options, images and custom fields, keyed by SKU.

A product with no SKU is keyed ``name:<name>`` (product names are unique too) and the plan warns.
Sub-resources are nested in the product's record and keyed inside it: variants by SKU, options by
display name and their values by label, images by ``image_url``, custom fields by name.

Pull asks for the sub-resources inline (``include=``), which the platform answers at most ten
products per page because options are included. Push creates a product and all of its variants,
images and custom fields in one request, reads back what the platform derived for ten new products
at a time, then fixes up option details the platform cannot take inline; an update writes only
the parts that differ.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from stagesync.entities import channel_assignments
from stagesync.entities import product_extras as extras
from stagesync.entities.base import (
    IDS_PER_REQUEST,
    PAGE_SIZE,
    EntityKind,
    LiveId,
    Lookup,
    Raw,
    TargetedRead,
    id_requests,
    pages,
)
from stagesync.entities.common import (
    chunked,
    ids_in,
    in_queries,
    listed,
    one_each,
    sync_children,
    unique_by_key,
    without,
)
from stagesync.errors import StageSyncError
from stagesync.model import Action, EntityKey, Record, Snapshot, held_json
from stagesync.ports import StoreApi

PATH = "/v3/catalog/products"
INCLUDE = "variants,images,custom_fields,videos"
"""What the product list carries at 250 a page."""
LIMITED_INCLUDE = "options,modifiers"
"""What forces ten products a page: read in a second, lean pass (``include_fields=id``)."""
FIND_INCLUDE = f"{INCLUDE},{LIMITED_INCLUDE}"
NO_SKU_PREFIX = "name:"

READ_ONLY = (
    "id",
    "date_created",
    "date_modified",
    "calculated_price",
    "base_variant_id",
    "reviews_rating_sum",
    "reviews_count",
    "total_sold",
    "view_count",
    "parent_relations",
    "option_set_id",
    "option_set_display",
    "date_last_imported",
    "primary_image",
    "inventory_level",  # stock is recorded only when the pull asks for it (``STOCK``)
    # Selectable part kinds (product_reviews, bulk_pricing_rules, channel_assignments) and
    # read-only relations: never part of the product's own record.
    "reviews",
    "bulk_pricing_rules",
    "channels",
)
REFERENCES = (
    "brand_id",
    "categories",
    "related_products",
    "tax_class_id",
    "gift_wrapping_options_list",
)
CHILDREN = (
    "variants",
    "options",
    "images",
    "custom_fields",
    "modifiers",
    "videos",
    "complex_rules",
    "metafields",
)
VARIANT_READ_ONLY = (
    "id",
    "product_id",
    "sku_id",
    "calculated_price",
    "calculated_weight",
    "inventory_level",
)
OPTION_READ_ONLY = ("id", "product_id", "name")
IMAGE_READ_ONLY = (
    "id",
    "product_id",
    "date_modified",
    "image_file",
    "url_zoom",
    "url_standard",
    "url_thumbnail",
    "url_tiny",
)


def product_key(raw: Raw) -> str:
    sku = str(raw.get("sku") or "")
    return sku if sku else NO_SKU_PREFIX + str(raw["name"])


async def fetch(api: StoreApi) -> list[Raw]:
    """Every product with its sub-resources (see ``fetch_pages``)."""
    return [product async for page in fetch_pages(api, ()) for product in page]


@dataclass(frozen=True)
class Reusable:
    """What an earlier pull of the same store read of its products (``stagesync.product_cache``):
    each product as ``fetch_pages`` completed it (id -> compact JSON), the ``also`` it was read
    with, and the instant after which any product may have changed (the earlier pull's store
    time minus the overlap margin). The parts whose assumptions are not relied on
    (``product_cache.rests_on``) are read again for every product (``fresh``)."""

    since: datetime
    also: tuple[str, ...]
    products: Mapping[int, tuple[Raw, bytes]]
    """id -> (the product's ``date_modified`` as ``{"date_modified": ...}``, its JSON)."""
    fresh: frozenset[str] = frozenset()
    """Groups of ``FRESH_PARTS`` read again for every product: those whose assumptions are not
    relied on."""


REUSE: ContextVar[Reusable | None] = ContextVar("stagesync_product_reuse", default=None)
"""Set by an incremental pull (``stages/pull/read.py``); None: read every product in full."""


@dataclass
class Seen:
    """What ``fetch_pages`` yielded that the products kept by the pull will lack: the parts of
    ``also`` the part kinds read with the list take out of each product (id -> compact JSON of
    ``{part: items}``, for the products that have any), and that ``also``."""

    parts: dict[int, bytes] = field(default_factory=dict)
    also: tuple[str, ...] = ()


SEEN: ContextVar[Seen | None] = ContextVar("stagesync_products_seen", default=None)
"""Set by a pull that keeps the products' read cache (``stagesync.product_cache``)."""

CHANGE_FIELDS = "date_modified,brand_id,categories,related_products"
"""What the ID listing of an incremental pull asks for: what says a product changed, and the
references to other entities a deletion elsewhere may change without moving it."""
REFRESHED = ("brand_id", "categories", "related_products")
ALWAYS_LISTED = (channel_assignments.INCLUDE,)
"""Parts of ``also`` the ID listing of an incremental pull asks for too, so they are read for
every product, never reused: no date says they changed (the channels a product is on), and on
that listing they cost no request of their own."""


async def fetch_pages(api: StoreApi, also: Sequence[str]) -> AsyncIterator[list[Raw]]:
    """Every product with its sub-resources, a page at a time (``REUSE``: only the changed ones
    read, the others taken from the earlier pull)."""
    reusable = REUSE.get()
    seen = SEEN.get()
    if seen is not None:
        seen.also = tuple(also)
    if reusable is not None and tuple(also) == reusable.also:
        source = _changed_pages(api, also, reusable)
    else:
        source = _all_pages(api, also)
    async for page in source:
        if seen is not None and also:
            for product in page:
                if any(product.get(part) for part in also):
                    parts = {part: product.get(part) or [] for part in also}
                    seen.parts[int(product["id"])] = held_json(parts)
        yield page


async def _changed_pages(
    api: StoreApi, also: Sequence[str], reusable: Reusable
) -> AsyncIterator[list[Raw]]:
    """Every product's id, ``CHANGE_FIELDS`` and the parts of ``also`` in ``ALWAYS_LISTED`` at
    250 a page (the whole product list with ``INCLUDE`` and ``also`` instead, when
    ``"listing"`` is in ``reusable.fresh``): a product the earlier pull
    read with the same ``date_modified``, before ``reusable.since``, is taken from it, its
    references as listed now and the parts of ``reusable.fresh`` read again for every product
    (``FRESH_PARTS``); the others (new, changed, recent) are read complete by ``id:in``, ten a
    request. A product the listing lacks was deleted. Relies on the assumptions
    ``product_cache.rests_on`` names (ASSUMPTION_PRODUCT_DATE_MODIFIED_MOVES_ON_PRODUCT_WRITE
    and, per part not read again, the sub-resource ones)."""
    fresh = reusable.fresh
    whole = "listing" in fresh
    listed_too = [part for part in also if part in ALWAYS_LISTED]
    query: dict[str, str] = {"include": ",".join([INCLUDE, *also])}
    if not whole:  # ``listed_too`` in include_fields as well, in case it filters out includes
        query = {"include_fields": ",".join([CHANGE_FIELDS, *listed_too])}
        if listed_too:
            query["include"] = ",".join(listed_too)
    reads: list[Awaitable[list[Raw]]] = [api.get_all(PATH, query)]
    if "options" in fresh:
        reads.append(api.get_all(PATH, {"include": LIMITED_INCLUDE, "include_fields": "id"}))
    if "metafields" in fresh:
        reads += [api.get_all(extras.PRODUCT_METAFIELDS), api.get_all(extras.VARIANT_METAFIELDS)]
    found = await asyncio.gather(*reads)
    listed = found.pop(0)
    limited = {int(p["id"]): p for p in found.pop(0)} if "options" in fresh else {}
    owned = owned_metafields(found[0], found[1]) if "metafields" in fresh else {}
    reused: list[tuple[Raw, bytes]] = []
    changed: list[int] = []
    for item in listed:
        product_id = int(item["id"])
        cached = reusable.products.get(product_id)
        if cached is not None and _unchanged(cached[0], item, reusable.since):
            reused.append((item, cached[1]))
        else:
            changed.append(product_id)
    for start in range(0, len(reused), PAGE_SIZE):
        page = []
        for item, cached_raw in reused[start : start + PAGE_SIZE]:
            raw = _reused(orjson.loads(cached_raw), item, whole, listed_too)
            if raw is None:  # a variant the earlier pull did not read: read it all again
                changed.append(int(item["id"]))
                continue
            if "options" in fresh:
                part = limited.get(int(raw["id"]), {})
                raw["options"] = part.get("options") or []
                raw["modifiers"] = part.get("modifiers") or []
            page.append(raw)
        if "metafields" in fresh:
            _attach_metafields(page, owned)
        if "rules" in fresh:
            await _attach_rules(api, page)
        yield page
    read = await read_by_ids(api, changed, also)
    for start in range(0, len(read), PAGE_SIZE):
        yield read[start : start + PAGE_SIZE]


FRESH_PARTS = {
    "listing": ("variants", "images", "custom_fields", "videos", "reviews", "bulk_pricing_rules"),
    "options": ("options", "modifiers"),
    "rules": ("complex_rules",),
    "metafields": ("metafields",),
}
"""The parts an incremental pull reads again for every product, by group (``Reusable.fresh``):
the product list's (``listing``: the product's own fields with them), the ten-a-page pass
(``options``), complex rules and metafields (the product's and its variants')."""
KEPT_PARTS = ("options", "modifiers", "complex_rules", "metafields")


def _reused(cached: Raw, listed: Raw, whole: bool, listed_too: Sequence[str] = ()) -> Raw | None:
    """The product ``cached`` with what ``listed`` says now: its references (``REFRESHED``) and
    the parts ``listed_too`` (as listed, absent included: never the earlier pull's), or, from
    the whole product list (``whole``), everything the list carries, the cached
    options, modifiers, rules and metafields kept (a variant's metafields by its id). None when
    the list names a variant the cache lacks (its metafields were never read)."""
    if not whole:
        for name in REFRESHED:
            if name in listed:
                cached[name] = listed[name]
        for name in listed_too:
            cached[name] = listed.get(name)
        return cached
    variants = {int(v["id"]): v for v in cached.get("variants") or []}
    merged = dict(listed)
    for variant in merged.get("variants") or []:
        known = variants.get(int(variant["id"]))
        if known is None:
            return None
        variant["metafields"] = known.get("metafields") or []
    for name in KEPT_PARTS:
        merged[name] = cached.get(name) or []
    return merged


def _attach_metafields(products: list[Raw], owned: Mapping[tuple[str, int], list[Raw]]) -> None:
    for product in products:
        product["metafields"] = owned.get(("product", int(product["id"])), [])
        for variant in product.get("variants") or []:
            variant["metafields"] = owned.get(("variant", int(variant["id"])), [])


async def _attach_rules(api: StoreApi, products: list[Raw]) -> None:
    with_rules = [p for p in products if may_have_rules(p)]
    rules = await asyncio.gather(
        *(api.get_all(f"{PATH}/{p['id']}/complex-rules") for p in with_rules)
    )
    for product in products:
        product["complex_rules"] = []
    for product, found in zip(with_rules, rules, strict=True):
        product["complex_rules"] = found


def _unchanged(cached: Raw, listed: Raw, since: datetime) -> bool:
    """Whether the product ``listed`` now is still the one ``cached``: the same
    ``date_modified``, and that before ``since`` (a write in the same second as the earlier
    read would not move it)."""
    modified = listed.get("date_modified")
    if not isinstance(modified, str) or cached.get("date_modified") != modified:
        return False
    try:
        when = datetime.fromisoformat(modified)
    except ValueError:
        return False
    return when.tzinfo is not None and when < since


async def _all_pages(api: StoreApi, also: Sequence[str]) -> AsyncIterator[list[Raw]]:
    """Every product with its sub-resources, a page at a time, in as few requests as the API
    allows: options and modifiers in one lean pass at ten a page (no product field says which
    products have modifiers) and metafields through the store-wide lists, both read first; then
    the product list at 250 a page (variants, images, custom fields, videos, and ``also``: the
    part kinds read with it, ``reviews`` and ``bulk_pricing_rules``), each page completed with
    complex rules (one list per product that may have them) as it arrives."""
    limited, product_fields, variant_fields = await asyncio.gather(
        api.get_all(PATH, {"include": LIMITED_INCLUDE, "include_fields": "id"}),
        api.get_all(extras.PRODUCT_METAFIELDS),
        api.get_all(extras.VARIANT_METAFIELDS),
    )
    by_id = {int(p["id"]): p for p in limited}
    owned = owned_metafields(product_fields, variant_fields)
    async for page in api.pages(PATH, {"include": ",".join([INCLUDE, *also])}):
        for product in page:
            found = by_id.get(int(product["id"]), {})
            product["options"] = found.get("options") or []
            product["modifiers"] = found.get("modifiers") or []
        await complete(api, page, owned)
        yield page


def owned_metafields(
    product_fields: list[Raw], variant_fields: list[Raw]
) -> dict[tuple[str, int], list[Raw]]:
    """Metafields by owner: (``product`` or ``variant``, its id)."""
    owned: dict[tuple[str, int], list[Raw]] = {}
    for kind, items in (("product", product_fields), ("variant", variant_fields)):
        for item in items:
            owned.setdefault((kind, int(item["resource_id"])), []).append(item)
    return owned


def may_have_rules(raw: Raw) -> bool:
    """Every complex rule names at least one modifier value (several, or one and a variant), so
    only products with modifiers can have them: the others cost no request."""
    return bool(raw.get("modifiers"))


async def complete(
    api: StoreApi, products: list[Raw], owned: Mapping[tuple[str, int], list[Raw]]
) -> None:
    """Attach complex rules (one list per product that may have them) and metafields, ``owned``
    by (``product`` or ``variant``, id)."""
    await _attach_rules(api, products)
    _attach_metafields(products, owned)


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key("products", raws, product_key)


# -- normalise: API object -> ID-free record -------------------------------------------------


STOCK = "stock"
"""``lookup.settings`` flag: record (and so compare and push) inventory levels."""


def stock_wanted(lookup: Lookup) -> bool:
    return lookup.settings.get(STOCK) == "yes"


def with_stock(record: Record, raw: Raw) -> None:
    """Add the product's and its variants' inventory levels to ``record`` (migrate stock)."""
    record["inventory_level"] = int(raw.get("inventory_level") or 0)
    levels = {str(v["sku"]): int(v.get("inventory_level") or 0) for v in raw.get("variants") or []}
    for variant in record["variants"]:
        variant["inventory_level"] = levels.get(str(variant["sku"]), 0)


# ASSUMPTION_PRODUCT_FIELD_TYPES: the fields read here have the types the probe checks.
def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = without(raw, READ_ONLY + REFERENCES + CHILDREN)
    brand_id = int(raw.get("brand_id") or 0)
    record["brand"] = lookup.key_of("brands", brand_id) if brand_id else None
    record["categories"] = sorted(
        lookup.key_of("categories", int(c)) for c in raw.get("categories") or []
    )
    related = (
        -1
        if int(p) == -1
        else lookup.key_or_gone("products", int(p), f"products {key}", "left out of related")
        for p in raw.get("related_products") or []
    )
    record["related_products"] = [p for p in related if p is not None]
    record["meta_keywords"] = sorted(record.get("meta_keywords") or [])
    # Tax classes and gift-wrapping options are not kinds stagesync moves yet: the default tax
    # class (0) is ``None``, any other id is kept as ``#id`` and the plan warns about it.
    tax_class = int(raw.get("tax_class_id") or 0)
    record["tax_class"] = f"#{tax_class}" if tax_class else None
    record["gift_wrapping_options"] = sorted(
        f"#{int(i)}" for i in raw.get("gift_wrapping_options_list") or []
    )
    record["variants"] = normalise_variants(raw.get("variants") or [])
    record["options"] = normalise_options(raw.get("options") or [])
    record["images"] = normalise_images(raw.get("images") or [])
    record["custom_fields"] = normalise_custom_fields(raw.get("custom_fields") or [])
    record["modifiers"] = extras.normalise_modifiers(raw.get("modifiers") or [])
    record["videos"] = extras.normalise_videos(raw.get("videos") or [])
    record["complex_rules"] = extras.normalise_rules(raw)
    record["metafields"] = extras.normalise_metafields(raw.get("metafields") or [])
    if stock_wanted(lookup):
        with_stock(record, raw)
    return record


def normalise_variant(raw: Raw) -> Record:
    record = without(raw, VARIANT_READ_ONLY)
    record["metafields"] = extras.normalise_metafields(raw.get("metafields") or [])
    record["option_values"] = sorted(
        ({"option": v["option_display_name"], "label": v["label"]} for v in raw["option_values"]),
        key=lambda v: (v["option"], v["label"]),
    )
    return record


def normalise_variants(raws: Iterable[Raw]) -> list[Record]:
    """Variants by SKU. The base variant of a product without options mirrors the product itself
    and is recreated by the platform, so it is left out."""
    variants = [normalise_variant(raw) for raw in raws if raw.get("option_values")]
    return sorted(variants, key=lambda v: str(v["sku"]).casefold())


def normalise_option(raw: Raw) -> Record:
    record = without(raw, OPTION_READ_ONLY)
    record["option_values"] = sorted(
        (without(value, ("id",)) for value in raw.get("option_values") or []),
        key=lambda v: (v.get("sort_order") or 0, v["label"]),
    )
    return record


def normalise_options(raws: Iterable[Raw]) -> list[Record]:
    options = [normalise_option(raw) for raw in raws]
    return sorted(options, key=lambda o: (o.get("sort_order") or 0, o["display_name"]))


def normalise_images(raws: Iterable[Raw]) -> list[Record]:
    images = [normalise_image(raw) for raw in raws]
    # Keyed by URL; their order is their ``sort_order`` field, so a reordered image shows up
    # as exactly that field's change.
    return sorted(images, key=lambda i: str(i.get("image_url", "")))


def normalise_custom_fields(raws: Iterable[Raw]) -> list[Record]:
    fields = [normalise_custom_field(raw) for raw in raws]
    return sorted(fields, key=lambda f: (f["name"], f["value"]))


def references(key: str, record: Record) -> Iterable[EntityKey]:
    if record.get("brand"):
        yield EntityKey("brands", record["brand"])
    for path in record.get("categories") or []:
        yield EntityKey("categories", path)


def links(key: str, record: Record) -> Iterable[EntityKey]:
    """Related products: references a product may gain after it exists (-1: chosen by the
    platform, not a reference)."""
    for sku in record.get("related_products") or []:
        if sku != -1:
            yield EntityKey("products", str(sku))


async def link(api: StoreApi, key: str, record: Record, lookup: Lookup) -> None:
    """Write the related products of a product that exists (the second step of create-then-link)."""
    product_id = lookup.id_of("products", key)
    related = [
        -1 if p == -1 else lookup.id_of("products", str(p))
        for p in record.get("related_products") or []
    ]
    await api.put(f"{PATH}/{product_id}", {"related_products": related}, entity=f"product {key}")


# -- keyed children, shared by push's sync steps ----------------------------------------------


def normalise_image(raw: Raw) -> Record:
    return without(raw, IMAGE_READ_ONLY)


def normalise_custom_field(raw: Raw) -> Record:
    return without(raw, ("id",))


NORMALISE_CHILD: dict[str, Callable[[Raw], Record]] = {
    "variants": normalise_variant,
    "options": normalise_option,
    "images": normalise_image,
    "custom_fields": normalise_custom_field,
}


def child_keys(child: str, items: list[Record]) -> list[str]:
    """Keys of a product's sub-resources, in the order given. Custom fields are keyed by name, or
    by ``name=value`` where a name repeats (only the pair is unique on the platform)."""
    if child == "variants":
        return [str(v["sku"]) for v in items]
    if child == "options":
        return [str(o["display_name"]) for o in items]
    if child == "images":
        return [str(i.get("image_url", "")) for i in items]
    names = [f["name"] for f in items]
    return [
        f["name"] if names.count(f["name"]) == 1 else f"{f['name']}={f['value']}" for f in items
    ]


def children_by_key(record: Record, child: str) -> dict[str, Record]:
    items: list[Record] = record.get(child) or []
    return dict(zip(child_keys(child, items), items, strict=True))


def live_children(raw: Raw, child: str) -> dict[str, tuple[int, Record]]:
    """The live sub-resources of one product: key -> (id, normalised record)."""
    raws = [r for r in raw.get(child) or [] if child != "variants" or r.get("option_values")]
    items = [NORMALISE_CHILD[child](r) for r in raws]
    keys = child_keys(child, items)
    return {key: (int(r["id"]), item) for key, r, item in zip(keys, raws, items, strict=True)}


# -- denormalise: record + live IDs -> API payloads ------------------------------------------


def base_payload(record: Record, lookup: Lookup) -> dict[str, Any]:
    body = without(
        record,
        ("brand", "categories", "related_products", "tax_class", "gift_wrapping_options")
        + CHILDREN,
    )
    if "tax_class" in record:
        body["tax_class_id"] = int(str(record["tax_class"] or "#0")[1:])
    if "gift_wrapping_options" in record:
        body["gift_wrapping_options_list"] = [
            int(str(i)[1:]) for i in record["gift_wrapping_options"]
        ]
    body["brand_id"] = lookup.id_of("brands", record["brand"]) if record.get("brand") else 0
    body["categories"] = [lookup.id_of("categories", path) for path in record["categories"]]
    body["related_products"] = [
        -1 if p == -1 else lookup.id_of("products", str(p))
        for p in record.get("related_products") or []
    ]
    return body


def variant_payload(variant: Record, options: list[Raw] | None = None) -> dict[str, Any]:
    """A variant for the API. Without ``options`` its option values are named (inline create);
    with the product's live options they are given by id."""
    body = without(variant, ("option_values", "metafields"))
    if options is None:
        body["option_values"] = [
            {"option_display_name": v["option"], "label": v["label"]}
            for v in variant["option_values"]
        ]
        return body
    by_name = {o["display_name"]: o for o in options}
    values = []
    for value in variant["option_values"]:
        option = by_name[value["option"]]
        value_id = next(v["id"] for v in option["option_values"] if v["label"] == value["label"])
        values.append({"id": value_id, "option_id": option["id"]})
    body["option_values"] = values
    return body


def inline_order(record: Record) -> list[Record]:
    """The record's variants in the order that makes the platform create their options' values
    in the record's sort order (it numbers them as they first appear), so no option value needs
    a fix-up request afterwards."""
    options = record.get("options") or []
    option_rank = {o["display_name"]: o.get("sort_order", 0) for o in options}
    value_rank = {
        (o["display_name"], v["label"]): (v.get("sort_order", 0), v["label"])
        for o in options
        for v in o.get("option_values") or []
    }

    def rank(variant: Record) -> list[tuple[int, str]]:
        values = sorted(
            variant.get("option_values") or [],
            key=lambda v: (option_rank.get(v["option"], 0), v["option"]),
        )
        return [value_rank.get((v["option"], v["label"]), (0, v["label"])) for v in values]

    return sorted(record.get("variants") or [], key=rank)


CREATE_BATCH_SIZE = 10
"""Products per ``create_many``: one read returns what the platform derived for all of them (the
product list answers ten a page when options are included)."""
DERIVED_INCLUDE = "options,channels"
"""What the read after a create asks for: the options the platform made from the variants (their
display settings cannot be sent inline) and the channels it put the product on."""


def create_payload(record: Record, lookup: Lookup) -> dict[str, Any]:
    """A product with all its variants, images and custom fields, for one ``POST``."""
    body = base_payload(record, lookup)
    body["variants"] = [variant_payload(v) for v in inline_order(record)]
    body["images"] = record.get("images") or []
    body["custom_fields"] = record.get("custom_fields") or []
    return body


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    (product_id,) = await create_many(api, [(key, record)], lookup)
    return product_id


async def create_many(api: StoreApi, items: list[tuple[str, Record]], lookup: Lookup) -> list[int]:
    """Each product in one ``POST`` with its variants, images and custom fields; then one read
    (``id:in``, ten a page) of what the platform derived for all of them: their options, fixed up
    where they differ from the record, and their channels, which go into the lookup so channel
    assignments the platform already made are not written again; then each product's extras."""
    created = [
        await api.post(PATH, create_payload(record, lookup), entity=f"product {key}")
        for key, record in items
    ]
    ids = [int(made["id"]) for made in created]
    query = {"id:in": ",".join(map(str, ids)), "include": DERIVED_INCLUDE, "include_fields": "id"}
    derived = {int(raw["id"]): raw for raw in await api.get_all(PATH, query)}
    for (key, record), made, product_id in zip(items, created, ids, strict=True):
        live = derived.get(product_id)
        if live is None:  # push then looks it up by SKU and completes it as an update
            raise StageSyncError(
                f"product {key} was created (id {product_id}) but {lookup.store} did not list it "
                "when read back; it was not completed."
            )
        channel_assignments.remember(lookup, key, product_id, live.get("channels") or [])
        await complete_create(api, key, record, made, live.get("options") or [])
    return ids


async def complete_create(
    api: StoreApi, key: str, record: Record, created: Raw, options: list[Raw]
) -> None:
    """What a new product still lacks after its ``POST``: option details that differ from what
    the platform derived, modifiers, videos, complex rules and metafields."""
    product_id = int(created["id"])
    entity = f"product {key}"
    if record.get("options"):
        await sync_options(api, key, product_id, record, {"options": options})
    await extras.sync_modifiers(api, entity, product_id, record.get("modifiers") or [], [])
    await extras.sync_videos(api, entity, product_id, record.get("videos") or [], [])
    if record.get("complex_rules"):
        await extras.sync_rules(
            api, entity, product_id, record["complex_rules"], {}, fresh=True, new=True
        )
    writes = extras.MetafieldWrites()
    plan_metafields(writes, product_id, record, {"metafields": [], "variants": []})
    variant_ids = {str(v["sku"]).casefold(): int(v["id"]) for v in created.get("variants") or []}
    for variant in record.get("variants") or []:
        if variant.get("metafields"):
            variant_id = variant_ids[str(variant["sku"]).casefold()]
            writes.plan("variant", variant_id, variant["metafields"], [])
    await writes.write(api, entity)


def plan_metafields(
    writes: extras.MetafieldWrites, product_id: int, record: Record, live: Raw
) -> None:
    """The product's own metafields, and those of variants that exist on both sides."""
    writes.plan("product", product_id, record.get("metafields") or [], live.get("metafields") or [])
    live_variants = {str(v["sku"]).casefold(): v for v in live.get("variants") or []}
    for variant in record.get("variants") or []:
        current = live_variants.get(str(variant["sku"]).casefold())
        if current is not None:
            writes.plan(
                "variant",
                int(current["id"]),
                variant.get("metafields") or [],
                current.get("metafields") or [],
            )


async def find(api: StoreApi, key: str, lookup: Lookup) -> Raw | None:
    """The live product keyed ``key``: one filtered request (SKU, or name for ``name:`` keys)."""
    found = await read_by_keys(api, [key])
    return next((raw for raw in found if product_key(raw) == key), None)


# ASSUMPTION_INCLUDE_PAGE_LIMIT_10: ten products a page with options and modifiers.
KEYS_PER_REQUEST = 10
"""SKUs per complete read: the platform answers ten products a page with options included."""
LEAN_FIELDS = "sku,name"
"""All a product's key needs (the ID comes with every object)."""


def key_queries(keys: Sequence[str], most: int) -> list[dict[str, str]]:
    """The filters that find the products keyed ``keys``: ``sku:in`` packed ``most`` to a
    request (inside the URL budget), ``sku`` alone for a SKU with a comma (which ``sku:in``
    would split), ``name`` for each ``name:`` key (products have no ``name:in``). The platform
    matches a SKU whatever its letter case, so these may answer more than asked: never less."""
    # ASSUMPTION_PRODUCTS_FILTER_ID_IN, ASSUMPTION_PRODUCTS_FILTER_SKU_IN and
    # ASSUMPTION_PRODUCTS_FILTER_NAME: these filters answer the matching products.
    skus = [k for k in keys if not k.startswith(NO_SKU_PREFIX)]
    names = [k[len(NO_SKU_PREFIX) :] for k in keys if k.startswith(NO_SKU_PREFIX)]
    return in_queries("sku", skus, most) + one_each("name", names)


async def read_by_keys(api: StoreApi, keys: Sequence[str]) -> list[Raw]:
    """The products keyed ``keys`` (and any the filters also match), complete as ``fetch``
    makes them: the listing with every sub-resource, ten SKUs a request; their metafields and
    their variants' through the store-wide lists by ``resource_id:in``; complex rules of those
    with modifiers."""
    found = await listed(api, PATH, key_queries(keys, KEYS_PER_REQUEST), {"include": FIND_INCLUDE})
    return await _completed(api, found)


async def read_by_ids(api: StoreApi, ids: Sequence[int], also: Sequence[str] = ()) -> list[Raw]:
    """The products of ``ids`` complete as ``fetch_pages`` makes them (with ``also``), ten a
    request by ``id:in``."""
    # ASSUMPTION_INCLUDE_PAGE_LIMIT_10 and ASSUMPTION_PRODUCTS_FILTER_ID_IN.
    queries = [{"id:in": ",".join(map(str, group))} for group in chunked(ids, KEYS_PER_REQUEST)]
    found = await listed(api, PATH, queries, {"include": ",".join([FIND_INCLUDE, *also])})
    return await _completed(api, found)


async def _completed(api: StoreApi, found: list[Raw]) -> list[Raw]:
    """``found`` once each, with metafields (``resource_id:in``) and complex rules."""
    unique = list({int(raw["id"]): raw for raw in found}.values())
    if not unique:
        return []
    product_ids = [str(raw["id"]) for raw in unique]
    variant_ids = [str(v["id"]) for raw in unique for v in raw.get("variants") or []]
    product_fields, variant_fields = await asyncio.gather(
        _metafields(api, extras.PRODUCT_METAFIELDS, product_ids),
        _metafields(api, extras.VARIANT_METAFIELDS, variant_ids),
    )
    await complete(api, unique, owned_metafields(product_fields, variant_fields))
    return unique


async def _metafields(api: StoreApi, path: str, owners: list[str]) -> list[Raw]:
    found = await asyncio.gather(
        *(
            api.get_all(path, {"resource_id:in": ",".join(group)})
            for group in chunked(owners, IDS_PER_REQUEST)
        )
    )
    return [field for fields in found for field in fields]


def read_by_keys_requests(keys: Sequence[str], destination: Snapshot) -> int:
    """What ``read_by_keys`` takes for ``keys``, the destination's records saying which exist
    and what they hold (metafields lists of more than a page take more)."""
    records = destination.records("products")
    existing = [records[key] for key in keys if key in records]
    if not existing:
        return len(key_queries(keys, KEYS_PER_REQUEST))
    variants = sum(max(1, len(r.get("variants") or [])) for r in existing)
    product_fields = sum(len(r.get("metafields") or []) for r in existing)
    variant_fields = sum(
        len(v.get("metafields") or []) for r in existing for v in r.get("variants") or []
    )
    return (
        len(key_queries(keys, KEYS_PER_REQUEST))
        + max(id_requests(len(existing)), -(-product_fields // PAGE_SIZE))
        + max(id_requests(variants), -(-variant_fields // PAGE_SIZE))
        + sum(1 for r in existing if r.get("modifiers"))
    )


async def lean_by_keys(api: StoreApi, keys: Sequence[str]) -> list[Raw]:
    """Products keyed ``keys``, with their SKU and name only: ``sku:in`` as many to a request as
    fit."""
    return await listed(api, PATH, key_queries(keys, PAGE_SIZE), {"include_fields": LEAN_FIELDS})


def lean_key_requests(keys: Sequence[str]) -> int:
    return len(key_queries(keys, PAGE_SIZE))


async def lean_by_ids(api: StoreApi, ids: Sequence[LiveId]) -> list[Raw]:
    """Products of ``ids``, with their SKU and name only, by ``id:in``."""
    return await listed(api, PATH, ids_in(ids), {"include_fields": LEAN_FIELDS})


async def fetch_keys(api: StoreApi) -> list[Raw]:
    """Every product with its SKU and name only, at 250 a page."""
    return await api.get_all(PATH, {"include_fields": LEAN_FIELDS})


def keys_read_requests(count: int, destination: Snapshot) -> int:
    return pages(count)


def names(raw: Raw) -> Iterable[tuple[str, LiveId]]:
    """The brand, categories and related products a live product names by ID."""
    if raw.get("brand_id"):
        yield "brands", int(raw["brand_id"])
    for category in raw.get("categories") or []:
        yield "categories", int(category)
    for related in raw.get("related_products") or []:
        if int(related) != -1:
            yield "products", int(related)


TARGETED = TargetedRead(
    how="`sku:in` (`name` for products without a SKU), ten a request with every sub-resource; "
    "metafields by `resource_id:in`; complex rules per product with modifiers",
    by_keys=read_by_keys,
    requests=read_by_keys_requests,
    names=names,
    lean_by_keys=lean_by_keys,
    lean_key_requests=lean_key_requests,
    lean_by_ids=lean_by_ids,
)


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    product_id = int(live["id"])
    entity = f"product {key}"
    if base_changed(key, record, live, lookup):
        await api.put(f"{PATH}/{product_id}", base_payload(record, lookup), entity=entity)
    writes = extras.MetafieldWrites()
    await update_children(api, key, record, live, lookup, metafields=writes)
    await writes.write(api, entity)


BATCH_SIZE = 10
"""Products per ``PUT /v3/catalog/products`` (the documented maximum;
ASSUMPTION_PRODUCTS_BATCH_PUT_LIMIT_10)."""
VARIANT_BATCH_SIZE = 50
"""Variants per ``PUT /v3/catalog/variants`` (the documented maximum)."""
UPDATE_BATCH_SIZE = 50
"""Products per ``update_many``: enough that their changed variants fill the variant batches."""


def base_changed(key: str, record: Record, live: Raw, lookup: Lookup) -> bool:
    return without(normalise(key, live, lookup), CHILDREN) != without(record, CHILDREN)


async def update_many(api: StoreApi, items: list[tuple[str, Record, Raw]], lookup: Lookup) -> None:
    """Base fields ten products a request, the changed variants of all of them fifty a request;
    the other sub-resources product by product."""
    bodies = [
        {"id": int(live["id"]), **base_payload(record, lookup)}
        for key, record, live in items
        if base_changed(key, record, live, lookup)
    ]
    names = ", ".join(key for key, _, _ in items)
    for start in range(0, len(bodies), BATCH_SIZE):
        await api.put(PATH, bodies[start : start + BATCH_SIZE], entity=f"products {names}")
    variants: list[dict[str, Any]] = []
    writes = extras.MetafieldWrites()
    for key, record, live in items:
        await update_children(
            api, key, record, live, lookup, variant_updates=variants, metafields=writes
        )
    for start in range(0, len(variants), VARIANT_BATCH_SIZE):
        batch = variants[start : start + VARIANT_BATCH_SIZE]
        await api.put("/v3/catalog/variants", batch, entity=f"variants of products {names}")
    await writes.write(api, f"products {names}")


async def update_children(
    api: StoreApi,
    key: str,
    record: Record,
    live: Raw,
    lookup: Lookup,
    *,
    variant_updates: list[dict[str, Any]] | None = None,
    metafields: extras.MetafieldWrites,
) -> None:
    """Variants, options, modifiers, images, videos, custom fields and complex rules; metafield
    writes are gathered in ``metafields`` for the batch endpoints. With ``variant_updates``,
    changed variants are appended there (with their ids) for a batch write instead of written
    one by one."""
    product_id = int(live["id"])
    entity = f"product {key}"
    live_record = normalise(key, live, lookup)
    base = f"{PATH}/{product_id}"
    desired = children_by_key(record, "variants")
    existing = live_children(live, "variants")
    if stock_wanted(lookup):  # compare variants with their stock, as the records hold it
        levels = {
            sku: v.get("inventory_level")
            for sku, v in children_by_key(live_record, "variants").items()
        }
        existing = {
            sku: (variant_id, {**found, "inventory_level": levels.get(sku, 0)})
            for sku, (variant_id, found) in existing.items()
        }
    # Remove variants first: it frees their SKUs and lets options they used be deleted.
    for sku in sorted(set(existing) - set(desired)):
        await api.delete(f"{base}/variants/{existing[sku][0]}", entity=f"{entity} variant {sku}")
    options = live.get("options") or []
    if record.get("options") != live_record.get("options"):
        await sync_options(api, key, product_id, record, live)
        options = await api.get(f"{base}/options")
    for sku in sorted(set(desired) & set(existing)):
        if without(existing[sku][1], ("metafields",)) != without(desired[sku], ("metafields",)):
            path = f"{base}/variants/{existing[sku][0]}"
            payload = variant_payload(desired[sku], options)
            if variant_updates is not None:
                variant_updates.append({"id": existing[sku][0], **payload})
            else:
                await api.put(path, payload, entity=f"{entity} variant {sku}")
    for sku in sorted(set(desired) - set(existing)):
        payload = variant_payload(desired[sku], options)
        made = await api.post(f"{base}/variants", payload, entity=f"{entity} variant {sku}")
        if desired[sku].get("metafields"):
            metafields.plan("variant", int(made["id"]), desired[sku]["metafields"], [])
    plan_metafields(metafields, product_id, record, live)
    await sync_simple_children(api, entity, base, "images", record, live)
    await sync_simple_children(api, entity, base, "custom_fields", record, live)
    modifiers_changed = record.get("modifiers") != live_record.get("modifiers")
    if modifiers_changed:
        await extras.sync_modifiers(
            api, entity, product_id, record.get("modifiers") or [], live.get("modifiers") or []
        )
    if record.get("videos") != live_record.get("videos"):
        await extras.sync_videos(
            api, entity, product_id, record.get("videos") or [], live.get("videos") or []
        )
    variants_changed = [without(v, ("metafields",)) for v in record.get("variants") or []] != [
        without(v, ("metafields",)) for v in live_record.get("variants") or []
    ]
    if record.get("complex_rules") != live_record.get("complex_rules"):
        await extras.sync_rules(
            api,
            entity,
            product_id,
            record.get("complex_rules") or [],
            live,
            fresh=modifiers_changed or variants_changed,
        )


async def sync_simple_children(
    api: StoreApi, entity: str, base: str, child: str, record: Record, live: Raw
) -> None:
    """Images and custom fields: one request per created, changed or removed item."""
    path = f"{base}/{child.replace('_', '-')}"
    label = child.rstrip("s").replace("_", " ")

    async def create_one(key: str, item: Record) -> None:
        await api.post(path, item, entity=f"{entity} {label} {key}")

    async def update_one(item_id: int, key: str, item: Record) -> None:
        await api.put(f"{path}/{item_id}", item, entity=f"{entity} {label} {key}")

    async def delete_one(item_id: int, key: str) -> None:
        await api.delete(f"{path}/{item_id}", entity=f"{entity} {label} {key}")

    await sync_children(
        children_by_key(record, child),
        live_children(live, child),
        create=create_one,
        update=update_one,
        delete=delete_one,
    )


async def sync_options(api: StoreApi, key: str, product_id: int, record: Record, live: Raw) -> None:
    """Make the product's options and their values match the record, value by value."""
    base = f"{PATH}/{product_id}/options"
    entity = f"product {key}"
    live_options = {o["display_name"]: o for o in live.get("options") or []}

    async def create_option(name: str, option: Record) -> None:
        await api.post(base, option, entity=f"{entity} option {name}")

    async def update_option(option_id: int, name: str, option: Record) -> None:
        fields = without(option, ("option_values",))
        current = normalise_option(live_options[name])
        if without(current, ("option_values",)) != fields:
            await api.put(f"{base}/{option_id}", fields, entity=f"{entity} option {name}")
        values = f"{base}/{option_id}/values"
        live_values = {
            v["label"]: (int(v["id"]), without(v, ("id",)))
            for v in live_options[name].get("option_values") or []
        }

        async def create_value(label: str, value: Record) -> None:
            await api.post(values, value, entity=f"{entity} option {name} value {label}")

        async def update_value(value_id: int, label: str, value: Record) -> None:
            await api.put(
                f"{values}/{value_id}", value, entity=f"{entity} option {name} value {label}"
            )

        async def delete_value(value_id: int, label: str) -> None:
            await api.delete(f"{values}/{value_id}", entity=f"{entity} option {name} value {label}")

        await sync_children(
            {v["label"]: v for v in option.get("option_values") or []},
            live_values,
            create=create_value,
            update=update_value,
            delete=delete_value,
        )

    async def delete_option(option_id: int, name: str) -> None:
        await api.delete(f"{base}/{option_id}", entity=f"{entity} option {name}")

    await sync_children(
        children_by_key(record, "options"),
        live_children(live, "options"),
        create=create_option,
        update=update_option,
        delete=delete_option,
    )


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await api.delete(PATH, {"id:in": int(live["id"])}, entity=f"product {key}")


def warnings(key: str, after: Record, before: Record | None) -> list[str]:
    unmatched = ([after["tax_class"]] if after.get("tax_class") else []) + list(
        after.get("gift_wrapping_options") or []
    )
    if not unmatched:
        return []
    return [
        f"product {key} names tax class / gift-wrapping option ids {', '.join(unmatched)}: "
        "stagesync does not match these by name yet, so the destination must have the same ids."
    ]


def estimate_requests(action: Action, record: Record | None) -> int:
    """A create is its ``POST``, its share of the read after a batch of creates (push batches
    ``CREATE_BATCH_SIZE``, and the plan counts one shared request per batch) and its extras.
    Option fix-ups are not counted: variants are sent in the order that makes the platform number
    option values as the record does, so only options whose display settings differ from what the
    platform derived take a write."""
    if action is Action.DELETE or record is None:
        return 1
    create = 2 + extras.create_requests(record)
    if action is Action.CREATE:
        return create
    if action is Action.REPLACE:
        return 1 + create
    return 1


def batch_extra(action: Action, pairs: Sequence[tuple[Record | None, Record | None]]) -> int:
    """An ``update_many`` batch writes the base fields of the products whose base changed,
    ``BATCH_SIZE`` a request, and their changed variants, ``VARIANT_BATCH_SIZE`` a request: what
    that takes beyond the one write the plan counts for the batch."""
    if action is not Action.UPDATE:
        return 0
    bases = variants = 0
    for before, after in pairs:
        if before is None or after is None:
            continue
        bases += without(before, CHILDREN) != without(after, CHILDREN)
        live = {str(v["sku"]): without(v, ("metafields",)) for v in before.get("variants") or []}
        variants += sum(
            1
            for v in after.get("variants") or []
            if str(v["sku"]) in live and live[str(v["sku"])] != without(v, ("metafields",))
        )
    return -(-bases // BATCH_SIZE) + -(-variants // VARIANT_BATCH_SIZE) - 1


def read_requests(count: int, destination: Snapshot) -> int:
    """What ``fetch`` takes for ``count`` products like the destination's: the list at 250 a
    page, options and modifiers at ten a page, one complex-rule list per product with modifiers,
    and the two store-wide metafield lists."""
    records = list(destination.records("products").values())
    with_rules = sum(1 for r in records if r.get("modifiers"))
    product_fields = sum(len(r.get("metafields") or []) for r in records)
    variant_fields = sum(
        len(v.get("metafields") or []) for r in records for v in r.get("variants") or []
    )
    return (
        pages(count) + pages(count, 10) + with_rules + pages(product_fields) + pages(variant_fields)
    )


KIND = EntityKind(
    name="products",
    singular="product",
    display_name="Products",
    fetch=fetch,
    fetch_pages=fetch_pages,
    identify=identify,
    live_id=lambda raw: int(raw["id"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    estimate_requests=estimate_requests,
    find=find,
    create_many=create_many,
    update_many=update_many,
    batch_size=CREATE_BATCH_SIZE,
    update_batch_size=UPDATE_BATCH_SIZE,
    batch_extra=batch_extra,
    read_requests=read_requests,
    targeted=TARGETED,
    fetch_keys=fetch_keys,
    keys_read_requests=keys_read_requests,
    warnings=warnings,
    links=links,
    link_fields=("related_products",),
    link=link,
)
