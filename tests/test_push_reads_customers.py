"""push reads only the customers its plan touches: ``email:in`` with every sub-resource, as many
emails a request as fit; creates by ``email:in`` alone; drift and "now exists" found as strictly
as a whole read finds them, and the estimate follows the reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from stagesync import api
from stagesync.emulator import Emulator
from stagesync.emulator.bulk import fill_store
from stagesync.entities import (
    REFERENCED,
    REGISTRY,
    TARGETED,
    TARGETED_KEYS,
    WHOLE,
    WHOLE_KEYS,
    push_reads,
)
from stagesync.entities import customers as kind
from stagesync.entities.base import QUERY_BUDGET
from stagesync.errors import PlanRefused, PolicyRefused
from stagesync.ports import StoreApi
from tests import commerce
from tests.conftest import Connector, connector_for, is_lock_request, is_write, on_store
from tests.test_probe import probe, set_quirks, statuses

CUSTOMERS = "/v3/customers"
COMMA = '"a,b"@example.com'
"""An email with a comma (in a quoted local part), which ``email:in`` would split."""


def email(i: int) -> str:
    return f"customer.{i:05d}@example.com"


def seed(size: int, comma: bool = False) -> Any:
    """``size`` customers: every third in the group Wholesale, every fifth with the attribute
    Tier, the first ten with an address; and the customer ``COMMA`` if asked."""

    async def run(client: StoreApi) -> None:
        group = await client.post("/v2/customer_groups", {"name": "Wholesale"})
        (tier,) = await client.post(f"{CUSTOMERS}/attributes", [{"name": "Tier", "type": "string"}])
        people = [person(i, int(group["id"]), int(tier["id"])) for i in range(size)]
        if comma:
            people.append({"email": COMMA, "first_name": "Comma", "last_name": "Person"})
        for start in range(0, len(people), 10):
            await client.post(CUSTOMERS, people[start : start + 10])

    return lambda client: run(client)


def person(i: int, group_id: int, tier_id: int) -> dict[str, Any]:
    body: dict[str, Any] = {"email": email(i), "first_name": f"First{i}", "last_name": "Last"}
    if i % 3 == 0:
        body["customer_group_id"] = group_id
    if i % 5 == 0:
        body["attributes"] = [{"attribute_id": tier_id, "attribute_value": "gold"}]
    if i < 10:
        body["addresses"] = [
            {
                "first_name": f"First{i}",
                "last_name": "Last",
                "address1": f"{i} Main St",
                "city": "Austin",
                "state_or_province": "Texas",
                "postal_code": "78701",
                "country_code": "US",
            }
        ]
    return body


async def ids_of(client: StoreApi, emails: list[str]) -> dict[str, int]:
    found = await client.get_all(CUSTOMERS)
    return {str(c["email"]).casefold(): int(c["id"]) for c in found}


def rename(emails: list[str], name: str = "Renamed") -> Any:
    async def run(client: StoreApi) -> None:
        ids = await ids_of(client, emails)
        await client.put(CUSTOMERS, [{"id": ids[e], "first_name": name} for e in emails])

    return run


def make_plan(
    tmp: Path, config: Path, connector: Connector, kinds: tuple[str, ...] = ("customers",)
) -> Path:
    """Pull both stores into ``tmp``, plan alpha -> beta for ``kinds`` (every kind: empty)."""
    tmp.mkdir(parents=True, exist_ok=True)
    api.pull("alpha", config_path=config, out=tmp / "alpha", connector=connector)
    api.pull("beta", config_path=config, out=tmp / "beta", connector=connector)
    plan_path = tmp / "plan.json"
    plan = api.diff(tmp / "alpha", tmp / "beta", kinds=list(kinds) or None, config_path=config)
    api.save_plan(plan, plan_path)
    return plan_path


def reads(emulator: Emulator, store: str) -> list[dict[str, Any]]:
    return [
        r
        for r in emulator.requests
        if r["method"] == "GET"
        and r["path"].startswith(f"/stores/{store}/")
        and not is_lock_request(r)
    ]


def customer_reads(emulator: Emulator, store: str) -> list[dict[str, Any]]:
    return [r for r in reads(emulator, store) if r["path"].endswith(CUSTOMERS)]


def test_push_modes_of_plans_with_customers() -> None:
    # The customer groups the plan's customers name are read by ID, for their keys.
    assert push_reads(["customers"]) == {
        "channels": WHOLE,
        "customer_groups": REFERENCED,
        "customers": TARGETED,
    }
    # Orders are read whole and name any customer: every customer's key, without sub-resources.
    assert push_reads(["orders"])["customers"] == WHOLE_KEYS
    assert push_reads(["customers", "orders"])["customers"] == TARGETED_KEYS
    assert REGISTRY["customers"].referable  # read by id:in / email:in when every user is targeted


def update_three_create_two(size: int, products: int = 0) -> tuple[Emulator, list[str], list[str]]:
    emulator = Emulator({"alpha": "alpha-token", "beta": "beta-token"})
    for store in ("alpha", "beta"):
        fill_store(emulator.stores[store], products)
    on_store(emulator, "alpha", seed(size))
    on_store(emulator, "beta", seed(size))
    changed = [email(3), email(5), email(size - 1)]  # in the group, with an attribute, the last
    on_store(emulator, "alpha", rename(changed))
    added = [email(size), email(size + 1)]

    async def add(client: StoreApi) -> None:
        bodies = [{"email": e, "first_name": "New", "last_name": "Last"} for e in added]
        await client.post(CUSTOMERS, bodies)

    on_store(emulator, "alpha", add)
    return emulator, changed, added


@pytest.mark.parametrize("size", [30, 600])
def test_an_update_reads_only_the_customers_it_touches(
    size: int, tmp_path: Path, config_path: Path
) -> None:
    emulator, changed, added = update_three_create_two(size)
    connector = connector_for(emulator)
    plan_path = make_plan(tmp_path, config_path, connector)
    emulator.clear_requests()

    result = api.push(plan_path, config_path=config_path, connector=connector)

    assert result.ok
    assert sorted(r.operation.key.key for r in result.results) == sorted(changed + added)
    queries = [r["query"] for r in customer_reads(emulator, "beta")]
    assert queries == [
        {
            "email:in": ",".join(sorted(changed)),
            "include": kind.INCLUDE,
            "page": "1",
            "limit": "250",
        },
        {"email:in": ",".join(sorted(added)), "page": "1", "limit": "250"},  # existence only
    ] or queries == [
        {"email:in": ",".join(sorted(added)), "page": "1", "limit": "250"},
        {
            "email:in": ",".join(sorted(changed)),
            "include": kind.INCLUDE,
            "page": "1",
            "limit": "250",
        },
    ]
    paths = sorted(r["path"].split("/", 3)[3] for r in reads(emulator, "beta"))
    assert paths.count("v3/customers/attributes") == 1  # one changed customer has a Tier value
    assert result.requests == result.plan.estimated_requests


def test_the_same_customer_plan_costs_the_same_whatever_the_store_holds(
    tmp_path: Path, config_path: Path
) -> None:
    """Neither the customers nor the products a store holds change what a customer plan
    reads (customer groups, read whole for their IDs, do not bring every product key)."""
    costs = []
    for size, products in ((30, 0), (600, 300)):
        emulator, _, _ = update_three_create_two(size, products)
        connector = connector_for(emulator)
        work = tmp_path / str(size)
        work.mkdir()
        plan_path = make_plan(work, config_path, connector)
        emulator.clear_requests()
        result = api.push(plan_path, config_path=config_path, connector=connector)
        assert result.ok
        costs.append(
            (result.requests, result.plan.estimated_requests, len(reads(emulator, "beta")))
        )
    assert costs[0] == costs[1]
    assert costs[0][0] == costs[0][1]


def test_an_update_refuses_when_its_customer_changed_or_is_gone(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "alpha", seed(40))
    on_store(emulator, "beta", seed(40))
    on_store(emulator, "alpha", rename([email(1), email(2), email(7)]))
    plan_path = make_plan(tmp_path, config_path, connector)

    async def drift(client: StoreApi) -> None:
        ids = await ids_of(client, [email(1), email(2)])
        await client.put(
            f"{CUSTOMERS}/attribute-values",
            [{"customer_id": ids[email(1)], "attribute_id": await tier(client), "value": "x"}],
        )
        await client.delete(CUSTOMERS, {"id:in": ids[email(2)]})

    on_store(emulator, "beta", drift)
    emulator.clear_requests()
    with pytest.raises(PlanRefused) as refused:
        api.push(plan_path, config_path=config_path, connector=connector)

    assert refused.value.drifted == [
        f"customers {email(1)}: changed on the destination",
        f"customers {email(2)}: no longer exists on the destination",
    ]
    assert [r for r in emulator.requests if is_write(r)] == []
    assert all("email:in" in r["query"] for r in customer_reads(emulator, "beta"))


async def tier(client: StoreApi) -> int:
    (found,) = await client.get_all(f"{CUSTOMERS}/attributes")
    return int(found["id"])


def test_creates_refuse_when_the_customers_now_exist_whatever_the_letter_case(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    """The platform keeps emails unique whatever their letter case: a create of new@example.com
    refuses once New@Example.com exists. An email with a comma, which ``email:in`` would split,
    is looked up by v2's ``email`` filter."""

    async def add(client: StoreApi, emails: list[str]) -> None:
        bodies = [{"email": e, "first_name": "New", "last_name": "Last"} for e in emails]
        await client.post(CUSTOMERS, bodies)

    on_store(emulator, "alpha", lambda client: add(client, ["new@example.com", COMMA, "k@x.io"]))
    plan_path = make_plan(tmp_path, config_path, connector)
    on_store(emulator, "beta", lambda client: add(client, ["New@Example.com", COMMA]))
    emulator.clear_requests()

    with pytest.raises(PlanRefused) as refused:
        api.push(plan_path, config_path=config_path, connector=connector)

    assert sorted(refused.value.drifted) == [
        f"customers {COMMA}: now exists on the destination",
        "customers new@example.com: now exists on the destination",
    ]
    assert [r for r in emulator.requests if is_write(r)] == []
    queries = sorted(
        (r["path"].rsplit("/", 2)[-2], sorted(r["query"].items()))
        for r in reads(emulator, "beta")
        if r["path"].endswith("/customers")
    )
    assert queries == [
        ("v2", [("email", COMMA)]),
        ("v3", [("email:in", "k@x.io,new@example.com"), ("limit", "250"), ("page", "1")]),
    ]


