"""The commercial side of a store, built through the API on top of ``tests.catalogue``: price
lists with records and assignments, customer groups with category access and every kind of
discount rule, customers with addresses (more than fit inline), attributes, form fields, store
credit and channels, shipping zones with a carrier method, and orders (guest and customer, custom
and catalogue items, a non-Pending status, an origin reference)."""

from __future__ import annotations

from typing import Any

from stagesync.ports import StoreApi
from tests import catalogue

JANE = "Jane.Doe@Example.com"
BOB = "bob@example.org"
HOME_ADDRESS = {
    "first_name": "Jane",
    "last_name": "Doe",
    "street_1": "1 Home Lane",
    "city": "Springfield",
    "state": "Illinois",
    "zip": "62701",
    "country": "United States",
    "country_iso2": "US",
    "email": "jane@example.com",
}
"""A v2 order address (billing or shipping) of the order and shipment tests."""
PII = ["Jane", "Doe", JANE, "+44 20 7946 0000", "Robert", "Tables", BOB, "221B Baker Street"]


def address(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "first_name": "Robert",
        "last_name": "Tables",
        "address1": f"{n} Main Street",
        "city": "Springfield",
        "state_or_province": "Illinois",
        "postal_code": "62701",
        "country_code": "US",
        **extra,
    }


async def build(api: StoreApi) -> dict[str, int]:
    ids = await catalogue.build(api)
    wholesale = await api.post("/v3/pricelists", {"name": "Wholesale", "active": True})
    vip = await api.post("/v3/pricelists", {"name": "VIP", "active": False})
    ids["wholesale"] = int(wholesale["id"])
    await api.put(
        f"/v3/pricelists/{wholesale['id']}/records",
        [
            {"sku": "TENT-1", "currency": "usd", "price": 150.0, "sale_price": 140.0},
            {"sku": "TENT-1", "currency": "eur", "price": 160.0},
            {
                "sku": "SHOE-42-BLU",
                "currency": "usd",
                "price": 99.0,
                "bulk_pricing_tiers": [{"quantity_min": 5, "type": "fixed", "amount": 90}],
            },
        ],
    )
    await api.put(
        f"/v3/pricelists/{vip['id']}/records",
        [{"sku": "SHOE-43-GRÜ", "currency": "usd", "price": 1.0}],
    )

    trade = await api.post(
        "/v2/customer_groups",
        {
            "name": "Trade",
            "category_access": {"type": "specific", "categories": [ids["bags"], ids["wide_fit"]]},
            "discount_rules": [
                {
                    "type": "product",
                    "method": "fixed",
                    "amount": "5.0000",
                    "product_id": ids["tent"],
                },
                {
                    "type": "category",
                    "method": "percent",
                    "amount": "10.0000",
                    "category_id": ids["bags"],
                },
            ],
        },
    )
    ids["trade"] = int(trade["id"])
    await api.post(
        "/v2/customer_groups",
        {
            "name": "Wholesale Buyers",
            "discount_rules": [{"type": "price_list", "price_list_id": wholesale["id"]}],
        },
    )
    await api.post("/v2/customer_groups", {"name": "Guests", "is_group_for_guests": True})
    await api.post(
        "/v3/pricelists/assignments",
        [
            {"price_list_id": wholesale["id"], "customer_group_id": trade["id"], "channel_id": 1},
            {"price_list_id": vip["id"], "channel_id": 1},
        ],
    )

    await api.post("/v3/customers/attributes", [{"name": "Loyalty tier", "type": "string"}])
    tier = (await api.get_all("/v3/customers/attributes"))[0]
    created = await api.post(
        "/v3/customers",
        [
            {
                "email": JANE,
                "first_name": "Jane",
                "last_name": "Doe",
                "phone": "+44 20 7946 0000",
                "company": "Doe & Daughters",
                "customer_group_id": trade["id"],
                "channel_ids": [1],
                "store_credit_amounts": [{"amount": 43.15}],
                "form_fields": [{"name": "Referral", "value": "friend"}],
                "addresses": [
                    {
                        **address(221),
                        "first_name": "Jane",
                        "last_name": "Doe",
                        "address1": "221B Baker Street",
                    },
                ],
                "attributes": [{"attribute_id": tier["id"], "attribute_value": "gold"}],
            },
            {
                "email": BOB,
                "first_name": "Robert",
                "last_name": "Tables",
                "addresses": [address(n) for n in range(1, 11)],
            },
        ],
    )
    ids["jane"] = int(created[0]["id"])
    ids["bob"] = int(created[1]["id"])
    # An eleventh address: more than a customer create takes inline.
    await api.post("/v3/customers/addresses", [{**address(11), "customer_id": ids["bob"]}])

    domestic = await api.post(
        "/v2/shipping/zones",
        {
            "name": "Domestic",
            "type": "state",
            "locations": [
                {"country_iso2": "US", "state_iso2": "NY"},
                {"country_iso2": "US", "state_iso2": "CA"},
            ],
            "free_shipping": {
                "enabled": True,
                "minimum_sub_total": "100.0000",
                "exclude_fixed_shipping_products": False,
            },
        },
    )
    await api.post(
        "/v2/shipping/zones",
        {"name": "EU", "type": "country", "locations": [{"country_iso2": "DE"}]},
    )
    await api.post(
        f"/v2/shipping/zones/{domestic['id']}/methods",
        {"name": "Flat rate", "type": "perorder", "settings": {"rate": 7}, "channel_ids": [1]},
    )
    await api.post(
        f"/v2/shipping/zones/{domestic['id']}/methods",
        {"name": "USPS", "type": "usps", "settings": {}},
    )

    billing = {
        "first_name": "Jane",
        "last_name": "Doe",
        "street_1": "221B Baker Street",
        "city": "London",
        "state": "London",
        "zip": "NW1 6XE",
        "country": "United Kingdom",
        "country_iso2": "GB",
        "phone": "+44 20 7946 0000",
        "email": JANE,
    }
    order = await api.post(
        "/v2/orders",
        {
            "customer_id": ids["jane"],
            "status_id": 2,
            "billing_address": billing,
            "shipping_addresses": [{**billing, "shipping_method": "Flat rate", "cost_ex_tax": 7}],
            "products": [
                {
                    "product_id": ids["shoe"],
                    "variant_id": await _variant(api, "SHOE-42-BLU"),
                    "quantity": 2,
                },
                {
                    "name": "Engraving",
                    "sku": "ENGRAVE",
                    "quantity": 1,
                    "price_ex_tax": 5,
                    "price_inc_tax": 6,
                },
            ],
            "staff_notes": "Call Jane before delivery",
            "customer_message": "Leave with the neighbour",
        },
    )
    ids["order"] = int(order["id"])
    guest = {**billing, "first_name": "Robert", "last_name": "Tables", "email": BOB, "phone": ""}
    await api.post(
        "/v2/orders",
        {
            "external_id": "AMZ-1",
            "billing_address": guest,
            "products": [{"product_id": ids["tent"], "quantity": 1}],
        },
    )
    return ids


async def _variant(api: StoreApi, sku: str) -> int:
    found = await api.get_all("/v3/catalog/variants", {"sku": sku})
    return int(found[0]["id"])
