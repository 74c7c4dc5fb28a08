"""The legacy v2 endpoints existing tools still call (v2 customers and their addresses over the v3
customers, v2 coupons over the coupon codes of promotions, ``/count`` endpoints) and the sites of
storefront channels, read through HTTP as those tools read them."""

from __future__ import annotations

import asyncio
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest

from stagesync.bigcommerce.client import BigCommerceClient
from stagesync.emulator import Emulator
from stagesync.emulator.v2 import v2_count, v2_date, v2_money
from tests import commerce, promotions
from tests.rich_catalogue import add_channel

TOKENS = {"shop": "shop-token", "promo": "promo-token"}


@pytest.fixture(scope="module")
def built() -> Emulator:
    emulator = Emulator(dict(TOKENS))

    async def run() -> None:
        for name, build in (("shop", commerce.build), ("promo", promotions.build)):
            async with BigCommerceClient(
                name, TOKENS[name], api_url="http://emulator.test", transport=emulator.transport()
            ) as client:
                await build(client)

    asyncio.run(run())
    add_channel(emulator, "shop", "Outlet")
    return emulator


def get(emulator: Emulator, store: str, path: str, **params: str) -> httpx.Response:
    async def run() -> httpx.Response:
        async with httpx.AsyncClient(
            transport=emulator.transport(), base_url=f"http://emulator.test/stores/{store}"
        ) as client:
            return await client.get(path, params=params, headers={"X-Auth-Token": TOKENS[store]})

    return asyncio.run(run())


def ok(answer: httpx.Response) -> Any:
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_v2_money_date_and_count_helpers() -> None:
    assert v2_money(50) == "50.0000"
    assert v2_money("12.5") == "12.5000"
    assert v2_money(None) is None
    assert v2_date("2024-03-01T10:00:00+02:00") == "Fri, 01 Mar 2024 08:00:00 +0000"
    assert v2_date("") == ""  # an unset v2 date (date_shipped) answers ""
    assert v2_count(3) == {"count": 3}


def test_v2_customers_are_the_v3_customers_in_v2_shape(built: Emulator) -> None:
    v3 = ok(get(built, "shop", "/v3/customers", include="addresses,storecredit"))["data"]
    v2 = ok(get(built, "shop", "/v2/customers"))
    assert [c["id"] for c in v2] == [c["id"] for c in v3]
    assert ok(get(built, "shop", "/v2/customers/count")) == {"count": len(v3)}
    for old, new in zip(v2, v3, strict=True):
        assert (old["email"], old["first_name"], old["last_name"]) == (
            new["email"],
            new["first_name"],
            new["last_name"],
        )
        assert old["customer_group_id"] == new["customer_group_id"]
        assert parsedate_to_datetime(old["date_modified"]).isoformat() is not None
        credit = sum(float(c["amount"]) for c in new.get("store_credit_amounts") or [])
        assert old["store_credit"] == f"{credit:.4f}"
        resource = f"/customers/{old['id']}/addresses"
        assert old["addresses"]["resource"] == resource
        assert old["addresses"]["url"].endswith(f"/stores/shop/v2{resource}")
        one = ok(get(built, "shop", f"/v2/customers/{old['id']}"))
        assert one == old


def test_v2_customer_filters_and_paging(built: Emulator) -> None:
    every = ok(get(built, "shop", "/v2/customers"))
    first = every[0]
    assert [c["id"] for c in ok(get(built, "shop", "/v2/customers", email=first["email"]))] == [
        first["id"]
    ]
    later = ok(get(built, "shop", "/v2/customers", min_id=str(every[1]["id"])))
    assert [c["id"] for c in later] == [c["id"] for c in every[1:]]
    assert get(built, "shop", "/v2/customers", page="99").status_code == 204
    refused = get(built, "shop", "/v2/customers", colour="red")
    assert refused.status_code == 400
    assert refused.json()[0]["status"] == 400


