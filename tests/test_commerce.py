"""Customers, customer groups, price lists, shipping and orders: the round trip through the
emulator, order status, re-push idempotency, batching and concurrency limits, redaction."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from stagesync import api
from stagesync.emulator import Emulator
from stagesync.emulator import customers as emulated_customers
from stagesync.emulator import orders as emulated_orders
from stagesync.entities import REGISTRY
from stagesync.entities.base import Lookup
from stagesync.errors import PlanRefused, StageSyncError, ValidationError
from stagesync.ports import StoreApi
from stagesync.push import OperationResult, apply_plan
from tests import commerce
from tests.conftest import Connector, is_write, on_store

KINDS = [
    "customer_groups",
    "customers",
    "price_lists",
    "price_list_records",
    "price_list_assignments",
    "shipping_zones",
    "shipping_methods",
    "orders",
]
WRITES = {"POST", "PUT", "DELETE"}


def plan_to_beta(tmp: Path, config: Path, connector: Connector, name: str) -> Path:
    api.pull("alpha", config_path=config, out=tmp / "alpha", connector=connector)
    api.pull("beta", config_path=config, out=tmp / f"beta-{name}", connector=connector)
    plan_path = tmp / f"plan-{name}.json"
    api.save_plan(api.diff(tmp / "alpha", tmp / f"beta-{name}"), plan_path)
    return plan_path


def remaining(tmp: Path, config: Path, connector: Connector) -> list[str]:
    api.pull("beta", config_path=config, out=tmp / "beta-after", connector=connector)
    return [op.describe() for op in api.diff(tmp / "alpha", tmp / "beta-after").operations]


@pytest.fixture
def built(emulator: Emulator) -> dict[str, int]:
    ids: dict[str, int] = on_store(emulator, "alpha", commerce.build)
    return ids


def beta_writes(emulator: Emulator) -> Counter[tuple[str, str]]:
    return Counter(
        (r["method"], r["path"].removeprefix("/stores/beta"))
        for r in emulator.requests
        if r["store_hash"] == "beta" and is_write(r)
    )


def test_every_kind_round_trips_within_the_platform_limits(
    emulator: Emulator,
    tmp_path: Path,
    config_path: Path,
    connector: Connector,
    built: dict[str, int],
) -> None:
    plan_path = plan_to_beta(tmp_path, config_path, connector, "first")
    plan = api.load_plan(plan_path)
    assert {op.kind for op in plan.operations} >= set(KINDS)
    orders = [op.after for op in plan.operations if op.kind == "orders" and op.after]
    assert orders and all(o["channel"] == "default" and "channel_id" not in o for o in orders)
    emulator.settings.latency_ms = 3  # requests overlap, so concurrency limits would bite
    emulator.clear_requests()

    result = api.push(plan_path, config_path=config_path, connector=connector, order_status="keep")

    assert [(r.operation.describe(), r.error) for r in result.results if r.status != "done"] == []
    assert not [r for r in emulator.requests if r["status"] == 429]
    writes = beta_writes(emulator)
    posted = [
        r["body"]
        for r in emulator.requests
        if r["method"] == "POST" and r["path"] == "/stores/beta/v3/customers"
    ]
    assert sorted(c["email"] for body in posted for c in body) == sorted(
        [commerce.JANE, commerce.BOB]
    )
    price_list_upserts = [k for k in writes if k[1].endswith("/records")]
    assert len(price_list_upserts) == 2 and all(writes[k] == 1 for k in price_list_upserts)
    assert 1 <= writes[("POST", "/v3/pricelists/assignments")] <= 2
    emulator.settings.latency_ms = 0
    assert remaining(tmp_path, config_path, connector) == []


def test_customers_are_created_ten_at_a_time(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    async def many(client: StoreApi) -> None:
        for start in (0, 10):
            await client.post(
                "/v3/customers",
                [
                    {"email": f"c{i}@example.com", "first_name": "C", "last_name": str(i)}
                    for i in range(start, min(start + 10, 23))
                ],
            )
        await client.post(
            "/v3/customers",
            [
                {"email": f"c{i}@example.com", "first_name": "C", "last_name": str(i)}
                for i in range(20, 23)
            ],
        )

    on_store(emulator, "alpha", many)
    emulator.clear_requests()
    result = api.push(
        plan_to_beta(tmp_path, config_path, connector, "first"),
        config_path=config_path,
        connector=connector,
    )
    assert result.ok
    posted = [
        r["body"]
        for r in emulator.requests
        if r["method"] == "POST" and r["path"] == "/stores/beta/v3/customers"
    ]
    assert sorted(len(body) for body in posted) == [3, 10, 10]


def test_plan_warns_about_carriers_passwords_and_notifications(
    tmp_path: Path, config_path: Path, connector: Connector, built: dict[str, int]
) -> None:
    plan = api.load_plan(plan_to_beta(tmp_path, config_path, connector, "first"))
    text = "\n".join(plan.warnings)
    assert 'shipping zone "Domestic" uses the USPS carrier' in text
    assert "EU" not in text
    assert "password reset at first login" in text
    assert "Writing customers may notify customers" in text
    assert "Writing orders may notify customers" in text
    assert "--order-status keep" in text
    assert api.push_notices(plan) and "disabling transactional emails" in api.push_notices(plan)[0]


def test_orders_are_created_pending_by_default(
    emulator: Emulator,
    tmp_path: Path,
    config_path: Path,
    connector: Connector,
    built: dict[str, int],
) -> None:
    result = api.push(
        plan_to_beta(tmp_path, config_path, connector, "first"),
        config_path=config_path,
        connector=connector,
    )
    assert result.ok
    created = [
        r["body"]
        for r in emulator.requests
        if r["method"] == "POST" and r["path"] == "/stores/beta/v2/orders"
    ]
    assert sorted(body["status_id"] for body in created) == [1, 1]
    assert sorted(body["external_id"] for body in created) == sorted(
        ["AMZ-1", f"alpha:{built['order']}"]
    )
    assert remaining(tmp_path, config_path, connector) == [
        f"~ orders alpha:{built['order']} (status_id)"
    ]


def test_a_repushed_plan_creates_no_second_order_or_customer(
    emulator: Emulator,
    tmp_path: Path,
    config_path: Path,
    connector: Connector,
    built: dict[str, int],
) -> None:
    plan_path = plan_to_beta(tmp_path, config_path, connector, "first")
    assert api.push(plan_path, config_path=config_path, connector=connector).ok
    beta = emulator.stores["beta"]

    def counts() -> tuple[int, int]:
        return (
            len(emulated_orders.state(beta).orders),
            len(emulated_customers.state(beta).customers),
        )

    assert counts() == (2, 2)

    # (a) The same plan again: its journal says it was pushed; refused before any write.
    emulator.clear_requests()
    with pytest.raises(PlanRefused, match=r"was pushed before .*--resume"):
        api.push(plan_path, config_path=config_path, connector=connector)
    assert not [r for r in emulator.requests if is_write(r)]

    # (b) Resumed anyway: every operation is done already, so nothing is written.
    emulator.clear_requests()
    resumed = api.push(plan_path, config_path=config_path, connector=connector, resume=True)
    assert resumed.ok and {r.status for r in resumed.results} == {"done"}
    assert not [r for r in emulator.requests if is_write(r)]
    assert counts() == (2, 2)

    # (c) The same plan under another name (no journal): the orders and customers it would
    # create exist now, so the precondition check refuses it, naming them.
    copy = tmp_path / "plan-copy.json"
    copy.write_bytes(plan_path.read_bytes())
    emulator.clear_requests()
    with pytest.raises(PlanRefused) as refused:
        api.push(copy, config_path=config_path, connector=connector)
    assert "orders AMZ-1: now exists on the destination" in str(refused.value)
    assert f"customers {commerce.JANE.casefold()}: now exists" in str(refused.value)
    assert not [r for r in emulator.requests if is_write(r)]
    # With --allow-drift, those operations are skipped: still no second order or customer.
    another = tmp_path / "plan-another.json"
    another.write_bytes(plan_path.read_bytes())
    emulator.clear_requests()
    skipped = api.push(another, config_path=config_path, connector=connector, allow_drift=True)
    assert {r.status for r in skipped.results} == {"drifted"}
    assert not [r for r in emulator.requests if is_write(r)]
    assert counts() == (2, 2)

    # Even past the precondition check, creating an order the destination already has finds it
    # by its origin reference instead of posting it again.
    async def create_again(client: StoreApi) -> int:
        lookup = Lookup("beta")
        record = api.load_plan(plan_path).operations[-1].after
        assert record is not None
        return await REGISTRY["orders"].create(client, "AMZ-1", record, lookup)

    emulator.clear_requests()
    order_id = on_store(emulator, "beta", create_again)
    assert order_id in emulated_orders.state(beta).orders
    assert not [r for r in emulator.requests if is_write(r)]
    assert counts() == (2, 2)


def test_updates_converge(
    emulator: Emulator,
    tmp_path: Path,
    config_path: Path,
    connector: Connector,
    built: dict[str, int],
) -> None:
    first = api.push(
        plan_to_beta(tmp_path, config_path, connector, "first"),
        config_path=config_path,
        connector=connector,
        order_status="keep",
    )
    assert first.ok

    async def change(client: StoreApi) -> None:
        bob = built["bob"]
        await client.put("/v3/customers", [{"id": built["jane"], "phone": "+44 20 7946 0001"}])
        addresses = await client.get_all("/v3/customers/addresses", {"customer_id:in": bob})
        await client.delete("/v3/customers/addresses", {"id:in": addresses[0]["id"]})
        attributes = await client.get_all("/v3/customers/attributes")
        await client.put(
            "/v3/customers/attribute-values",
            [
                {
                    "attribute_id": attributes[0]["id"],
                    "value": "silver",
                    "customer_id": built["jane"],
                }
            ],
        )
        await client.put(f"/v2/customer_groups/{built['trade']}", {"discount_rules": []})
        await client.put(
            f"/v3/pricelists/{built['wholesale']}/records",
            [{"sku": "TENT-1", "currency": "usd", "price": 155.0}],
        )
        zones = await client.get_all("/v2/shipping/zones")
        await client.put(
            f"/v2/shipping/zones/{zones[1]['id']}", {"locations": [{"country_iso2": "FR"}]}
        )
        await client.put(f"/v2/orders/{built['order']}", {"staff_notes": "Delivered"})

    on_store(emulator, "alpha", change)
    second = api.push(
        plan_to_beta(tmp_path, config_path, connector, "second"),
        config_path=config_path,
        connector=connector,
        order_status="keep",
    )
    assert sorted(r.operation.describe() for r in second.results) == [
        "~ customer_groups Trade (discount_rules)",
        "~ customers bob@example.org (addresses)",
        "~ customers jane.doe@example.com (attributes, phone)",
        f"~ orders alpha:{built['order']} (staff_notes)",
        "~ price_list_records Wholesale/TENT-1/usd (price)",
        "~ shipping_zones EU (locations)",
    ]
    assert second.ok, [r.error for r in second.results]
    assert remaining(tmp_path, config_path, connector) == []


def test_coupons_are_kept_by_code_and_the_plan_says_they_cannot_be_attached(
    emulator: Emulator,
    tmp_path: Path,
    config_path: Path,
    connector: Connector,
    built: dict[str, int],
) -> None:
    emulated_orders.add_coupon(emulator.stores["alpha"], built["order"], "SUMMER", 5)
    plan = api.load_plan(plan_to_beta(tmp_path, config_path, connector, "first"))
    order = next(op for op in plan.operations if op.key.key == f"alpha:{built['order']}")
    assert order.after is not None
    assert [c["code"] for c in order.after["coupons"]] == ["SUMMER"]
    assert any("used coupon(s) SUMMER" in w for w in plan.warnings)


def test_duplicate_customer_group_names_are_a_pull_error(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    async def two(client: StoreApi) -> None:
        await client.post("/v2/customer_groups", {"name": "Trade"})
        await client.post("/v2/customer_groups", {"name": "Trade"})

    on_store(emulator, "alpha", two)
    with pytest.raises(
        StageSyncError, match=r'customer_groups "Trade" appears twice .*ids \d+ and \d+'
    ):
        api.pull(
            "alpha",
            config_path=config_path,
            out=tmp_path / "a",
            kinds=["customer_groups"],
            connector=connector,
        )


# -- redaction ------------------------------------------------------------------------------


def test_redacted_pull_leaves_no_personal_data_in_the_written_files(
    tmp_path: Path, config_path: Path, connector: Connector, built: dict[str, int]
) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    api.pull("alpha", config_path=config_path, out=first, redact=True, connector=connector)
    api.pull("alpha", config_path=config_path, out=second, redact=True, connector=connector)

    written = {
        p.relative_to(first): p.read_bytes() for p in sorted(first.rglob("*")) if p.is_file()
    }
    again = {
        p.relative_to(second): p.read_bytes() for p in sorted(second.rglob("*")) if p.is_file()
    }
    assert {k: v for k, v in written.items() if k.name != "snapshot.json"} == {
        k: v for k, v in again.items() if k.name != "snapshot.json"
    }
    everything = (
        b"\n".join([str(p).encode() for p in written] + list(written.values())).decode().casefold()
    )
    for original in commerce.PII + ["Springfield", "Leave with the neighbour", "Call Jane"]:
        assert original.casefold() not in everything, original

    emails = set(re.findall(r'"email": "([^"]+@[^"]+)"', everything))
    assert len(emails) == 2
    assert all(re.fullmatch(r"customer-[0-9a-f]{16}@example\.com", e) for e in emails)
    # The order still points at its (pseudonymous) customer.
    customers = {p.stem.split("~")[0] for p in (first / "customers").iterdir()}
    assert len(customers) == 2
    plan = api.diff(first, second)
    assert plan.empty


# -- the emulator's limits, and the client's respect for them ------------------------------


def test_emulator_v2_lists_errors_and_read_only_fields(emulator: Emulator) -> None:
    async def work(client: StoreApi) -> None:
        assert await client.get("/v2/customer_groups") is None  # 204: nothing there
        await client.post("/v2/customer_groups", {"name": "Trade"})
        assert [g["name"] for g in await client.get("/v2/customer_groups")] == ["Trade"]
        assert await client.get("/v2/customer_groups", {"page": 2}) is None
        with pytest.raises(ValidationError):
            await client.post("/v2/customer_groups", {"name": "X", "id": 5})

    with pytest.raises(StageSyncError) as error:
        on_store(emulator, "alpha", work)
    assert "cannot be written to" in str(error.value)
    last = emulator.requests[-1]
    assert last["status"] == 400


def test_emulator_batch_and_concurrency_limits(emulator: Emulator) -> None:
    body = [
        {"email": f"c{i}@example.com", "first_name": "C", "last_name": str(i)} for i in range(11)
    ]

    async def over_batch(client: StoreApi) -> None:
        await client.post("/v3/customers", body)

    with pytest.raises(ValidationError, match="413"):
        on_store(emulator, "alpha", over_batch)

    emulator.settings.latency_ms = 30

    async def setup(client: StoreApi) -> tuple[list[int], list[int]]:
        created = await client.post("/v3/customers", body[:4])
        lists = [await client.post("/v3/pricelists", {"name": name}) for name in ("P", "Q")]
        return [int(c["id"]) for c in created], [int(p["id"]) for p in lists]

    customer_ids, list_ids = on_store(emulator, "alpha", setup)
    writes = [("PUT", "/v3/customers", [{"id": i, "notes": "x"}]) for i in customer_ids] + [
        ("PUT", f"/v3/pricelists/{list_id}/records", []) for list_id in list_ids for _ in range(2)
    ]

    async def raw_burst() -> list[int]:
        """The same writes all at once, past any client-side limit: the emulator answers 429."""
        async with httpx.AsyncClient(
            transport=emulator.transport(),
            base_url="http://emulator.test/stores/alpha",
            headers={"X-Auth-Token": "alpha-token"},
        ) as raw:
            answers = await asyncio.gather(
                *(raw.request(method, path, json=payload) for method, path, payload in writes)
            )
        return [answer.status_code for answer in answers]

    emulator.clear_requests()
    statuses = asyncio.run(raw_burst())
    assert statuses.count(429) >= 1 + len(list_ids)  # 4 customer PUTs (3 allowed), 2 per list
    throttled = Counter(r["path"].split("/v3/")[1] for r in emulator.requests if r["status"] == 429)
    assert throttled["customers"] >= 1
    assert all(throttled[f"pricelists/{i}/records"] == 1 for i in list_ids)

    async def through_the_client(client: StoreApi) -> None:
        await asyncio.gather(*(client.put(path, payload) for _, path, payload in writes))

    emulator.clear_requests()
    on_store(emulator, "alpha", through_the_client)  # the client keeps within the limits
    assert not [r for r in emulator.requests if r["status"] == 429]
    assert len(emulator.requests) == len(writes)


def test_a_bad_customer_in_a_batch_fails_alone(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    async def twelve(client: StoreApi) -> None:
        for start, end in ((0, 10), (10, 12)):
            await client.post(
                "/v3/customers",
                [
                    {"email": f"c{i}@example.com", "first_name": "C", "last_name": str(i)}
                    for i in range(start, end)
                ],
            )

    on_store(emulator, "alpha", twelve)
    plan = api.load_plan(plan_to_beta(tmp_path, config_path, connector, "first"))
    bad = "c3@example.com"
    plan = replace(
        plan,
        operations=tuple(
            replace(op, after={**(op.after or {}), "last_name": None}) if op.key.key == bad else op
            for op in plan.operations
        ),
    )
    emulator.clear_requests()

    async def push(client: StoreApi) -> list[OperationResult]:
        return (await apply_plan(client, plan, store="beta")).results

    results: list[OperationResult] = on_store(emulator, "beta", push)

    failed = {r.operation.key.key: r.error for r in results if r.status != "done"}
    assert list(failed) == [bad] and "last_name" in str(failed[bad])
    posted = [
        r["body"]
        for r in emulator.requests
        if r["method"] == "POST" and r["path"] == "/stores/beta/v3/customers"
    ]
    assert max(len(body) for body in posted) == 10  # the batch, then one by one
    created = emulated_customers.state(emulator.stores["beta"]).customers.values()
    assert sorted(c["email"] for c in created) == sorted(
        f"c{i}@example.com" for i in range(12) if i != 3
    )


def test_every_kind_can_delete_what_it_created(emulator: Emulator, built: dict[str, int]) -> None:
    """Deletes are not planned until --prune exists; each kind's delete must still work."""
    from stagesync.pull import read_live

    async def delete_all(client: StoreApi) -> dict[str, int]:
        live = await read_live(client, KINDS, store="alpha")
        for kind in reversed(KINDS):
            for key, raw in sorted(live.raws[kind].items()):
                await REGISTRY[kind].delete(client, key, raw, live.lookup)
        after = await read_live(client, KINDS, store="alpha")
        return {kind: len(after.records[kind]) for kind in KINDS}

    assert set(on_store(emulator, "alpha", delete_all).values()) == {0}


