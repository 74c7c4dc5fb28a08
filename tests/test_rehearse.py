"""``stagesync rehearse``: the real push of a plan against a replica of its destination, loaded
from the destination snapshot, with nothing sent to the store the configuration names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from stagesync import api
from stagesync.cli import app
from stagesync.emulator import Emulator, start_server
from tests import catalogue, rich_catalogue
from tests.conftest import STORES, Connector, on_store
from tests.test_report_outputs import validator

runner = CliRunner()


def rehearse(config: Path, plan: Path, snapshot: Path, *flags: str) -> Any:
    """``stagesync --config CONFIG rehearse --plan PLAN --snapshot SNAPSHOT *flags``."""
    return runner.invoke(
        app,
        ["--config", str(config), "rehearse", "--plan", str(plan), "--snapshot", str(snapshot)]
        + list(flags),
    )


def planned(tmp: Path, config: Path, connector: Connector) -> Path:
    """Pull alpha and beta into tmp/snapshots, plan alpha -> beta into tmp/plan.json."""
    for env in ("alpha", "beta"):
        api.pull(env, config_path=config, out=tmp / "snapshots" / env, connector=connector)
    plan_path = tmp / "plan.json"
    api.save_plan(api.diff(tmp / "snapshots" / "alpha", tmp / "snapshots" / "beta"), plan_path)
    return plan_path


def test_a_rehearsal_applies_converges_and_rolls_back_without_touching_the_store(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "alpha", catalogue.build)
    plan_path = planned(tmp_path, config_path, connector)
    real = Emulator(dict(STORES))
    with start_server(real) as server:
        text = config_path.read_text(encoding="utf-8")
        head, _, beta = text.partition("[environments.beta]")
        beta = beta.replace('"http://emulator.test"', f'"{server.url}"')
        config_path.write_text(f"{head}[environments.beta]{beta}", encoding="utf-8")

        result = api.rehearse(plan_path, tmp_path / "snapshots" / "beta", config_path=config_path)

        assert real.requests == []  # nothing reached the configured store
    plan = api.load_plan(plan_path)
    assert result.ok and result.converged and result.rolled_back
    assert result.rejected == () and result.skipped == ()
    assert [r.status for r in result.push.results] == ["done"] * len(plan.operations)
    assert result.source == tmp_path / "snapshots" / "alpha"  # found where pull puts it
    assert result.rollback_operations == len(plan.operations)
    assert 0 < result.push.requests

    body = json.loads(result.result_json.read_text(encoding="utf-8"))
    validator("result.schema.json").validate(body)
    assert result.result_json == tmp_path / "plan.rehearsal.json"
    assert body["plan"] == str(plan_path)
    assert body["rehearsal"]["converged"] is True
    assert body["rehearsal"]["rolled_back"] is True
    assert body["rehearsal"]["estimated_requests"] == plan.estimated_requests
    assert body["requests"] == result.push.requests
    assert body["summary"]["done"] == len(plan.operations)
    html = result.report.read_text(encoding="utf-8")
    assert "stagesync rehearsal" in html and "Rehearsal against a replica" in html

    # The rehearsal left no journal, lock or result of a push: the real push still runs.
    assert sorted(p.name for p in tmp_path.glob("plan*")) == [
        "plan.json",
        "plan.rehearsal.html",
        "plan.rehearsal.json",
    ]


def test_the_real_push_still_runs_after_a_rehearsal(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "alpha", catalogue.build)
    plan_path = planned(tmp_path, config_path, connector)
    logged = len(emulator.requests)
    assert api.rehearse(plan_path, tmp_path / "snapshots" / "beta", config_path=config_path).ok
    assert len(emulator.requests) == logged
    assert api.push(plan_path, config_path=config_path, connector=connector).ok


def test_a_plan_with_a_cycle_of_links_rolls_back(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    """Related products in a cycle: the push writes their links last; the rollback deletes both
    products without waiting on each other."""
    on_store(emulator, "alpha", rich_catalogue.build)
    plan_path = planned(tmp_path, config_path, connector)
    assert any(op.is_link for op in api.load_plan(plan_path).operations)

    result = api.rehearse(plan_path, tmp_path / "snapshots" / "beta", config_path=config_path)

    assert result.ok and result.rolled_back and result.rollback_operations > 0


def test_rejected_operations_are_reported_with_the_platform_message(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    outlet = rich_catalogue.add_channel(emulator, "alpha")  # a name the API would refuse
    built = on_store(emulator, "alpha", catalogue.build)
    on_store(
        emulator,
        "alpha",
        lambda client: client.put(
            "/v3/catalog/products/channel-assignments",
            [{"product_id": built["tent"], "channel_id": outlet}],
        ),
    )
    plan_path = planned(tmp_path, config_path, connector)

    outcome = rehearse(config_path, plan_path, tmp_path / "snapshots" / "beta")

    assert outcome.exit_code == 4, outcome.output
    assert "rejected + channels Outlet Storefront: 422" in outcome.stderr
    assert "Channel names use letters, digits, dashes and underscores only" in outcome.stderr
    assert "channel_assignments TENT-1/Outlet Storefront" in outcome.stderr
    assert "Does not converge" in outcome.stderr
    assert "differs from the source: channels Outlet Storefront: missing" in (outcome.stderr)
    assert "Rolls back" in outcome.stderr  # what was done is undone
    body = json.loads((tmp_path / "plan.rehearsal.json").read_text(encoding="utf-8"))
    validator("result.schema.json").validate(body)
    assert body["rehearsal"]["rejected"] >= 2 and body["rehearsal"]["converged"] is False


def test_a_snapshot_that_is_not_the_plans_destination_is_refused(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "alpha", catalogue.build)
    plan_path = planned(tmp_path, config_path, connector)
    plan = api.load_plan(plan_path)

    outcome = rehearse(config_path, plan_path, tmp_path / "snapshots" / "alpha")

    assert outcome.exit_code == 1
    assert "is not the destination snapshot" in outcome.stderr
    assert plan.destination.digest in outcome.stderr and plan.source.digest in outcome.stderr
    assert not (tmp_path / "plan.rehearsal.json").exists()


def test_without_the_source_snapshot_rehearse_says_how_to_name_it(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "alpha", catalogue.build)
    plan_path = planned(tmp_path, config_path, connector)
    (tmp_path / "snapshots" / "alpha").rename(tmp_path / "elsewhere")

    outcome = rehearse(config_path, plan_path, tmp_path / "snapshots" / "beta")
    assert outcome.exit_code == 1
    assert "Pass it with --source DIR" in outcome.stderr

    outcome = rehearse(
        config_path,
        plan_path,
        tmp_path / "snapshots" / "beta",
        "--source",
        str(tmp_path / "elsewhere"),
    )
    assert outcome.exit_code == 0, outcome.stderr
    assert "Converges" in outcome.stderr and "Nothing was sent to the store" in outcome.stderr
