"""``stagesync check`` and the ``[policy]`` tables, end to end: snapshots on disk, ``diff`` makes
the plan, ``check`` reads it with the configuration, a ``--policy`` file or neither."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from stagesync import cli
from stagesync.config import load_config
from stagesync.errors import ConfigError
from stagesync.model import KindSnapshot, Record, Snapshot
from stagesync.policy import RULES, Severity
from stagesync.policy.settings import find_line
from stagesync.snapshot import write_snapshot

runner = CliRunner()
SCHEMA = Path(__file__).resolve().parents[1] / "docs" / "schemas" / "policy-check.schema.json"


def product(price: float, brand: str | None = None) -> Record:
    return {"name": "Thing", "price": price, "sale_price": 0, "brand": brand}


def write(folder: Path, environment: str, **kinds: dict[str, Record]) -> None:
    snapshot = Snapshot(
        {kind: KindSnapshot(records) for kind, records in kinds.items()},
        environment=environment,
        store_hash=f"{environment}-hash",
    )
    write_snapshot(folder, snapshot)


@pytest.fixture
def plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """In a fresh folder: snapshots/staging and snapshots/production, and plan.json between them,
    which cuts SKU-1's price by 80% and deletes brand Zed, still SKU-2's brand."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STAGESYNC_CONFIG", raising=False)
    write(
        Path("snapshots/production"),
        "production",
        brands={"Acme": {"name": "Acme"}, "Zed": {"name": "Zed"}},
        products={"SKU-1": product(100, "Acme"), "SKU-2": product(10, "Zed")},
    )
    write(
        Path("snapshots/staging"),
        "staging",
        brands={"Acme": {"name": "Acme"}},
        products={"SKU-1": product(20, "Acme"), "SKU-2": product(10, "Zed")},
    )
    made = invoke(
        "diff", "snapshots/staging", "snapshots/production", "--prune", "--out", "plan.json"
    )
    assert made.exit_code == 0, made.stderr
    return Path("plan.json")


def invoke(*args: str) -> Any:
    return runner.invoke(cli.app, list(args))


def test_check_prints_each_finding_and_exits_5_on_errors(plan: Path) -> None:
    result = invoke("check", str(plan))
    assert result.exit_code == cli.EXIT_POLICY == 5
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "Policy check of plan.json for production (role production) against "
        "snapshots/production, with the default policy: 2 errors."
    )
    assert lines[2:6] == [
        "ERROR  delete-referenced  brands Zed",
        "  is deleted, but 1 entity on the destination still references it and the plan leaves "
        "it in place: products SKU-2.",
        "  Fix: Bring the referencing entities into the plan (select them, so it updates or "
        "deletes them first), or keep this entity (drop --prune, or narrow --only).",
        '  Override: add "brands:Zed" to [policy.delete-referenced] exceptions in stagesync.toml '
        '(or a --policy file), or push with --override delete-referenced --reason "why"',
    ]
    assert "ERROR  price-change  products SKU-1" in lines
    assert "Policy check failed (2 errors)" in result.stderr


def test_the_configuration_changes_severities_thresholds_and_exceptions(plan: Path) -> None:
    Path("stagesync.toml").write_text(
        "[environments.production]\n"
        'store_hash = "production-hash"\n'
        'access_token_env = "PRODUCTION_TOKEN"\n'
        "\n"
        "[policy.price-change]\n"
        "max_decrease_percent = 90\n"
        "\n"
        "[environments.production.policy.delete-referenced]\n"
        'exceptions = ["brands:Z*"]\n'
    )
    result = invoke("check", str(plan))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "with stagesync.toml: no findings." in result.stdout


