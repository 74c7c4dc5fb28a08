"""GET /v3/customers pages by cursor where the reference declares it (after/before,
meta.cursor_pagination), and by page as before."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from stagesync.emulator import Emulator
from tests.conftest import STORES

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_cursor_paging_walks_every_customer_once() -> None:
    emulator = Emulator(dict(STORES))
    headers = {"X-Auth-Token": STORES["alpha"]}
    async with httpx.AsyncClient(transport=emulator.transport(), base_url="http://e") as client:

        async def get(**params: Any) -> httpx.Response:
            return await client.get("/stores/alpha/v3/customers", headers=headers, params=params)

        body = [
            {"email": f"c{n}@example.com", "first_name": "C", "last_name": str(n)} for n in range(5)
        ]
        r = await client.post("/stores/alpha/v3/customers", headers=headers, json=body)
        assert r.status_code == 200, r.text
        everyone = [c["id"] for c in r.json()["data"]]

        first = (await get(limit=2)).json()
        assert set(first["meta"]) == {"pagination", "cursor_pagination"}
        seen = [c["id"] for c in first["data"]]
        cursor = first["meta"]["cursor_pagination"]
        while "next" in cursor["links"]:
            page = (await get(limit=2, after=cursor["end_cursor"])).json()
            assert set(page["meta"]) == {"cursor_pagination"}
            seen += [c["id"] for c in page["data"]]
            cursor = page["meta"]["cursor_pagination"]
        assert seen == everyone
        assert cursor["count"] == 1 and "previous" in cursor["links"]

        back = (await get(limit=2, before=cursor["start_cursor"])).json()
        assert [c["id"] for c in back["data"]] == everyone[2:4]
        assert set((await get(limit=2, page=2)).json()["meta"]) == {"pagination"}
        for bad in ({"after": "x", "before": "y"}, {"after": "!!", "limit": 2}):
            assert (await get(**bad)).status_code == 422
