"""diff + build_plan: two snapshots in, ordered operations out. Before / after / expected.

The registry here is a small fake whose references follow the real rules: a product references
its brand and categories, a category its parent (from its path key, split on an unescaped ``/``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stagesync.entities.base import EntityKind
from stagesync.errors import PlanError
from stagesync.model import Action, EntityKey, KindSnapshot, Plan, Record, Snapshot
from stagesync.plan import build_plan, kind_order, make_plan, plan_kinds
from stagesync.planfile import plan_to_json
from stagesync.storelock import LOCK_REQUESTS

CREATED_AT = "2024-05-01T12:00:00Z"


def _unused(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError


def parent_path(path: str) -> str | None:
    parts = re.split(r"(?<!\\)/", path)
    return "/".join(parts[:-1]) if len(parts) > 1 else None


def brand_refs(key: str, record: Record) -> Iterable[EntityKey]:
    return ()


def category_refs(key: str, record: Record) -> Iterable[EntityKey]:
    parent = parent_path(key)
    return [EntityKey("categories", parent)] if parent else []


def product_refs(key: str, record: Record) -> Iterable[EntityKey]:
    refs = [EntityKey("categories", c) for c in record.get("categories", [])]
    if record.get("brand"):
        refs.append(EntityKey("brands", record["brand"]))
    return refs


def product_estimate(action: Action, record: Record | None) -> int:
    if action is Action.DELETE:
        return 1
    return 1 + len((record or {}).get("variants", []))


def kind(name: str, singular: str, refs: Any, **kw: Any) -> EntityKind:
    """A fake kind; its kind-level dependencies come from the real map (by name)."""
    return EntityKind(
        name=name,
        singular=singular,
        display_name=name.title(),
        fetch=_unused,
        identify=_unused,
        live_id=_unused,
        normalise=_unused,
        references=refs,
        create=_unused,
        update=_unused,
        delete=_unused,
        **kw,
    )


REGISTRY = {
    "brands": kind("brands", "brand", brand_refs),
    "categories": kind("categories", "category", category_refs),
    "products": kind(
        "products",
        "product",
        product_refs,
        estimate_requests=product_estimate,
    ),
}


def snap(env: str | None = None, **kinds: dict[str, dict[str, Any]]) -> Snapshot:
    return Snapshot(
        {k: KindSnapshot(records) for k, records in kinds.items()},
        environment=env,
        store_hash=f"{env}-hash" if env else None,
    )


def plan(source: Snapshot, destination: Snapshot, **kw: Any) -> Plan:
    return make_plan(source, destination, REGISTRY, created_at=CREATED_AT, **kw)


def described(p: Plan) -> list[str]:
    return [op.describe() for op in p.operations]


def product(sku: str, **fields: Any) -> dict[str, Any]:
    return {"sku": sku, "name": sku.lower(), **fields}


# --- ordering -------------------------------------------------------------------------------------


def test_creates_come_after_what_they_reference():
    source = snap(
        products={"SKU-1": product("SKU-1", brand="Acme", categories=["Shoes/Running"])},
        categories={"Shoes": {"name": "Shoes"}, "Shoes/Running": {"name": "Running"}},
        brands={"Acme": {"name": "Acme"}},
    )
    p = plan(source, snap(brands={}, categories={}, products={}))
    assert described(p) == [
        "+ brands Acme",
        "+ categories Shoes",
        "+ categories Shoes/Running",
        "+ products SKU-1",
    ]
    ops = {op.id: op for op in p.operations}
    assert ops["products:SKU-1"].depends_on == ("brands:Acme", "categories:Shoes/Running")
    assert ops["categories:Shoes/Running"].depends_on == ("categories:Shoes",)
    assert ops["brands:Acme"].depends_on == ()
    assert all(op.reason == "selected" and op.precondition is None for op in p.operations)
    assert p.warnings == ()


def test_children_after_parents_even_when_keys_sort_the_other_way():
    source = snap(categories={"A/B": {"name": "B"}, "A": {"name": "A"}, "0": {"name": "0"}})
    # "A/B" escaped slash: a single root category named "A/B"
    source2 = snap(categories={"A\\/B": {"name": "A/B"}, "A\\/B/C": {"name": "C"}})
    assert described(plan(source, snap())) == [
        "+ categories 0",
        "+ categories A",
        "+ categories A/B",
    ]
    p2 = plan(source2, snap())
    assert described(p2) == ["+ categories A\\/B", "+ categories A\\/B/C"]
    assert p2.operations[0].depends_on == ()


def test_references_outside_the_plan_are_not_dependencies():
    source = snap(
        brands={"Acme": {"name": "Acme"}},
        products={"SKU-1": product("SKU-1", brand="Acme", price=2)},
    )
    destination = snap(
        brands={"Acme": {"name": "Acme"}},
        products={"SKU-1": product("SKU-1", brand="Acme", price=1)},
    )
    p = plan(source, destination)
    assert described(p) == ["~ products SKU-1 (price)"]
    assert p.operations[0].depends_on == ()


def test_deletes_come_last_in_reverse_dependency_order():
    source = snap(brands={"New": {"name": "New"}}, categories={}, products={})
    destination = snap(
        brands={"Old": {"name": "Old"}},
        categories={"Old": {"name": "Old"}, "Old/Child": {"name": "Child"}},
        products={"OLD-1": product("OLD-1", brand="Old", categories=["Old/Child"])},
    )
    p = plan(source, destination, prune=True)
    assert described(p) == [
        "+ brands New",
        "- products OLD-1",
        "- brands Old",
        "- categories Old/Child",
        "- categories Old",
    ]
    ops = {op.id: op for op in p.operations}
    assert ops["brands:Old"].depends_on == ("products:OLD-1",)
    assert ops["categories:Old"].depends_on == ("categories:Old/Child",)
    assert ops["categories:Old/Child"].depends_on == ("products:OLD-1",)
    assert ops["brands:Old"].precondition == ops["brands:Old"].precondition
    assert ops["brands:Old"].after is None


def test_a_delete_waits_for_the_update_that_stops_using_it():
    source = snap(brands={"New": {"name": "New"}}, products={"P": product("P", brand="New")})
    destination = snap(brands={"Old": {"name": "Old"}}, products={"P": product("P", brand="Old")})
    p = plan(source, destination, prune=True)
    assert described(p) == ["+ brands New", "~ products P (brand)", "- brands Old"]
    assert p.operations[2].depends_on == ("products:P",)


def test_updates_carry_field_paths_and_preconditions():
    before = product(
        "SKU-1",
        price=10,
        variants=[{"sku": "SKU-1-S", "price": 10}],
        custom_fields=[{"name": "Color", "value": "red"}],
    )
    after = product(
        "SKU-1",
        price=12,
        variants=[{"sku": "SKU-1-S", "price": 12}],
        custom_fields=[{"name": "Color", "value": "blue"}],
    )
    p = plan(snap(products={"SKU-1": after}), snap(products={"SKU-1": before}))
    (op,) = p.operations
    assert op.describe() == "~ products SKU-1 (custom_fields, price, variants)"
    assert [f.path for f in op.fields] == [
        "custom_fields[Color].value",
        "price",
        "variants[SKU-1-S].price",
    ]
    from stagesync.model import digest

    assert op.precondition == digest(before)
    assert op.after == after
    # writes, then: who the store is + 3 kinds read + the brands' metafields (one batch list),
    # and the store's push lock
    assert p.estimated_requests == 2 + 4 + 1 + LOCK_REQUESTS


def test_a_reference_cycle_names_the_cycle():
    def cyclic(key: str, record: Record) -> Iterable[EntityKey]:
        return [EntityKey("categories", record["after"])] if "after" in record else []

    registry = {**REGISTRY, "categories": kind("categories", "category", cyclic)}
    source = snap(categories={"A": {"after": "B"}, "B": {"after": "A"}, "C": {}})
    with pytest.raises(PlanError) as error:
        make_plan(source, snap(), registry, created_at=CREATED_AT)
    assert "categories:A -> categories:B -> categories:A" in str(error.value)


def test_a_self_reference_is_not_a_cycle():
    def self_ref(key: str, record: Record) -> Iterable[EntityKey]:
        return [EntityKey("categories", key)]

    registry = {**REGISTRY, "categories": kind("categories", "category", self_ref)}
    p = make_plan(snap(categories={"A": {}}), snap(), registry, created_at=CREATED_AT)
    assert described(p) == ["+ categories A"]


# --- plan fields ----------------------------------------------------------------------------------


def test_plan_records_endpoints_kinds_and_estimates():
    source = snap(
        "staging",
        brands={"Acme": {"name": "Acme"}},
        products={"P": product("P", variants=[{"sku": "V"}])},
    )
    destination = snap("production", brands={}, products={}, customers={})
    p = plan(source, destination)
    assert p.source.environment == "staging" and p.source.store_hash == "staging-hash"
    assert p.source.digest == source.digest
    assert p.destination.environment == "production"
    assert p.destination.digest == destination.digest
    assert p.kinds == ("brands", "products")
    assert p.created_at == CREATED_AT
    # + the brands' metafields batch list, + the store's push lock
    assert p.estimated_requests == 1 + 2 + 4 + 1 + LOCK_REQUESTS
    assert p.counts() == {"brands": {"create": 1}, "products": {"create": 1}}


def test_kinds_restrict_the_plan():
    source = snap(brands={"Acme": {"name": "Acme"}}, products={"P": product("P")})
    p = plan(source, snap(), kinds=["products"])
    assert described(p) == ["+ products P"]
    assert p.kinds == ("products",)
    assert plan_kinds(source, ["products", "orders"]) == ("products",)


def test_a_product_without_sku_warns():
    source = snap(products={"name:Gift card": {"name": "Gift card"}})
    p = plan(source, snap())
    assert len(p.warnings) == 1
    assert "product name:Gift card has no SKU" in p.warnings[0]


def test_a_reference_the_destination_lacks_warns():
    source = snap(products={"P": product("P", brand="Acme")})
    p = plan(source, snap(brands={}, products={}), kinds=["products"])
    assert p.warnings == (
        "product P references brand Acme, which the destination does not have and this plan "
        "does not create; pushing it will fail. Include brands in the plan.",
    )
    # brands not pulled: nothing is known, nothing is said
    assert plan(source, snap(products={})).warnings == ()


def test_unknown_kind_is_an_error():
    with pytest.raises(PlanError, match="does not know the kind 'widgets'"):
        plan(snap(widgets={"W": {}}), snap())


def test_kind_order_follows_kind_dependencies():
    assert kind_order(REGISTRY) == ("brands", "categories", "products")


def test_build_plan_with_no_changes_is_empty():
    from stagesync.model import Endpoint

    end = Endpoint("x", "h", "sha256:0")
    p = build_plan(
        [],
        REGISTRY,
        source=end,
        destination=end,
        destination_snapshot=snap(),
        created_at=CREATED_AT,
        kinds=[],
    )
    assert p.empty and p.operations == () and p.estimated_requests == 0


def test_plan_json_snapshot(snapshot: Any) -> None:
    source = snap(
        "staging",
        brands={"Acme": {"name": "Acme"}},
        categories={"Shoes": {"name": "Shoes"}, "Shoes/Running": {"name": "Running"}},
        products={
            "SKU-1": product("SKU-1", brand="Acme", categories=["Shoes/Running"], price=12),
            "SKU-2": product("SKU-2", brand="Acme", categories=["Shoes"], price=5),
        },
    )
    destination = snap(
        "production",
        brands={"Acme": {"name": "Acme"}, "Gone": {"name": "Gone"}},
        categories={"Shoes": {"name": "Shoes"}},
        products={"SKU-2": product("SKU-2", brand="Acme", categories=["Shoes"], price=4)},
    )
    assert plan_to_json(plan(source, destination, prune=True)).decode() == snapshot


# --- properties -----------------------------------------------------------------------------------

names = st.text(alphabet="ABCxyz", min_size=1, max_size=3)


@st.composite
def stores(draw: st.DrawFn) -> Snapshot:
    brands = draw(st.lists(names, max_size=4, unique=True))
    roots = draw(st.lists(names, max_size=3, unique=True))
    paths = list(roots)
    for _ in range(draw(st.integers(0, 4))):
        if paths:
            paths.append(draw(st.sampled_from(paths)) + "/" + draw(names))
    paths = sorted(set(paths))
    products: dict[str, dict[str, Any]] = {}
    for sku in draw(
        st.lists(st.text(alphabet="SKU-0123", min_size=1, max_size=4), max_size=5, unique=True)
    ):
        record = product(sku, price=draw(st.integers(0, 3)))
        if brands and draw(st.booleans()):
            record["brand"] = draw(st.sampled_from(brands))
        if paths:
            record["categories"] = draw(st.lists(st.sampled_from(paths), max_size=2, unique=True))
        products[sku] = record
    categories = {}
    for path in paths:
        categories[path] = {"name": path.rsplit("/", 1)[-1], "sort": draw(st.integers(0, 1))}
        for p in [path.rsplit("/", i)[0] for i in range(path.count("/") + 1)]:
            categories.setdefault(p, {"name": p.rsplit("/", 1)[-1], "sort": 0})
    return snap(
        "env",
        brands={b: {"name": b} for b in brands},
        categories=categories,
        products=products,
    )


@settings(max_examples=60, deadline=None)
@given(stores(), stores(), st.booleans())
def test_plans_are_deterministic_and_ordered(source: Snapshot, destination: Snapshot, prune: bool):
    first = plan(source, destination, prune=prune)
    second = plan(source, destination, prune=prune)
    assert plan_to_json(first) == plan_to_json(second)
    seen: set[str] = set()
    deleting = False
    for op in first.operations:
        assert set(op.depends_on) <= seen, op.id
        if op.action is Action.DELETE:
            deleting = True
        else:
            assert not deleting, "a create or update after a delete"
        seen.add(op.id)
    for op in first.operations:
        if op.action is not Action.DELETE:
            refs = {str(r) for r in REGISTRY[op.kind].references(op.key.key, op.after or {})}
            assert refs & seen <= set(op.depends_on)


@settings(max_examples=40, deadline=None)
@given(stores())
def test_a_store_against_itself_plans_nothing(store: Snapshot):
    assert plan(store, store, prune=True).empty
