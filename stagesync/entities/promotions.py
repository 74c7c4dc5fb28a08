"""Promotions with their coupon codes, keyed by name (``/v3/promotions``).

Every ID a promotion holds becomes the referenced entity's natural key, so the record means the
same thing on every store:

- item matchers (in conditions and actions, inside any ``and``/``or``/``not``): ``products`` by
  SKU, ``variants`` as ``{"product": <product SKU>, "sku": <variant SKU>}``, ``categories`` by
  path, ``brands`` by name; a gift item's ``product_id``/``variant_id`` become ``product`` and
  ``variant`` the same way;
- ``customer.group_ids``/``excluded_group_ids`` become ``groups``/``excluded_groups`` (customer
  group names; ``0``, guests and customers in no group, is the same on every store and stays 0);
- a shipping action's ``zone_ids`` become ``zones`` (zone names, or ``"*"`` for every zone);
- ``channels`` become channel keys (``default`` for channel 1, others by name; ``[]`` = all).

Coupon codes are nested under ``codes``, sorted by code, with their limits; usage counters
(``current_uses`` of the promotion and of each code), ``created_from`` and ``created`` are read-only
and dropped, so they are never compared. Rule order is kept (the platform runs rules in order).

A promotion moves as a whole: the platform does not let API-created promotions be edited in the
control panel and stagesync does not patch them piecemeal, so any change is planned as a
``replace``: delete the destination's promotion (its codes first), then create it again with its
codes. If a code cannot be created, the half-made promotion is deleted again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from stagesync.entities import channels
from stagesync.entities.base import EntityKind, LiveId, Lookup, Raw, TargetedRead, pages
from stagesync.entities.common import listed, one_each, unique_by_key, without
from stagesync.errors import StageSyncError
from stagesync.model import Action, EntityKey, Record, Snapshot
from stagesync.ports import StoreApi

PATH = "/v3/promotions"
CODES_DELETE_MAX = 250
"""Codes per ``DELETE /v3/promotions/{id}/codes?id:in=`` (the documented maximum)."""
VARIANT_IDS_PER_REQUEST = 50
VARIANTS = "promotion_variants"
"""Lookup slot: variant SKU -> variant id on the push's destination (variants are not a kind)."""
READ_ONLY = ("id", "current_uses", "created_from", "multiple_codes", "priority")
CODE_READ_ONLY = ("id", "current_uses", "created")
PRIVATE = ("_codes", "_variants")
GUESTS = 0
"""Customer group 0: guests and customers in no group, the same on every store."""

# Item matcher fields: record name, referenced kind.
MATCHER_KINDS = {"products": "products", "categories": "categories", "brands": "brands"}


# -- fetch ------------------------------------------------------------------------------------


