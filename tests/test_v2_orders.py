"""v2 orders as the platform serves them: money as four-decimal strings, dates in RFC 2822 in and
out, totals computed from the line items, ``PUT`` with products and shipping addresses, the
documented filters (anything else a 400), the order endpoints beside the order (count, statuses,
taxes, messages, consignments, fees, shipping quotes, single product and shipping address,
transactions) and links that answer; v2 shipping money; and stagesync's readers of both shapes."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest

from stagesync.emulator import Emulator
from stagesync.emulator.errors import ApiError
from stagesync.emulator.v2 import v2_date, v2_date_in, v2_money
from stagesync.entities import orders as order_kind
from stagesync.entities import shipping_methods, shipping_zones
from stagesync.entities.base import Lookup
from stagesync.model import canonical_json
from tests import commerce

pytestmark = pytest.mark.anyio

STORE = {"base_url": "http://emulator/stores/abc", "headers": {"X-Auth-Token": "tok"}}
ADDRESS = commerce.HOME_ADDRESS
LAMP = {"name": "Lamp", "quantity": 2, "price_ex_tax": 10, "price_inc_tax": "12.5"}
ROPE = {"name": "Rope", "quantity": 1, "price_ex_tax": "4", "price_inc_tax": 4}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def api() -> AsyncIterator[httpx.AsyncClient]:
    emu = Emulator({"abc": "tok"})
    async with httpx.AsyncClient(transport=emu.transport(), **STORE) as client:  # type: ignore[arg-type]
        yield client


async def _order(api: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {"billing_address": ADDRESS, "products": [LAMP, ROPE], **fields}
    answer = await api.post("/v2/orders", json=body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def _ok(api: httpx.AsyncClient, path: str, **params: Any) -> Any:
    answer = await api.get(path, params=params)
    assert answer.status_code in (200, 204), f"{path}: {answer.status_code} {answer.text}"
    return answer.json() if answer.status_code == 200 else []


# ---- formats -----------------------------------------------------------------------------------


def test_v2_money_and_dates() -> None:
    assert [v2_money(v) for v in (50, 50.0, "50", "50.0000", "-1.5", None)] == [
        "50.0000",
        "50.0000",
        "50.0000",
        "50.0000",
        "-1.5000",
        None,
    ]
    for bad in ("fifty", "", True, [], {}, "nan"):
        with pytest.raises(ApiError) as refused:
            v2_money(bad)
        assert refused.value.status == 400
    assert v2_date("2012-11-20T00:00:00+00:00") == "Tue, 20 Nov 2012 00:00:00 +0000"
    assert v2_date("Tue, 20 Nov 2012 02:00:00 +0200") == "Tue, 20 Nov 2012 00:00:00 +0000"
    assert v2_date(None) is None and v2_date("") == ""
    stored = "2012-11-20T00:00:00+00:00"
    assert v2_date_in("Tue, 20 Nov 2012 00:00:00 +0000", "date_created") == stored
    assert v2_date_in("2012-11-20T01:00:00+01:00", "date_created") == stored
    with pytest.raises(ApiError):
        v2_date_in("last Tuesday", "date_created")


async def test_money_strings_and_rfc2822_dates_in_and_out(api: httpx.AsyncClient) -> None:
    by_rfc = await _order(api, date_created="Tue, 20 Nov 2012 00:00:00 +0000")
    by_iso = await _order(api, date_created="2012-11-20T00:00:00Z")
    assert by_rfc["date_created"] == by_iso["date_created"] == "Tue, 20 Nov 2012 00:00:00 +0000"
    assert parsedate_to_datetime(by_rfc["date_modified"]).tzinfo is not None
    for order in (by_rfc, by_iso):
        for name in ("subtotal_ex_tax", "total_inc_tax", "discount_amount", "total_tax"):
            assert isinstance(order[name], str) and order[name].endswith(("00", "50"))
    [line, _] = await _ok(api, f"/v2/orders/{by_rfc['id']}/products")
    assert (line["price_ex_tax"], line["price_inc_tax"], line["total_inc_tax"]) == (
        "10.0000",
        "12.5000",
        "25.0000",
    )
    # The list answers the stored date the same way.
    listed = await _ok(api, "/v2/orders")
    assert {o["date_created"] for o in listed} == {"Tue, 20 Nov 2012 00:00:00 +0000"}
    refused = await api.post(
        "/v2/orders", json={"billing_address": ADDRESS, "products": [LAMP], "date_created": "x"}
    )
    assert refused.status_code == 400
    assert "date_created" in refused.json()[0]["message"]


async def test_totals_from_line_items_shipping_and_overrides(api: httpx.AsyncClient) -> None:
    order = await _order(
        api, shipping_addresses=[{**ADDRESS, "cost_ex_tax": 7, "cost_inc_tax": "8.4"}]
    )
    assert order["subtotal_ex_tax"] == "24.0000"  # 2 x 10 + 4
    assert order["subtotal_inc_tax"] == "29.0000"  # 2 x 12.5 + 4
    assert order["shipping_cost_ex_tax"] == "7.0000"
    assert order["shipping_cost_inc_tax"] == "8.4000"
    assert order["total_ex_tax"] == "31.0000"
    assert order["total_inc_tax"] == "37.4000"
    assert order["subtotal_tax"] == "5.0000"
    assert order["total_tax"] == "6.4000"

    given = await _order(api, subtotal_ex_tax=1, subtotal_inc_tax="1.1", discount_amount=0.1)
    assert (given["subtotal_ex_tax"], given["subtotal_inc_tax"]) == ("1.0000", "1.1000")
    assert (given["total_ex_tax"], given["total_inc_tax"]) == ("0.9000", "1.0000")
    half = await api.post(
        "/v2/orders", json={"billing_address": ADDRESS, "products": [LAMP], "total_ex_tax": 5}
    )
    assert half.status_code == 400
    assert "total_inc_tax" in half.json()[0]["message"]


# ---- PUT with products and shipping addresses ---------------------------------------------------


async def test_put_changes_adds_and_removes_line_items(api: httpx.AsyncClient) -> None:
    order = await _order(api)
    lamp, rope = await _ok(api, f"/v2/orders/{order['id']}/products")
    answer = await api.put(
        f"/v2/orders/{order['id']}",
        json={
            "products": [
                {"id": lamp["id"], "quantity": 1, "price_inc_tax": 11},
                {"id": rope["id"], "quantity": 0},
                {"name": "Hook", "quantity": 3, "price_ex_tax": 1, "price_inc_tax": 1.2},
            ]
        },
    )
    assert answer.status_code == 200, answer.text
    changed = answer.json()
    lines = await _ok(api, f"/v2/orders/{order['id']}/products")
    assert [(line["name"], line["quantity"], line["price_inc_tax"]) for line in lines] == [
        ("Lamp", 1, "11.0000"),
        ("Hook", 3, "1.2000"),
    ]
    assert changed["subtotal_ex_tax"] == "13.0000"
    assert changed["subtotal_inc_tax"] == "14.6000"
    assert changed["items_total"] == 4
    assert parsedate_to_datetime(changed["date_modified"]) >= parsedate_to_datetime(
        order["date_modified"]
    )

    # A refused line item changes nothing, not even the lines before it.
    refused = await api.put(
        f"/v2/orders/{order['id']}",
        json={"products": [{"id": lamp["id"], "quantity": 5}, {"id": 999999, "quantity": 1}]},
    )
    assert refused.status_code == 400
    assert await _ok(api, f"/v2/orders/{order['id']}/products") == lines
    removed_all = await api.put(
        f"/v2/orders/{order['id']}",
        json={"products": [{"id": line["id"], "quantity": 0} for line in lines]},
    )
    assert removed_all.status_code == 400


async def test_put_shipping_addresses_and_the_single_address(api: httpx.AsyncClient) -> None:
    order = await _order(api, shipping_addresses=[ADDRESS])
    [home] = await _ok(api, f"/v2/orders/{order['id']}/shipping_addresses")
    answer = await api.put(
        f"/v2/orders/{order['id']}",
        json={
            "shipping_addresses": [
                {"id": home["id"], "street_1": "2 Home Lane", "cost_ex_tax": 5},
                {**ADDRESS, "street_1": "9 Office Park"},
            ]
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["shipping_cost_ex_tax"] == "5.0000"
    rows = await _ok(api, f"/v2/orders/{order['id']}/shipping_addresses")
    assert [(a["street_1"], a["cost_ex_tax"]) for a in rows] == [
        ("2 Home Lane", "5.0000"),
        ("9 Office Park", "0.0000"),
    ]
    single = f"/v2/orders/{order['id']}/shipping_addresses/{home['id']}"
    assert (await _ok(api, single))["street_1"] == "2 Home Lane"
    put = await api.put(single, json={"city": "Chicago", "cost_inc_tax": "6"})
    assert put.status_code == 200, put.text
    assert (put.json()["city"], put.json()["cost_inc_tax"]) == ("Chicago", "6.0000")
    assert (await api.put(single, json={"id": 5})).status_code == 400
    missing = f"/v2/orders/{order['id']}/shipping_addresses/999999"
    assert (await api.get(missing)).status_code == 404


# ---- filters -----------------------------------------------------------------------------------


async def test_documented_filters_and_unknown_ones(api: httpx.AsyncClient) -> None:
    cheap = await _order(api, products=[ROPE], payment_method="Cash")
    dear = await _order(api, date_created="Tue, 20 Nov 2012 00:00:00 +0000")
    third = await _order(api, products=[ROPE], status_id=11)

    async def ids(**params: Any) -> list[int]:
        return [o["id"] for o in await _ok(api, "/v2/orders", **params)]

    assert await ids(min_id=dear["id"]) == [dear["id"], third["id"]]
    assert await ids(max_id=dear["id"]) == [cheap["id"], dear["id"]]
    assert await ids(min_total=20) == [dear["id"]]
    assert await ids(max_total="4.0000") == [cheap["id"], third["id"]]
    assert await ids(payment_method="cash") == [cheap["id"]]
    assert await ids(status_id=11) == [third["id"]]
    assert await ids(email="JANE@example.com") == [cheap["id"], dear["id"], third["id"]]
    assert await ids(max_date_created="Wed, 21 Nov 2012 00:00:00 +0000") == [dear["id"]]
    assert await ids(min_date_created="2013-01-01T00:00:00Z") == [cheap["id"], third["id"]]
    assert await ids(max_date_modified="Tue, 20 Nov 2012 00:00:00 +0000") == []
    everything = [cheap["id"], dear["id"], third["id"]]
    assert await ids(min_date_modified="2012-11-20T00:00:00+00:00") == everything
    assert await ids(min_date_modified=third["date_modified"], max_id=third["id"]) != []
    assert await ids(sort="date_created:asc") == [dear["id"], cheap["id"], third["id"]]
    assert await ids(sort="id:desc") == [third["id"], dear["id"], cheap["id"]]
    count = await _ok(api, "/v2/orders/count", max_total=4)
    assert count["count"] == 2
    assert {s["name"]: s["count"] for s in count["statuses"]}["Awaiting Fulfillment"] == 1
    for unknown in ({"min_date_shipped": "2026-01-01"}, {"colour": "red"}, {"sort": "total"}):
        assert (await api.get("/v2/orders", params=unknown)).status_code == 400
        assert (await api.get("/v2/orders/count", params=unknown)).status_code == 400
    assert (await api.get("/v2/orders", params={"min_id": "one"})).status_code == 422


async def test_delete_archives_and_is_deleted_finds_them(api: httpx.AsyncClient) -> None:
    first, second = await _order(api), await _order(api)
    assert (await api.delete(f"/v2/orders/{first['id']}")).status_code == 204
    assert [o["id"] for o in await _ok(api, "/v2/orders")] == [second["id"]]
    archived = await _ok(api, "/v2/orders", is_deleted="true")
    assert [(o["id"], o["is_deleted"]) for o in archived] == [(first["id"], True)]
    assert (await api.get(f"/v2/orders/{first['id']}")).status_code == 404
    assert (await api.delete("/v2/orders")).status_code == 204
    assert await _ok(api, "/v2/orders") == []
    assert (await _ok(api, "/v2/orders/count"))["count"] == 0
    assert len(await _ok(api, "/v2/orders", is_deleted="true")) == 2


# ---- endpoints and links ------------------------------------------------------------------------


async def test_order_endpoints_and_every_link_answers(api: httpx.AsyncClient) -> None:
    order = await _order(api, shipping_addresses=[ADDRESS])
    base = f"/v2/orders/{order['id']}"
    for part in ("products", "shipping_addresses", "coupons", "consignments", "fees"):
        link = order[part]
        assert link["url"] == f"http://emulator/stores/abc{base}/{part}"
        assert link["resource"] == f"/orders/{order['id']}/{part}"
        answer = await api.get(link["url"])
        assert answer.status_code in (200, 204), f"{part}: {answer.text}"
    [line, _] = await _ok(api, f"{base}/products")
    assert (await _ok(api, f"{base}/products/{line['id']}"))["name"] == "Lamp"
    assert (await api.get(f"{base}/products/999999")).status_code == 404
    [address] = await _ok(api, f"{base}/shipping_addresses")
    quotes = await api.get(address["shipping_quotes"]["url"])
    assert quotes.status_code == 204  # an order made through the API has no quote
    consignments = await _ok(api, f"{base}/consignments")
    [shipping] = consignments["shipping"]
    assert shipping["street_1"] == "1 Home Lane"
    for item in shipping["line_items"]:
        assert (await api.get(item["url"])).status_code == 200
    assert (await api.get(shipping["shipping_quotes"]["url"])).status_code == 204
    assert await _ok(api, f"{base}/fees") == {"fees": []}
    [tax] = await _ok(api, f"{base}/taxes")
    assert (tax["line_amount"], tax["order_address_id"]) == ("5.0000", address["id"])
    assert (await api.get(f"{base}/messages")).status_code == 204
    assert (await api.get(f"{base}/shipments/count")).json() == {"count": 0}
    transactions = await _ok(api, f"/v3/orders/{order['id']}/transactions")
    assert transactions["data"] == []
    included = await _ok(api, base, include="consignments,fees")
    assert included["consignments"][0]["shipping"][0]["id"] == address["id"]
    assert included["fees"] == []
    assert (await api.get(base, params={"include": "everything"})).status_code == 400


async def test_order_statuses(api: httpx.AsyncClient) -> None:
    statuses = await _ok(api, "/v2/order_statuses")
    assert [s["id"] for s in statuses] == list(range(15))
    one = await _ok(api, "/v2/order_statuses/11")
    assert (one["name"], one["system_label"]) == ("Awaiting Fulfillment", "Awaiting Fulfillment")
    assert (await api.get("/v2/order_statuses/99")).status_code == 404


async def test_shipment_dates_and_money(api: httpx.AsyncClient) -> None:
    order = await _order(api, shipping_addresses=[ADDRESS])
    [line, rope] = await _ok(api, f"/v2/orders/{order['id']}/products")
    [address] = await _ok(api, f"/v2/orders/{order['id']}/shipping_addresses")
    answer = await api.post(
        f"/v2/orders/{order['id']}/shipments",
        json={
            "order_address_id": address["id"],
            "merchant_shipping_cost": 3,
            "items": [
                {"order_product_id": line["id"], "quantity": 2},
                {"order_product_id": rope["id"], "quantity": 1},
            ],
        },
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["merchant_shipping_cost"] == "3.0000"
    assert parsedate_to_datetime(answer.json()["date_created"]).tzinfo is not None
    shipped = await _ok(api, f"/v2/orders/{order['id']}")
    assert shipped["status"] == "Shipped"
    assert parsedate_to_datetime(shipped["date_shipped"]).tzinfo is not None


# ---- v2 shipping money --------------------------------------------------------------------------


async def test_shipping_zone_and_method_money(api: httpx.AsyncClient) -> None:
    answer = await api.post(
        "/v2/shipping/zones",
        json={
            "name": "Domestic",
            "free_shipping": {"enabled": True, "minimum_sub_total": 100},
            "handling_fees": {"fixed_surcharge": "2.5"},
        },
    )
    assert answer.status_code == 201, answer.text
    zone = answer.json()
    assert zone["free_shipping"]["minimum_sub_total"] == "100.0000"
    assert zone["handling_fees"] == {
        "fixed_surcharge": "2.5000",
        "display_separately": True,
        "percentage_surcharge": "0.0000",
    }
    put = await api.put(
        f"/v2/shipping/zones/{zone['id']}", json={"free_shipping": {"minimum_sub_total": "50"}}
    )
    assert put.json()["free_shipping"] == {
        "enabled": True,
        "minimum_sub_total": "50.0000",
        "exclude_fixed_shipping_products": False,
    }
    bad = await api.post(
        "/v2/shipping/zones", json={"name": "Bad", "free_shipping": {"minimum_sub_total": "AAA"}}
    )
    assert bad.status_code == 400
    assert [z["name"] for z in await _ok(api, "/v2/shipping/zones")] == ["Domestic"]
    method = await api.post(
        f"/v2/shipping/zones/{zone['id']}/methods",
        json={"name": "Flat", "type": "perorder", "handling_fees": {"percentage_surcharge": 5}},
    )
    assert method.json()["handling_fees"] == {
        "fixed_surcharge": "0.0000",
        "percentage_surcharge": "5.0000",
    }


# ---- stagesync's readers -----------------------------------------------------------------------


def _raw_order(shape: str) -> dict[str, Any]:
    """One order as a store answers it: v2 strings and RFC 2822 (``platform``), or numbers and
    ISO 8601 (``numbers``)."""
    strings = shape == "platform"

    def amount(value: float) -> Any:
        return f"{value:.4f}" if strings else value

    return {
        "id": 7,
        "customer_id": 0,
        "status_id": 1,
        "date_created": "Tue, 20 Nov 2012 00:00:00 +0000" if strings else "2012-11-20T00:00:00Z",
        "date_modified": "Tue, 20 Nov 2012 00:00:00 +0000",
        "subtotal_ex_tax": amount(24),
        "total_inc_tax": amount(37.4),
        "discount_amount": amount(0),
        "billing_address": ADDRESS,
        "_origin": "abc:7",
        "_products": [
            {
                "id": 1,
                "product_id": 0,
                "name": "Lamp",
                "sku": "",
                "quantity": 2,
                "price_ex_tax": amount(10),
                "price_inc_tax": amount(12.5),
            }
        ],
        "_shipping_addresses": [
            {"id": 2, **ADDRESS, "cost_ex_tax": amount(7), "cost_inc_tax": amount(8.4)}
        ],
        "_coupons": [{"code": "SUMMER", "amount": amount(5), "type": 0, "discount": amount(5)}],
        "_shipments": [
            {
                "id": 3,
                "order_address_id": 2,
                "merchant_shipping_cost": amount(3),
                "tracking_number": "1Z",
                "items": [{"order_product_id": 1, "quantity": 2}],
            }
        ],
    }


def test_order_normaliser_writes_one_form_for_both_shapes() -> None:
    records = [
        order_kind.normalise("abc:7", _raw_order(shape), Lookup())
        for shape in ("platform", "numbers")
    ]
    assert canonical_json(records[0]) == canonical_json(records[1])
    record = records[0]
    assert record["date_created"] == "2012-11-20T00:00:00+00:00"
    assert (record["subtotal_ex_tax"], record["total_inc_tax"]) == ("24.0000", "37.4000")
    assert record["products"][0]["price_inc_tax"] == "12.5000"
    assert record["shipping_addresses"][0]["cost_inc_tax"] == "8.4000"
    assert record["coupons"][0]["discount"] == "5.0000"
    assert record["shipments"][0]["merchant_shipping_cost"] == "3.0000"
    # What is neither money nor a date is kept as it is, never rounded or dropped.
    odd = _raw_order("platform")
    odd["subtotal_ex_tax"], odd["date_created"] = "12.345678", "sometime"
    kept = order_kind.normalise("abc:7", copy.deepcopy(odd), Lookup())
    assert (kept["subtotal_ex_tax"], kept["date_created"]) == ("12.345678", "sometime")


def test_shipping_normalisers_write_one_form_for_both_shapes() -> None:
    def zone(minimum: Any, surcharge: Any) -> dict[str, Any]:
        return {
            "id": 1,
            "name": "Domestic",
            "type": "global",
            "locations": [],
            "free_shipping": {"enabled": True, "minimum_sub_total": minimum},
            "handling_fees": {"fixed_surcharge": surcharge, "percentage_surcharge": "0.0000"},
        }

    as_strings = shipping_zones.normalise("Domestic", zone("100.0000", "2.5000"), Lookup())
    as_numbers = shipping_zones.normalise("Domestic", zone(100, 2.5), Lookup())
    assert canonical_json(as_strings) == canonical_json(as_numbers)
    assert as_numbers["free_shipping"]["minimum_sub_total"] == "100.0000"

    def method(surcharge: Any) -> dict[str, Any]:
        return {
            "id": 5,
            "name": "Flat",
            "type": "perorder",
            "settings": {"rate": 7},
            "handling_fees": {"fixed_surcharge": surcharge},
            "_zone": "Domestic",
            "_zone_id": 1,
        }

    one = shipping_methods.normalise("Domestic/Flat", method("3"), Lookup())
    other = shipping_methods.normalise("Domestic/Flat", method(3), Lookup())
    assert one == other
    assert one["handling_fees"] == {"fixed_surcharge": "3.0000"}
    assert one["settings"] == {"rate": 7}
