"""Redaction and its guard: the refresh cycle production -> redact -> staging, then staging ->
production for the catalogue, on the emulator with every person-bearing kind (B2B included).
Production's people come out untouched, the catalogue change arrives, every report says what
was left out and why, and a plan that tries anyway is refused."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from stagesync import api, cli
from stagesync.emulator import Emulator
from stagesync.entities import REGISTRY
from stagesync.errors import PlanError, PlanRefused, SnapshotError
from stagesync.model import Action, KindSnapshot, Snapshot, Withheld
from stagesync.plan import make_plan
from stagesync.planfile import plan_to_json
from stagesync.redact import holds_pseudonyms
from stagesync.report.html import render_html
from stagesync.report.markdown import render_markdown
from stagesync.report.text import render_text
from stagesync.snapshot import read_snapshot
from stagesync.stages import Refusal
from stagesync.stages.push.run import PushOptions, PushRun
from tests import commerce
from tests.conftest import STORES, connector_for, is_write, on_store
from tests.test_b2b import B2B_KINDS, B2B_USERS, build_b2b, factory_for
from tests.test_report_outputs import validator

PEOPLE = sorted(name for name, kind in REGISTRY.items() if kind.bears_people)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """alpha is production (the default role), beta is staging; both connected to B2B."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    folder = tmp_path / "project"
    folder.mkdir()
    tables = []
    for name, token in STORES.items():
        monkeypatch.setenv(f"STAGESYNC_{name.upper()}_TOKEN", token)
        role = 'role = "staging"\n' if name == "beta" else ""
        tables.append(
            f'[environments.{name}]\nstore_hash = "{name}"\n'
            f'access_token_env = "STAGESYNC_{name.upper()}_TOKEN"\n'
            f'api_url = "http://emulator.test"\n{role}\n'
            f'[environments.{name}.b2b]\nauth = "token"\napi_url = "http://emulator.test"\n'
        )
    (folder / "stagesync.toml").write_text("\n".join(tables), encoding="utf-8")
    monkeypatch.chdir(folder)
    return folder / "stagesync.toml"


@pytest.fixture
def stores(emulator: Emulator, project: Path) -> Emulator:
    """alpha: the catalogue, customers, orders, a product review and every B2B kind."""
    for store, (email, password) in B2B_USERS.items():
        emulator.add_b2b_user(store, email, password)
    ids: dict[str, int] = on_store(emulator, "alpha", commerce.build)
    asyncio.run(build_b2b(emulator, ids))

    async def review(client: Any) -> None:
        await client.post(
            f"/v3/catalog/products/{ids['tent']}/reviews",
            {
                "title": "Sturdy",
                "text": "Kept us dry.",
                "rating": 5,
                "status": "approved",
                "name": "Rita Reviewer",
                "email": "rita@example.org",
                "date_reviewed": "2024-03-01T10:00:00+00:00",
            },
        )

    on_store(emulator, "alpha", review)
    for env in ("alpha", "beta"):
        api.connect_b2b(env, config_path=project, b2b_factory=factory_for(emulator))
    return emulator


def pull(emulator: Emulator, config: Path, env: str, out: Path, **options: Any) -> None:
    api.pull(
        env,
        config_path=config,
        out=out,
        connector=connector_for(emulator),
        b2b_factory=factory_for(emulator),
        **options,
    )


def push(emulator: Emulator, config: Path, plan: Path) -> api.PushResult:
    return api.push(
        plan,
        config_path=config,
        connector=connector_for(emulator),
        b2b_factory=factory_for(emulator),
        order_status="keep",
    )


async def raise_tent_price(client: Any) -> None:
    (tent,) = await client.get("/v3/catalog/products", {"sku": "TENT-1"})
    await client.put(f"/v3/catalog/products/{tent['id']}", {"price": 249.0})