def test_many_customer_updates_stay_within_the_concurrency_limits(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    async def customers(client: StoreApi) -> list[int]:
        await client.post("/v3/customers/attributes", [{"name": "Tier", "type": "string"}])
        tier = (await client.get_all("/v3/customers/attributes"))[0]["id"]
        ids = []
        for start in (0, 10):
            created = await client.post(
                "/v3/customers",
                [
                    {
                        "email": f"c{i}@example.com",
                        "first_name": "C",
                        "last_name": str(i),
                        "attributes": [{"attribute_id": tier, "attribute_value": "a"}],
                    }
                    for i in range(start, start + 10)
                ],
            )
            ids += [int(c["id"]) for c in created]
        return ids

    ids: list[int] = on_store(emulator, "alpha", customers)
    assert api.push(
        plan_to_beta(tmp_path, config_path, connector, "first"),
        config_path=config_path,
        connector=connector,
    ).ok

    async def change(client: StoreApi) -> None:
        tier = (await client.get_all("/v3/customers/attributes"))[0]["id"]
        for customer_id in ids:
            await client.put(
                "/v3/customers/attribute-values",
                [{"attribute_id": tier, "value": "b", "customer_id": customer_id}],
            )
            await client.post(
                "/v3/customers/addresses",
                [{**commerce.address(customer_id), "customer_id": customer_id}],
            )
        await client.put("/v3/customers", [{"id": i, "notes": "vip"} for i in ids[:10]])

    on_store(emulator, "alpha", change)
    plan_path = plan_to_beta(tmp_path, config_path, connector, "second")
    emulator.settings.latency_ms = 5
    emulator.clear_requests()
    every_customer = [("mass-change", "every test customer is updated on purpose")]
    result = api.push(
        plan_path, config_path=config_path, connector=connector, overrides=every_customer
    )
    emulator.settings.latency_ms = 0

    assert result.ok and len(result.results) == 20
    assert not [r for r in emulator.requests if r["status"] == 429]
    assert remaining(tmp_path, config_path, connector) == []