def test_an_email_with_a_comma_is_read_by_id_and_costs_what_was_estimated(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "alpha", seed(12, comma=True))
    on_store(emulator, "beta", seed(12, comma=True))
    on_store(emulator, "alpha", rename([COMMA, email(4)]))
    plan_path = make_plan(tmp_path, config_path, connector)
    emulator.clear_requests()

    result = api.push(plan_path, config_path=config_path, connector=connector)

    assert result.ok and sorted(r.operation.key.key for r in result.results) == [
        COMMA,
        email(4),
    ]
    queries = [r["query"] for r in customer_reads(emulator, "beta")]
    assert {"email:in": email(4), "include": kind.INCLUDE, "page": "1", "limit": "250"} in queries
    assert [q for q in queries if "id:in" in q] == [
        {"id:in": q["id:in"], "include": kind.INCLUDE, "page": "1", "limit": "250"}
        for q in queries
        if "id:in" in q
    ]
    assert len([q for q in queries if "id:in" in q]) == 1
    assert result.requests == result.plan.estimated_requests
    after = on_store(emulator, "beta", lambda client: kind.read_by_keys(client, [COMMA]))
    assert [c["first_name"] for c in after] == ["Renamed"]


def test_targeted_reads_answer_what_a_whole_read_answers(emulator: Emulator) -> None:
    """By key, a customer comes back exactly as ``fetch`` makes it (addresses, attributes by
    name, form fields, store credit); lean reads by key and by ID give keys and IDs."""
    on_store(emulator, "alpha", seed(30, comma=True))
    keys = [email(0), email(5).upper(), email(9), COMMA, "nobody@example.com"]

    async def read(client: StoreApi) -> tuple[Any, ...]:
        whole = kind.identify(await kind.fetch(client))
        targeted = kind.identify(await kind.read_by_keys(client, [k.casefold() for k in keys]))
        lean = kind.identify(await kind.lean_by_keys(client, [k.casefold() for k in keys]))
        ids = [whole[email(i)]["id"] for i in (1, 2, 29)]
        by_ids = kind.identify(await kind.lean_by_ids(client, ids))
        return whole, targeted, lean, by_ids

    whole, targeted, lean, by_ids = on_store(emulator, "alpha", read)
    wanted = [email(0), email(5), email(9), COMMA]
    assert targeted == {key: whole[key] for key in wanted}
    assert targeted[email(5)]["_attributes"] == [
        {"name": "Tier", "type": "string", "value": "gold"}
    ]
    assert targeted[email(0)]["addresses"]
    assert {key: raw["id"] for key, raw in lean.items()} == {k: whole[k]["id"] for k in wanted}
    assert sorted(by_ids) == [email(1), email(2), email(29)]


