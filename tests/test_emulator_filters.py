"""The emulator's list filters compare what the reference says they compare: time filters compare
instants in every form the reference allows, number filters numbers, and a filter a list does not
implement answers 400 instead of an unfiltered list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from stagesync.emulator import Emulator
from stagesync.emulator.orders import state as orders_state
from tests.commerce import build

pytestmark = pytest.mark.anyio

PRODUCT = {"type": "physical", "weight": 1, "price": 10}
STORE = {"base_url": "http://emulator/stores/abc", "headers": {"X-Auth-Token": "tok"}}


@pytest.fixture
def emu() -> Emulator:
    return Emulator({"abc": "tok"})


@pytest.fixture
async def api(emu: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=emu.transport(), **STORE) as client:  # type: ignore[arg-type]
        yield client


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _products(api: httpx.AsyncClient, emu: Emulator) -> None:
    """Three products modified at 14:40, 14:50 and 15:00 UTC on 2026-12-04."""
    for n, minute in enumerate((40, 50, 0)):
        body = {**PRODUCT, "name": f"P{n}", "sku": f"P{n}", "price": 70 + 7.5 * n}
        created = (await api.post("/v3/catalog/products", json=body)).json()["data"]
        hour = 15 if minute == 0 else 14
        stamp = f"2026-12-04T{hour}:{minute:02d}:00+00:00"
        emu.stores["abc"].products[created["id"]]["date_modified"] = stamp


async def _names(api: httpx.AsyncClient, params: dict[str, str]) -> list[str]:
    answer = await api.get("/v3/catalog/products", params=params)
    assert answer.status_code == 200, answer.text
    return [p["name"] for p in answer.json()["data"]]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2026-12-04T14:50:00Z", ["P1", "P2"]),
        ("2026-12-04T16:50:00+02:00", ["P1", "P2"]),
        ("2026-12-04T09:50:00-05:00", ["P1", "P2"]),
        ("2026-12-04T14:50:00", ["P1", "P2"]),
        ("1796395800", ["P1", "P2"]),  # 2026-12-04T14:50:00Z
        ("Fri, 04 Dec 2026 14:50:01 +0000", ["P2"]),
    ],
)
async def test_date_modified_min_compares_instants(
    api: httpx.AsyncClient, emu: Emulator, written: str, expected: list[str]
) -> None:
    await _products(api, emu)
    assert await _names(api, {"date_modified:min": written}) == expected


async def test_date_modified_max_and_a_date_without_a_time(
    api: httpx.AsyncClient, emu: Emulator
) -> None:
    await _products(api, emu)
    assert await _names(api, {"date_modified:max": "2026-12-04T15:50:00+01:00"}) == ["P0", "P1"]
    # A date alone takes the current time of the request (whatever the time of day, the day
    # after the products were written is later than them, the day before earlier).
    assert await _names(api, {"date_modified:min": "2026-12-05"}) == []
    assert await _names(api, {"date_modified:min": "2026-12-03"}) == ["P0", "P1", "P2"]
    assert await _names(api, {"date_modified:max": "2999-01-01"}) == ["P0", "P1", "P2"]


async def test_number_filters_compare_numbers(api: httpx.AsyncClient, emu: Emulator) -> None:
    await _products(api, emu)
    assert await _names(api, {"price": "77.5"}) == ["P1"]
    assert await _names(api, {"price:min": "77.50"}) == ["P1", "P2"]


@pytest.mark.parametrize(
    "params",
    [
        {"date_modified:min": "yesterday"},
        {"price": "cheap"},
    ],
)
async def test_unreadable_filter_values_are_refused(
    api: httpx.AsyncClient, params: dict[str, str]
) -> None:
    answer = await api.get("/v3/catalog/products", params=params)
    assert answer.status_code == 422
    assert next(iter(params)) in answer.json()["errors"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v3/catalog/products", {"date_created:min": "2026-12-04"}),
        ("/v3/catalog/products", {"sku:between": "A,B"}),
        ("/v3/catalog/products", {"colour": "red"}),
        ("/v2/orders", {"min_date_shipped": "2026-12-04"}),
        ("/v2/orders", {"min_items_total": "1"}),
        ("/v2/orders/count", {"colour": "red"}),
    ],
)
async def test_unimplemented_filters_answer_400(
    api: httpx.AsyncClient, path: str, params: dict[str, str]
) -> None:
    answer = await api.get(path, params=params)
    assert answer.status_code == 400, answer.text


async def _orders(api: httpx.AsyncClient, emu: Emulator) -> list[dict[str, Any]]:
    from stagesync.bigcommerce import BigCommerceClient

    async with BigCommerceClient(
        "abc", "tok", api_url="http://emulator", transport=emu.transport()
    ) as client:
        await build(client)
    orders = (await api.get("/v2/orders")).json()
    stamps = ("Fri, 04 Dec 2026 14:40:00 +0000", "2026-12-04T15:00:00+00:00")
    for order, stamp in zip(orders, stamps, strict=True):
        orders_state(emu.stores["abc"]).orders[order["id"]]["date_modified"] = stamp
    return list(orders)


async def test_v2_order_ranges_compare_instants_and_ids(
    api: httpx.AsyncClient, emu: Emulator
) -> None:
    first, second = await _orders(api, emu)

    async def ids(params: dict[str, str]) -> list[int]:
        answer = await api.get("/v2/orders", params=params)
        assert answer.status_code in (200, 204), answer.text
        return [o["id"] for o in answer.json()] if answer.status_code == 200 else []

    assert await ids({"min_date_modified": "2026-12-04T16:50:00+02:00"}) == [second["id"]]
    assert await ids({"max_date_modified": "1796395800"}) == [first["id"]]
    assert await ids({"min_id": str(second["id"])}) == [second["id"]]
    assert await ids({"max_id": str(first["id"])}) == [first["id"]]
    assert await ids({"sort": "date_modified:desc"}) == [second["id"], first["id"]]
    assert await ids({"status_id": "2"}) == [first["id"]]
