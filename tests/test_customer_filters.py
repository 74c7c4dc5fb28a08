"""GET /v3/customers filters and sorts as customers.v3.yml declares them (dates, company, phone,
names, ids, emails, groups); a parameter the emulator does not implement is a 400, never an
unfiltered list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from stagesync.emulator import Emulator
from stagesync.emulator import customers as emulated
from tests.conftest import STORES

pytestmark = pytest.mark.anyio
HEADERS = {"X-Auth-Token": STORES["alpha"]}
PEOPLE = [
    ("ada@example.com", "Ada", "Lovelace", "Engines Ltd", "555-0100", "2026-01-01T10:00:00+00:00"),
    ("alan@example.com", "Alan", "Turing", "Bletchley", "555-0101", "2026-02-01T10:00:00+00:00"),
    ("grace@example.com", "Grace", "Hopper", "Navy", "555-0102", "2026-03-01T10:00:00+00:00"),
    ("edsger@example.com", "Edsger", "Dijkstra", "Engines Ltd", "", "2026-04-01T10:00:00+00:00"),
]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client() -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, int]]]:
    """alpha with four customers, created and modified a month apart (modified a day after
    created); the fixture yields the client and each email's id."""
    emulator = Emulator(dict(STORES))
    async with httpx.AsyncClient(transport=emulator.transport(), base_url="http://e") as http:
        body = [
            {"email": e, "first_name": f, "last_name": last, "company": c, "phone": p}
            for e, f, last, c, p, _ in PEOPLE
        ]
        made = await http.post("/stores/alpha/v3/customers", headers=HEADERS, json=body)
        assert made.status_code == 200, made.text
        ids = {c["email"]: c["id"] for c in made.json()["data"]}
        customers = emulated.state(emulator.stores["alpha"]).customers
        for email, *_, created in PEOPLE:
            customers[ids[email]]["date_created"] = created
            customers[ids[email]]["date_modified"] = created.replace("T10", "T11")
        await http.put(
            "/stores/alpha/v3/customers",
            headers=HEADERS,
            json=[{"id": ids["alan@example.com"], "customer_group_id": 0}],
        )
        customers[ids["alan@example.com"]]["date_modified"] = "2026-02-01T11:00:00+00:00"
        yield http, ids


async def _emails(http: httpx.AsyncClient, **params: Any) -> list[str]:
    answer = await http.get("/stores/alpha/v3/customers", headers=HEADERS, params=params)
    assert answer.status_code == 200, answer.text
    return [c["email"].split("@")[0] for c in answer.json()["data"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"date_created:min": "2026-02-01T10:00:00Z"}, ["alan", "grace", "edsger"]),
        ({"date_created:max": "2026-02-01T10:00:00Z"}, ["ada", "alan"]),
        ({"date_modified:min": "2026-03-01T11:00:00+00:00"}, ["grace", "edsger"]),
        ({"date_modified:max": "2026-01-01T12:00:00+01:00"}, ["ada"]),
        (
            {"date_modified:min": "2026-02-01T00:00:00Z", "date_modified:max": "2026-03-02"},
            ["alan", "grace"],
        ),
        ({"company:in": "Engines Ltd,Navy"}, ["ada", "grace", "edsger"]),
        ({"phone:in": "555-0101,555-0102"}, ["alan", "grace"]),
        ({"name:in": "grace hopper,Alan Turing"}, ["alan", "grace"]),
        ({"name:like": "ov,DIJK"}, ["ada", "edsger"]),
        ({"email:in": "ADA@example.com,grace@example.com"}, ["ada", "grace"]),
        ({"customer_group_id:in": "0"}, ["ada", "alan", "grace", "edsger"]),
        ({"customer_group_id:in": "7"}, []),
        ({"sort": "last_name:asc"}, ["edsger", "grace", "ada", "alan"]),
        ({"sort": "last_name:desc"}, ["alan", "ada", "grace", "edsger"]),
        ({"sort": "date_created:desc"}, ["edsger", "grace", "alan", "ada"]),
        ({"sort": "date_modified:asc", "company:in": "Engines Ltd"}, ["ada", "edsger"]),
    ],
)
async def test_filters_and_sorts(
    client: tuple[httpx.AsyncClient, dict[str, int]], params: dict[str, str], expected: list[str]
) -> None:
    http, _ = client
    assert await _emails(http, **params) == expected


async def test_id_in_and_a_sorted_list_paged_by_cursor(
    client: tuple[httpx.AsyncClient, dict[str, int]],
) -> None:
    http, ids = client
    wanted = f"{ids['grace@example.com']},{ids['ada@example.com']}"
    assert await _emails(http, **{"id:in": wanted}) == ["ada", "grace"]
    seen: list[str] = []
    params: dict[str, Any] = {"sort": "last_name:asc", "limit": 3}
    while True:
        answer = await http.get("/stores/alpha/v3/customers", headers=HEADERS, params=params)
        body = answer.json()
        seen += [c["email"].split("@")[0] for c in body["data"]]
        cursor = body["meta"]["cursor_pagination"]
        if "next" not in cursor["links"]:
            break
        params = {"sort": "last_name:asc", "limit": 3, "after": cursor["end_cursor"]}
    assert seen == ["edsger", "grace", "ada", "alan"]


@pytest.mark.parametrize(
    "params",
    [
        {"first_name": "Ada"},
        {"company": "Navy"},
        {"id:min": "1"},
        {"registration_ip_address:in": "10.0.0.1"},
        {"sort": "email:asc"},
        {"sort": "last_name"},
        {"date_created:min": "yesterday"},
    ],
)
async def test_what_the_emulator_does_not_implement_is_a_400(
    client: tuple[httpx.AsyncClient, dict[str, int]], params: dict[str, str]
) -> None:
    http, _ = client
    answer = await http.get("/stores/alpha/v3/customers", headers=HEADERS, params=params)
    assert answer.status_code in (400, 422), answer.text
    body = answer.json()
    assert body["status"] == answer.status_code and body["title"]
