"""diff(): two snapshots in, changes out. Before / after / expected."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stagesync.diff import diff, field_changes
from stagesync.model import Action, EntityKey, FieldChange, KindSnapshot, Snapshot, digest


def snap(**kinds: dict[str, dict[str, Any]]) -> Snapshot:
    return Snapshot({kind: KindSnapshot(records) for kind, records in kinds.items()})


def lines(changes: list[Any]) -> list[str]:
    return [f"{c.action.value} {c.key}" for c in changes]


def test_create_update_and_unchanged():
    source = snap(
        brands={"Acme": {"name": "Acme"}, "Zed": {"name": "Zed"}},
        products={"SKU-1": {"sku": "SKU-1", "price": 12}},
    )
    destination = snap(
        brands={"Zed": {"name": "Zed"}},
        products={"SKU-1": {"sku": "SKU-1", "price": 10}},
    )
    changes = diff(source, destination)
    assert lines(changes) == ["create brands:Acme", "update products:SKU-1"]
    assert changes[1].fields == (FieldChange("price", 10, 12),)
    assert changes[1].before == {"sku": "SKU-1", "price": 10}
    assert changes[0].after == {"name": "Acme"}


def test_destination_only_is_ignored_without_prune_and_deleted_with_it():
    source = snap(brands={"Acme": {"name": "Acme"}})
    destination = snap(brands={"Acme": {"name": "Acme"}, "Old": {"name": "Old"}})
    assert diff(source, destination) == []
    (change,) = diff(source, destination, prune=True)
    assert (change.action, change.key) == (Action.DELETE, EntityKey("brands", "Old"))
    assert change.before == {"name": "Old"} and change.after is None


def test_only_kinds_in_the_source_and_the_selection():
    source = snap(brands={"Acme": {"name": "Acme"}}, products={"P": {"sku": "P"}})
    destination = snap(customers={"a@example.com": {"email": "a@example.com"}})
    assert lines(diff(source, destination, prune=True)) == [
        "create brands:Acme",
        "create products:P",
    ]
    assert lines(diff(source, destination, kinds=["products"])) == ["create products:P"]


def test_ordered_by_kind_then_key():
    source = snap(
        products={"b": {"sku": "b"}, "a": {"sku": "a"}},
        brands={"Z": {"name": "Z"}, "A": {"name": "A"}},
    )
    assert lines(diff(source, snap())) == [
        "create brands:A",
        "create brands:Z",
        "create products:a",
        "create products:b",
    ]


def test_diff_of_a_snapshot_with_itself_is_empty():
    source = snap(products={"SKU-1": {"sku": "SKU-1", "variants": [{"sku": "V", "price": 1}]}})
    assert diff(source, source, prune=True) == []


def paths(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    return [(f.path, f.before, f.after) for f in field_changes(before, after)]


def test_field_paths_address_list_items_by_natural_key():
    before = {
        "price": 10,
        "variants": [{"sku": "SKU-1", "price": 10}, {"sku": "SKU-2", "price": 11}],
        "custom_fields": [{"name": "Color", "value": "red"}],
    }
    after = {
        "price": 12,
        "variants": [{"sku": "SKU-1", "price": 15}, {"sku": "SKU-3", "price": 11}],
        "custom_fields": [{"name": "Color", "value": "blue"}],
    }
    assert paths(before, after) == [
        ("custom_fields[Color].value", "red", "blue"),
        ("price", 10, 12),
        ("variants[SKU-1].price", 10, 15),
        ("variants[SKU-2]", {"sku": "SKU-2", "price": 11}, None),
        ("variants[SKU-3]", None, {"sku": "SKU-3", "price": 11}),
    ]


def test_nested_keyed_lists_and_key_precedence():
    before = {"options": [{"display_name": "Size", "values": [{"label": "S", "sort": 1}]}]}
    after = {"options": [{"display_name": "Size", "values": [{"label": "S", "sort": 2}]}]}
    assert paths(before, after) == [("options[Size].values[S].sort", 1, 2)]
    # sku wins over name when every item has both
    before = {"variants": [{"sku": "A", "name": "x", "price": 1}]}
    after = {"variants": [{"sku": "A", "name": "y", "price": 1}]}
    assert paths(before, after) == [("variants[A].name", "x", "y")]


def test_lists_without_a_usable_key_are_addressed_by_index():
    # not every item has a key
    before = {"images": [{"url_zoom": "a.jpg"}, {"url_zoom": "b.jpg"}]}
    after = {"images": [{"url_zoom": "a.jpg"}, {"url_zoom": "c.jpg"}]}
    assert paths(before, after) == [("images[1].url_zoom", "b.jpg", "c.jpg")]
    # duplicate keys
    before = {"rules": [{"name": "x", "v": 1}, {"name": "x", "v": 2}]}
    after = {"rules": [{"name": "x", "v": 1}, {"name": "x", "v": 3}]}
    assert paths(before, after) == [("rules[1].v", 2, 3)]
    # scalars
    assert paths({"tags": ["a", "b"]}, {"tags": ["a", "c"]}) == [("tags[1]", "b", "c")]


def test_a_reorder_of_a_keyed_list_shows_as_a_change():
    before = {"images": [{"url": "a", "sort_order": 0}, {"url": "b", "sort_order": 1}]}
    after = {"images": [{"url": "b", "sort_order": 1}, {"url": "a", "sort_order": 0}]}
    assert field_changes(before, after) != ()


def test_added_and_removed_fields_and_type_changes():
    assert paths({"a": 1, "b": "x"}, {"a": "1", "c": [1]}) == [
        ("a", 1, "1"),
        ("b", "x", None),
        ("c", None, [1]),
    ]


def test_differences_deepdiff_calls_equal_still_show():
    assert paths({}, {"a": None}) == [("a", None, None)]
    assert paths({"a": [1]}, {"a": [True]}) == [("a", [1], [True])]


def test_numbers_compare_by_value():
    # a store answers 189 after a write where it answered 189.0 before: no change
    before = {"sku": "NW-JKT-01", "price": 189.0, "variants": [{"sku": "V", "price": 5.0}]}
    after = {"sku": "NW-JKT-01", "price": 189, "variants": [{"sku": "V", "price": 5}]}
    assert diff(snap(products={"NW-JKT-01": after}), snap(products={"NW-JKT-01": before})) == []
    assert paths({"a": 0.0, "b": 1}, {"a": -0.0, "b": 1}) == []
    assert paths({"a": [1]}, {"a": [1.0]}) == []
    # a real change elsewhere in the record shows alone, numbers in their one form
    after["variants"][0]["sku_name"] = "x"
    assert paths(before, after) == [("variants[V].sku_name", None, "x")]
    (change,) = field_changes({"price": 189.0}, {"price": 189.5})
    assert (change.before, type(change.before), change.after) == (189, int, 189.5)


def test_a_whole_keyed_list_added_is_returned_as_a_plain_list():
    after = {"variants": [{"sku": "A"}]}
    assert paths({}, after) == [("variants", None, [{"sku": "A"}])]


def test_special_characters_in_keys_are_escaped():
    before = {"variants": [{"sku": "A]B", "price": 1}], "a.b": 1}
    after = {"variants": [{"sku": "A]B", "price": 2}], "a.b": 2}
    assert paths(before, after) == [("a\\.b", 1, 2), ("variants[A\\]B].price", 1, 2)]


def test_large_unchanged_snapshots_are_compared_by_digest():
    records = {f"SKU-{i}": {"sku": f"SKU-{i}", "price": i} for i in range(5000)}
    changed = dict(records)
    changed["SKU-7"] = {"sku": "SKU-7", "price": 8}
    (change,) = diff(snap(products=changed), snap(products=records))
    assert change.fields == (FieldChange("price", 7, 8),)


# --- properties -----------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(-2, 2, allow_nan=False),
    st.text("ab", max_size=2),
)
items = st.fixed_dictionaries(
    {},
    optional={"sku": st.text("AB", max_size=2), "name": st.sampled_from(["x", "y"]), "v": scalars},
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(items, max_size=3),
        st.dictionaries(st.sampled_from(["a", "b", "c.d"]), inner, max_size=3),
    ),
    max_leaves=8,
)
records = st.dictionaries(st.sampled_from(["price", "variants", "name", "x"]), values, max_size=4)


@settings(max_examples=300, deadline=None)
@given(records, records)
def test_records_that_differ_have_field_changes_and_equal_ones_none(before, after):
    changes = field_changes(before, after)
    if digest(before) == digest(after):
        assert changes == ()
    else:
        assert changes, "different records must show at least one changed field"
    assert field_changes(after, after) == ()
