"""push under faults: dropped connections, lost responses, 5xx, a small quota, SIGKILL, a second
push, a validation failure. Each one must converge without creating anything twice."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from stagesync import api
from stagesync.api import PUSH
from stagesync.bigcommerce import BigCommerceClient
from stagesync.cli import app
from stagesync.config import Environment
from stagesync.emulator import Emulator
from stagesync.emulator.app import FaultDecision
from stagesync.emulator.bulk import brand_names, category_names, product_bodies
from stagesync.errors import TransportError
from stagesync.journal import journal_path, read_journal
from stagesync.planfile import plan_digest
from stagesync.ports import StoreApi
from stagesync.stages import Refusal, run_stages
from stagesync.stages.plan.estimate import STORE_CHECK_REQUESTS
from stagesync.stages.push.run import PushRun
from stagesync.storelock import LOCK_REQUESTS, PushLocked
from tests import catalogue
from tests.conftest import (
    STAGESYNC,
    Connector,
    hold_lock,
    is_lock_request,
    is_write,
    lock_claims,
    on_store,
    serve_emulator,
)


async def build_bulk(client: StoreApi, n: int) -> None:
    """Brands, categories and ``n`` products with variants, images and custom fields."""
    brands = [(await client.post("/v3/catalog/brands", {"name": b}))["id"] for b in brand_names()]
    tree = (await client.get_all("/v3/catalog/trees"))[0]["id"]
    categories = [await catalogue.category(client, tree, name) for name in category_names()]
    for body in product_bodies(n, brands, categories):
        await client.post("/v3/catalog/products", body)


def make_plan(tmp: Path, config: Path, connector: Connector | None = None) -> Path:
    extra = {"connector": connector} if connector else {}
    api.pull("alpha", config_path=config, out=tmp / "alpha", **extra)
    api.pull("beta", config_path=config, out=tmp / "beta", **extra)
    plan_path = tmp / "plan.json"
    api.save_plan(api.diff(tmp / "alpha", tmp / "beta"), plan_path)
    return plan_path


def converged(tmp: Path, config: Path, connector: Connector | None = None) -> bool:
    extra = {"connector": connector} if connector else {}
    api.pull("beta", config_path=config, out=tmp / "beta-after", **extra)
    return api.diff(tmp / "alpha", tmp / "beta-after").empty


def assert_no_duplicates(emulator: Emulator) -> None:
    alpha, beta = emulator.stores["alpha"], emulator.stores["beta"]
    assert len(beta.products) == len(alpha.products)
    assert len(beta.brands) == len(alpha.brands)
    assert len(beta.categories) == len(alpha.categories)
    skus = [p["sku"].casefold() for p in beta.products.values()]
    assert len(skus) == len(set(skus))


def test_push_converges_under_faults_and_a_small_quota(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "alpha", catalogue.build)
    on_store(emulator, "alpha", lambda client: build_bulk(client, 15))
    plan_path = make_plan(tmp_path, config_path, connector)
    emulator.rng = random.Random(3)
    emulator.settings.update({"fault_rate": 0.1, "quota": 25, "window_ms": 250})
    emulator.clear_requests()

    result = api.push(plan_path, config_path=config_path, connector=connector)

    pushed = len(emulator.requests)
    faults = [r for r in emulator.requests if r["status"] is None or (r["status"] or 0) >= 500]
    assert len(faults) >= 3, "the fault injection did not bite"
    assert [r.error for r in result.results if r.status != "done"] == []
    emulator.settings.update({"fault_rate": 0, "quota": 0})
    assert converged(tmp_path, config_path, connector)
    assert_no_duplicates(emulator)
    report = orjson.loads(result.result_json.read_bytes()) if result.result_json else {}
    assert report["format"] == "stagesync.push-result"
    assert report["summary"]["done"] == len(result.results)
    assert sum(op["requests"] for op in report["operations"]) <= report["requests"]
    # Every fault and every 429 was answered by one retry, each counted under its cause.
    limited = [r for r in emulator.requests[:pushed] if r["status"] == 429]
    assert report["retries"] == {
        "429": len(limited),
        "5xx": sum(1 for r in faults if r["status"] is not None),
        "connection": sum(1 for r in faults if r["status"] is None),
    }
    assert {cause: result.retries.get(cause, 0) for cause in report["retries"]} == report["retries"]


def test_a_lost_create_is_looked_up_not_sent_twice(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "alpha", lambda client: build_bulk(client, 3))
    plan_path = make_plan(tmp_path, config_path, connector)
    lost: list[str] = []
    decide = emulator.decide_fault

    def lose_first_product_create(method: str) -> object:
        claimed = any(is_lock_request(r) and r["method"] == "POST" for r in emulator.requests)
        if method == "POST" and claimed and not lost:
            lost.append(method)
            return type(decide(method))(kind="drop", after_write=True)
        return decide(method)

    emulator.decide_fault = lose_first_product_create  # type: ignore[method-assign]
    emulator.clear_requests()
    result = api.push(plan_path, config_path=config_path, connector=connector)

    assert lost
    assert {r.status for r in result.results} == {"done"}
    assert converged(tmp_path, config_path, connector)
    assert_no_duplicates(emulator)
    posts = [r for r in emulator.requests if r["method"] == "POST" and is_write(r)]
    bodies = [orjson.dumps(r["body"]) for r in posts]
    assert len(bodies) == len(set(bodies)), "a create was sent twice"


@pytest.fixture
def plan_path(emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector) -> Path:
    """A plan of a small catalogue from alpha to the empty beta."""
    on_store(emulator, "alpha", lambda client: build_bulk(client, 2))
    return make_plan(tmp_path, config_path, connector)


def pushed_and_released(
    emulator: Emulator, plan_path: Path, config_path: Path, connector: Connector, **options: Any
) -> bool:
    """Push the plan: it succeeds and leaves no lock claim on the store."""
    result = api.push(plan_path, config_path=config_path, connector=connector, **options)
    return result.ok and lock_claims(emulator, "beta") == []


def test_a_lost_answer_to_the_lock_claim_is_looked_up(
    emulator: Emulator, plan_path: Path, config_path: Path, connector: Connector
) -> None:
    serve = emulator.decide_fault
    lost: list[str] = []

    def lose_the_claims_answer(method: str) -> FaultDecision:
        if method == "POST" and not lost:  # the first write of a push is its lock claim
            lost.append(method)
            return FaultDecision(kind="drop", after_write=True)
        return serve(method)

    emulator.decide_fault = lose_the_claims_answer  # type: ignore[method-assign]
    emulator.clear_requests()
    result = api.push(plan_path, config_path=config_path, connector=connector)
    emulator.decide_fault = serve  # type: ignore[method-assign]

    assert lost and result.ok
    claims = [r for r in emulator.requests if is_lock_request(r) and r["method"] == "POST"]
    assert len(claims) == 1, "the claim was sent twice"
    assert lock_claims(emulator, "beta") == []


def test_a_lock_that_cannot_be_deleted_does_not_fail_the_push(
    emulator: Emulator, plan_path: Path, config_path: Path, connector: Connector
) -> None:
    serve = emulator.decide_fault

    def drop_deletes(method: str) -> FaultDecision:  # the plan deletes nothing: only the lock
        return FaultDecision(kind="drop") if method == "DELETE" else serve(method)

    @asynccontextmanager
    async def impatient(env: Environment) -> AsyncIterator[StoreApi]:
        async with connector(env) as store_api:
            assert isinstance(store_api, BigCommerceClient)
            store_api.max_retries = 1  # the store stays unreachable: no point waiting minutes
            yield store_api

    emulator.decide_fault = drop_deletes  # type: ignore[method-assign]
    result = api.push(plan_path, config_path=config_path, connector=impatient)
    emulator.decide_fault = serve  # type: ignore[method-assign]

    assert result.ok and result.result_json is not None and result.result_json.is_file()
    # Left on the store until it expires (or --force-unlock).
    assert len(lock_claims(emulator, "beta")) == 1


def copy_plan(plan_path: Path, folder: Path) -> Path:
    """The plan as another machine has it: its own folder, so its own journal."""
    folder.mkdir()
    copy = folder / plan_path.name
    copy.write_bytes(plan_path.read_bytes())
    return copy


def test_two_pushes_racing_to_one_store_one_wins(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    """Two machines push the same plan at once: the lock on the store lets one through; the
    other is refused naming it, and writes nothing but its own claim (deleted again)."""
    on_store(emulator, "alpha", lambda client: build_bulk(client, 3))
    plan_path = make_plan(tmp_path, config_path, connector)
    both_read = asyncio.Barrier(2)

    @asynccontextmanager
    async def racing(env: Environment) -> AsyncIterator[StoreApi]:
        """Each runner's first write (its claim) waits until both have read the claims."""
        async with connector(env) as store_api:
            post = store_api.post

            async def post_when_both_read(path: str, json: Any, **kw: Any) -> Any:
                if is_lock_request({"path": path}):
                    await both_read.wait()
                return await post(path, json, **kw)

            store_api.post = post_when_both_read  # type: ignore[method-assign]
            yield store_api

    runs = [
        PushRun(
            copy_plan(plan_path, tmp_path / f"runner-{n}"),
            config_path=config_path,
            connector=racing,
        )
        for n in (1, 2)
    ]
    emulator.clear_requests()

    async def race() -> list[Refusal | None]:
        return list(await asyncio.gather(*(run_stages(run, PUSH) for run in runs)))

    outcomes = asyncio.run(race())

    # Both read the store before either claimed it: both claims were written.
    claims = [r for r in emulator.requests if is_lock_request(r) and r["method"] == "POST"]
    assert len(claims) == 2
    refused = [o for o in outcomes if o is not None]
    assert len(refused) == 1 and refused[0].stage == "lock"
    assert isinstance(refused[0].error, PushLocked)
    assert "holds its lock" in str(refused[0].error) and "plan digest sha256:" in str(refused[0])
    winner = runs[outcomes.index(None)]
    loser = runs[1 - outcomes.index(None)]
    assert winner.result is not None and winner.result.ok
    assert not journal_path(loser.plan_path).exists()
    # The loser asked who the store is, read the claims, wrote its own, read them again and
    # deleted it: nothing else.
    assert loser.connection is not None
    assert loser.connection[0].requests_made == STORE_CHECK_REQUESTS + LOCK_REQUESTS
    assert lock_claims(emulator, "beta") == []
    assert_no_duplicates(emulator)
    assert converged(tmp_path, config_path, connector)


