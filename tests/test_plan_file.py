"""The plan file: deterministic bytes, round trip, and refusal of edited or newer plans."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import orjson
import pytest

from stagesync.errors import PlanError
from stagesync.model import Action, Endpoint, EntityKey, FieldChange, Operation, Plan
from stagesync.planfile import (
    FORMAT_VERSION,
    plan_digest,
    plan_from_json,
    plan_json_for_output,
    plan_to_json,
    read_plan,
    write_plan,
)


def sample_plan() -> Plan:
    return Plan(
        source=Endpoint("staging", "abc123", "sha256:" + "1" * 64),
        destination=Endpoint("production", "def456", "sha256:" + "2" * 64),
        operations=(
            Operation(
                id="brands:Acme",
                action=Action.CREATE,
                key=EntityKey("brands", "Acme"),
                after={"name": "Acme"},
                precondition=None,
            ),
            Operation(
                id="products:SKU-1",
                action=Action.UPDATE,
                key=EntityKey("products", "SKU-1"),
                after={"sku": "SKU-1", "price": 12.5, "brand": "Acme", "tags": ["ü", None]},
                precondition="sha256:" + "3" * 64,
                fields=(
                    FieldChange("price", 10, 12.5),
                    FieldChange("variants[SKU-1-S]", {"sku": "SKU-1-S"}, None),
                ),
                depends_on=("brands:Acme",),
            ),
            Operation(
                id="brands:Old",
                action=Action.DELETE,
                key=EntityKey("brands", "Old"),
                after=None,
                precondition="sha256:" + "4" * 64,
                reason="dependency of promotion SUMMER",
            ),
        ),
        created_at="2024-05-01T12:00:00Z",
        warnings=("product name:Gift has no SKU",),
        estimated_requests=4,
        kinds=("brands", "products"),
    )


def test_round_trip():
    plan = sample_plan()
    assert plan_from_json(plan_to_json(plan), path="plan.json") == plan


def test_bytes_are_deterministic_sorted_indented_and_end_with_a_newline():
    data = plan_to_json(sample_plan())
    assert data == plan_to_json(sample_plan())
    assert data.endswith(b"}\n")
    assert data.startswith(b'{\n  "created_at"')
    document = json.loads(data)
    assert list(document) == sorted(document)
    assert document["format"] == "stagesync.plan"
    assert document["format_version"] == FORMAT_VERSION == 1
    assert document["digest"] == plan_digest(sample_plan())
    assert document["summary"] == {
        "counts": {"brands": {"create": 1, "delete": 1}, "products": {"update": 1}},
        "estimated_requests": 4,
        "estimated_seconds": 0.0,
        "quota": {"requests": 150, "window_ms": 30000},
        "operations": 3,
    }
    assert document["operations"][1] == {
        "id": "products:SKU-1",
        "action": "update",
        "kind": "products",
        "key": "SKU-1",
        "after": {"sku": "SKU-1", "price": 12.5, "brand": "Acme", "tags": ["ü", None]},
        "fields": [
            {"path": "price", "before": 10, "after": 12.5},
            {"path": "variants[SKU-1-S]", "before": {"sku": "SKU-1-S"}, "after": None},
        ],
        "depends_on": ["brands:Acme"],
        "reason": "selected",
        "note": None,
        "precondition": "sha256:" + "3" * 64,
    }
    assert plan_json_for_output(sample_plan()) == data


def test_write_and_read(tmp_path: Path):
    path = tmp_path / "out" / "plan.json"
    write_plan(sample_plan(), path)
    assert path.read_bytes() == plan_to_json(sample_plan())
    assert read_plan(path) == sample_plan()
    assert [p.name for p in path.parent.iterdir()] == ["plan.json"]  # no temp file left
    write_plan(sample_plan(), path)  # overwrite
    assert read_plan(path) == sample_plan()


def edited(change: dict[str, object]) -> bytes:
    document = json.loads(plan_to_json(sample_plan()))
    document.update(change)
    return json.dumps(document).encode()


def test_an_edited_plan_is_refused():
    document = json.loads(plan_to_json(sample_plan()))
    document["operations"][1]["after"]["price"] = 0.01
    with pytest.raises(PlanError) as error:
        plan_from_json(json.dumps(document).encode(), path="plan.json")
    assert str(error.value) == (
        "plan.json was edited after it was made (digest mismatch); re-run stagesync diff to "
        "make a new plan."
    )
    assert error.value.path == "plan.json"


def test_reformatting_alone_is_not_an_edit():
    document = json.loads(plan_to_json(sample_plan()))
    assert plan_from_json(json.dumps(document).encode(), path="p.json") == sample_plan()


def test_a_missing_digest_is_refused():
    document = json.loads(plan_to_json(sample_plan()))
    del document["digest"]
    with pytest.raises(PlanError, match="digest mismatch"):
        plan_from_json(json.dumps(document).encode(), path="plan.json")


def test_a_newer_format_version_is_refused_with_upgrade_advice():
    with pytest.raises(PlanError, match="newer stagesync.*format_version 2.*Upgrade stagesync"):
        plan_from_json(edited({"format_version": 2}), path="plan.json")


@pytest.mark.parametrize("version", [0, "1", None, True])
def test_an_invalid_format_version_is_refused(version: object):
    with pytest.raises(PlanError, match="invalid format_version"):
        plan_from_json(edited({"format_version": version}), path="plan.json")


def test_not_a_plan():
    with pytest.raises(PlanError, match="x.json is not a stagesync plan"):
        plan_from_json(b'{"format": "stagesync.snapshot"}', path="x.json")
    with pytest.raises(PlanError, match="is not a stagesync plan"):
        plan_from_json(b"[]", path="x.json")


def test_invalid_json_names_the_file(tmp_path: Path):
    path = tmp_path / "plan.json"
    path.write_bytes(b'{"format": ')
    with pytest.raises(PlanError) as error:
        read_plan(path)
    assert str(path) in str(error.value) and "not valid JSON" in str(error.value)
    assert error.value.path == str(path)


def test_a_missing_file_names_the_file(tmp_path: Path):
    with pytest.raises(PlanError, match="cannot read plan .*nope.json"):
        read_plan(tmp_path / "nope.json")


def test_a_malformed_plan_with_a_valid_digest_is_refused():
    from stagesync.model import digest

    document = json.loads(plan_to_json(sample_plan()))
    del document["digest"]
    document["operations"][0]["action"] = "explode"
    document["digest"] = digest(document)
    with pytest.raises(PlanError, match="not a well-formed stagesync plan"):
        plan_from_json(orjson.dumps(document), path="plan.json")


def test_a_plan_written_before_numbers_had_one_form_still_reads(tmp_path: Path):
    """Its records say ``189.0`` and its digest is over those very bytes."""
    document = orjson.loads(plan_to_json(sample_plan()))
    document["operations"][1]["after"]["price"] = 189.0
    del document["digest"]
    body = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    document["digest"] = "sha256:" + hashlib.sha256(body).hexdigest()
    path = tmp_path / "plan.json"
    path.write_bytes(orjson.dumps(document))

    for plan in (read_plan(path), plan_from_json(path.read_bytes(), path="plan.json")):
        after = plan.operations[1].after
        assert after is not None and repr(after["price"]) == "189"
    document["operations"][1]["after"]["price"] = 188.0
    with pytest.raises(PlanError, match="digest mismatch"):
        plan_from_json(orjson.dumps(document), path="plan.json")
