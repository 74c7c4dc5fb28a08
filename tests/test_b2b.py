"""B2B Edition: connect (both auth modes, failures), status, the eight B2B kinds' round trip through
the emulator, selection of quotes with what they reference, and secrets never written anywhere."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from stagesync import api
from stagesync.b2b import B2BConnectError, B2BFactory
from stagesync.bigcommerce.b2b import B2BClient
from stagesync.cli import app
from stagesync.emulator import Emulator
from stagesync.errors import StageSyncError
from stagesync.ports import B2BNotConnected
from tests import commerce
from tests.conftest import STORES, Connector, on_store

B2B_USERS = {
    "alpha": ("b2b@alpha.test", "alpha-b2b-secret"),
    "beta": ("b2b@beta.test", "beta-pw-9"),
}
B2B_KINDS = [
    "b2b_companies",
    "b2b_addresses",
    "b2b_users",
    "b2b_orders",
    "b2b_super_admins",
    "b2b_quotes",
    "b2b_shopping_lists",
    "b2b_invoices",
]


def factory_for(emulator: Emulator) -> B2BFactory:
    def make(store_hash: str, token: str, auth: Any, api_url: str) -> B2BClient:
        return B2BClient(
            store_hash, token, auth=auth, api_url=api_url, transport=emulator.transport()
        )

    return make


@pytest.fixture
def b2b_emulator(emulator: Emulator) -> Emulator:
    for store, (email, password) in B2B_USERS.items():
        emulator.add_b2b_user(store, email, password)
    return emulator


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private per-user configuration folder, outside the project folder."""
    config_home = tmp_path / "home" / ".config"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    return config_home


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: Path) -> Path:
    """stagesync.toml in a project folder: alpha logs in with a password, beta uses its token."""
    folder = tmp_path / "project"
    folder.mkdir()
    for name, token in STORES.items():
        monkeypatch.setenv(f"STAGESYNC_{name.upper()}_TOKEN", token)
    monkeypatch.setenv("ALPHA_B2B_PASSWORD", B2B_USERS["alpha"][1])
    (folder / "stagesync.toml").write_text(
        """
[environments.alpha]
store_hash = "alpha"
access_token_env = "STAGESYNC_ALPHA_TOKEN"
api_url = "http://emulator.test"

[environments.alpha.b2b]
auth = "password"
email = "b2b@alpha.test"
password_env = "ALPHA_B2B_PASSWORD"
api_url = "http://emulator.test"

[environments.beta]
store_hash = "beta"
access_token_env = "STAGESYNC_BETA_TOKEN"
api_url = "http://emulator.test"

[environments.beta.b2b]
auth = "token"
api_url = "http://emulator.test"

[environments.plain]
store_hash = "alpha"
access_token_env = "STAGESYNC_ALPHA_TOKEN"
api_url = "http://emulator.test"
""",
        encoding="utf-8",
    )
    monkeypatch.chdir(folder)
    return folder


def connect_both(emulator: Emulator, config: Path) -> None:
    for env in ("alpha", "beta"):
        api.connect_b2b(env, config_path=config, b2b_factory=factory_for(emulator))