def test_v2_addresses_of_a_customer(built: Emulator) -> None:
    for customer in ok(get(built, "shop", "/v3/customers", include="addresses"))["data"]:
        path = f"/v2/customers/{customer['id']}/addresses"
        answer = get(built, "shop", path)
        v3 = customer["addresses"]
        if not v3:
            assert answer.status_code == 204
            continue
        v2 = ok(answer)
        assert ok(get(built, "shop", f"{path}/count")) == {"count": len(v3)}
        assert [(a["street_1"], a["zip"], a["country_iso2"]) for a in v2] == [
            (a["address1"], a["postal_code"], a["country_code"]) for a in v3
        ]
        assert ok(get(built, "shop", f"{path}/{v2[0]['id']}")) == v2[0]
    assert get(built, "shop", "/v2/customers/999999").status_code == 404


def test_v2_customer_groups_count(built: Emulator) -> None:
    groups = ok(get(built, "shop", "/v2/customer_groups"))
    assert ok(get(built, "shop", "/v2/customer_groups/count")) == {"count": len(groups)}


def test_v2_coupons_are_the_codes_of_coupon_promotions(built: Emulator) -> None:
    promotions_by_id = {
        p["id"]: p
        for p in ok(get(built, "promo", "/v3/promotions", limit="250"))["data"]
        if p["redemption_type"] == "COUPON"
    }
    codes = [
        (code, promotion)
        for promotion in promotions_by_id.values()
        for code in ok(get(built, "promo", f"/v3/promotions/{promotion['id']}/codes"))["data"]
    ]
    coupons = ok(get(built, "promo", "/v2/coupons"))
    assert sorted(c["code"] for c in coupons) == sorted(code["code"] for code, _ in codes)
    assert ok(get(built, "promo", "/v2/coupons/count")) == {"count": len(codes)}
    for code, promotion in codes:
        coupon = next(c for c in coupons if c["code"] == code["code"])
        assert coupon["id"] == code["id"]
        assert coupon["name"] == promotion["name"]
        assert coupon["enabled"] == (promotion["status"] == "ENABLED")
        assert coupon["amount"].count(".") == 1 and len(coupon["amount"].split(".")[1]) == 4
        assert ok(get(built, "promo", f"/v2/coupons/{coupon['id']}")) == coupon
    one = coupons[0]
    assert [c["id"] for c in ok(get(built, "promo", "/v2/coupons", code=one["code"]))] == [
        one["id"]
    ]
    assert get(built, "promo", "/v2/coupons", code="NO-SUCH-CODE").status_code == 204
    assert get(built, "promo", "/v2/coupons/999999").status_code == 404
    assert get(built, "promo", "/v2/coupons", expires="soon").status_code == 400


def test_a_site_per_storefront_channel(built: Emulator) -> None:
    channels = ok(get(built, "shop", "/v3/channels"))["data"]
    storefronts = [c for c in channels if c["type"] == "storefront"]
    assert len(storefronts) == 2
    sites = ok(get(built, "shop", "/v3/sites"))["data"]
    assert [s["channel_id"] for s in sites] == [c["id"] for c in storefronts]
    store = ok(get(built, "shop", "/v2/store"))
    default = next(s for s in sites if s["channel_id"] == 1)
    assert default["id"] == store["default_site_id"]
    assert default["url"] == store["secure_url"] + "/"
    for site in sites:
        assert {u["type"] for u in site["urls"]} == {"primary", "canonical", "checkout"}
        checkout = next(u["url"] for u in site["urls"] if u["type"] == "checkout")
        assert checkout == default["url"]  # no custom checkout domain: the default's primary
        assert ok(get(built, "shop", f"/v3/sites/{site['id']}"))["data"] == site
        alias = ok(get(built, "shop", f"/v3/channels/{site['channel_id']}/site"))["data"]
        assert alias == site
    outlet = next(s for s in sites if s["channel_id"] != 1)
    only = ok(get(built, "shop", "/v3/sites", **{"channel_id:in": str(outlet["channel_id"])}))
    assert [s["id"] for s in only["data"]] == [outlet["id"]]
    primary = ok(get(built, "shop", "/v3/sites", **{"url_type:in": "primary"}))["data"]
    assert all([u["type"] for u in s["urls"]] == ["primary"] for s in primary)
    assert get(built, "shop", "/v3/sites/5").status_code == 404
    assert get(built, "shop", "/v3/channels/424242/site").status_code == 404
    assert get(built, "shop", "/v3/sites", colour="red").status_code == 400
