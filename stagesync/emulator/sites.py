"""Sites (``/v3/sites``, ``/v3/channels/{channel_id}/site``): read only, one site per storefront
channel, derived from the channel itself so it never disagrees with it.

- The default storefront (channel 1) has site 1000, the store information's ``default_site_id``,
  at the store's ``secure_url``; any other storefront channel ``N`` has site ``999 + N`` at a host
  of its own under the store's domain. Channels of other types have no site.
- A site carries ``id``, ``url``, ``channel_id``, ``created_at``/``updated_at`` (its channel's),
  ``ssl_status`` (``shared``), ``urls`` (``primary``, ``canonical`` and ``checkout``; checkout is
  the default storefront's primary URL, as the reference says of a channel without a custom
  checkout domain) and ``is_checkout_url_customized`` (false).
- ``GET /v3/sites`` takes ``channel_id:in`` and ``url_type:in`` (which of each site's ``urls`` to
  list) besides paging; ``GET /v3/channels/{channel_id}/site`` is its alias for one channel
  (404 for a channel without a site).
"""

from __future__ import annotations

from typing import Any

from .errors import not_found
from .routes import (
    Call,
    Endpoint,
    Listing,
    Record,
    Reply,
    Table,
    listed,
    page_of,
    register,
    single,
)
from .store import Store, slugify

DEFAULT_SITE_ID = 1000
URL_TYPES = ("primary", "canonical", "checkout")


def site_id_of(channel_id: int) -> int:
    return DEFAULT_SITE_ID - 1 + channel_id


def _url(store: Store, channel: Record) -> str:
    base = str(store.info()["secure_url"])
    if channel["id"] == 1:
        return f"{base}/"
    host = base.removeprefix("https://")
    return f"https://{slugify(str(channel['name'])) or channel['id']}.{host}/"


def render_site(store: Store, channel: Record, url_types: set[str] | None = None) -> Record:
    url = _url(store, channel)
    checkout = _url(store, store.channels[1])
    created, modified = channel.get("date_created"), channel.get("date_modified")
    urls = [
        {"url": url if kind != "checkout" else checkout, "type": kind}
        | {"created_at": created, "updated_at": modified}
        for kind in URL_TYPES
        if url_types is None or kind in url_types
    ]
    return {
        "id": site_id_of(channel["id"]),
        "url": url,
        "channel_id": channel["id"],
        "created_at": created,
        "updated_at": modified,
        "ssl_status": "shared",
        "urls": urls,
        "is_checkout_url_customized": False,
    }


def _sited(store: Store) -> list[Record]:
    """The channels that have a site: the storefronts."""
    return [c for _, c in sorted(store.channels.items()) if c.get("type") == "storefront"]


SITES = Listing(
    {"channel_id": ("int", lambda c: c["id"])},
    "channel_id:in",
    others=("page", "limit", "url_type:in"),
)


def _url_types(call: Call) -> set[str] | None:
    raw = call.query.get("url_type:in")
    return {part.strip() for part in raw.split(",")} if raw else None


def list_sites(store: Store, call: Call) -> Reply:
    types = _url_types(call)
    return page_of([render_site(store, c, types) for c in listed(call, _sited(store))], call.query)


def _channel_with_site(store: Store, channel_id: Any) -> Record:
    channel = store.channels.get(channel_id)
    if channel is None or channel.get("type") != "storefront":
        raise not_found("The site was not found.")
    return channel


def get_site(store: Store, call: Call) -> Reply:
    site_id = call.params["site_id"]
    return single(render_site(store, _channel_with_site(store, site_id - DEFAULT_SITE_ID + 1)))


def get_channel_site(store: Store, call: Call) -> Reply:
    channel_id = call.params["channel_id"]
    if channel_id not in store.channels:
        raise not_found("The channel was not found.")
    return single(render_site(store, _channel_with_site(store, channel_id)))


TABLE: Table = [
    ("/v3/sites", {"GET": Endpoint(list_sites, listing=SITES)}),
    ("/v3/sites/{site_id}", {"GET": get_site}),
    ("/v3/channels/{channel_id}/site", {"GET": get_channel_site}),
]
register(TABLE)