def test_the_refresh_cycle_keeps_production_people_untouched(
    stores: Emulator, project: Path, tmp_path: Path
) -> None:
    snaps = tmp_path / "snaps"
    # 1. production -> redact -> staging: pseudonymised people move into staging as today.
    pull(stores, project, "alpha", snaps / "prod-redacted", redact=True)
    redacted = read_snapshot(snaps / "prod-redacted")
    assert redacted.redaction is not None
    assert set(redacted.redaction.kinds) == set(PEOPLE) - {"b2b_orders", "b2b_invoices"}
    assert all(redacted.records(kind) for kind in PEOPLE), PEOPLE
    pull(stores, project, "beta", snaps / "staging-empty")
    refresh = api.diff(snaps / "prod-redacted", snaps / "staging-empty", config_path=project)
    assert refresh.withheld == ()
    assert {op.kind for op in refresh.operations} >= set(PEOPLE)
    api.save_plan(refresh, tmp_path / "refresh.json")
    done = push(stores, project, tmp_path / "refresh.json")
    assert [(r.operation.describe(), r.error) for r in done.results if r.status != "done"] == []

    # 2. A merchandiser changes the catalogue in staging.
    on_store(stores, "beta", raise_tent_price)

    # 3. staging -> production, every kind, with --prune: only the catalogue change is planned.
    pull(stores, project, "alpha", snaps / "production")
    pull(stores, project, "beta", snaps / "staging")  # no --redact: recognised by its values
    assert read_snapshot(snaps / "staging").redaction is None
    plan = api.diff(snaps / "staging", snaps / "production", prune=True, config_path=project)
    assert [op.describe() for op in plan.operations] == ["~ products TENT-1 (price)"]
    withheld = {w.kind: (w.writes, w.deletes) for w in plan.withheld}
    assert set(withheld) == set(PEOPLE) - {"b2b_orders", "b2b_invoices"}  # those two are equal
    assert withheld["customers"] == (5, 5)
    assert withheld["orders"] == (2, 0)  # same origin references: updates, not written

    # Every report format says how many were left out, and why.
    reports = {
        "text": render_text(plan),
        "markdown": render_markdown(plan),
        "html": render_html(plan),
        "json": plan_to_json(plan).decode(),
    }
    for name, report in reports.items():
        assert "role is production" in report, name
        assert "customers: 5 pseudonymised not written, 5 real not deleted" in report or (
            name == "json"
        ), name
    document = json.loads(reports["json"])
    validator("plan.schema.json").validate(document)
    assert {"kind": "customers", "writes": 5, "deletes": 5} in document["withheld"]["kinds"]

    api.save_plan(plan, tmp_path / "back.json")
    stores.clear_requests()
    result = push(stores, project, tmp_path / "back.json")
    assert [r.status for r in result.results] == ["done"]

    # 4. Production's people are untouched; the catalogue change arrived.
    pull(stores, project, "alpha", snaps / "after")
    before, after = read_snapshot(snaps / "production"), read_snapshot(snaps / "after")
    for kind in PEOPLE:
        assert after.records(kind) == before.records(kind), kind
        assert not any(
            holds_pseudonyms(REGISTRY[kind], k, r) for k, r in after.records(kind).items()
        ), kind
    assert after.records("products")["TENT-1"]["price"] == 249.0
    writes = [r for r in stores.requests if is_write(r) and r["store_hash"] == "alpha"]
    assert [(r["method"], r["path"].split("/")[-2]) for r in writes] == [("PUT", "products")]


def test_a_redacted_snapshot_says_so_and_its_digest_covers_it(
    stores: Emulator, project: Path, tmp_path: Path
) -> None:
    pull(stores, project, "alpha", tmp_path / "red", redact=True)
    manifest = json.loads((tmp_path / "red" / "snapshot.json").read_text())
    validator("snapshot-manifest.schema.json").validate(manifest)
    marker = manifest["redaction"]
    assert marker["scheme"] == "stagesync-pseudonyms" and marker["version"] == 1
    assert marker["keyed"] is False
    assert marker["kinds"]["customers"]["key"] == "email"
    assert marker["kinds"]["b2b_shopping_lists"]["fields"] == {"owner": "email"}

    snapshot = read_snapshot(tmp_path / "red")
    (tmp_path / "red" / "snapshot.json").write_text(
        json.dumps({k: v for k, v in manifest.items() if k != "redaction"})
    )
    assert read_snapshot(tmp_path / "red").digest != snapshot.digest
    # The manifest's own digest binds the marker to the records of the kinds it names.
    edited = json.loads(json.dumps(manifest))
    del edited["redaction"]["kinds"]["customers"]
    (tmp_path / "red" / "snapshot.json").write_text(json.dumps(edited))
    with pytest.raises(SnapshotError, match='"redaction" of .* does not match its digest'):
        read_snapshot(tmp_path / "red")

    # A partial pull without --redact drops the marker of the kinds it replaces only.
    (tmp_path / "red" / "snapshot.json").write_text(json.dumps(manifest))
    pull(stores, project, "alpha", tmp_path / "red", kinds=["customers"])
    kept = read_snapshot(tmp_path / "red").redaction
    assert kept is not None and "customers" not in kept.kinds and "orders" in kept.kinds

    # The plan and `show` say the source is redacted.
    pull(stores, project, "beta", tmp_path / "beta")
    plan = api.diff(tmp_path / "red", tmp_path / "beta", kinds=["orders"], config_path=project)
    assert plan.source.redaction is not None
    validator("plan.schema.json").validate(json.loads(plan_to_json(plan)))
    api.save_plan(plan, tmp_path / "plan.json")
    shown = CliRunner().invoke(cli.app, ["show", str(tmp_path / "plan.json")])
    assert shown.exit_code == 0, shown.output
    assert "Source alpha is a redacted snapshot (pseudonym scheme 1): " in shown.stdout


def test_only_people_into_production_is_refused_with_the_reason(
    stores: Emulator, project: Path, tmp_path: Path
) -> None:
    pull(stores, project, "alpha", tmp_path / "red", redact=True)
    pull(stores, project, "alpha", tmp_path / "prod")
    with pytest.raises(PlanError, match="holds only pseudonymised people") as refused:
        api.diff(tmp_path / "red", tmp_path / "prod", kinds=["customers"], config_path=project)
    assert "alpha's role is production" in str(refused.value)
    args = ["--config", str(project), "diff", str(tmp_path / "red"), str(tmp_path / "prod")]
    cli_refused = CliRunner().invoke(cli.app, [*args, "--kinds", "customers,orders"])
    assert cli_refused.exit_code == 1
    assert "holds only pseudonymised people" in cli_refused.stderr
    assert cli_refused.stdout == ""
    # Without a configuration the destination is taken to be production, the strictest.
    with pytest.raises(PlanError, match="holds only pseudonymised people"):
        api.diff(tmp_path / "red", tmp_path / "prod", kinds=["customers", "orders"])


