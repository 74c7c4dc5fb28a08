"""The emulator's customer, group, price-list, shipping and order answers carry every property
BigCommerce's OpenAPI files declare for them (skipped when the copies are absent)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from stagesync.emulator import Emulator, pricing, shipping
from stagesync.emulator import orders as emulated_orders
from tests.test_emulator_spec import SPEC_ROOT, load_yaml, schema_properties

REFERENCE = SPEC_ROOT / "reference"


@pytest.fixture(scope="module")
def demo() -> Emulator:
    emulator = Emulator(seed="demo")
    store = emulator.stores["staging"]
    order_id = next(iter(emulated_orders.state(store).orders))
    emulated_orders.add_coupon(store, order_id, "SUMMER", 5)
    order_state = emulated_orders.state(store)
    emulated_orders.create_shipment(
        store,
        order_state.orders[order_id],
        {
            "order_address_id": order_state.addresses[order_id][0]["id"],
            "items": [{"order_product_id": order_state.products[order_id][0]["id"], "quantity": 1}],
            "shipping_provider": "fedex",
            "tracking_number": "EJ958083578US",
        },
    )
    return emulator


def _first(emulator: Emulator, path: str) -> dict[str, Any]:
    async def get() -> Any:
        async with httpx.AsyncClient(
            transport=emulator.transport(),
            base_url="http://emulator",
            headers={"X-Auth-Token": "staging-token"},
        ) as client:
            response = await client.get(f"/stores/staging{path}")
            assert response.status_code == 200, response.text
            return response.json()

    body = asyncio.run(get())
    items = body["data"] if isinstance(body, dict) else body
    assert items, f"{path} answered no items"
    first: dict[str, Any] = items[0]
    return first


def _paths(emulator: Emulator) -> dict[str, str]:
    store = emulator.stores["staging"]
    order_id = next(iter(emulated_orders.state(store).orders))
    zone_id = next(iter(shipping.state(store).zones))
    list_id = next(iter(pricing.state(store).lists))
    return {
        "order": f"/v2/orders/{order_id}",
        "zone": f"/v2/shipping/zones/{zone_id}",
        "list": f"/v3/pricelists/{list_id}",
    }


CASES = [
    (
        "customers.v3.yml",
        "customer_Full",
        "/v3/customers?include=addresses,storecredit,attributes,formfields",
    ),
    ("customers.v3.yml", "address_Full", "/v3/customers/addresses"),
    ("customers.v2.yml", "customerGroup_Full", "/v2/customer_groups"),
    ("price_lists.v3.yml", "PriceRecordBase", "{list}/records"),
    ("price_lists.v3.yml", "AssignmentForGetResponse", "/v3/pricelists/assignments"),
    ("shipping.v2.yml", "ShippingZone", "/v2/shipping/zones"),
    ("shipping.v2.yml", "shippingMethod_Full", "{zone}/methods"),
    ("orders.v2.oas2.yml", "order_Resp", "/v2/orders"),
    ("orders.v2.oas2.yml", "orderProducts", "{order}/products"),
    ("orders.v2.oas2.yml", "orderShippingAddress", "{order}/shipping_addresses"),
    ("orders.v2.oas2.yml", "orderCoupons_Base", "{order}/coupons"),
    ("orders.v2.oas2.yml", "orderShipment", "{order}/shipments"),
]


@pytest.mark.parametrize(("spec_file", "schema", "path"), CASES)
def test_commerce_responses_carry_every_spec_property(
    demo: Emulator, spec_file: str, schema: str, path: str
) -> None:
    if not (REFERENCE / spec_file).is_file():
        pytest.skip(f"BigCommerce OpenAPI copy {spec_file} not found under {REFERENCE}")
    doc = load_yaml(REFERENCE / spec_file)
    declared = schema_properties(doc, doc["components"]["schemas"][schema])
    item = _first(demo, path.format(**_paths(demo)))
    missing = declared - set(item)
    assert not missing, f"{schema} properties missing from {path}: {sorted(missing)}"


def test_order_read_only_fields_are_refused_on_write(demo: Emulator) -> None:
    doc_path = REFERENCE / "orders.v2.oas2.yml"
    if not doc_path.is_file():
        pytest.skip(f"BigCommerce OpenAPI copy not found at {doc_path}")
    doc = load_yaml(doc_path)
    schemas = doc["components"]["schemas"]
    response_only = schema_properties(doc, schemas["order_RespOnly"]) - schema_properties(
        doc, schemas["order_Post"]
    )
    assert response_only == set(emulated_orders.READ_ONLY)