def test_a_policy_file_replaces_the_configuration(plan: Path) -> None:
    Path("stagesync.toml").write_text('[policy]\nprice-change = "off"\n')
    Path("lenient.toml").write_text(
        '[policy]\ndelete-referenced = "warn"\n\n'
        '[environments.staging.policy]\nprice-change = "off"\n'
    )
    result = invoke("check", str(plan), "--policy", "lenient.toml", "--format", "json")
    assert result.exit_code == 5
    body = json.loads(result.stdout)
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(body)
    assert body["policy"] == ["lenient.toml"]
    assert body["passed"] is False
    assert body["counts"] == {"error": 1, "warn": 1}
    assert [(f["rule"], f["severity"], f["kind"], f["key"]) for f in body["findings"]] == [
        ("price-change", "error", "products", "SKU-1"),
        ("delete-referenced", "warn", "brands", "Zed"),
    ]
    assert [r["id"] for r in body["rules"]] == [r.id for r in RULES]


def test_a_staging_role_relaxes_the_defaults(plan: Path) -> None:
    Path("stagesync.toml").write_text(
        '[environments.production]\nstore_hash = "production-hash"\n'
        'access_token_env = "PRODUCTION_TOKEN"\nrole = "staging"\n'
    )
    result = invoke("check", str(plan), "--format", "json")
    assert result.exit_code == 0
    body = json.loads(result.stdout)
    assert body["destination"]["role"] == "staging"
    assert {f["severity"] for f in body["findings"]} == {Severity.WARN.value}


def test_check_refuses_a_destination_snapshot_the_plan_was_not_made_from(plan: Path) -> None:
    write(Path("other"), "production", brands={"Acme": {"name": "Acme"}})
    result = invoke("check", str(plan), "--destination", "other")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: other is not the destination snapshot plan.json was made from: 2 planned "
        "entities differ (products SKU-1, brands Zed)."
    )
    missing = invoke("check", str(plan), "--destination", "nowhere")
    assert missing.exit_code == 1
    assert "nowhere" in missing.stderr


# --- [policy] tables: every mistake names its line -------------------------------------------

BASE = '[environments.production]\nstore_hash = "p"\naccess_token_env = "P_TOKEN"\n\n'