def test_push_refuses_a_plan_edited_to_write_pseudonyms_into_production(
    stores: Emulator, project: Path, tmp_path: Path
) -> None:
    """A plan made while beta was staging, pushed once beta is production: the check stage
    refuses it and nothing is written."""
    pull(stores, project, "alpha", tmp_path / "red", redact=True)
    pull(stores, project, "beta", tmp_path / "beta")
    plan = api.diff(tmp_path / "red", tmp_path / "beta", kinds=["customers"], config_path=project)
    creates = [op for op in plan.operations if op.kind == "customers"]
    assert {op.action for op in creates} == {Action.CREATE}
    assert creates and plan.withheld == ()
    api.save_plan(plan, tmp_path / "plan.json")
    config = project.read_text().replace('role = "staging"', 'role = "production"')
    project.write_text(config)
    stores.clear_requests()

    run = PushRun(
        tmp_path / "plan.json",
        PushOptions(),
        config_path=project,
        connector=connector_for(stores),
        b2b_factory=factory_for(stores),
    )
    refusal = api.run_push(run)

    assert isinstance(refusal, Refusal) and refusal.stage == "check"
    assert isinstance(refusal.error, PlanRefused)
    assert f"writes {len(creates)} pseudonymised record(s) of people" in str(refusal.error)
    assert [r for r in stores.requests if is_write(r)] == []


def test_b2b_kinds_listed_are_guarded() -> None:
    assert set(B2B_KINDS) <= set(PEOPLE)
    assert {"customers", "orders", "product_reviews"} <= set(PEOPLE)


# -- the guard as a planning step: two snapshots in, the plan out --------------------------------

FAKE = "customer-0123456789abcdef@example.com"
REAL = "jane@shop.test"


def snapshot(**kinds: dict[str, dict[str, Any]]) -> Snapshot:
    return Snapshot({kind: KindSnapshot(records) for kind, records in kinds.items()}, "env")


def planned(source: Snapshot, destination: Snapshot, **options: Any) -> list[str]:
    plan = make_plan(source, destination, REGISTRY, created_at="now", **options)
    return [op.describe() for op in plan.operations]


def test_into_staging_and_sandbox_pseudonyms_move_as_before() -> None:
    source = snapshot(customers={FAKE: {"email": FAKE, "first_name": "Name 01234567"}})
    destination = snapshot(customers={REAL: {"email": REAL, "first_name": "Jane"}})
    for role in ("staging", "sandbox"):
        assert planned(source, destination, prune=True, role=role) == [
            f"+ customers {FAKE}",
            f"- customers {REAL}",
        ]
    assert planned(source, destination, prune=True) == []  # production, the default


def test_a_person_partly_typed_over_is_still_pseudonymised_and_a_pseudonym_may_be_deleted() -> None:
    edited = {"email": FAKE, "first_name": "Janet"}  # a tester typed a real-looking name
    stale = "customer-fedcba9876543210@example.com"
    source = snapshot(customers={FAKE: edited, REAL: {"email": REAL, "first_name": "Jane"}})
    destination = snapshot(
        customers={stale: {"email": stale, "first_name": "Name 76543210"}, "bob@shop.test": {}}
    )
    plan = make_plan(source, destination, REGISTRY, created_at="now", prune=True)
    # The real customer of the source is written; the pseudonymised one is not; the pseudonym
    # on the destination may go; the real one there stays (the source holds pseudonyms).
    assert [op.describe() for op in plan.operations] == [
        f"+ customers {REAL}",
        f"- customers {stale}",
    ]
    assert plan.withheld == (Withheld("customers", writes=1, deletes=1),)


def test_what_references_a_pseudonymised_person_is_left_out_too() -> None:
    order = {"customer": FAKE, "billing_address": {"first_name": "Ann"}, "products": []}
    invoice = {"company": None, "order": "web:1", "details": {}}
    source = snapshot(
        customers={FAKE: {"email": FAKE}},
        orders={"web:1": order},
        b2b_invoices={"INV-9": invoice},
    )
    destination = snapshot(customers={}, orders={}, b2b_invoices={})
    plan = make_plan(source, destination, REGISTRY, created_at="now")
    assert plan.operations == ()
    assert [(w.kind, w.writes) for w in plan.withheld] == [
        ("customers", 1),
        ("orders", 1),  # its billing name is real, but its customer is a pseudonym
        ("b2b_invoices", 1),  # no personal data, but the invoice of a pseudonymous order
    ]
    with pytest.raises(PlanError, match=r"selection \(b2b_invoices\) holds only pseudonymised"):
        make_plan(source, destination, REGISTRY, created_at="now", kinds=["b2b_invoices"])
