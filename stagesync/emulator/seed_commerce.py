"""The demo's commercial data: a price list with records, a trade customer group, customers,
shipping zones and an order, written through the same functions the handlers use.

Both stores share most of it; staging adds a customer, a shipping zone, a Pending order and
changes one price-list record, so the demo's plan shows those kinds too and still converges
(orders are created Pending by default, and the demo's order already is).
"""

from __future__ import annotations

from typing import Any

from . import customers, orders, pricing, shipping
from .store import Store

CUSTOMERS = [
    ("ada@example.com", "Ada", "Lovelace"),
    ("grace@example.com", "Grace", "Hopper"),
]
STAGING_CUSTOMERS = [("alan@example.com", "Alan", "Turing")]


def _address(first: str, last: str) -> dict[str, Any]:
    return {
        "first_name": first,
        "last_name": last,
        "address1": "1 Market Street",
        "city": "San Francisco",
        "state_or_province": "California",
        "postal_code": "94105",
        "country_code": "US",
    }


def seed_commerce(store: Store, *, staging: bool) -> None:
    wholesale = pricing.create_list(store, {"name": "Wholesale", "active": True})
    pricing.upsert_records(
        store,
        wholesale["id"],
        [
            {"sku": "AC-SHT-03", "currency": "usd", "price": 44.0 if staging else 46.0},
            {"sku": "NW-JKT-01-S-BLACK", "currency": "usd", "price": 150.0},
        ],
    )
    trade = customers.create_group(
        store,
        {
            "name": "Trade",
            "discount_rules": [{"type": "price_list", "price_list_id": wholesale["id"]}],
        },
    )
    people = CUSTOMERS + (STAGING_CUSTOMERS if staging else [])
    created = customers.create_customers(
        store,
        [
            {
                "email": email,
                "first_name": first,
                "last_name": last,
                "customer_group_id": trade["id"] if email.startswith("ada") else 0,
                "addresses": [_address(first, last)],
            }
            for email, first, last in people
        ],
    )
    pricing.create_assignments(
        store,
        [{"price_list_id": wholesale["id"], "customer_group_id": trade["id"], "channel_id": 1}],
    )
    zone = shipping.create_zone(
        store, {"name": "United States", "type": "country", "locations": [{"country_iso2": "US"}]}
    )
    shipping.create_method(
        store, zone["id"], {"name": "Flat rate", "type": "perorder", "settings": {"rate": 8}}
    )
    if staging:
        europe = shipping.create_zone(
            store,
            {
                "name": "Europe",
                "type": "country",
                "locations": [{"country_iso2": "DE"}, {"country_iso2": "FR"}],
            },
        )
        shipping.create_method(
            store, europe["id"], {"name": "Flat rate", "type": "perorder", "settings": {"rate": 15}}
        )
        alan = created[-1]
        product_id = next(p["id"] for p in store.products.values() if p["sku"] == "AC-SHT-03")
        billing = {
            "first_name": "Alan",
            "last_name": "Turing",
            "street_1": "1 Market Street",
            "city": "San Francisco",
            "state": "California",
            "zip": "94105",
            "country": "United States",
            "country_iso2": "US",
            "email": alan["email"],
        }
        orders.create_order(
            store,
            {
                "customer_id": alan["id"],
                "external_id": "DEMO-1001",
                "billing_address": billing,
                "shipping_addresses": [billing],
                "products": [{"product_id": product_id, "quantity": 2}],
            },
        )
