"""Seeded records carry realistic creation and modification times in the past, spread over days,
the same for the same seed, so that anything syncing by day can be exercised on the day the
emulator starts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx

from stagesync.emulator import Emulator
from stagesync.emulator.seed_dates import END, START

TOKEN = {"X-Auth-Token": "production-token"}


def _read(emulator: Emulator, path: str, params: dict[str, str] | None = None) -> Any:
    async def run() -> Any:
        async with httpx.AsyncClient(
            transport=emulator.transport(), base_url="http://emulator.test/stores/production"
        ) as client:
            answer = await client.get(path, params=params or {}, headers=TOKEN)
            assert answer.status_code == 200, answer.text
            return answer.json()

    return asyncio.run(run())


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_seeded_records_are_dated_in_the_past_spread_over_days() -> None:
    emulator = Emulator(seed="demo")
    now = datetime.now(UTC)
    lists = {
        "/v3/catalog/products": {"limit": "250"},
        "/v3/customers": {},
        "/v3/pricelists": {},
        "/v3/channels": {},
    }
    for path, params in lists.items():
        records = _read(emulator, path, params)["data"]
        assert records, path
        for record in records:
            made, changed = _instant(record["date_created"]), _instant(record["date_modified"])
            assert START <= made <= changed <= min(END, now), (path, record["id"])
        if len(records) > 3:
            days = {_instant(r["date_modified"]).date() for r in records}
            assert len(days) > len(records) // 2, path
    products = _read(emulator, "/v3/catalog/products", {"limit": "250"})["data"]
    by_id = sorted(products, key=lambda p: p["id"])
    assert [p["date_created"] for p in by_id] == sorted(p["date_created"] for p in by_id)
    assert any(p["date_created"] != p["date_modified"] for p in products)
    assert any(p["date_created"] == p["date_modified"] for p in products)


def test_seed_dates_are_deterministic_and_days_can_be_synced() -> None:
    first, second = Emulator(seed="demo"), Emulator(seed="demo")
    one = _read(first, "/v3/catalog/products", {"limit": "250"})["data"]
    two = _read(second, "/v3/catalog/products", {"limit": "250"})["data"]
    assert [(p["sku"], p["date_modified"]) for p in one] == [
        (p["sku"], p["date_modified"]) for p in two
    ]
    # A pull by day finds the products modified since a day, not every product.
    middle = sorted(p["date_modified"] for p in one)[len(one) // 2]
    since = _read(first, "/v3/catalog/products", {"limit": "250", "date_modified:min": middle})
    assert 0 < len(since["data"]) < len(one)
    assert all(p["date_modified"] >= middle for p in since["data"])


def test_a_write_moves_a_seeded_date_modified_to_now() -> None:
    emulator = Emulator(seed="demo")
    product = _read(emulator, "/v3/catalog/products", {"limit": "1"})["data"][0]

    async def write() -> Any:
        async with httpx.AsyncClient(
            transport=emulator.transport(), base_url="http://emulator.test/stores/production"
        ) as client:
            answer = await client.put(
                f"/v3/catalog/products/{product['id']}", json={"price": 1}, headers=TOKEN
            )
            return answer.json()["data"]

    before = datetime.now(UTC).replace(microsecond=0)
    written = asyncio.run(write())
    assert _instant(written["date_modified"]) >= before
    assert written["date_created"] == product["date_created"]
