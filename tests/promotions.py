"""Promotions over ``tests.catalogue``: one per condition and action shape the emulator supports,
a coupon promotion with several codes, a scheduled one limited to weekend days, and one limited
to a customer group and a shipping zone. Built through the API like a merchant's tools would."""

from __future__ import annotations

from typing import Any

from stagesync.ports import StoreApi
from tests import catalogue

SUMMER = "SUMMER10"
SUMMER_CODES = ["SUMMER10", "SUMMER10-FRIENDS", "summer 10 vip"]


async def variant_id(api: StoreApi, product_id: int, sku: str) -> int:
    rows = await api.get_all(f"/v3/catalog/products/{product_id}/variants")
    return next(int(v["id"]) for v in rows if v["sku"] == sku)


async def build(api: StoreApi) -> dict[str, int]:
    ids = await catalogue.build(api)
    trade = await api.post("/v2/customer_groups", {"name": "Trade"})
    ids["trade"] = int(trade["id"])
    domestic = await api.post(
        "/v2/shipping/zones",
        {"name": "Domestic", "type": "country", "locations": [{"country_iso2": "US"}]},
    )
    ids["domestic"] = int(domestic["id"])
    await api.post(
        "/v2/shipping/zones",
        {"name": "EU", "type": "country", "locations": [{"country_iso2": "DE"}]},
    )
    blue = await variant_id(api, ids["shoe"], "SHOE-42-BLU")
    ids["blue"] = blue

    def percent(amount: str) -> dict[str, Any]:
        return {"percentage_amount": amount}

    promotions: list[dict[str, Any]] = [
        {
            # A coupon with several codes, limited to a customer group and a shipping zone, with
            # product, variant, category and brand matchers.
            "redemption_type": "COUPON",
            "coupon_type": "BULK",
            "name": SUMMER,
            "display_name": "10% off the summer range",
            "customer": {"group_ids": [ids["trade"]], "minimum_order_count": 1},
            "rules": [
                {
                    "condition": {
                        "cart": {"items": {"products": [ids["tent"]]}, "minimum_quantity": 1}
                    },
                    "action": {
                        "cart_items": {
                            "discount": percent("10"),
                            "items": {
                                "or": [
                                    {"categories": [ids["wide_fit"]]},
                                    {"variants": [blue]},
                                    {"brands": [ids["acme"]]},
                                ]
                            },
                            "strategy": "LEAST_EXPENSIVE",
                        }
                    },
                    "apply_once": True,
                    "stop": True,
                },
                {"action": {"shipping": {"zone_ids": [ids["domestic"]], "free_shipping": True}}},
            ],
            "max_uses": 500,
            "codes_to_add": [
                {"code": SUMMER_CODES[0], "max_uses": 100, "max_uses_per_customer": 1},
                {"code": SUMMER_CODES[1], "max_uses": 0},
                {"code": SUMMER_CODES[2], "max_uses_per_customer": 2},
            ],
        },
        {
            # Cart value, minimum spend, notifications, weekend-only schedule, one channel.
            "redemption_type": "AUTOMATIC",
            "name": "Weekend cart discount",
            "channels": [{"id": 1}],
            "rules": [
                {
                    "condition": {"cart": {"minimum_spend": "100"}},
                    "action": {
                        "cart_value": {
                            "discount": {"fixed_amount": "15"},
                            "maximum_allowed_discount_amount": "15",
                        }
                    },
                }
            ],
            "notifications": [
                {"content": "Spend $100, save $15", "type": "UPSELL", "locations": ["CART_PAGE"]},
                {"content": "Saved!", "type": "APPLIED", "locations": ["CHECKOUT_PAGE"]},
            ],
            "schedule": {
                "week_frequency": 1,
                "week_days": ["Saturday", "Sunday"],
                "daily_start_time": "08:00:00",
                "daily_end_time": "20:00:00",
            },
            "start_date": "2030-06-01T00:00:00+00:00",
            "end_date": "2030-09-01T00:00:00+00:00",
            "currency_code": "USD",
            "shipping_address": {"countries": [{"iso2_country_code": "US"}]},
        },
        {
            # A gift item (product and variant), an ``and`` condition, nested not/and matchers.
            "redemption_type": "AUTOMATIC",
            "name": "Free shoes with a tent",
            "rules": [
                {
                    "condition": {
                        "and": [
                            {"cart": {"items": {"products": [ids["tent"]]}, "minimum_quantity": 1}},
                            {
                                "cart": {
                                    "items": {
                                        "and": [
                                            {"brands": [ids["acme"]]},
                                            {"not": {"categories": [ids["bags"]]}},
                                        ]
                                    },
                                    "minimum_spend": "50",
                                }
                            },
                        ]
                    },
                    "action": {
                        "gift_item": {"quantity": 1, "product_id": ids["shoe"], "variant_id": blue}
                    },
                    "apply_once": False,
                }
            ],
            "stop": True,
            "status": "DISABLED",
        },
        {
            # A fixed price set over a category; guests excluded.
            "redemption_type": "AUTOMATIC",
            "name": "Two bags for 50",
            "customer": {"excluded_group_ids": [0]},
            "rules": [
                {
                    "action": {
                        "fixed_price_set": {
                            "quantity": 2,
                            "fixed_price": "50",
                            "items": {"categories": [ids["bags"]]},
                            "strategy": "MOST_EXPENSIVE",
                        }
                    }
                }
            ],
            "can_be_used_with_other_promotions": False,
        },
        {
            # Free shipping everywhere for items matched by option and custom field.
            "redemption_type": "AUTOMATIC",
            "name": "Free shipping on blue",
            "rules": [
                {
                    "condition": {
                        "cart": {
                            "items": {
                                "or": [
                                    {
                                        "product_option": {
                                            "type": "string_match",
                                            "name": "Colour",
                                            "values": ["Blue"],
                                        }
                                    },
                                    {"product_custom_field": {"name": "Drop", "values": ["6mm"]}},
                                ]
                            },
                            "minimum_quantity": 1,
                        }
                    },
                    "action": {"shipping": {"zone_ids": "*", "free_shipping": True}},
                }
            ],
        },
        {
            # A single-code coupon that overrides other promotions.
            "redemption_type": "COUPON",
            "name": "Welcome",
            "can_be_used_with_other_promotions": False,
            "coupon_overrides_other_promotions": True,
            "rules": [{"action": {"cart_value": {"discount": percent("5")}}}],
            "max_uses": 1000,
            "codes_to_add": [{"code": "WELCOME", "max_uses": 1, "max_uses_per_customer": 1}],
        },
    ]
    for body in promotions:
        codes = body.pop("codes_to_add", [])
        created = await api.post("/v3/promotions", body)
        ids[str(body["name"])] = int(created["id"])
        for code in codes:
            await api.post(f"/v3/promotions/{created['id']}/codes", code)
    return ids
