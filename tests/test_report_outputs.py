"""The reports for the committed fixture, as reviewers see them (syrupy snapshots: the HTML ones
are ``.html`` files under ``__snapshots__/test_report_outputs/`` that open in a browser), the JSON
files checked against ``docs/schemas/``, and the Markdown size limit on a 20,000-operation plan."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from stagesync import api
from stagesync.entities import REGISTRY
from stagesync.model import (
    Action,
    Endpoint,
    EntityKey,
    FieldChange,
    KindSnapshot,
    Operation,
    Plan,
    Snapshot,
)
from stagesync.plan import make_plan
from stagesync.planfile import plan_digest, plan_to_json
from stagesync.push import OperationResult
from stagesync.report.common import Outcome
from stagesync.report.html import render_html
from stagesync.report.markdown import MAX_CHARS, render_markdown
from stagesync.result import result_body, result_to_json
from stagesync.snapshot import read_snapshot
from tests.conftest import Connector

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "catalogue"
SCHEMAS = ROOT / "docs" / "schemas"
MADE = "2024-05-01T12:00:00Z"

OLD_DESCRIPTION = "".join(
    f"<p>Paragraph {i}: a trail shoe with a rock plate and a 6mm drop.</p>" for i in range(12)
)
NEW_DESCRIPTION = OLD_DESCRIPTION.replace("Paragraph 4: a trail shoe", "Paragraph 4: a road shoe")
NEW_DESCRIPTION = NEW_DESCRIPTION.replace("<p>Paragraph 9", "<p>New: wide fit.</p><p>Paragraph 9")


class HtmlSnapshot(SingleFileSnapshotExtension):
    file_extension = "html"
    _write_mode = WriteMode.TEXT


class MarkdownSnapshot(SingleFileSnapshotExtension):
    file_extension = "md"
    _write_mode = WriteMode.TEXT


class JsonSnapshot(SingleFileSnapshotExtension):
    file_extension = "json"
    _write_mode = WriteMode.TEXT


@pytest.fixture
def html_snapshot(snapshot: Any) -> Any:
    return snapshot.use_extension(HtmlSnapshot)


@pytest.fixture
def md_snapshot(snapshot: Any) -> Any:
    return snapshot.use_extension(MarkdownSnapshot)


@pytest.fixture
def json_snapshot(snapshot: Any) -> Any:
    return snapshot.use_extension(JsonSnapshot)


def fixture_snapshot() -> Snapshot:
    return read_snapshot(FIXTURE)


def empty_like(snapshot: Snapshot) -> Snapshot:
    return Snapshot(
        {kind: KindSnapshot({}) for kind in snapshot.kinds}, "production", "prod01", MADE
    )


def edited(snapshot: Snapshot, environment: str, description: str, price: float) -> Snapshot:
    kinds = {kind: dict(snapshot.records(kind)) for kind in snapshot.kinds}
    shoe = copy.deepcopy(kinds["products"]["SHOE"])
    shoe["description"] = description
    shoe["price"] = price
    kinds["products"]["SHOE"] = shoe
    return Snapshot(
        {kind: KindSnapshot(records) for kind, records in kinds.items()},
        environment,
        environment[:4] + "01",
        MADE,
    )


def create_plan() -> Plan:
    """The fixture into an empty store: every kind, every create, the no-SKU warning."""
    source = fixture_snapshot()
    return make_plan(source, empty_like(source), REGISTRY, created_at=MADE)


def update_plan() -> Plan:
    """The fixture with an edited product description (long HTML) and price."""
    fixture = fixture_snapshot()
    source = edited(fixture, "staging", NEW_DESCRIPTION, 120)
    destination = edited(fixture, "production", OLD_DESCRIPTION, 110)
    return make_plan(source, destination, REGISTRY, created_at=MADE)


def result_outcomes(plan: Plan) -> dict[str, Outcome]:
    out: dict[str, Outcome] = {}
    for i, op in enumerate(plan.operations):
        if i == 3:
            out[op.id] = Outcome("failed", "422 from POST /v3/catalog/categories: name taken", 1)
        elif i > 3 and op.kind == "categories":
            out[op.id] = Outcome("skipped", f"depends on {plan.operations[3].id}, which failed")
        else:
            out[op.id] = Outcome("done", None, 1 + i % 3, 0.05)
    return out


# --- snapshots ---------------------------------------------------------------------------------


def test_html_create_plan(html_snapshot: Any) -> None:
    assert render_html(create_plan()) == html_snapshot


def test_html_update_plan_with_a_line_diff(html_snapshot: Any) -> None:
    html = render_html(update_plan())
    assert '<div class="ld del"><span class="sign">-</span>&lt;p&gt;Paragraph 4: a trail' in html
    assert '<div class="ld ins"><span class="sign">+</span>&lt;p&gt;New: wide fit.' in html
    assert "unchanged lines" in html
    assert html == html_snapshot


def test_html_result(html_snapshot: Any) -> None:
    plan = create_plan()
    html = render_html(plan, result_outcomes(plan))
    assert "Not applied (" in html and "name taken" in html
    assert html == html_snapshot


def test_markdown_create_plan(md_snapshot: Any) -> None:
    assert render_markdown(create_plan(), full_report="plan.html") == md_snapshot


def test_markdown_update_plan(md_snapshot: Any) -> None:
    assert render_markdown(update_plan(), full_report="plan.html") == md_snapshot


def test_markdown_shows_scalar_changes_before_and_after_cut_where_they_differ() -> None:
    long_before = "A trail shoe " + "with a rock plate and " * 5 + "a grippy sole."
    long_after = long_before.replace("grippy", "sticky")
    op = Operation(
        id="products:SHOE",
        action=Action.UPDATE,
        key=EntityKey("products", "SHOE"),
        after={},
        precondition="sha256:x",
        fields=(
            FieldChange("price", 110, 120.5),
            FieldChange("is_visible", True, False),
            FieldChange("description", long_before, long_after),
            FieldChange("variants[SHOE-L].sku", "SHOE-L", None),
            FieldChange("images", [{"url": "a"}], []),
            FieldChange("name", "`tick` <b>@team", "plain"),
        ),
    )
    plan = replace(update_plan(), operations=(op,))

    line = next(x for x in render_markdown(plan).splitlines() if "`SHOE`" in x)

    assert "price: `110` → `120.5`" in line
    assert "is\\_visible: `true` → `false`" in line
    assert 'variants\\[SHOE-L\\].sku: `"SHOE-L"` → `null`' in line
    description = re.search(r"description: `([^`]*)` → `([^`]*)`", line)
    assert description is not None
    before, after = description.groups()
    assert max(len(before), len(after)) <= 40
    assert "grippy" in before and "sticky" in after  # cut around the difference, not the start
    # Store text stays inside code spans (which render nothing), fenced past its own backticks.
    assert 'name: ``"`tick` <b>@team"`` → `"plain"`' in line
    assert line.endswith(", images)")


def test_plan_json(json_snapshot: Any) -> None:
    assert plan_to_json(update_plan()).decode() == json_snapshot


def test_result_json(json_snapshot: Any) -> None:
    plan = create_plan()
    results = [
        OperationResult(op, outcome.status, outcome.error, outcome.requests or 0)
        for op, outcome in zip(plan.operations, result_outcomes(plan).values(), strict=True)
    ]
    body = result_body(
        plan,
        results,
        plan_file="plan.json",
        plan_digest=plan_digest(plan),
        environment="production",
        store_hash="production",
        started_at=MADE,
        finished_at=MADE,
        duration_ms=1200,
        requests=17,
        throttled=0,
        concurrency=4,
        resumed=False,
        verified=False,
        journal="plan.journal.jsonl",
        rollback_plan=None,
    )
    validator("result.schema.json").validate(body)
    assert result_to_json(body).decode() == json_snapshot


# --- schemas -----------------------------------------------------------------------------------


def validator(name: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)  # type: ignore[no-any-return]


def test_committed_fixture_matches_the_snapshot_schemas() -> None:
    validator("snapshot-manifest.schema.json").validate(
        json.loads((FIXTURE / "snapshot.json").read_text(encoding="utf-8"))
    )
    records = validator("entity-record.schema.json")
    files = [p for p in sorted(FIXTURE.rglob("*.json")) if p.name != "snapshot.json"]
    assert len(files) == 15
    for path in files:
        records.validate(json.loads(path.read_text(encoding="utf-8")))


def test_plans_match_the_plan_schema() -> None:
    schema = validator("plan.schema.json")
    for plan in (create_plan(), update_plan(), sample_with_every_action()):
        schema.validate(json.loads(plan_to_json(plan)))
    broken = json.loads(plan_to_json(create_plan()))
    broken["operations"][0]["action"] = "upsert"
    assert not schema.is_valid(broken)


def test_a_real_pull_diff_and_push_match_the_schemas(
    tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    api.pull("alpha", config_path=config_path, out=tmp_path / "alpha", connector=connector)
    validator("snapshot-manifest.schema.json").validate(
        json.loads((tmp_path / "alpha" / "snapshot.json").read_text(encoding="utf-8"))
    )
    plan = api.diff(FIXTURE, tmp_path / "alpha")
    api.save_plan(plan, tmp_path / "plan.json")
    validator("plan.schema.json").validate(json.loads((tmp_path / "plan.json").read_bytes()))

    pushed = api.push(tmp_path / "plan.json", config_path=config_path, connector=connector)
    assert pushed.ok
    result = json.loads((tmp_path / "plan.result.json").read_bytes())
    validator("result.schema.json").validate(result)
    assert result["summary"]["done"] == 15
    assert {op["status"] for op in result["operations"]} == {"done"}
    assert (tmp_path / "plan.result.html").is_file()


def sample_with_every_action() -> Plan:
    base = update_plan()
    extra = (
        Operation(
            "brands:Old", Action.DELETE, EntityKey("brands", "Old"), None, "sha256:" + "b" * 64
        ),
        Operation(
            "products:SKU-9",
            Action.REPLACE,
            EntityKey("products", "SKU-9"),
            {"sku": "SKU-9", "type": "digital"},
            "sha256:" + "c" * 64,
            fields=(FieldChange("type", "physical", "digital"),),
            reason="replace: type cannot be changed in place",
        ),
    )
    return replace(base, operations=base.operations + extra)


# --- Markdown size -----------------------------------------------------------------------------


def big_plan(count: int) -> Plan:
    ops = []
    for i in range(count):
        action = (Action.CREATE, Action.UPDATE, Action.DELETE, Action.REPLACE)[i % 4]
        key = f"SKU-{i:05d}-" + "x" * 40
        ops.append(
            Operation(
                f"products:{key}",
                action,
                EntityKey("products" if i % 3 else "categories", key),
                None if action is Action.DELETE else {"sku": key},
                None if action is Action.CREATE else "sha256:" + "d" * 64,
                fields=(FieldChange("price", 1, 2),) if action is Action.UPDATE else (),
                reason="selected" if i % 5 else f"dependency of promotion P{i}",
            )
        )
    return Plan(
        Endpoint("staging", "abc123", "sha256:" + "1" * 64),
        Endpoint("production", "def456", "sha256:" + "2" * 64),
        tuple(ops),
        MADE,
        warnings=tuple(
            f"product name:Gift {i} has no SKU, so it is matched by name." for i in range(500)
        ),
        estimated_requests=count * 2,
        kinds=("categories", "products"),
    )


def test_markdown_of_20000_operations_stays_under_the_limit() -> None:
    plan = big_plan(20_000)
    markdown = render_markdown(plan, full_report="plan.html")
    assert len(markdown) < MAX_CHARS
    destructive = "### ⚠️ Destructive operations (10000)"
    assert destructive in markdown
    assert markdown.index("| **total** |") < markdown.index(destructive)
    assert markdown.index(destructive) < markdown.index("### Warnings")
    assert "more warning lines are in the full report" in markdown
    operations = markdown.split(destructive)[1].split("### Warnings")[0]
    if "### Other operations" in markdown:
        operations += markdown.split("### Other operations")[1]
    listed = sum(1 for line in operations.splitlines() if line.startswith("- `"))
    assert listed > 100
    assert f"_{20_000 - listed} of 20000 operations are not listed here" in markdown
    assert markdown.rstrip().endswith("Full report: plan.html_")


def test_markdown_escapes_store_text() -> None:
    key = "<img src=x onerror=alert(1)> [click](javascript:alert(1)) @octocat `tick` | pipe"
    plan = replace(
        big_plan(1),
        operations=(
            Operation(
                "products:x", Action.CREATE, EntityKey("products", key), {}, None, reason=key
            ),
        ),
        warnings=(key,),
    )
    markdown = render_markdown(plan)
    outside_code = re.sub(r"(`+).*?\1", "", markdown)
    assert "<img" not in outside_code
    assert not re.search(r"(?<!\\)\]\(javascript", outside_code)  # no link, only "\](..."
    assert "@octocat" not in outside_code and "&#64;octocat" in outside_code
    assert (
        "``<img src=x onerror=alert(1)> [click](javascript:alert(1)) @octocat `tick` | pipe``"
        in markdown
    )
    assert "\\[click\\](javascript:alert(1))" in markdown
