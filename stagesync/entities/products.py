"""Products with their variants, options, images and custom fields, keyed by SKU.

A product with no SKU is keyed ``name:<name>`` (product names are unique too) and the plan warns.
Sub-resources are nested in the product's record and keyed inside it: variants by SKU, options by
display name and their values by label, images by ``image_url``, custom fields by name.

Pull asks for the sub-resources inline (``include=``), which the platform answers at most ten
products per page because options are included. Push creates a product and all of its variants,
images and custom fields in one request, then fixes up option details the platform cannot take
inline; an update writes only the parts that differ.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from stagesync.entities.base import EntityKind, Lookup, Raw, pages
from stagesync.entities.common import sync_children, unique_by_key, without
from stagesync.model import Action, EntityKey, Record
from stagesync.ports import StoreApi

PATH = "/v3/catalog/products"
INCLUDE = "variants,images,custom_fields,options"
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
    "inventory_level",  # stock moves only when asked to (a later option), never by default
)
REFERENCES = ("brand_id", "categories", "related_products")
CHILDREN = ("variants", "options", "images", "custom_fields")
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
    return await api.get_all(PATH, {"include": INCLUDE})


def fetch_pages(api: StoreApi) -> AsyncIterator[list[Raw]]:
    """``fetch`` one page at a time (pull and push stream large catalogues)."""
    return api.pages(PATH, {"include": INCLUDE})


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key("products", raws, product_key)


# -- normalise: API object -> ID-free record -------------------------------------------------


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = without(raw, READ_ONLY + REFERENCES + CHILDREN)
    brand_id = int(raw.get("brand_id") or 0)
    record["brand"] = lookup.key_of("brands", brand_id) if brand_id else None
    record["categories"] = sorted(lookup.key_of("categories", int(c)) for c in raw["categories"])
    record["related_products"] = [
        -1 if int(p) == -1 else lookup.key_of("products", int(p))
        for p in raw.get("related_products") or []
    ]
    record["meta_keywords"] = sorted(record.get("meta_keywords") or [])
    record["variants"] = normalise_variants(raw.get("variants") or [])
    record["options"] = normalise_options(raw.get("options") or [])
    record["images"] = normalise_images(raw.get("images") or [])
    record["custom_fields"] = normalise_custom_fields(raw.get("custom_fields") or [])
    return record


def normalise_variant(raw: Raw) -> Record:
    record = without(raw, VARIANT_READ_ONLY)
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
        key=lambda v: (v.get("sort_order", 0), v["label"]),
    )
    return record


def normalise_options(raws: Iterable[Raw]) -> list[Record]:
    options = [normalise_option(raw) for raw in raws]
    return sorted(options, key=lambda o: (o.get("sort_order", 0), o["display_name"]))


def normalise_images(raws: Iterable[Raw]) -> list[Record]:
    images = [normalise_image(raw) for raw in raws]
    return sorted(images, key=lambda i: (i.get("sort_order", 0), i.get("image_url", "")))


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
    body = without(record, ("brand", "categories", "related_products") + CHILDREN)
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
    body = without(variant, ("option_values",))
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


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    body = base_payload(record, lookup)
    body["variants"] = [variant_payload(v) for v in inline_order(record)]
    body["images"] = record.get("images") or []
    body["custom_fields"] = record.get("custom_fields") or []
    created = await api.post(PATH, body, entity=f"product {key}")
    product_id = int(created["id"])
    if record.get("options"):
        live = await api.get(f"{PATH}/{product_id}/options")
        await sync_options(api, key, product_id, record, {"options": live})
    return product_id


async def find(api: StoreApi, key: str, lookup: Lookup) -> Raw | None:
    """The live product keyed ``key``: one filtered request (SKU, or name for ``name:`` keys)."""
    if key.startswith(NO_SKU_PREFIX):
        query = {"name": key[len(NO_SKU_PREFIX) :], "include": INCLUDE}
    else:
        query = {"sku": key, "include": INCLUDE}
    found = await api.get_all(PATH, query)
    return next((raw for raw in found if product_key(raw) == key), None)


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    product_id = int(live["id"])
    entity = f"product {key}"
    if base_changed(key, record, live, lookup):
        await api.put(f"{PATH}/{product_id}", base_payload(record, lookup), entity=entity)
    await update_children(api, key, record, live, lookup)


BATCH_SIZE = 10
"""Products per ``PUT /v3/catalog/products`` (the documented maximum)."""
VARIANT_BATCH_SIZE = 50
"""Variants per ``PUT /v3/catalog/variants`` (the documented maximum)."""


def base_changed(key: str, record: Record, live: Raw, lookup: Lookup) -> bool:
    return without(normalise(key, live, lookup), CHILDREN) != without(record, CHILDREN)


async def update_many(api: StoreApi, items: list[tuple[str, Record, Raw]], lookup: Lookup) -> None:
    """Base fields of up to ten products in one request, changed variants fifty at a time; the
    other sub-resources product by product."""
    bodies = [
        {"id": int(live["id"]), **base_payload(record, lookup)}
        for key, record, live in items
        if base_changed(key, record, live, lookup)
    ]
    names = ", ".join(key for key, _, _ in items)
    for start in range(0, len(bodies), BATCH_SIZE):
        await api.put(PATH, bodies[start : start + BATCH_SIZE], entity=f"products {names}")
    variants: list[dict[str, Any]] = []
    for key, record, live in items:
        await update_children(api, key, record, live, lookup, variant_updates=variants)
    for start in range(0, len(variants), VARIANT_BATCH_SIZE):
        batch = variants[start : start + VARIANT_BATCH_SIZE]
        await api.put("/v3/catalog/variants", batch, entity=f"variants of products {names}")


async def update_children(
    api: StoreApi,
    key: str,
    record: Record,
    live: Raw,
    lookup: Lookup,
    *,
    variant_updates: list[dict[str, Any]] | None = None,
) -> None:
    """Variants, options, images and custom fields. With ``variant_updates``, changed variants
    are appended there (with their ids) for a batch write instead of written one by one."""
    product_id = int(live["id"])
    entity = f"product {key}"
    live_record = normalise(key, live, lookup)
    base = f"{PATH}/{product_id}"
    desired = children_by_key(record, "variants")
    existing = live_children(live, "variants")
    # Remove variants first: it frees their SKUs and lets options they used be deleted.
    for sku in sorted(set(existing) - set(desired)):
        await api.delete(f"{base}/variants/{existing[sku][0]}", entity=f"{entity} variant {sku}")
    options = live.get("options") or []
    if record.get("options") != live_record.get("options"):
        await sync_options(api, key, product_id, record, live)
        options = await api.get(f"{base}/options")
    for sku in sorted(set(desired) & set(existing)):
        if existing[sku][1] != desired[sku]:
            path = f"{base}/variants/{existing[sku][0]}"
            payload = variant_payload(desired[sku], options)
            if variant_updates is not None:
                variant_updates.append({"id": existing[sku][0], **payload})
            else:
                await api.put(path, payload, entity=f"{entity} variant {sku}")
    for sku in sorted(set(desired) - set(existing)):
        payload = variant_payload(desired[sku], options)
        await api.post(f"{base}/variants", payload, entity=f"{entity} variant {sku}")
    await sync_simple_children(api, entity, base, "images", record, live)
    await sync_simple_children(api, entity, base, "custom_fields", record, live)


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


def estimate_requests(action: Action, record: Record | None) -> int:
    if action is Action.DELETE or record is None:
        return 1
    options = len(record.get("options") or [])
    create = 1 + (1 + options if options else 0)
    if action is Action.CREATE:
        return create
    if action is Action.REPLACE:
        return 1 + create
    return 1


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
    update_many=update_many,
    batch_size=BATCH_SIZE,
    # Options are included, so the platform answers at most ten products a page.
    read_requests=lambda count, _: pages(count, 10),
    links=links,
    link_fields=("related_products",),
    link=link,
)