async def build_b2b(emulator: Emulator, ids: dict[str, int]) -> None:
    async with B2BClient("alpha", STORES["alpha"], transport=emulator.transport()) as b2b:
        acme = await b2b.post(
            "/companies",
            {
                "companyName": "Acme Trading",
                "companyEmail": "office@acme.test",
                "companyPhone": "555-0100",
                "country": "US",
                "customerGroupId": ids["trade"],
                "catalogId": ids["wholesale"],
                "adminFirstName": "Alice",
                "adminLastName": "Admin",
                "adminEmail": "alice@acme.test",
            },
        )
        west = await b2b.post(
            "/companies",
            {
                "companyName": "Acme West",
                "companyEmail": "west@acme.test",
                "companyPhone": "555-0101",
                "country": "US",
                "uuid": "ERP-7",
                "adminFirstName": "Will",
                "adminLastName": "West",
                "adminEmail": "will@acme.test",
            },
        )
        acme_id, west_id = acme["companyId"], west["companyId"]
        await b2b.post(f"/companies/{west_id}/parent", {"parentCompanyId": acme_id})
        buyer = await b2b.post(
            "/users",
            {
                "companyId": acme_id,
                "email": "Buyer@Acme.test",
                "firstName": "Bea",
                "lastName": "Buyer",
                "role": 1,
                "channelIds": [1],
            },
        )
        await b2b.post(
            "/addresses",
            {
                "companyId": acme_id,
                "firstName": "Alice",
                "lastName": "Admin",
                "addressLine1": "1 Factory Road",
                "city": "Springfield",
                "countryName": "United States",
                "countryCode": "US",
                "zipCode": "62701",
                "isBilling": True,
            },
        )
        await b2b.post(
            "/addresses",
            {
                "companyId": west_id,
                "firstName": "Will",
                "lastName": "West",
                "addressLine1": "9 Dock Street",
                "city": "Portland",
                "countryName": "United States",
                "countryCode": "US",
                "externalId": "ADDR-1",
                "isShipping": True,
            },
        )
        await b2b.post(
            "/orders", {"bcOrderId": ids["order"], "companyId": acme_id, "poNumber": "PO-1"}
        )
        admin = await b2b.post(
            "/super-admins", {"email": "sam@agency.test", "firstName": "Sam", "lastName": "Su"}
        )
        await b2b.put(
            f"/super-admins/{admin['id']}",
            {
                "companies": [
                    {"companyId": acme_id, "isAssigned": True},
                    {"companyId": west_id, "isAssigned": True},
                ]
            },
        )
        await b2b.post(
            "/rfq",
            {
                "referenceNumber": "RFQ-1",
                "quoteTitle": "Spring tents",
                "companyId": acme_id,
                "orderId": ids["order"],
                "userEmail": "sales@alpha.test",
                "expiredAt": 1900000000,
                "contactInfo": {"name": "Bea Buyer", "email": "buyer@acme.test"},
                "grandTotal": 280,
                "subtotal": 300,
                "discount": 20,
                "productList": [
                    {
                        "sku": "TENT-1",
                        "productId": ids["tent"],
                        "basePrice": 150,
                        "discount": 10,
                        "offeredPrice": 140,
                        "quantity": 2,
                    }
                ],
            },
        )
        await b2b.post(
            "/shopping-list",
            {
                "name": "Reorder",
                "userId": buyer["id"],
                "items": [{"productId": ids["tent"], "sku": "TENT-1", "quantity": 3}],
            },
        )
        await b2b.post(
            "/ip/invoices",
            {
                "invoiceNumber": "INV-1",
                "customerId": str(acme_id),
                "orderNumber": str(ids["order"]),
                "dueDate": 1900000000,
                "details": {"details": {"lineItems": [{"sku": "TENT-1", "quantity": 2}]}},
                "originalBalance": {"code": "USD", "value": 280},
                "openBalance": {"code": "USD", "value": 280},
            },
        )


@pytest.fixture
def built(b2b_emulator: Emulator) -> dict[str, int]:
    ids: dict[str, int] = on_store(b2b_emulator, "alpha", commerce.build)
    asyncio.run(build_b2b(b2b_emulator, ids))
    return ids


# ---- connect ---------------------------------------------------------------------------------


