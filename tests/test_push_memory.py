"""What keeps push's memory flat: operations hold their records as compact bytes, and the plan,
result JSON and HTML report are written piece by piece with the same bytes as whole."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from stagesync.errors import StageSyncError
from stagesync.files import write_atomic_chunks
from stagesync.jsonstream import indented_chunks
from stagesync.model import Action, EntityKey, FieldChange, Operation, digest
from stagesync.planfile import plan_body, plan_digest, plan_to_json, read_plan, write_plan
from stagesync.report.common import Outcome
from stagesync.report.html import html_chunks, render_html
from tests.test_plan_file import sample_plan

OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2


def test_an_operation_decodes_a_fresh_record_on_every_read() -> None:
    op = Operation(
        "products:A",
        Action.UPDATE,
        EntityKey("products", "A"),
        {"sku": "A", "price": 1.5, "tags": ["x"]},
        "sha256:" + "0" * 64,
        fields=(FieldChange("price", 1, 1.5),),
    )
    first = op.after
    assert first == {"sku": "A", "price": 1.5, "tags": ["x"]}
    assert first is not None
    first["price"] = 99
    assert op.after == {"sku": "A", "price": 1.5, "tags": ["x"]}
    assert op.fields == (FieldChange("price", 1, 1.5),)
    assert "after={'price': 1.5, 'sku': 'A', 'tags': ['x']}" in repr(op)
    moved = dataclasses.replace(op, action=Action.REPLACE)
    assert (moved.after, moved.fields, moved.action) == (op.after, op.fields, Action.REPLACE)
    assert dataclasses.replace(op, after=None).after is None
    assert dataclasses.replace(op, fields=()).fields == ()
    assert op == dataclasses.replace(op)


def test_the_digest_of_kept_bytes_is_the_digest_of_the_body() -> None:
    plan = sample_plan()
    assert plan_digest(plan) == digest(plan_body(plan))


def test_indented_chunks_are_the_whole_documents_bytes() -> None:
    head = {"b": {"x": [1, 2]}, "a": 'operations: []\n  "operations": []', "z": None}
    for items in ([], [{"k": [1, {"n": "a\nb"}]}, "s", 3]):
        whole = orjson.dumps({**head, "operations": items}, option=OPTIONS) + b"\n"
        assert b"".join(indented_chunks(head, "operations", iter(items))) == whole


def test_a_plan_written_streamed_reads_back_the_same(tmp_path: Path) -> None:
    plan = sample_plan()
    path = tmp_path / "plan.json"
    write_plan(plan, path)
    assert path.read_bytes() == plan_to_json(plan)
    assert read_plan(path) == plan


def test_the_streamed_html_report_is_the_rendered_one() -> None:
    plan = sample_plan()
    results = {op.id: Outcome("done", None, 1, 0.5) for op in plan.operations}
    assert "".join(html_chunks(plan, results)) == render_html(plan, results)


def test_a_failing_stream_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text("old")

    def chunks() -> Iterator[str]:
        yield "new"
        raise StageSyncError("broken")

    with pytest.raises(StageSyncError):
        write_atomic_chunks(path, chunks())
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


@pytest.mark.parametrize("chunk", [1, 7, 1 << 20])
def test_a_plan_is_read_piece_by_piece_in_any_layout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    from stagesync import planfile

    monkeypatch.setattr(planfile._Reader, "CHUNK", chunk)
    plan = sample_plan()
    body = plan_body(plan)
    body["operations"][1]["after"]["price"] = 123456.789e3
    body["operations"][0]["extra"] = [1, 2]
    body["digest"] = digest(body)
    path = tmp_path / "plan.json"
    for data in (
        orjson.dumps(body),
        orjson.dumps(dict(reversed(body.items())), option=orjson.OPT_INDENT_2) + b"\n\n",
    ):
        path.write_bytes(data)
        loaded = read_plan(path)
        assert loaded.operations[1].after == body["operations"][1]["after"]
        assert plan_digest(loaded) != body["digest"]  # the unknown field is not kept
        assert [op.id for op in loaded.operations] == [op.id for op in plan.operations]
    write_plan(plan, path)
    assert read_plan(path) == plan
    for bad in (b'{"format": 1', plan_to_json(plan) + b"x", b"[]", b'{"a": 1,}'):
        path.write_bytes(bad)
        with pytest.raises(StageSyncError, match="plan.json"):
            read_plan(path)