def test_a_stale_lock_refuses_until_force_unlock(
    emulator: Emulator, plan_path: Path, config_path: Path, connector: Connector
) -> None:
    # The parent process (pytest's runner) is alive: the lock is not stale to this host.
    hold_lock(emulator, "beta", owner="nightly", pid=os.getppid(), host=os.uname().nodename)
    emulator.clear_requests()

    with pytest.raises(PushLocked) as refused:
        api.push(plan_path, config_path=config_path, connector=connector)
    assert f"nightly (pid {os.getppid()} on host" in str(refused.value)
    assert "--force-unlock" in str(refused.value)
    assert [r for r in emulator.requests if is_write(r)] == []

    assert pushed_and_released(emulator, plan_path, config_path, connector, force_unlock=True)


def test_an_expired_or_dead_lock_is_broken_without_asking(
    emulator: Emulator, plan_path: Path, config_path: Path, connector: Connector
) -> None:
    hold_lock(emulator, "beta", owner="old", host="elsewhere", expires_at="2020-01-01T00:00:00Z")
    gone = subprocess.Popen(["true"])  # a pid that is gone
    gone.wait()
    hold_lock(emulator, "beta", owner="killed", host=os.uname().nodename, pid=gone.pid)

    assert pushed_and_released(emulator, plan_path, config_path, connector)


