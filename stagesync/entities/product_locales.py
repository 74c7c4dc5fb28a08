"""Product locales: translations of a product's name, description and SEO fields per channel and
locale, keyed (product key, channel key, locale) joined as a path: ``SKU-1/uk/fr``.

The platform serves these only through its Admin GraphQL API (translations, with
``resourceType: PRODUCTS``, one channel and locale at a time); this module speaks it through
``StoreApi.graphql``. Pull lists each channel's locales, then each (channel, locale)'s product
translations, ``PAGE`` at a time. A record maps each translated field to its text. Push writes a
record with one ``updateTranslations`` and removes fields it no longer has with
``deleteTranslations``. The locale must be enabled on the destination's channel.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from stagesync.entities import channels
from stagesync.entities.base import EntityKind, Lookup, Raw
from stagesync.entities.common import unique_by_key
from stagesync.errors import StageSyncError
from stagesync.keys import join_path, split_path
from stagesync.model import Action, EntityKey, Record, Snapshot
from stagesync.ports import StoreApi

NAME = "product_locales"
PAGE = 50
"""Translations per GraphQL page (the most a connection page returns)."""
FIELDS = ("name", "description", "page_title", "meta_description", "search_keywords")
"""The product fields translated: name, description and the SEO fields."""

LOCALES_QUERY = """
query Locales($input: LocalesInput!) {
  store { locales(input: $input) { edges { node { code status isDefault } } } }
}"""
TRANSLATIONS_QUERY = """
query ProductTranslations($filters: TranslationsFilterInput!, $first: Int!, $after: String) {
  store {
    translations(filters: $filters, first: $first, after: $after) {
      edges { cursor node { resourceId fields { fieldName original translation } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""
UPDATE_MUTATION = """
mutation UpdateTranslations($input: UpdateTranslationsInput!) {
  translation { updateTranslations(input: $input) { errors { message } } }
}"""
DELETE_MUTATION = """
mutation DeleteTranslations($input: DeleteTranslationsInput!) {
  translation { deleteTranslations(input: $input) { errors { message } } }
}"""


def channel_gid(channel_id: int) -> str:
    return f"bc/store/channel/{channel_id}"


def product_gid(product_id: int) -> str:
    return f"bc/store/product/{product_id}"


def parse(key: str) -> tuple[str, str, str]:
    parts = split_path(key)
    if len(parts) != 3:
        raise StageSyncError(f'"{key}" is not a product locale key (PRODUCT/CHANNEL/LOCALE).')
    return parts[0], parts[1], parts[2]


async def _locales(api: StoreApi, channel_id: int) -> list[str]:
    data = await api.graphql(LOCALES_QUERY, {"input": {"channelId": channel_gid(channel_id)}})
    edges = data["store"]["locales"]["edges"]
    return sorted(str(e["node"]["code"]) for e in edges)


async def _translations(api: StoreApi, channel_id: int, locale: str) -> list[Raw]:
    filters = {
        "resourceType": "PRODUCTS",
        "channelId": channel_gid(channel_id),
        "localeId": locale,
    }
    out: list[Raw] = []
    after: str | None = None
    while True:
        variables: dict[str, Any] = {"filters": filters, "first": PAGE, "after": after}
        data = await api.graphql(TRANSLATIONS_QUERY, variables)
        connection = data["store"]["translations"]
        for edge in connection["edges"]:
            node = edge["node"]
            fields = {
                str(f["fieldName"]): f["translation"]
                for f in node.get("fields") or []
                if f.get("translation") is not None
            }
            product_id = int(str(node["resourceId"]).rsplit("/", 1)[-1])
            out.append(
                {"product_id": product_id, "channel_id": channel_id, "locale": locale, **fields}
            )
        if not connection["pageInfo"]["hasNextPage"]:
            return out
        after = connection["pageInfo"]["endCursor"]


async def fetch(api: StoreApi) -> list[Raw]:
    listed = await channels.fetch(api)
    ids = sorted(int(c["id"]) for c in listed)
    locales = await asyncio.gather(*(_locales(api, cid) for cid in ids))
    found = await asyncio.gather(
        *(
            _translations(api, cid, code)
            for cid, codes in zip(ids, locales, strict=True)
            for code in codes
        )
    )
    return [raw for chunk in found for raw in chunk]


def _key(raw: Raw, lookup: Lookup) -> str:
    product = lookup.key_of("products", int(raw["product_id"]))
    channel = channels.key_of(lookup, raw["channel_id"])
    return join_path([product, channel, str(raw["locale"])])


def identify_with(raws: list[Raw], lookup: Lookup) -> dict[str, Raw]:
    return unique_by_key(NAME, raws, lambda raw: _key(raw, lookup))


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key(
        NAME,
        raws,
        lambda r: join_path([f"#{r['product_id']}", f"#{r['channel_id']}", str(r["locale"])]),
    )


def live_id(raw: Raw) -> str:
    return f"{raw['product_id']}/{raw['channel_id']}/{raw['locale']}"


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    return {k: v for k, v in raw.items() if k not in ("product_id", "channel_id", "locale")}


def references(key: str, record: Record) -> Iterable[EntityKey]:
    product, channel, _ = parse(key)
    refs = [EntityKey("products", product)]
    if channel != channels.DEFAULT:
        refs.append(EntityKey(channels.NAME, channel))
    return refs


ADD_LOCALE = """
mutation AddLocale($input: AddLocaleInput!) {
  locale { addLocale(input: $input) { locale { code } } }
}"""
LOCALES_SLOT = "channel_locales"
"""Lookup slot of the locales known enabled on the destination, keyed ``<channel id>/<code>``."""


async def ensure_locale(api: StoreApi, lookup: Lookup, channel_id: int, locale: str) -> None:
    """Enable ``locale`` on the channel unless it is (locales are not a kind: a translation
    brings its locale along). One locales query per channel and push."""
    async with lookup.lock(f"{LOCALES_SLOT}:{channel_id}"):
        if not lookup.has(LOCALES_SLOT, f"{channel_id}/"):
            for code in await _locales(api, channel_id):
                lookup.add(LOCALES_SLOT, f"{channel_id}/{code}", 0)
            lookup.add(LOCALES_SLOT, f"{channel_id}/", 0)
        if not lookup.has(LOCALES_SLOT, f"{channel_id}/{locale}"):
            variables = {"input": {"channelId": channel_gid(channel_id), "code": locale}}
            await api.graphql(ADD_LOCALE, variables, entity=f"locale {locale}")
            lookup.add(LOCALES_SLOT, f"{channel_id}/{locale}", 0)


async def _scope(api: StoreApi, key: str, lookup: Lookup) -> tuple[int, dict[str, str]]:
    product, channel, locale = parse(key)
    channel_id = await channels.id_of(api, lookup, channel)
    await ensure_locale(api, lookup, channel_id, locale)
    scope = {"resourceType": "PRODUCTS", "channelId": channel_gid(channel_id), "localeId": locale}
    return lookup.id_of("products", product), scope


async def _write(api: StoreApi, key: str, record: Record, lookup: Lookup, gone: list[str]) -> None:
    product_id, scope = await _scope(api, key, lookup)
    entity = f"product locale {key}"
    if record:
        fields = [{"fieldName": k, "value": v} for k, v in sorted(record.items())]
        entities = [{"resourceId": product_gid(product_id), "fields": fields}]
        await api.graphql(
            UPDATE_MUTATION, {"input": {**scope, "entities": entities}}, entity=entity
        )
    if gone:
        resources = [{"resourceId": product_gid(product_id), "fields": sorted(gone)}]
        await api.graphql(
            DELETE_MUTATION, {"input": {**scope, "resources": resources}}, entity=entity
        )


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> str:
    await _write(api, key, record, lookup, [])
    product_id, scope = await _scope(api, key, lookup)
    channel_id = scope["channelId"].rsplit("/", 1)[-1]
    return f"{product_id}/{channel_id}/{scope['localeId']}"


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    gone = [f for f in normalise(key, live, lookup) if f not in record]
    await _write(api, key, record, lookup, gone)


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await _write(api, key, {}, lookup, list(normalise(key, live, lookup)))


def warnings(key: str, after: Record, before: Record | None) -> list[str]:
    odd = sorted(set(after) - set(FIELDS))
    if not odd:
        return []
    return [
        f"product locale {key}: {', '.join(odd)} may not be translatable on the destination "
        f"(stagesync moves {', '.join(FIELDS)})."
    ]


def estimate(action: Action, record: Record | None) -> int:
    return 2 if action is not Action.CREATE else 1


def read_requests(count: int, destination: Snapshot) -> int:
    """Each channel's locales, then each (channel, locale)'s pages: at least one, for the default
    storefront's default locale. The channels page is shared with the ``channels`` kind."""
    scopes = {tuple(parse(k)[1:]) for k in destination.records(NAME)}
    channel_count = max(1, len(destination.records(channels.NAME)))
    return channel_count + max(len(scopes), 1, -(-count // PAGE))


KIND = EntityKind(
    name=NAME,
    singular="product locale",
    display_name="Product Locale",
    fetch=fetch,
    identify=identify,
    identify_with=identify_with,
    live_id=live_id,
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    warnings=warnings,
    estimate_requests=estimate,
    read_requests=read_requests,
)