def test_connect_password_mode_caches_the_token_in_a_private_file_outside_the_project(
    b2b_emulator: Emulator, project: Path, home: Path
) -> None:
    config = project / "stagesync.toml"
    result = api.connect_b2b("alpha", config_path=config, b2b_factory=factory_for(b2b_emulator))
    assert result.auth == "password"
    path = home / "stagesync" / "credentials.json"
    assert result.credentials == path
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text()
    token = next(
        iter(
            __import__("stagesync.emulator.b2b", fromlist=["state"])
            .state(b2b_emulator.stores["alpha"])
            .tokens
        )
    )
    assert token in text
    assert B2B_USERS["alpha"][1] not in text
    assert not [p for p in project.rglob("*") if "credentials" in p.name]
    found = api.status(
        config, connector=_connector(b2b_emulator), b2b_factory=factory_for(b2b_emulator)
    )
    statuses = {s.name: s.b2b for s in found}
    assert statuses == {"alpha": "Connected", "beta": "not connected", "plain": "not configured"}


def _connector(emulator: Emulator) -> Connector:
    from tests.conftest import connector_for

    return connector_for(emulator)


def test_connect_token_mode(b2b_emulator: Emulator, project: Path) -> None:
    config = project / "stagesync.toml"
    result = api.connect_b2b("beta", config_path=config, b2b_factory=factory_for(b2b_emulator))
    assert result.auth == "token"
    b2b_requests = [r for r in b2b_emulator.requests if r["path"].startswith("/api/")]
    assert [r["path"] for r in b2b_requests] == ["/api/v3/io/companies"]
    assert b2b_requests[0]["store_hash"] == "beta"


def connect_error(emulator: Emulator, project: Path, environment: str) -> str:
    """The message of the ``B2BConnectError`` connecting ``environment`` raises."""
    with pytest.raises(B2BConnectError) as caught:
        api.connect_b2b(
            environment, config_path=project / "stagesync.toml", b2b_factory=factory_for(emulator)
        )
    return str(caught.value)