def test_the_lock_is_released_when_the_push_fails(
    emulator: Emulator, plan_path: Path, config_path: Path, connector: Connector
) -> None:
    serve = emulator.decide_fault
    gets_after_claim = 0

    def drop_reads_once_locked(method: str) -> FaultDecision:
        """Once the push holds its lock (its claim written and read back), the store stops
        answering reads: the push fails in ``read``."""
        nonlocal gets_after_claim
        claimed = any(is_lock_request(r) and r["method"] == "POST" for r in emulator.requests)
        if claimed and method == "GET":
            gets_after_claim += 1
            if gets_after_claim > 1:
                return FaultDecision(kind="drop")
        return serve(method)

    emulator.decide_fault = drop_reads_once_locked  # type: ignore[method-assign]
    emulator.clear_requests()
    with pytest.raises(TransportError):
        api.push(plan_path, config_path=config_path, connector=connector)
    emulator.decide_fault = serve  # type: ignore[method-assign]
    assert [r["method"] for r in emulator.requests if is_lock_request(r)][:3] == [
        "GET",
        "POST",
        "GET",
    ]
    assert lock_claims(emulator, "beta") == []


def test_rollback_plan_restores_the_destination(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "alpha", catalogue.build)
    plan_path = make_plan(tmp_path, config_path, connector)
    result = api.push(plan_path, config_path=config_path, connector=connector, verify=True)
    assert result.ok and result.rollback is not None
    rollback = api.load_plan(result.rollback)
    assert {op.action.value for op in rollback.operations} == {"delete"}

    # One count of requests everywhere: the result JSON, the result HTML and the CLI's summary.
    body = orjson.loads(result.result_json.read_bytes()) if result.result_json else {}
    html = result.report.read_text(encoding="utf-8") if result.report else ""
    assert body["requests"] == result.requests
    assert f"<dt>Requests used</dt><dd>{result.requests} (" in html
    assert sum(op["requests"] for op in body["operations"]) < result.requests

    undone = api.push(result.rollback, config_path=config_path, connector=connector)
    assert undone.ok
    # The rollback's estimate counts its reads as a plan's does: close to what its push used.
    assert abs(rollback.estimated_requests - undone.requests) <= undone.requests // 4, (
        rollback.estimated_requests,
        undone.requests,
    )
    api.pull("beta", config_path=config_path, out=tmp_path / "beta-undone", connector=connector)
    assert api.diff(tmp_path / "beta", tmp_path / "beta-undone").empty