def _variant_ids(value: Any) -> Iterator[int]:
    """Every variant id a raw promotion's rules mention (matchers and gift items)."""
    if isinstance(value, dict):
        for name, inner in value.items():
            if name == "variants" and isinstance(inner, list):
                yield from (int(v) for v in inner)
            elif name == "variant_id" and inner is not None:
                yield int(inner)
            else:
                yield from _variant_ids(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _variant_ids(inner)


async def _variants(api: StoreApi, ids: set[int]) -> dict[int, Raw]:
    """Variant id -> ``{sku, product_id}`` for the variants promotions reference."""
    wanted = sorted(ids)
    chunks = [
        wanted[i : i + VARIANT_IDS_PER_REQUEST]
        for i in range(0, len(wanted), VARIANT_IDS_PER_REQUEST)
    ]
    found = await asyncio.gather(
        *(
            api.get_all(
                "/v3/catalog/variants",
                {"id:in": ",".join(map(str, chunk)), "include_fields": "sku,product_id"},
            )
            for chunk in chunks
        )
    )
    return {int(v["id"]): v for rows in found for v in rows}


async def annotate(api: StoreApi, raws: list[Raw]) -> list[Raw]:
    """``raws`` with their codes, the channel keys and the variants their rules reference."""
    variant_ids = {i for raw in raws for i in _variant_ids(raw.get("rules") or [])}

    async def codes(raw: Raw) -> list[Raw]:
        if raw.get("redemption_type") != "COUPON":
            return []
        return await api.get_all(f"{PATH}/{raw['id']}/codes")

    async def variants() -> dict[int, Raw]:
        return await _variants(api, variant_ids) if variant_ids else {}

    all_codes, variant_rows = await asyncio.gather(
        asyncio.gather(*(codes(raw) for raw in raws)), variants()
    )
    for raw, found in zip(raws, all_codes, strict=True):
        raw["_codes"] = found
        raw["_variants"] = {
            str(i): {"sku": str(v["sku"]), "product_id": int(v["product_id"])}
            for i, v in variant_rows.items()
            if i in set(_variant_ids(raw.get("rules") or []))
        }
    return raws


async def fetch(api: StoreApi) -> list[Raw]:
    return await annotate(api, await api.get_all(PATH))


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key("promotions", raws, lambda raw: str(raw["name"]))


async def find(api: StoreApi, key: str, lookup: Lookup) -> Raw | None:
    found = [r for r in await api.get_all(PATH, {"name": key}) if r.get("name") == key]
    return (await annotate(api, found))[0] if found else None


async def by_names(api: StoreApi, keys: Sequence[str]) -> list[Raw]:
    """The promotions named ``keys`` (and any the filter also matches), complete as ``fetch``
    makes them: one ``name`` request each (the list documents no ``name:in``), then their codes
    and the variants their rules name, as ``annotate`` reads them for every promotion."""
    # ASSUMPTION_PROMOTIONS_FILTER_NAME: the filter answers the promotion of that name.
    found = await listed(api, PATH, one_each("name", keys))
    return await annotate(api, list({int(raw["id"]): raw for raw in found}.values()))


def _annotate_requests(records: Iterable[Record]) -> int:
    """Requests ``annotate`` takes for promotions like ``records``: a page of codes per coupon
    promotion (250 a page), and the variants their rules name, 50 a request."""
    codes = variants = 0
    skus: set[str] = set()
    for record in records:
        if record.get("redemption_type") == "COUPON":
            codes += pages(len(record.get("codes") or []))
        skus |= {str(ref["sku"]) for ref in _variant_refs(record.get("rules") or [])}
    variants = -(-len(skus) // VARIANT_IDS_PER_REQUEST)
    return codes + variants


def by_names_requests(keys: Sequence[str], destination: Snapshot) -> int:
    records = destination.records("promotions")
    return len(keys) + _annotate_requests(records[key] for key in keys if key in records)


def read_requests(count: int, destination: Snapshot) -> int:
    """The promotions' pages, and what ``annotate`` reads for them."""
    return pages(count) + _annotate_requests(destination.records("promotions").values())


def names(raw: Raw) -> Iterable[tuple[str, LiveId]]:
    """Every entity an annotated live promotion names by ID: its matchers' products,
    categories and brands, the products of its variants (``_variants``), its gift product, its
    shipping zones, customer groups and channels."""
    found: list[tuple[str, LiveId]] = []
    variants: dict[str, Raw] = raw.get("_variants") or {}

    def collect(name: str, value: Any) -> Any:
        if value is None:
            return value
        if name in MATCHER_KINDS:
            found.extend((MATCHER_KINDS[name], int(v)) for v in value)
        elif name in ("variants", "variant_id"):
            for variant in value if isinstance(value, list) else [value]:
                if str(variant) in variants:
                    found.append(("products", int(variants[str(variant)]["product_id"])))
        elif name == "product_id":
            found.append(("products", int(value)))
        elif name == "zone_ids" and value != "*":
            found.extend(("shipping_zones", int(v)) for v in value)
        return value

    _walk(raw.get("rules") or [], collect, TO_RECORD)
    customer = raw.get("customer")
    for name in ("group_ids", "excluded_group_ids"):
        ids = customer.get(name) or [] if isinstance(customer, dict) else []
        found.extend(("customer_groups", int(i)) for i in ids if int(i) != GUESTS)
    found.extend((channels.NAME, int(c["id"])) for c in raw.get("channels") or [])
    return found


TARGETED = TargetedRead(
    how="`name`, one request a promotion (no `name:in`), then as pull: the codes of each coupon "
    "promotion, the variants their rules name by `id:in`",
    by_keys=by_names,
    requests=by_names_requests,
    names=names,
)


# -- rules: ids <-> natural keys ----------------------------------------------------------------

Convert = Callable[[str, Any], Any]
"""(field, value) -> the converted value, for the id-bearing fields of a rule."""


def _walk(value: Any, convert: Convert, renames: dict[str, str]) -> Any:
    """``value`` (rules, conditions, actions, matchers) with every id-bearing field converted
    and renamed (``renames``: old field name -> new)."""
    if isinstance(value, list):
        return [_walk(v, convert, renames) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for name, inner in value.items():
        if name in renames:
            out[renames[name]] = convert(name, inner)
        elif name in ("products", "categories", "brands", "variants") and isinstance(inner, list):
            out[name] = convert(name, inner)
        else:
            out[name] = _walk(inner, convert, renames)
    return out


TO_RECORD = {"product_id": "product", "variant_id": "variant", "zone_ids": "zones"}
TO_API = {new: old for old, new in TO_RECORD.items()}


def _sort_keys(values: Iterable[Any]) -> list[Any]:
    return sorted(values, key=lambda v: (isinstance(v, str), str(v).casefold(), str(v)))


def normalise_rules(raw: Raw, lookup: Lookup) -> list[Any]:
    variants: dict[str, Raw] = raw.get("_variants") or {}
    owner = f"promotions {raw.get('name')}"

    def variant(variant_id: Any) -> Record:
        found = variants.get(str(variant_id))
        if found is None:
            raise StageSyncError(
                f'promotion "{raw["name"]}" references variant id {variant_id}, which the store '
                "does not list. Pull again; if it persists, fix the promotion on the store."
            )
        return {"product": lookup.key_of("products", found["product_id"]), "sku": found["sku"]}

    def convert(name: str, value: Any) -> Any:
        if value is None:  # stores answer null for a list or reference they leave unset
            return None
        if name in MATCHER_KINDS:  # ASSUMPTION_DELETE_CLEARS_PROMOTION_REFERENCES, or noted
            found = (
                lookup.key_or_gone(MATCHER_KINDS[name], int(v), owner, "left out of its matcher")
                for v in value
            )
            return _sort_keys(k for k in found if k is not None)
        if name == "variants":
            return sorted((variant(v) for v in value), key=lambda v: str(v["sku"]))
        if name == "product_id":
            return lookup.key_of("products", int(value))
        if name == "variant_id":
            return variant(value)
        if name == "zone_ids":
            if value == "*":
                return "*"
            return _sort_keys(lookup.key_of("shipping_zones", int(v)) for v in value)
        return value

    return list(_walk(raw.get("rules") or [], convert, TO_RECORD))


def normalise_customer(customer: Any, lookup: Lookup) -> Any:
    if not isinstance(customer, dict):
        return customer

    def names(ids: Iterable[Any]) -> list[Any]:
        return _sort_keys(
            GUESTS if int(i) == GUESTS else lookup.key_of("customer_groups", int(i)) for i in ids
        )

    out = without(customer, ("group_ids", "excluded_group_ids"))
    out["groups"] = names(customer.get("group_ids") or [])
    out["excluded_groups"] = names(customer.get("excluded_group_ids") or [])
    return out


def normalise_code(raw: Raw) -> Record:
    return without(raw, CODE_READ_ONLY)


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = without(raw, READ_ONLY + PRIVATE)
    record["rules"] = normalise_rules(raw, lookup)
    if "customer" in raw:
        record["customer"] = normalise_customer(raw["customer"], lookup)
    record["channels"] = channels.keys_of(lookup, (c["id"] for c in raw.get("channels") or []))
    if raw.get("redemption_type") == "COUPON":
        codes = [normalise_code(c) for c in raw.get("_codes") or []]
        record["codes"] = sorted(codes, key=lambda c: str(c["code"]).casefold())
    return record


def _rule_references(value: Any) -> Iterator[EntityKey]:
    if isinstance(value, list):
        for inner in value:
            yield from _rule_references(inner)
        return
    if not isinstance(value, dict):
        return
    for name, inner in value.items():
        if name in MATCHER_KINDS and isinstance(inner, list):
            yield from (EntityKey(MATCHER_KINDS[name], str(v)) for v in inner)
        elif name == "variants" and isinstance(inner, list):
            yield from (EntityKey("products", str(v["product"])) for v in inner)
        elif name == "product" and isinstance(inner, str):
            yield EntityKey("products", inner)
        elif name == "variant" and isinstance(inner, dict):
            yield EntityKey("products", str(inner["product"]))
        elif name == "zones" and isinstance(inner, list):
            yield from (EntityKey("shipping_zones", str(z)) for z in inner)
        else:
            yield from _rule_references(inner)


def references(key: str, record: Record) -> Iterable[EntityKey]:
    found = set(_rule_references(record.get("rules") or []))
    customer = record.get("customer") or {}
    for name in ("groups", "excluded_groups"):
        for group in customer.get(name) or []:
            if group != GUESTS:
                found.add(EntityKey("customer_groups", str(group)))
    return sorted(found)


# -- push -----------------------------------------------------------------------------------------


async def _variant_id(api: StoreApi, lookup: Lookup, ref: Record) -> int:
    """The destination's id of variant ``ref`` (``{product, sku}``), listing its product's
    variants once."""
    sku = str(ref["sku"])
    if not lookup.has(VARIANTS, sku.casefold()):
        product_id = lookup.id_of("products", str(ref["product"]))
        for row in await api.get_all(f"/v3/catalog/products/{product_id}/variants"):
            lookup.add(VARIANTS, str(row["sku"]).casefold(), int(row["id"]))
    if not lookup.has(VARIANTS, sku.casefold()):
        raise StageSyncError(
            f"variant {sku} of product {ref['product']} does not exist on {lookup.store}. "
            "Include products in the plan (drop --no-deps) or create the variant first."
        )
    return lookup.id_of(VARIANTS, sku.casefold())


def _variant_refs(rules: Any) -> list[Record]:
    """The variants (``{product, sku}``) a record's rules name, in matchers and gift items."""
    refs: list[Record] = []

    def collect(name: str, value: Any) -> Any:
        if name == "variants" and value is not None:
            refs.extend(value)
        elif name == "variant" and value is not None:
            refs.append(value)
        return value

    _walk(rules, collect, TO_API)
    return refs


async def api_rules(api: StoreApi, rules: Any, lookup: Lookup) -> Any:
    """The record's rules with every natural key turned into the destination's id."""
    variant_refs = _variant_refs(rules)
    variant_ids = {str(v["sku"]): await _variant_id(api, lookup, v) for v in variant_refs}

    def convert(name: str, value: Any) -> Any:
        if value is None:  # stores answer null for a list or reference they leave unset
            return None
        if name in MATCHER_KINDS:
            return [lookup.id_of(MATCHER_KINDS[name], str(v)) for v in value]
        if name == "variants":
            return [variant_ids[str(v["sku"])] for v in value]
        if name == "product":
            return lookup.id_of("products", str(value))
        if name == "variant":
            return variant_ids[str(value["sku"])]
        if name == "zones":
            if value == "*":
                return "*"
            return [lookup.id_of("shipping_zones", str(z)) for z in value]
        return value

    return _walk(rules, convert, TO_API)


def api_customer(customer: Any, lookup: Lookup) -> Any:
    if not isinstance(customer, dict):
        return customer

    def ids(names: Iterable[Any]) -> list[int]:
        return [
            GUESTS if name == GUESTS else lookup.id_of("customer_groups", str(name))
            for name in names
        ]

    out = without(customer, ("groups", "excluded_groups"))
    out["group_ids"] = ids(customer.get("groups") or [])
    out["excluded_group_ids"] = ids(customer.get("excluded_groups") or [])
    return out


async def payload(api: StoreApi, record: Record, lookup: Lookup) -> dict[str, Any]:
    body = without(record, ("codes", "channels"))
    body["rules"] = await api_rules(api, record.get("rules") or [], lookup)
    if "customer" in record:
        body["customer"] = api_customer(record["customer"], lookup)
    wanted = record.get("channels") or []
    body["channels"] = [{"id": i} for i in await channels.ids_of(api, lookup, wanted)]
    return body


def code_body(code: Record) -> dict[str, Any]:
    return dict(code)


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> int:
    body = await payload(api, record, lookup)
    created = await api.post(PATH, body, entity=f"promotion {key}")
    promotion_id = int(created["id"])
    try:
        for code in record.get("codes") or []:
            await api.post(
                f"{PATH}/{promotion_id}/codes",
                code_body(code),
                entity=f"promotion {key} code {code.get('code')}",
            )
    except BaseException:
        # Never leave half a promotion behind: remove it (and the codes it got) again.
        await _delete(api, key, promotion_id, None)
        raise
    return promotion_id


async def _delete(api: StoreApi, key: str, promotion_id: int, codes: list[Raw] | None) -> None:
    if codes is None:
        codes = await api.get_all(f"{PATH}/{promotion_id}/codes")
    ids = [int(c["id"]) for c in codes]
    for start in range(0, len(ids), CODES_DELETE_MAX):
        chunk = ids[start : start + CODES_DELETE_MAX]
        await api.delete(
            f"{PATH}/{promotion_id}/codes",
            {"id:in": ",".join(map(str, chunk))},
            entity=f"promotion {key} codes",
        )
    await api.delete(f"{PATH}/{promotion_id}", entity=f"promotion {key}")


# ASSUMPTION_REPLACED_PROMOTION_KEEPS_NAME_AND_CODES: a replace deletes the promotion and its
# codes, then creates it again under the same name with the same codes.
async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    codes = live.get("_codes") if live.get("redemption_type") == "COUPON" else []
    await _delete(api, key, int(live["id"]), codes)


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    """Only reached when push finds a promotion it was creating already there (an earlier
    attempt's answer was lost): finish it by writing the whole body and the missing codes."""
    promotion_id = int(live["id"])
    body = without(await payload(api, record, lookup), ("redemption_type",))
    await api.put(f"{PATH}/{promotion_id}", body, entity=f"promotion {key}")
    have = {str(c["code"]).casefold(): c for c in live.get("_codes") or []}
    want = {str(c["code"]).casefold(): c for c in record.get("codes") or []}
    extra = [int(have[code]["id"]) for code in sorted(set(have) - set(want))]
    for start in range(0, len(extra), CODES_DELETE_MAX):
        chunk = extra[start : start + CODES_DELETE_MAX]
        await api.delete(
            f"{PATH}/{promotion_id}/codes",
            {"id:in": ",".join(map(str, chunk))},
            entity=f"promotion {key} codes",
        )
    for code in sorted(set(want) - set(have)):
        await api.post(
            f"{PATH}/{promotion_id}/codes",
            code_body(want[code]),
            entity=f"promotion {key} code {want[code].get('code')}",
        )


def must_replace(key: str, before: Record, after: Record) -> str | None:
    if before == after:
        return None
    return (
        "promotions are replaced, not edited: the platform does not let promotions created "
        "through the API be edited in the control panel, and stagesync never applies part of "
        "a promotion, so the destination's promotion is deleted and created again with its "
        "coupon codes (its usage counts start again at 0)"
    )


def warnings(key: str, after: Record, before: Record | None) -> list[str]:
    out: list[str] = []
    customer = after.get("customer") or {}
    if customer.get("segments"):
        out.append(
            f"promotion {key} is limited to customer segments, whose ids belong to each store: "
            "stagesync copies them unchanged. Check the segments exist on the destination with "
            "the same ids, or edit the promotion there."
        )
    if before is not None and before != after:
        out.append(
            f"promotion {key} is replaced (deleted and created again): shoppers' usage counts "
            "of it and of its coupon codes restart at 0 on the destination."
        )
    return out


def estimate_requests(action: Action, record: Record | None) -> int:
    """A create is its ``POST``, one per code, and one variant listing per product whose
    variants its rules name (``_variant_id``); a delete is its ``DELETE`` and its codes'."""
    codes = len((record or {}).get("codes") or [])
    products = {str(ref["product"]) for ref in _variant_refs((record or {}).get("rules") or [])}
    create_cost = 1 + codes + len(products)
    delete_cost = 1 + -(-codes // CODES_DELETE_MAX)
    if action is Action.CREATE:
        return create_cost
    if action is Action.DELETE:
        return delete_cost
    return delete_cost + create_cost


KIND = EntityKind(
    name="promotions",
    singular="promotion",
    display_name="Promotions",
    fetch=fetch,
    identify=identify,
    live_id=lambda raw: int(raw["id"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    estimate_requests=estimate_requests,
    must_replace=must_replace,
    warnings=warnings,
    find=find,
    read_requests=read_requests,
    targeted=TARGETED,
)
