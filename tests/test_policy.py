"""Policy rules over real plans: two tiny snapshots in, a plan from the real planner, then the
findings (rule, severity, entity) the rules give, with the settings that change them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from stagesync.entities import REGISTRY
from stagesync.model import KindSnapshot, Plan, Record, Redaction, Snapshot
from stagesync.plan import make_plan
from stagesync.policy import RULES, PolicySettings, Rule, RuleSettings, Severity, evaluate
from stagesync.policy.engine import needed_kinds
from stagesync.redact import looks_redacted, redact_snapshot
from stagesync.report.findings import finding_lines, one_line

CREATED_AT = "2024-05-01T12:00:00Z"


def snap(**kinds: dict[str, Record]) -> Snapshot:
    return Snapshot(
        {kind: KindSnapshot(records) for kind, records in kinds.items()},
        environment="production",
        store_hash="prod1",
    )


def product(price: float, brand: str | None = None, **extra: Any) -> Record:
    return {"name": "Thing", "price": price, "sale_price": 0, "brand": brand, **extra}


def plan_of(source: Snapshot, destination: Snapshot, **options: Any) -> Plan:
    return make_plan(source, destination, REGISTRY, created_at=CREATED_AT, **options)


def found(
    plan: Plan, destination: Snapshot, *layers: PolicySettings, **options: Any
) -> list[tuple[str, str, str]]:
    findings = evaluate(plan, destination, REGISTRY, layers=layers, **options)
    return [(f.rule, str(f.severity), f.entity) for f in findings]


def only(rule: str, **settings: Any) -> PolicySettings:
    """Every other rule off; ``rule`` with ``settings``."""
    rules = {r.id: RuleSettings(severity=Severity.OFF) for r in RULES if r.id != rule}
    rules[rule] = RuleSettings(**settings)
    return PolicySettings(rules)


# --- delete-referenced -----------------------------------------------------------------------


def test_deleting_a_brand_a_product_still_names_is_an_error() -> None:
    destination = snap(
        brands={"Acme": {"name": "Acme"}, "Zed": {"name": "Zed"}},
        products={"SKU-2": product(10, "Zed")},
    )
    source = snap(brands={"Acme": {"name": "Acme"}}, products={"SKU-2": product(10, "Zed")})
    plan = plan_of(source, destination, kinds=["brands"], prune=True)
    assert [op.describe() for op in plan.operations] == ["- brands Zed"]
    findings = evaluate(plan, destination, REGISTRY, layers=[only("delete-referenced")])
    assert [(f.rule, f.severity, f.entity) for f in findings] == [
        ("delete-referenced", Severity.ERROR, "brands Zed")
    ]
    assert "products SKU-2" in findings[0].message


def test_a_referencing_entity_the_plan_changes_away_from_the_target_is_fine() -> None:
    destination = snap(
        brands={"Acme": {"name": "Acme"}, "Zed": {"name": "Zed"}},
        products={"SKU-2": product(10, "Zed")},
    )
    source = snap(brands={"Acme": {"name": "Acme"}}, products={"SKU-2": product(10, "Acme")})
    plan = plan_of(source, destination, prune=True)
    assert [op.describe() for op in plan.operations] == [
        "~ products SKU-2 (brand)",
        "- brands Zed",
    ]
    assert found(plan, destination, only("delete-referenced")) == []


def test_a_promotion_naming_a_deleted_product_is_found() -> None:
    destination = snap(
        products={"SKU-1": product(10), "SKU-2": product(20)},
        promotions={"SUMMER": {"name": "SUMMER", "rules": [{"condition": {"product": "SKU-2"}}]}},
    )
    source = snap(products={"SKU-1": product(10)})
    plan = plan_of(source, destination, kinds=["products"], prune=True)
    assert needed_kinds(plan) >= {"products", "promotions", "price_list_records"}
    findings = evaluate(plan, destination, REGISTRY, layers=[only("delete-referenced")])
    assert [(f.entity, f.message) for f in findings] == [
        (
            "products SKU-2",
            "is deleted, but 1 entity on the destination still references it and the plan "
            "leaves it in place: promotions SUMMER.",
        )
    ]


# --- price-change ----------------------------------------------------------------------------


def test_price_changes_beyond_the_thresholds_on_products_variants_and_price_lists() -> None:
    variants = [{"sku": "SKU-1-L", "price": 100, "option_values": []}]
    destination = snap(
        products={
            "SKU-1": product(100, variants=variants),
            "SKU-2": product(100, sale_price=80),
            "SKU-3": product(100),
        },
        price_lists={"Wholesale": {"name": "Wholesale"}},
        price_list_records={
            "Wholesale/SKU-3/usd": {"price_list": "Wholesale", "product": "SKU-3", "price": 50}
        },
    )
    source = snap(
        products={
            "SKU-1": product(20, variants=[{**variants[0], "price": 301}]),
            "SKU-2": product(60, sale_price=0),  # 40% down; the sale ends (0: no sale price)
            "SKU-3": product(100),
        },
        price_lists={"Wholesale": {"name": "Wholesale"}},
        price_list_records={
            "Wholesale/SKU-3/usd": {"price_list": "Wholesale", "product": "SKU-3", "price": 5}
        },
    )
    plan = plan_of(source, destination)
    findings = evaluate(plan, destination, REGISTRY, layers=[only("price-change")])
    assert [(f.entity, f.message) for f in findings] == [
        (
            "price_list_records Wholesale/SKU-3/usd",
            "price 50 -> 5: 90% down, more than the 50% the rule allows.",
        ),
        ("products SKU-1", "price 100 -> 20: 80% down, more than the 50% the rule allows."),
        (
            "products SKU-1",
            "variants[SKU-1-L].price 100 -> 301: 201% up, more than the 200% the rule allows.",
        ),
    ]
    looser = only(
        "price-change",
        limits={"max_decrease_percent": 85, "max_increase_percent": 250},
        exceptions=(("price_list_records", "Wholesale/*"),),
    )
    assert found(plan, destination, looser) == []


# --- mass-delete, mass-change ----------------------------------------------------------------


def brands(*names: str, **extra: Any) -> dict[str, Record]:
    return {name: {"name": name, **extra} for name in names}


def test_more_deletes_than_allowed() -> None:
    destination = snap(brands=brands("A", "B", "C", "D"))
    source = snap(brands=brands("A"))
    plan = plan_of(source, destination, prune=True)
    assert found(plan, destination, only("mass-delete", limits={"max_deletes": 3})) == []
    findings = evaluate(
        plan, destination, REGISTRY, layers=[only("mass-delete", limits={"max_deletes": 2})]
    )
    assert [(f.entity, f.message) for f in findings] == [
        ("plan", "the plan deletes 3 entities (brands 3), more than the 2 the rule allows.")
    ]
    excepted = only("mass-delete", limits={"max_deletes": 2}, exceptions=(("brands", "B"),))
    assert found(plan, destination, excepted) == []


def test_more_than_a_share_of_a_kind_changed() -> None:
    destination = snap(brands=brands("A", "B", "C", "D"))
    source = snap(brands={**brands("A", "B", "C", page_title="New"), **brands("D")})
    plan = plan_of(source, destination)
    small = {"min_records": 4}
    assert found(plan, destination, only("mass-change", limits=small)) == [
        ("mass-change", "error", "brands")
    ]
    assert found(plan, destination, only("mass-change")) == []  # fewer than 20 brands
    assert found(plan, destination, only("mass-change", limits={**small, "max_percent": 75})) == []
    whole_kind = only("mass-change", limits=small, exceptions=(("brands", "*"),))
    assert found(plan, destination, whole_kind) == []


# --- notifies-people, promotion-reset, theme-activation --------------------------------------


def customer(email: str, **extra: Any) -> Record:
    return {"email": email, "first_name": "Ann", "last_name": "Lee", **extra}


def test_writing_customers_may_email_them() -> None:
    destination = snap(customers={})
    source = snap(customers={"ann@shop.test": customer("ann@shop.test")})
    plan = plan_of(source, destination)
    findings = evaluate(plan, destination, REGISTRY, layers=[only("notifies-people")])
    assert [(f.severity, f.entity, f.message) for f in findings] == [
        (
            Severity.ERROR,
            "customers",
            "the plan writes customers (1 create); the platform may email the people they belong "
            "to.",
        )
    ]
    relaxed = evaluate(
        plan, destination, REGISTRY, role="sandbox", layers=[only("notifies-people")]
    )
    assert [f.severity for f in relaxed] == [Severity.WARN]


def test_a_replaced_promotion_restarts_its_usage_counts() -> None:
    destination = snap(promotions={"SUMMER": {"name": "SUMMER", "rules": [], "max_uses": 10}})
    source = snap(promotions={"SUMMER": {"name": "SUMMER", "rules": [], "max_uses": 20}})
    plan = plan_of(source, destination)
    assert [op.describe() for op in plan.operations] == ["-/+ promotions SUMMER (max_uses)"]
    assert found(plan, destination, only("promotion-reset")) == [
        ("promotion-reset", "error", "promotions SUMMER")
    ]


def test_activating_a_theme() -> None:
    plan = plan_of(snap(), snap())
    assert found(plan, snap(), only("theme-activation")) == []
    assert found(plan, snap(), only("theme-activation"), activate="Light:Bold") == [
        ("theme-activation", "error", "themes Light")
    ]


# --- personal-data ---------------------------------------------------------------------------


def test_real_personal_data_into_a_staging_role() -> None:
    destination = snap(customers={})
    source = snap(customers={"ann@shop.test": customer("ann@shop.test", phone="0123")})
    plan = plan_of(source, destination)
    rule = only("personal-data")
    assert found(plan, destination, rule) == []  # production: that is where real people live
    assert found(plan, destination, rule, role="staging") == [
        ("personal-data", "error", "customers")
    ]
    redacted = redact_snapshot(source, REGISTRY)
    (key,) = redacted.records("customers")
    assert looks_redacted(REGISTRY["customers"], key, redacted.records("customers")[key])
    assert found(plan_of(redacted, destination), destination, rule, role="staging") == []
    marked = replace(source, redaction=Redaction(1, False, {"customers": {"key": "email"}}))
    assert plan_of(marked, destination).source.redaction is not None
    assert found(plan_of(marked, destination), destination, rule, role="staging") == []


# --- plan-warning, severities, layers --------------------------------------------------------


def test_plan_warnings_become_findings_unless_a_rule_in_force_reports_them() -> None:
    destination = snap(customers={})
    source = snap(customers={"ann@shop.test": customer("ann@shop.test")})
    plan = plan_of(source, destination)
    notify = next(w for w in plan.warnings if "may notify customers" in w)
    password = next(w for w in plan.warnings if "without passwords" in w)
    both = evaluate(plan, destination, REGISTRY)
    assert [f.message for f in both if f.rule == "plan-warning"] == [password]
    off = PolicySettings({"notifies-people": RuleSettings(severity=Severity.OFF)})
    alone = evaluate(plan, destination, REGISTRY, layers=[off])
    assert [f.message for f in alone if f.rule == "plan-warning"] == [password, notify]


def test_errors_come_first_and_later_layers_win() -> None:
    destination = snap(brands=brands("A", "B"), customers={})
    source = snap(brands=brands("A"), customers={"ann@shop.test": customer("ann@shop.test")})
    plan = plan_of(source, destination, prune=True)
    everywhere = PolicySettings(
        {
            "mass-delete": RuleSettings(limits={"max_deletes": 0}),
            "notifies-people": RuleSettings(severity=Severity.WARN),
        }
    )
    here = PolicySettings({"notifies-people": RuleSettings(severity=Severity.ERROR)})
    assert found(plan, destination, everywhere) == [
        ("mass-delete", "error", "plan"),
        ("notifies-people", "warn", "customers"),
        ("plan-warning", "warn", "plan"),
    ]
    assert found(plan, destination, everywhere, here)[:2] == [
        ("mass-delete", "error", "plan"),
        ("notifies-people", "error", "customers"),
    ]


def example(rule: str) -> tuple[Plan, Snapshot, dict[str, Any]]:
    """The plan docs/policy.md shows for ``rule``, its destination and evaluate's options."""
    names = [f"B{n:02}" for n in range(1, 41)]
    customers = {"ann@shop.test": customer("ann@shop.test")}
    cases: dict[str, tuple[Snapshot, Snapshot, dict[str, Any], dict[str, Any]]] = {
        "delete-referenced": (
            snap(brands=brands("Acme"), products={"SKU-2": product(10, "Zed")}),
            snap(brands=brands("Acme", "Zed"), products={"SKU-2": product(10, "Zed")}),
            {"kinds": ["brands"], "prune": True},
            {},
        ),
        "price-change": (
            snap(products={"SKU-1": product(20)}),
            snap(products={"SKU-1": product(100)}),
            {},
            {},
        ),
        "mass-delete": (
            snap(brands={}),
            snap(brands=brands(*names[:30])),
            {"kinds": ["brands"], "prune": True},
            {},
        ),
        "mass-change": (
            snap(brands={**brands(*names[:24], page_title="New"), **brands(*names[24:])}),
            snap(brands=brands(*names)),
            {},
            {},
        ),
        "notifies-people": (snap(customers=customers), snap(customers={}), {}, {}),
        "promotion-reset": (
            snap(promotions={"SUMMER": {"name": "SUMMER", "rules": [], "max_uses": 20}}),
            snap(promotions={"SUMMER": {"name": "SUMMER", "rules": [], "max_uses": 10}}),
            {},
            {},
        ),
        "theme-activation": (snap(), snap(), {}, {"activate": "Light"}),
        "personal-data": (snap(customers=customers), snap(customers={}), {}, {"role": "staging"}),
        "plan-warning": (
            snap(products={}),
            snap(products={}),
            {"only": [("products", "NOPE-*")]},
            {},
        ),
    }
    source, destination, plan_options, options = cases[rule]
    return plan_of(source, destination, **plan_options), destination, options


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_every_rule_is_documented_with_an_example_that_triggers_it(rule: Rule) -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "policy.md").read_text()
    section = text.split(f"### `{rule.id}`\n", 1)[1].split("\n### ", 1)[0]
    for threshold in rule.thresholds:
        assert f"| `{threshold.name}` | {threshold.default:g} |" in section
    plan, destination, options = example(rule.id)
    findings = evaluate(plan, destination, REGISTRY, **options)
    mine = [f for f in findings if f.rule == rule.id]
    assert mine, f"the example of {rule.id} does not trigger it"
    if rule.id == "theme-activation":  # shown as push's refusal prints it
        assert f"\n  {one_line(mine[0])}\n" in section
    else:
        head, message = finding_lines(mine[0])[:2]
        assert f"\n{head}\n{message}\n" in section