def test_emails_are_packed_as_many_to_a_request_as_the_url_allows() -> None:
    keys = [f"someone.with.a.long.name.{i:04d}@subdomain.example.com" for i in range(600)]
    queries = kind.key_queries(keys)
    assert [k for q in queries for k in q["email:in"].split(",")] == keys
    assert len(queries) < 20
    prefix = "https://api.bigcommerce.com/stores/abcdefghij/v3/customers?"
    for query in queries:
        url = prefix + urlencode({**query, "include": kind.INCLUDE, "page": 1, "limit": 250})
        assert len(url) <= 2048
    # Each request is full: its emails, percent-encoded as sent, leave no room for the next.
    for query, following in zip(queries, queries[1:], strict=False):
        sent = len(quote(query["email:in"], safe=""))
        assert sent <= QUERY_BUDGET < sent + len(quote("," + following["email:in"].split(",")[0]))


def test_a_whole_read_for_keys_lists_customers_without_sub_resources(
    emulator: Emulator,
) -> None:
    on_store(emulator, "alpha", seed(3))
    emulator.clear_requests()
    found = on_store(emulator, "alpha", kind.fetch_keys)
    assert sorted(kind.identify(found)) == [email(0), email(1), email(2)]
    assert [r["query"] for r in emulator.requests] == [{"page": "1", "limit": "250"}]