@pytest.mark.parametrize(
    ("text", "line", "said"),
    [
        ('[policy]\nprice-chang = "warn"\n', 6, "unknown policy rule 'price-chang' in [policy]. "),
        ('[policy]\nmass-delete = "loud"\n', 6, '[policy] mass-delete must be "error", "warn"'),
        ("[policy.mass-delete]\nmax_deletes = 2.5\n", 6, "max_deletes must be a whole number"),
        ("[policy.price-change]\nmax_decrease_percent = 120\n", 6, "at most 100"),
        ("[policy.price-change]\nlimit = 1\n", 6, "unknown key 'limit' in [policy.price-change]"),
        (
            '[policy.price-change]\nexceptions = [\n  "products:A",\n  "products",\n]\n',
            8,
            "exceptions entry 'products' is not KIND:GLOB",
        ),
        (
            '[environments.production.policy]\nmass-change = { max_percent = "x" }\n',
            6,
            "[environments.production.policy.mass-change] max_percent must be a number",
        ),
        ("[policy]\nplan-warning = 3\n", 6, "must be a severity"),
    ],
)
def test_a_policy_mistake_names_the_file_and_line(
    tmp_path: Path, text: str, line: int, said: str
) -> None:
    path = tmp_path / "stagesync.toml"
    path.write_text(BASE + text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.message.startswith(f"{path}, line {line}: ")
    assert said in caught.value.message


def test_policy_tables_parse_into_settings(tmp_path: Path) -> None:
    path = tmp_path / "stagesync.toml"
    path.write_text(
        BASE
        + '[policy]\nplan-warning = "off"\n\n[policy.price-change]\nmax_increase_percent = 150\n'
        + 'exceptions = ["price-list-records:Wholesale/*"]\n'
        + "[environments.production.policy]\nmass-change.severity = 'warn'\n"
    )
    config = load_config(path)
    assert config.policy is not None
    rules = config.policy.rules
    assert rules["plan-warning"].severity is Severity.OFF
    assert rules["price-change"].limits == {"max_increase_percent": 150}
    assert rules["price-change"].exceptions == (("price_list_records", "Wholesale/*"),)
    env_policy = config.environment("production").policy
    assert env_policy is not None
    assert env_policy.rules["mass-change"].severity is Severity.WARN


def test_find_line_follows_headers_dotted_keys_and_inline_tables() -> None:
    text = (
        "[policy]\n"  # 1
        'price-change.severity = "warn"\n'  # 2
        'mass-delete = { severity = "off", max_deletes = 3 }\n'  # 3
        "[policy.'mass-change']\n"  # 4
        "max_percent = 10  # a comment\n"  # 5
    )
    assert find_line(text, ("policy", "price-change"), "severity") == 2
    assert find_line(text, ("policy", "mass-delete"), "max_deletes") == 3
    assert find_line(text, ("policy", "mass-change"), "max_percent") == 5
    assert find_line(text, ("policy", "mass-change"), None) == 4
    assert find_line(text, ("policy", "nothing"), "here") is None


def test_the_schema_names_every_rule() -> None:
    schema = json.loads(SCHEMA.read_text())
    assert schema["$defs"]["rule"]["enum"] == [rule.id for rule in RULES]


# --- findings in the plan file and its reports -----------------------------------------------


def test_diff_records_the_findings_in_the_plan_covered_by_its_digest(plan: Path) -> None:
    from stagesync.errors import PlanError
    from stagesync.planfile import read_plan

    body = json.loads(plan.read_text())
    assert [f["rule"] for f in body["findings"]] == ["delete-referenced", "price-change"]
    assert body["findings"][1] == {
        "rule": "price-change",
        "severity": "error",
        "kind": "products",
        "key": "SKU-1",
        "message": "price 100 -> 20: 80% down, more than the 50% the rule allows.",
        "fix": "Check the price in the source store (a missing digit, a currency mix-up); if the "
        "change is meant, except this entity or raise the threshold.",
    }
    schema = json.loads((SCHEMA.parent / "plan.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(body)
    assert [f.entity for f in read_plan(plan).findings] == ["brands Zed", "products SKU-1"]
    body["findings"][1]["severity"] = "warn"
    Path("edited.json").write_text(json.dumps(body))
    with pytest.raises(PlanError, match="digest mismatch"):
        read_plan(Path("edited.json"))


def test_a_plan_without_findings_has_no_findings_field(plan: Path) -> None:
    Path("stagesync.toml").write_text(
        '[policy]\ndelete-referenced = "off"\nprice-change = "off"\nplan-warning = "off"\n'
    )
    made = invoke(
        "diff", "snapshots/staging", "snapshots/production", "--prune", "--out", "quiet.json"
    )
    assert made.exit_code == 0, made.stderr
    assert "findings" not in json.loads(Path("quiet.json").read_text())
    assert "Policy findings" not in made.stdout


def test_every_report_shows_the_findings_first(plan: Path) -> None:
    from stagesync.planfile import read_plan
    from stagesync.report.html import render_html
    from stagesync.report.markdown import render_markdown
    from stagesync.report.text import render_text

    with_findings = read_plan(plan)
    text = render_text(with_findings).splitlines()
    assert text[1:5] == [
        "",
        "Policy findings (2 errors):",
        "  ERROR  delete-referenced  brands Zed: is deleted, but 1 entity on the destination "
        "still references it and the plan leaves it in place: products SKU-2.",
        "  ERROR  price-change  products SKU-1: price 100 -> 20: 80% down, more than the 50% the "
        "rule allows.",
    ]
    markdown = render_markdown(with_findings)
    assert markdown.index("### 🛑 Policy findings: 2 errors") < markdown.index("Made ")
    assert "- **error** `price-change` `products SKU-1`: price 100 -&gt; 20" in markdown
    html = render_html(with_findings)
    assert html.index("Policy findings: 2 errors") < html.index("<h2>Summary</h2>")
    assert "<code>brands Zed</code>: is deleted" in html