def test_a_pushed_plan_is_not_pushed_twice_without_resume(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "alpha", lambda client: build_bulk(client, 2))
    plan_path = make_plan(tmp_path, config_path, connector)
    api.push(plan_path, config_path=config_path, connector=connector)
    with pytest.raises(api.PlanRefused, match="--resume"):
        api.push(plan_path, config_path=config_path, connector=connector)
    again = api.push(plan_path, config_path=config_path, connector=connector, resume=True)
    assert {(r.status, r.resumed) for r in again.results} == {("done", True)}


# -- over real sockets: SIGKILL and resume, exit code 4 ------------------------------------------


@pytest.fixture
def served() -> Iterator[str]:
    yield from serve_emulator("--store", "alpha=alpha-token", "--store", "beta=beta-token")


def http_config(tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "stagesync.toml"
    path.write_text(
        "".join(
            f'[environments.{name}]\nstore_hash = "{name}"\n'
            f'access_token_env = "STAGESYNC_{name.upper()}_TOKEN"\napi_url = "{url}"\n\n'
            for name in ("alpha", "beta")
        )
    )
    for name in ("alpha", "beta"):
        monkeypatch.setenv(f"STAGESYNC_{name.upper()}_TOKEN", f"{name}-token")
    return path


def on_served(url: str, store: str, work: object) -> None:
    async def run() -> None:
        async with BigCommerceClient(store, f"{store}-token", api_url=url) as client:
            await work(client)  # type: ignore[operator]

    asyncio.run(run())


def journal_done(path: Path) -> int:
    if not path.exists():
        return 0
    return path.read_bytes().count(b'"event":"done"')


@pytest.mark.serve
def test_sigkill_at_several_points_then_resume_converges(
    served: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = http_config(tmp_path, served, monkeypatch)
    on_served(served, "alpha", lambda client: build_bulk(client, 24))
    plan_path = make_plan(tmp_path, config)
    httpx.post(f"{served}/__emulator/faults", json={"latency_ms": 15})
    env = {**os.environ, "STAGESYNC_CONFIG": str(config)}
    journal = journal_path(plan_path)
    push = [*STAGESYNC, "push", "--plan", str(plan_path), "--yes", "--concurrency", "2"]

    kills = 0
    for threshold, extra in ((3, []), (12, ["--resume"]), (24, ["--resume"])):
        process = subprocess.Popen(
            push + extra, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while journal_done(journal) < threshold and process.poll() is None:
            assert time.monotonic() < deadline, "push made no progress"
            time.sleep(0.005)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=30)
    assert kills >= 2, "the push finished before it could be killed"

    final = subprocess.run(
        push + ["--resume"], env=env, capture_output=True, text=True, timeout=120
    )
    assert final.returncode == 0, final.stderr
    state = read_journal(journal, plan_digest(api.load_plan(plan_path)))
    assert state.runs >= 3
    httpx.post(f"{served}/__emulator/faults", json={"latency_ms": 0})
    assert converged(tmp_path, config)
    products = httpx.get(
        f"{served}/stores/beta/v3/catalog/products",
        params={"limit": 250},
        headers={"X-Auth-Token": "beta-token"},
    ).json()["data"]
    skus = [p["sku"] for p in products]
    assert len(skus) == 24 and len(set(skus)) == 24


@pytest.mark.serve
def test_validation_failure_exits_4_with_siblings_applied_and_dependents_skipped(
    served: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = http_config(tmp_path, served, monkeypatch)

    async def alpha(client: StoreApi) -> None:
        tree = (await client.get_all("/v3/catalog/trees"))[0]["id"]
        parent = await catalogue.category(client, tree, "Parent")
        body = {"type": "physical", "price": 1, "weight": 1}
        await client.post(
            "/v3/catalog/products", {**body, "name": "Kite", "sku": "KITE", "categories": [parent]}
        )
        await client.post("/v3/catalog/products", {**body, "name": "Sled", "sku": "SLED"})

    async def beta(client: StoreApi) -> None:
        tree = (await client.get_all("/v3/catalog/trees"))[0]["id"]
        url = {"path": "/parent/", "is_customized": True}
        await catalogue.category(client, tree, "Other", url=url)

    on_served(served, "alpha", alpha)
    on_served(served, "beta", beta)
    plan_path = make_plan(tmp_path, config)
    monkeypatch.setenv("STAGESYNC_CONFIG", str(config))

    result = CliRunner().invoke(app, ["push", "--plan", str(plan_path), "--yes"])

    assert result.exit_code == 4, result.output
    report = orjson.loads(plan_path.with_name("plan.result.json").read_bytes())
    status = {op["id"]: op["status"] for op in report["operations"]}
    assert status == {
        "categories:Parent": "failed",
        "products:KITE": "skipped",
        "products:SLED": "done",
        "channel_assignments:KITE/default": "skipped",
        "channel_assignments:SLED/default": "done",
    }
    errors = {op["id"]: op["error"] for op in report["operations"]}
    assert "/parent/" in errors["categories:Parent"]
    assert "categories Parent did not apply" in errors["products:KITE"]


def test_creates_read_back_what_the_platform_derived_ten_at_a_time(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "alpha", lambda client: build_bulk(client, 12))
    plan_path = make_plan(tmp_path, config_path, connector)
    plan = api.load_plan(plan_path)
    emulator.clear_requests()
    result = api.push(plan_path, config_path=config_path, connector=connector)

    assert result.ok
    products = [r for r in emulator.requests if r["path"].endswith("/v3/catalog/products")]
    posts = [r for r in products if r["method"] == "POST"]
    reads = [r["query"] for r in products if r["method"] == "GET" and "id:in" in r["query"]]
    assert len(posts) == 12
    assert sorted(len(q["id:in"].split(",")) for q in reads) == [2, 10]
    assert {q["include"] for q in reads} == {"options,channels"}
    assert not [r for r in emulator.requests if "/options" in r["path"]]
    # The platform put every new product on the default storefront: nothing left to assign.
    assert not [w for w in emulator.requests if is_write(w) and "channel-assignments" in w["path"]]
    assert plan.estimated_requests - 1 <= result.requests <= plan.estimated_requests
    assert converged(tmp_path, config_path, connector)


def test_updates_are_batched_up_to_the_documented_limits(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "alpha", lambda client: build_bulk(client, 12))
    api.push(
        make_plan(tmp_path, config_path, connector), config_path=config_path, connector=connector
    )

    async def reprice(client: StoreApi) -> None:
        for product in await client.get_all("/v3/catalog/products", {"include": "variants"}):
            await client.put(f"/v3/catalog/products/{product['id']}", {"price": 99.0})
            variant = product["variants"][0]
            await client.put(
                f"/v3/catalog/products/{product['id']}/variants/{variant['id']}", {"price": 77.0}
            )
        for category in await client.get_all("/v3/catalog/trees/categories"):
            body = {"category_id": category["category_id"], "description": "new"}
            await client.put("/v3/catalog/trees/categories", [body])

    on_store(emulator, "alpha", reprice)
    (tmp_path / "plan.json").unlink()
    plan_path = make_plan(tmp_path, config_path, connector)
    emulator.clear_requests()
    repriced = [("price-change", "every test product is repriced on purpose")]
    result = api.push(plan_path, config_path=config_path, connector=connector, overrides=repriced)

    assert result.ok
    writes = [(r["method"], r["path"].partition("/v3/")[2], r["body"]) for r in emulator.requests]
    product_batches = [len(b) for m, p, b in writes if (m, p) == ("PUT", "catalog/products")]
    variant_batches = [len(b) for m, p, b in writes if (m, p) == ("PUT", "catalog/variants")]
    category_batches = [
        len(b) for m, p, b in writes if (m, p) == ("PUT", "catalog/trees/categories")
    ]
    assert sorted(product_batches) == [2, 10]
    assert variant_batches == [12]  # the changed variants of all twelve products (up to 50)
    assert category_batches == [10]
    assert converged(tmp_path, config_path, connector)
