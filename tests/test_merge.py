"""The merge stage through ``make_plan``: three snapshots in, a plan that keeps what changed on
the destination alone and records what changed on both."""

from __future__ import annotations

from typing import Any

from stagesync import planfile
from stagesync.model import WHOLE_RECORD, Conflict, ConflictField, Kept, Plan, Snapshot
from stagesync.stages.plan.merge import Resolution
from tests.test_plan import plan, snap


def brand(**fields: Any) -> dict[str, Any]:
    return {"page_title": "", "meta": "", **fields}


def three(
    base: dict[str, Any], source: dict[str, Any], destination: dict[str, Any], **kw: Any
) -> Plan:
    return plan(
        snap("staging", brands=source),
        snap("production", brands=destination),
        base=snap("production", brands=base),
        **kw,
    )


def after(p: Plan) -> dict[str, Any]:
    return {op.key.key: op.after for op in p.operations}


def test_deleted_on_the_destination_alone_is_kept_not_recreated() -> None:
    p = three({"A": brand(), "B": brand()}, {"A": brand(), "B": brand()}, {"A": brand()})
    assert p.operations == ()
    assert p.kept == (Kept("brands", "B", (WHOLE_RECORD,)),)


def test_created_on_the_destination_alone_is_kept_even_with_prune() -> None:
    p = three({}, {}, {"N": brand()}, prune=True)
    assert p.operations == ()
    assert p.kept == (Kept("brands", "N", (WHOLE_RECORD,)),)


def test_deleted_in_the_source_alone_is_deleted_with_prune() -> None:
    p = three({"A": brand()}, {}, {"A": brand()}, prune=True)
    assert [op.describe() for op in p.operations] == ["- brands A"]


def test_same_change_on_both_sides_is_neither_planned_nor_a_conflict() -> None:
    p = three({"A": brand()}, {"A": brand(meta="x")}, {"A": brand(meta="x")})
    assert (p.operations, p.conflicts, p.kept) == ((), (), ())


def test_fields_changed_on_different_sides_merge() -> None:
    p = three({"A": brand()}, {"A": brand(page_title="new")}, {"A": brand(meta="fixed")})
    assert after(p) == {"A": brand(page_title="new", meta="fixed")}
    assert [f.path for f in p.operations[0].fields] == ["page_title"]
    assert p.kept == (Kept("brands", "A", ("meta",)),)
    assert p.conflicts == ()


def test_a_field_removed_in_the_source_is_removed() -> None:
    p = three({"A": {"x": 1, "y": 1}}, {"A": {"x": 1}}, {"A": {"x": 1, "y": 1, "z": 2}})
    assert after(p) == {"A": {"x": 1, "z": 2}}


def test_conflicts_carry_three_values_and_resolve_either_way() -> None:
    base, source, dest = {"A": brand()}, {"A": brand(meta="s")}, {"A": brand(meta="d")}
    field = ConflictField("meta", "", "s", "d")
    unresolved = three(base, source, dest)
    assert unresolved.operations == ()
    assert unresolved.conflicts == (Conflict("brands", "A", (field,)),)
    assert unresolved.unresolved == unresolved.conflicts

    theirs = three(base, source, dest, resolutions=[Resolution("brands", "*", "destination")])
    assert theirs.operations == () and theirs.unresolved == ()
    assert theirs.conflicts == (Conflict("brands", "A", (field,), "destination"),)

    ours = three(base, source, dest, resolutions=[Resolution("brands", "A", "source")])
    assert after(ours) == {"A": brand(meta="s")}
    assert ours.resolutions == ("brands:A=source",)


def test_a_resolution_matching_no_conflict_is_a_warning() -> None:
    p = three({}, {"A": brand()}, {}, resolutions=[Resolution("brands", "Z*", "source")])
    assert "--resolve brands:Z*=source matches no conflict" in p.warnings


def test_a_kind_the_base_lacks_is_planned_two_way() -> None:
    p = plan(
        snap("staging", brands={"A": brand(meta="s")}),
        snap("production", brands={"A": brand(meta="d")}),
        base=Snapshot({}, environment="production"),
    )
    assert after(p) == {"A": brand(meta="s")}


def test_merge_fields_round_trip_through_the_plan_file_and_its_digest() -> None:
    p = three({"A": brand(), "B": brand()}, {"A": brand(meta="s")}, {"A": brand(meta="d")})
    data = planfile.plan_to_json(p)
    loaded = planfile.plan_from_json(data, path="plan.json")
    assert (loaded.base, loaded.conflicts, loaded.kept) == (p.base, p.conflicts, p.kept)
    resolved = three(
        {"A": brand()},
        {"A": brand(meta="s")},
        {"A": brand(meta="d")},
        resolutions=[Resolution("brands", "A", "destination")],
    )
    assert planfile.plan_digest(resolved) != planfile.plan_digest(
        three({"A": brand()}, {"A": brand(meta="s")}, {"A": brand(meta="d")})
    )
