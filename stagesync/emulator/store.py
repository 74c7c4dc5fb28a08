"""One emulated store: its identity, its ID sequence and its catalogue (``catalogue``), plus the
store-information and channel routes. The other API areas keep their state per store in their own
modules (``customers.state(store)``, ``orders.state(store)``...).

Every write goes through a method or function of its area, used alike by the HTTP handlers and by
the demo seed, so seeded objects look exactly like ones a client created.
"""

from __future__ import annotations

import time
import uuid

from .catalogue.common import (
    BRAND_DELETE_HOOKS,
    CATEGORY_DELETE_HOOKS,
    MAX_OPTION_VALUES,
    PRODUCT_DELETE_HOOKS,
    PRODUCT_RENDER_HOOKS,
    VARIANT_DELETE_HOOKS,
    Record,
    id_offset,
    now_rfc3339,
    slugify,
)
from .catalogue.products import Products
from .errors import not_found
from .routes import (
    Call,
    Endpoint,
    Listing,
    Reply,
    Table,
    listed,
    page_of,
    register,
    single,
)

__all__ = [
    "BRAND_DELETE_HOOKS",
    "CATEGORY_DELETE_HOOKS",
    "MAX_OPTION_VALUES",
    "PRODUCT_DELETE_HOOKS",
    "PRODUCT_RENDER_HOOKS",
    "VARIANT_DELETE_HOOKS",
    "Record",
    "Store",
    "id_offset",
    "now_rfc3339",
    "slugify",
]


class Store(Products):
    """The state of one store. All methods are synchronous: a request's mutation is atomic."""

    # ---- store information ---------------------------------------------------------------------

    def info(self) -> Record:
        domain = f"{slugify(self.store_hash)}.example-store.com"
        return {
            "id": self.store_hash,
            "account_uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"store:{self.store_hash}")),
            "domain": domain,
            "secure_url": f"https://{domain}",
            "control_panel_base_url": f"https://store-{self.store_hash}.mybigcommerce.com",
            "status": "live",
            "name": self.name,
            "first_name": "Store",
            "last_name": "Owner",
            "address": "",
            "country": "United States",
            "country_code": "US",
            "phone": "",
            "admin_email": f"admin@{domain}",
            "order_email": f"orders@{domain}",
            "favicon_url": "",
            "timezone": {
                "name": "Etc/UTC",
                "raw_offset": 0,
                "dst_offset": 0,
                "dst_correction": False,
                "date_format": {
                    "display": "M jS Y",
                    "export": "M jS Y",
                    "extended_display": "M jS Y @ g:i A",
                },
            },
            "language": "en",
            "currency": "USD",
            "currency_symbol": "$",
            "decimal_separator": ".",
            "thousands_separator": ",",
            "decimal_places": 2,
            "currency_symbol_location": "left",
            "weight_units": "LBS",
            "dimension_units": "Inches",
            "dimension_decimal_places": 2,
            "dimension_decimal_token": ".",
            "dimension_thousands_token": ",",
            "plan_name": "Standard",
            "plan_level": "Standard",
            "plan_is_trial": False,
            "industry": "Apparel",
            "logo": [],
            "is_price_entered_with_tax": False,
            "store_id": id_offset(self.store_hash) * 1000 + 7,
            "default_channel_id": 1,
            "default_site_id": 1000,
            "active_comparison_modules": [],
            "features": {
                "stencil_enabled": True,
                "sitewidehttps_enabled": True,
                "facebook_catalog_id": "",
                "checkout_type": "optimized",
                "wishlists_enabled": True,
                "graphql_storefront_api_enabled": True,
                "shopper_consent_tracking_enabled": True,
                "multi_storefront_enabled": True,
                "storefront_limits": {"active": 1, "total_including_inactive": 1},
            },
        }


# ---- store information, channels routes ---------------------------------------------------------


def get_store(store: Store, call: Call) -> Reply:
    return Reply(200, store.info())


def get_time(store: Store, call: Call) -> Reply:
    return Reply(200, {"time": int(time.time())})


CHANNELS = Listing(
    {
        "type": ("str", lambda c: c["type"]),
        "platform": ("str", lambda c: c["platform"]),
        "status": ("str", lambda c: c["status"]),
        "date_created": ("time", lambda c: c.get("date_created")),
        "date_modified": ("time", lambda c: c.get("date_modified")),
    },
    "status:in type:in platform:in date_created date_created:min date_created:max date_modified "
    "date_modified:min date_modified:max",
    missing="available include",
)


def list_channels(store: Store, call: Call) -> Reply:
    return page_of([dict(c) for c in listed(call, store.channels.values())], call.query)


def get_channel(store: Store, call: Call) -> Reply:
    channel = store.channels.get(call.params["channel_id"])
    if channel is None:
        raise not_found("The channel was not found.")
    return single(dict(channel))


STORE_ROUTES: Table = [
    ("/v2/store", {"GET": get_store}),
    ("/v2/time", {"GET": get_time}),
    ("/v3/channels", {"GET": Endpoint(list_channels, listing=CHANNELS)}),
    ("/v3/channels/{channel_id}", {"GET": get_channel}),
]
register(STORE_ROUTES)