def test_the_probe_finds_a_store_that_ignores_email_in(
    emulator: Emulator, config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Push relies on ``email:in`` (``ASSUMPTION_CUSTOMERS_FILTER_EMAIL_IN``): ``stagesync
    probe`` checks it, and a store that answers it with every customer differs."""
    on_store(emulator, "alpha", seed(4))

    def status(connector: Connector) -> str:
        result = probe(monkeypatch, config_path, connector, "alpha", "--format", "json")
        found = statuses(json.loads(result.stdout))
        return found["ASSUMPTION_CUSTOMERS_FILTER_EMAIL_IN"]

    assert status(connector_for(emulator)) == "holds"
    set_quirks(emulator, ignored_filters=["email:in"])
    assert status(connector_for(emulator)) == "differs"


def test_a_few_of_many_customers_are_no_mass_change_but_most_are(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    """``mass-change`` counts every customer of the destination: push, which reads only the
    plan's, does not judge it again on them (25 of 25 read is not 100% of 200), and keeps the
    plan's finding when the plan does change most of a kind."""
    on_store(emulator, "alpha", seed(200))
    on_store(emulator, "beta", seed(200))
    for start, end in ((10, 20), (20, 30), (30, 35)):
        on_store(emulator, "alpha", rename([email(i) for i in range(start, end)]))
    few = make_plan(tmp_path / "few", config_path, connector)
    assert [f.rule for f in api.load_plan(few).findings] == ["notifies-people"]  # a warning
    result = api.push(few, config_path=config_path, connector=connector)
    assert result.ok and len(result.results) == 25
    assert [f.rule for f in result.findings] == ["notifies-people"]

    for start in range(0, 200, 10):
        on_store(emulator, "alpha", rename([email(i) for i in range(start, start + 10)], "Again"))
    most = make_plan(tmp_path / "most", config_path, connector)
    with pytest.raises(PolicyRefused) as refused:
        api.push(most, config_path=config_path, connector=connector)
    assert [(f.rule, f.entity) for f in refused.value.findings] == [("mass-change", "customers")]
    assert str(refused.value).splitlines()[1] == (
        "  ERROR  mass-change  customers: the plan updates, replaces or deletes 200 of the "
        "destination's 200 customers (100%), more than the 50% the rule allows."
    )


def test_with_orders_every_customer_key_is_listed_once_beside_the_plans_customers(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    """Orders are read whole and may name any customer: push lists every customer's key (no
    sub-resources, no attribute names) once, reads the plan's customers by email, and costs
    what the plan estimated."""
    on_store(emulator, "alpha", commerce.build)
    first = make_plan(tmp_path / "first", config_path, connector, kinds=())
    assert api.push(first, config_path=config_path, connector=connector).ok

    async def edit(client: StoreApi) -> None:
        (jane, *_) = await client.get_all(CUSTOMERS)
        await client.put(CUSTOMERS, [{"id": jane["id"], "first_name": "Changed"}])
        (order, *_) = await client.get_all("/v2/orders")
        await client.put(f"/v2/orders/{order['id']}", {"staff_notes": "changed"})

    on_store(emulator, "alpha", edit)
    plan_path = make_plan(tmp_path / "second", config_path, connector, kinds=())
    assert sorted(op.kind for op in api.load_plan(plan_path).operations) == [
        "customers",
        "orders",
    ]
    emulator.clear_requests()

    result = api.push(plan_path, config_path=config_path, connector=connector)

    assert result.ok
    queries = [r["query"] for r in customer_reads(emulator, "beta")]
    (changed,) = [q for q in queries if "email:in" in q]
    assert changed["include"] == kind.INCLUDE
    assert [q for q in queries if q is not changed] == [{"page": "1", "limit": "250"}]
    assert result.requests == result.plan.estimated_requests