def test_connect_with_a_wrong_password_explains_what_to_check(
    b2b_emulator: Emulator, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALPHA_B2B_PASSWORD", "wrong-password")
    message = connect_error(b2b_emulator, project, "alpha")
    assert "logging in to B2B Edition as b2b@alpha.test failed" in message
    for check in ("activated", "manually", "emailed link", "delete the user"):
        assert check in message
    assert "same email as a user of the store's control panel" in message
    assert "optionally" in message
    assert "access token" not in message
    assert "B2B Edition scope" not in message
    assert "wrong-password" not in message
    assert "wrong-password" not in str(b2b_emulator.requests)


def test_a_token_mode_failure_gives_token_advice_not_the_password_checklist(
    b2b_emulator: Emulator, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGESYNC_BETA_TOKEN", "not-beta-token")
    message = connect_error(b2b_emulator, project, "beta")
    assert "(token auth, " in message
    assert "reading companies through the B2B Edition API failed: 401" in message
    assert "B2B Edition scope set to modify" in message
    assert "X-Store-Hash" in message
    for password_advice in ("emailed link", "bulk-imported", "delete the user", "control panel"):
        assert password_advice not in message
    assert "not-beta-token" not in message


def test_status_checks_the_b2b_link_live_and_offline_shows_the_record(
    b2b_emulator: Emulator, project: Path
) -> None:
    config = project / "stagesync.toml"
    connect_both(b2b_emulator, config)
    connector, factory = _connector(b2b_emulator), factory_for(b2b_emulator)

    def states(**options: Any) -> dict[str, str]:
        found = api.status(config, connector=connector, b2b_factory=factory, **options)
        return {s.name: s.b2b for s in found}

    assert states() == {"alpha": "Connected", "beta": "Connected", "plain": "not configured"}
    # B2B Edition forgets the token alpha logged in with: the live check notices.
    from stagesync.emulator.b2b import state

    state(b2b_emulator.stores["alpha"]).tokens.clear()
    before = len(b2b_emulator.requests)
    offline = states(offline=True)
    assert len(b2b_emulator.requests) == before
    assert offline["alpha"] == "Connected (not checked)"
    live = api.status(config, connector=connector, b2b_factory=factory)
    alpha = next(s for s in live if s.name == "alpha")
    assert alpha.b2b == "failing"
    (hint,) = alpha.hints
    assert hint.startswith("B2B Edition: 401 from GET /api/v3/io/companies")
    assert "stagesync connect b2b alpha" in hint


def test_connect_refuses_an_environment_without_b2b(b2b_emulator: Emulator, project: Path) -> None:
    with pytest.raises(B2BConnectError, match=r"'plain' has no B2B Edition credentials"):
        api.connect_b2b(
            "plain", config_path=project / "stagesync.toml", b2b_factory=factory_for(b2b_emulator)
        )


def test_connect_cli_shows_connected_and_failures_exit_1(
    b2b_emulator: Emulator, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    defaults = api.connect_b2b.__kwdefaults__
    assert defaults is not None
    monkeypatch.setitem(defaults, "b2b_factory", factory_for(b2b_emulator))
    runner = CliRunner()
    ok = runner.invoke(app, ["connect", "b2b", "alpha"], color=True)
    assert ok.exit_code == 0, ok.output
    assert "\x1b[32m" in ok.stdout and "Connected" in ok.stdout
    monkeypatch.setenv("ALPHA_B2B_PASSWORD", "nope")
    failed = runner.invoke(app, ["connect", "b2b", "alpha"])
    assert failed.exit_code == 1
    assert "B2B control panel" in failed.output
    refused = runner.invoke(app, ["connect", "b2b", "plain"])
    assert refused.exit_code == 1
    assert "[environments.plain.b2b]" in refused.output


# ---- pull / diff / push ----------------------------------------------------------------------


def test_every_b2b_kind_round_trips(
    b2b_emulator: Emulator, project: Path, built: dict[str, int], tmp_path: Path
) -> None:
    config = project / "stagesync.toml"
    connect_both(b2b_emulator, config)
    connector, factory = _connector(b2b_emulator), factory_for(b2b_emulator)

    def pull(env: str, out: Path) -> api.PullResult:
        return api.pull(env, config_path=config, out=out, connector=connector, b2b_factory=factory)

    pulled = pull("alpha", tmp_path / "alpha")
    assert all(pulled.counts[kind] for kind in B2B_KINDS), pulled.counts
    pull("beta", tmp_path / "beta")
    plan = api.diff(tmp_path / "alpha", tmp_path / "beta", config_path=config)
    assert {op.kind for op in plan.operations} >= set(B2B_KINDS)
    plan_path = tmp_path / "plan.json"
    api.save_plan(plan, plan_path)
    result = api.push(
        plan_path,
        config_path=config,
        connector=connector,
        b2b_factory=factory,
        order_status="keep",
        overrides=[("notifies-people", "the emulator's stores email nobody")],
    )
    assert [(r.operation.describe(), r.error) for r in result.results if r.status != "done"] == []
    pull("beta", tmp_path / "beta-after")
    again = api.diff(tmp_path / "alpha", tmp_path / "beta-after", config_path=config)
    assert [op.describe() for op in again.operations] == []

    # Secrets never reach anything stagesync wrote, nor the request log.
    token = next(iter(_tokens(b2b_emulator, "alpha")))
    secrets = [B2B_USERS["alpha"][1], token, STORES["alpha"], STORES["beta"]]
    for path in tmp_path.rglob("*"):
        if path.is_file() and "home" not in path.parts:
            text = path.read_text(encoding="utf-8", errors="replace")
            assert not [s for s in secrets if s in text], path
    assert B2B_USERS["alpha"][1] not in str(b2b_emulator.requests)


def _tokens(emulator: Emulator, store: str) -> dict[str, str]:
    from stagesync.emulator import b2b as emulated

    return emulated.state(emulator.stores[store]).tokens


def test_quotes_alone_bring_their_products_orders_and_b2b_orders(
    b2b_emulator: Emulator, project: Path, built: dict[str, int], tmp_path: Path
) -> None:
    config = project / "stagesync.toml"
    connect_both(b2b_emulator, config)
    connector, factory = _connector(b2b_emulator), factory_for(b2b_emulator)
    for env in ("alpha", "beta"):
        api.pull(
            env, config_path=config, out=tmp_path / env, connector=connector, b2b_factory=factory
        )
    plan = api.diff(tmp_path / "alpha", tmp_path / "beta", kinds=["b2b_quotes"], config_path=config)
    kinds = [op.kind for op in plan.operations]
    assert kinds.index("products") < kinds.index("orders") < kinds.index("b2b_orders")
    assert kinds.index("b2b_orders") < kinds.index("b2b_quotes")
    keys = {(op.kind, op.key.key) for op in plan.operations}
    assert ("b2b_quotes", "RFQ-1") in keys
    assert ("products", "TENT-1") in keys
    assert {k for k, _ in keys if k.startswith("b2b_")} == {
        "b2b_quotes",
        "b2b_orders",
        "b2b_companies",
    }
    # Exactly what the quote references: its order (and that order's products), nothing more.
    assert {key for kind, key in keys if kind == "orders"} == {f"alpha:{built['order']}"}
    assert {key for kind, key in keys if kind == "products"} == {"TENT-1", "SHOE"}


def test_b2b_kinds_need_a_connected_environment(
    b2b_emulator: Emulator, project: Path, tmp_path: Path
) -> None:
    config = project / "stagesync.toml"
    connector, factory = _connector(b2b_emulator), factory_for(b2b_emulator)
    with pytest.raises(B2BNotConnected, match=r"'alpha' is not connected.*connect b2b alpha"):
        api.pull("alpha", config_path=config, connector=connector, b2b_factory=factory)
    with pytest.raises(B2BNotConnected, match=r"'plain' has no \[environments.plain.b2b\]"):
        api.pull(
            "plain",
            config_path=config,
            kinds=["b2b_companies"],
            connector=connector,
            b2b_factory=factory,
        )
    # Without a b2b table, a full pull is the store's own data only.
    result = api.pull("plain", config_path=config, out=tmp_path / "plain", connector=connector)
    assert not [kind for kind in result.counts if kind.startswith("b2b_")]


def test_emulator_b2b_envelopes_paging_and_rules(b2b_emulator: Emulator) -> None:
    async def run() -> None:
        async with B2BClient("alpha", STORES["alpha"], transport=b2b_emulator.transport()) as b2b:
            for n in range(12):
                await b2b.post(
                    "/companies",
                    {
                        "companyName": f"Co {n}",
                        "companyEmail": f"co{n}@x.test",
                        "companyPhone": "1",
                        "country": "US",
                        "adminFirstName": "A",
                        "adminLastName": "B",
                        "adminEmail": f"admin{n}@x.test",
                    },
                )
            everything = await b2b.get_all("/companies", limit=5)
            assert [c["companyName"] for c in everything] == [f"Co {n}" for n in range(12)]
            assert await b2b.count("/users") == 12
            users = await b2b.get_all("/users")
            with pytest.raises(StageSyncError, match="last user of a company"):
                await b2b.delete(f"/users/{users[0]['id']}")
            with pytest.raises(StageSyncError, match="companyEmail is required"):
                await b2b.post("/companies", {"companyName": "X"})
            with pytest.raises(StageSyncError, match="At most 10"):
                await b2b.post("/users/bulk", [{}] * 11)
            with pytest.raises(StageSyncError, match="does not exist in the store"):
                await b2b.post("/orders", {"bcOrderId": 999999, "companyId": 1})
        page = b2b_emulator.requests[-1]
        assert page["path"] == "/api/v3/io/orders"
        async with B2BClient("alpha", "wrong", transport=b2b_emulator.transport()) as b2b:
            with pytest.raises(StageSyncError, match="B2B Edition rejected the store token"):
                await b2b.get_all("/companies")

    asyncio.run(run())
