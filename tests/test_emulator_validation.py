"""Request bodies of the wrong shape get the platform's 400/422 in the body of that API, never a
server error, never an echo, and nothing is written."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from stagesync.emulator import Emulator
from stagesync.emulator.errors import STATUS_CODES_URL

HEADERS = {"X-Auth-Token": "alpha-token"}


def call(emulator: Emulator, method: str, path: str, body: Any = None, **headers: str) -> Any:
    async def run() -> httpx.Response:
        async with httpx.AsyncClient(
            transport=emulator.transport(), base_url="http://emulator"
        ) as client:
            return await client.request(method, path, json=body, headers={**HEADERS, **headers})

    return asyncio.run(run())


def store(path: str) -> str:
    return f"/stores/alpha{path}"


def writes(emulator: Emulator) -> int:
    return sum(1 for r in emulator.requests if r["method"] != "GET" and r["status"] < 400)


def v3_field_error(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["status"] == 422 and body["type"] == STATUS_CODES_URL
    assert field in body["errors"], body


def test_customers_batch_with_an_object_as_id_is_a_422_and_changes_nothing(
    emulator: Emulator,
) -> None:
    before = call(emulator, "GET", store("/v3/customers")).json()["data"]
    answer = call(emulator, "PUT", store("/v3/customers"), [{"id": {}, "first_name": "x"}])
    v3_field_error(answer, "0.id")
    assert call(emulator, "GET", store("/v3/customers")).json()["data"] == before


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/v2/customer_groups",
            {"name": "G", "category_access": {"type": "specific", "categories": [{}]}},
            "categories",
        ),
        ("/v2/customer_groups", {"name": "G", "category_access": {"type": "some"}}, "type"),
        ("/v2/shipping/zones", {"name": "Z", "type": "country", "enabled": "yes"}, "enabled"),
        (
            "/v2/shipping/zones",
            {"name": "Z", "type": "country", "free_shipping": "AAA"},
            "free_shipping",
        ),
        ("/v2/orders", {"products": [{"product_id": 1, "quantity": 0}]}, "quantity"),
    ],
)
def test_v2_wrong_types_are_a_400_list_body_and_nothing_is_created(
    emulator: Emulator, path: str, body: dict[str, Any], field: str
) -> None:
    answer = call(emulator, "POST", store(path), body)
    assert answer.status_code == 400, answer.text
    [error] = answer.json()
    assert error["status"] == 400 and field in error["message"]
    assert writes(emulator) == 0
    assert call(emulator, "GET", store(path)).status_code == 204  # still empty


def test_an_attribute_named_by_a_list_is_refused_and_reads_keep_working(
    emulator: Emulator,
) -> None:
    answer = call(emulator, "POST", store("/v3/customers/attributes"), [{"name": ["x"]}])
    v3_field_error(answer, "0.name")
    listed = call(emulator, "GET", store("/v3/customers/attributes?name=x"))
    assert listed.status_code == 200 and listed.json()["data"] == []


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v3/customers/attributes", [{"name": "Size", "type": "colour"}], "0.type"),  # enum
        ("/v3/customers", [{"email": "a@b.c", "first_name": "A", "last_name": "x" * 101}], ""),
        ("/v3/pricelists", {"name": "P", "active": "yes"}, "active"),
        (
            "/v3/customers",
            [{"email": "a@b.c", "first_name": "A", "last_name": "B", "customer_group_id": 2**40}],
            "0.customer_group_id",
        ),  # range
        ("/v3/catalog/trees", [{"name": "T", "channels": [{}]}], "0.channels.0"),
        ("/v3/content/widgets", {"name": "W", "widget_template_uuid": ["x"]}, ""),
    ],
)
def test_v3_wrong_types_enums_ranges_and_lengths_are_a_422(
    emulator: Emulator, path: str, body: Any, field: str
) -> None:
    method = "PUT" if path.endswith("trees") else "POST"
    answer = call(emulator, method, store(path), body)
    assert answer.status_code == 422, answer.text
    assert field in " ".join(answer.json()["errors"])
    assert writes(emulator) == 0


def test_a_body_of_the_wrong_json_type_is_a_400(emulator: Emulator) -> None:
    answer = call(emulator, "POST", store("/v3/customers"), {"email": "a@b.c"})
    assert answer.status_code == 400
    assert answer.json()["title"] == "Input is invalid"


def test_promotions_errors_come_as_an_errors_array(emulator: Emulator) -> None:
    answer = call(emulator, "GET", store("/v3/promotions/123456"))
    assert answer.status_code == 404
    body = answer.json()
    assert set(body) == {"errors", "meta"}
    assert body["errors"][0]["status"] == 404 and body["errors"][0]["title"]


def test_b2b_wrong_types_answer_in_b2b_envelope(emulator: Emulator) -> None:
    emulator.add_b2b_user("alpha", "admin@example.com", "secret")
    answer = call(
        emulator,
        "POST",
        "/api/v3/io/orders",
        {"bcOrderId": {}, "customerId": 321},
        **{"X-Store-Hash": "alpha"},
    )
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["code"] == 422 and "bcOrderId" in " ".join(body["data"]["errors"])
    assert body["meta"]["message"]
