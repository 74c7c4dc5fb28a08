"""Selection, closure, prune, replace and cycles: two snapshots in, operations with reasons out."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stagesync.entities import dependencies
from stagesync.entities import products as real_products
from stagesync.errors import PlanError
from stagesync.model import Action, EntityKey, Plan, Record, Snapshot
from stagesync.planfile import plan_to_json
from tests.test_plan import CREATED_AT, REGISTRY, kind, make_plan, product, snap

DOCS = Path(__file__).resolve().parents[1] / "docs"


def related_refs(key: str, record: Record) -> Iterable[EntityKey]:
    return real_products.links(key, record)


LINKED = {
    **REGISTRY,
    "products": kind(
        "products",
        "product",
        REGISTRY["products"].references,
        links=related_refs,
        link_fields=("related_products",),
    ),
}


def plan(source: Snapshot, destination: Snapshot, registry: Any = LINKED, **kw: Any) -> Plan:
    return make_plan(source, destination, registry, created_at=CREATED_AT, **kw)


def lines(p: Plan) -> list[str]:
    out = []
    for op in p.operations:
        line = op.describe()
        if op.reason != "selected":
            line += f"  [{op.reason}]"
        out.append(line)
    return out


CATALOGUE = {
    "brands": {"Acme": {"name": "Acme"}, "Other": {"name": "Other"}},
    "categories": {"Shoes": {"name": "Shoes"}, "Shoes/Trail": {"name": "Trail"}},
    "products": {
        "SHOE-1": product("SHOE-1", brand="Acme", categories=["Shoes/Trail"], price=2),
        "SHOE-2": product("SHOE-2", brand="Other", categories=["Shoes"]),
        "HAT-1": product("HAT-1", brand="Other"),
    },
}


# --- the map is data, rendered into the docs ----------------------------------------------------


def test_docs_carry_the_rendered_dependency_map():
    text = (DOCS / "entities.md").read_text(encoding="utf-8")
    assert dependencies.update_document(text) == text, (
        "docs/entities.md is out of date: run "
        "python -m stagesync.entities.dependencies docs/entities.md"
    )


def test_the_map_has_every_row_the_design_names():
    # The table is a minimum: a row may bring more (promotions also name channels).
    assert set(dependencies.depends_on("promotions")) >= {
        "brands",
        "categories",
        "products",
        "customer_groups",
        "shipping_zones",
    }
    assert dependencies.depends_on("b2b_quotes") == (
        "products",
        "orders",
        "b2b_orders",
        "b2b_companies",
    )
    assert dependencies.closure(["b2b_users"]) >= {"customers", "customer_groups", "price_lists"}
    assert REGISTRY["products"].depends_on == ("brands", "categories")
    for row in dependencies.ROWS.values():
        assert set(row.brings_along) <= set(dependencies.ROWS), row.kind


# --- closure --------------------------------------------------------------------------------------


def test_only_brings_along_missing_or_different_references_with_reasons():
    destination = snap(
        brands={"Acme": {"name": "Acme", "old": True}, "Other": {"name": "Other"}},
        categories={"Shoes": {"name": "Shoes"}},
        products={},
    )
    p = plan(snap(**CATALOGUE), destination, only=[("products", "SHOE-*")])
    assert lines(p) == [
        "~ brands Acme (old)  [dependency of product SHOE-1]",
        "+ categories Shoes/Trail  [dependency of product SHOE-1]",
        "+ products SHOE-1",
        "+ products SHOE-2",
    ]
    # unchanged dependencies (brand Other, category Shoes) produce nothing; HAT-1 is not selected
    assert p.kinds == ("brands", "categories", "products")


def test_closure_is_transitive():
    p = plan(snap(**CATALOGUE), snap(brands={}, categories={}, products={}), kinds=["products"])
    reasons = {op.id: op.reason for op in p.operations}
    assert reasons["categories:Shoes/Trail"] == "dependency of product SHOE-1"
    assert reasons["categories:Shoes"] == "dependency of product SHOE-2"  # the first to need it
    assert reasons["brands:Other"] == "dependency of product HAT-1"
    only = plan(
        snap(**CATALOGUE),
        snap(brands={}, categories={}, products={}),
        only=[("products", "SHOE-1")],
    )
    assert lines(only) == [
        "+ brands Acme  [dependency of product SHOE-1]",
        "+ categories Shoes  [dependency of category Shoes/Trail]",
        "+ categories Shoes/Trail  [dependency of product SHOE-1]",
        "+ products SHOE-1",
    ]


def test_no_deps_lists_every_missing_reference():
    with pytest.raises(PlanError) as error:
        plan(
            snap(**CATALOGUE),
            snap(brands={}, categories={"Shoes": {"name": "Shoes"}}, products={}),
            only=[("products", "SHOE-*")],
            deps=False,
        )
    message = str(error.value)
    assert "3 references would not resolve" in message
    assert "product SHOE-1 references brand Acme" in message
    assert "product SHOE-1 references category Shoes/Trail" in message
    assert "product SHOE-2 references brand Other" in message
    assert "Drop --no-deps" in message


def test_no_deps_plans_only_the_selection_when_references_resolve():
    destination = snap(**{**CATALOGUE, "products": {}})
    destination.kinds["brands"].records["Acme"]["x"] = 1  # type: ignore[index]
    p = plan(snap(**CATALOGUE), destination, only=[("products", "SHOE-1")], deps=False)
    assert lines(p) == ["+ products SHOE-1"]


# --- prune ---------------------------------------------------------------------------------


def test_prune_deletes_only_inside_the_selection():
    source = snap(brands={}, categories={}, products={"KEEP": product("KEEP")})
    destination = snap(
        brands={"Gone": {"name": "Gone"}},
        categories={},
        products={"KEEP": product("KEEP"), "OLD-1": product("OLD-1"), "HAT": product("HAT")},
    )
    p = plan(source, destination, only=[("products", "OLD-*")], prune=True)
    assert lines(p) == ["- products OLD-1"]
    assert lines(plan(source, destination, kinds=["products"])) == []


def test_a_referrer_outside_the_selection_is_updated_before_the_delete():
    source = snap(brands={"New": {"name": "New"}}, products={"P": product("P", brand="New")})
    destination = snap(
        brands={"Old": {"name": "Old"}, "New": {"name": "New"}},
        products={"P": product("P", brand="Old")},
    )
    p = plan(source, destination, kinds=["brands"], prune=True)
    assert lines(p) == [
        "~ products P (brand)  [stops referencing brand Old before its delete]",
        "- brands Old",
    ]
    assert p.operations[1].depends_on == ("products:P",)


def test_a_referrer_that_cannot_be_updated_is_a_warning():
    source = snap(brands={}, products={})
    destination = snap(brands={"Old": {"name": "Old"}}, products={"P": product("P", brand="Old")})
    p = plan(source, destination, kinds=["brands"], prune=True)
    assert lines(p) == ["- brands Old"]
    assert "product P is outside the selection and still references brand Old" in p.warnings[0]


# --- replace --------------------------------------------------------------------------------------


def test_replace_is_first_class_with_its_reason():
    def must_replace(key: str, before: Record, after: Record) -> str | None:
        return "the type of a brand cannot change" if before["type"] != after["type"] else None

    registry = {
        **LINKED,
        "brands": kind("brands", "brand", lambda k, r: (), must_replace=must_replace),
    }
    source = snap(brands={"A": {"type": 1}, "B": {"type": 1, "n": 2}})
    destination = snap(brands={"A": {"type": 2}, "B": {"type": 1, "n": 1}})
    p = plan(source, destination, registry)
    assert [(op.describe(), op.note) for op in p.operations] == [
        ("-/+ brands A (type)", "the type of a brand cannot change"),
        ("~ brands B (n)", None),
    ]
    assert p.operations[0].action is Action.REPLACE
    assert p.operations[0].precondition is not None
    assert '"note": "the type of a brand cannot change"' in plan_to_json(p).decode()


# --- cycles ---------------------------------------------------------------------------------------


def test_related_products_cycle_is_created_then_linked():
    source = snap(
        products={
            "A": product("A", related_products=["B"]),
            "B": product("B", related_products=["A", -1]),
            "C": product("C", related_products=["A"]),
        }
    )
    p = plan(source, snap(products={}))
    assert [op.id for op in p.operations] == [
        "products:A",
        "products:B",
        "products:A#link",
        "products:B#link",
        "products:C",
    ]
    ops = {op.id: op for op in p.operations}
    assert ops["products:A"].after == product("A", related_products=[])
    assert ops["products:A#link"].after == product("A", related_products=["B"])
    assert ops["products:A#link"].depends_on == ("products:A", "products:B")
    assert ops["products:A#link"].describe() == "~ products A link (related_products)"
    assert ops["products:A#link"].reason == (
        "link after the cycle products:A -> products:B -> products:A exists"
    )
    assert ops["products:A#link"].precondition is None  # the product must still be absent
    assert ops["products:C"].depends_on == ("products:A",)  # no cycle: plain ordering
    assert ops["products:C"].after == source.records("products")["C"]


def test_a_link_to_an_existing_entity_needs_no_link_step():
    source = snap(
        products={
            "A": product("A", related_products=["B"]),
            "B": product("B", related_products=["A"]),
        }
    )
    destination = snap(products={"A": product("A")})
    p = plan(source, destination)
    assert [op.describe() for op in p.operations] == [
        "+ products B",
        "~ products A (related_products)",
    ]


def test_a_cycle_without_links_is_an_error_naming_it():
    def cyclic(key: str, record: Record) -> Iterable[EntityKey]:
        return [EntityKey("brands", record["next"])]

    registry = {**LINKED, "brands": kind("brands", "brand", cyclic)}
    with pytest.raises(PlanError, match="brands:A -> brands:B -> brands:A"):
        plan(snap(brands={"A": {"next": "B"}, "B": {"next": "A"}}), snap(), registry)


# --- properties -----------------------------------------------------------------------------------

skus = st.sampled_from(["A", "B", "C", "D"])


@st.composite
def linked_stores(draw: st.DrawFn) -> Snapshot:
    brands = draw(st.lists(st.sampled_from(["X", "Y"]), unique=True))
    products = {}
    for sku in draw(st.lists(skus, unique=True)):
        record = product(sku, price=draw(st.integers(0, 2)))
        if brands and draw(st.booleans()):
            record["brand"] = draw(st.sampled_from(brands))
        record["related_products"] = draw(st.lists(skus, unique=True, max_size=2))
        products[sku] = record
    # a related product must exist in the same store
    for record in products.values():
        record["related_products"] = sorted(p for p in record["related_products"] if p in products)
    return snap("env", brands={b: {"name": b} for b in brands}, categories={}, products=products)


@settings(max_examples=80, deadline=None)
@given(
    linked_stores(),
    linked_stores(),
    st.booleans(),
    st.sampled_from([None, [("products", "A*")], [("brands", "*")], [("products", "[BC]")]]),
)
def test_plans_over_generated_stores(
    source: Snapshot, destination: Snapshot, prune: bool, only: Any
) -> None:
    first = plan(source, destination, prune=prune, only=only or ())
    assert plan_to_json(first) == plan_to_json(
        plan(source, destination, prune=prune, only=only or ())
    )
    position = {op.id: i for i, op in enumerate(first.operations)}
    ids = set(position)
    assert len(ids) == len(first.operations)
    writes = {op.key for op in first.operations if op.action is not Action.DELETE}
    assert all(op.after == source.get(op.key) for op in first.operations if op.is_link)
    deleted = {op.key for op in first.operations if op.action is Action.DELETE}
    for op in first.operations:
        assert all(position[d] < position[op.id] for d in op.depends_on), op.id
        if op.action is Action.DELETE:
            # every planned entity whose destination record references it goes first
            for other in first.operations:
                before = destination.get(other.key)
                if before and other.key != op.key:
                    entity = LINKED[other.kind]
                    refs = set(entity.references(other.key.key, before))
                    if other.action is not Action.DELETE:
                        refs |= set(entity.links(other.key.key, before))
                    if op.key in refs:
                        assert position[other.id] < position[op.id]
            continue
        if op.is_link:
            continue
        # everything it references that the plan creates comes first (or its link step does);
        # what it references that exists already comes first unless a cycle was broken there
        by_key = {o.key: o for o in first.operations if not o.is_link}
        link_step = position.get(op.id + "#link")
        entity = LINKED[op.kind]
        assert op.after is not None
        links = set(entity.links(op.key.key, op.after))
        for ref in entity.all_references(op.key.key, op.after) & writes:
            if position[str(ref)] < position[op.id]:
                continue
            assert ref in links, (op.id, ref)
            if by_key[ref].action is not Action.UPDATE:
                assert link_step is not None and position[str(ref)] < link_step, (op.id, ref)
        assert not entity.all_references(op.key.key, op.after) & deleted
    # all deletes after all writes
    actions = [op.action is Action.DELETE for op in first.operations]
    assert actions == sorted(actions)


@settings(max_examples=40, deadline=None)
@given(linked_stores())
def test_a_store_against_itself_plans_nothing(store: Snapshot) -> None:
    assert plan(store, store, prune=True).empty
