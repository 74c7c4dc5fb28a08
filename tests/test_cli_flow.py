"""The command line end to end, through the real library, against the in-process emulator.

The library functions get the emulator's transport the way every library test does (their
``connector`` argument); everything else, from option parsing to files on disk, is real.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from stagesync import api, cli
from stagesync.emulator import Emulator
from stagesync.ports import StoreApi
from tests.conftest import Connector, on_store

runner = CliRunner()


async def two_brands(store: StoreApi) -> None:
    await store.post("/v3/catalog/brands", {"name": "Acme"})
    await store.post("/v3/catalog/brands", {"name": "Zed", "page_title": "Zed Gear"})


@pytest.fixture
def wired(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, connector: Connector, emulator: Emulator
) -> Emulator:
    """The library reaches the emulator; the current folder is a fresh one; alpha has 2 brands."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STAGESYNC_CONFIG", raising=False)
    for name in ("pull", "push", "status"):
        monkeypatch.setattr(api, name, functools.partial(getattr(api, name), connector=connector))
    on_store(emulator, "alpha", two_brands)
    return emulator


def invoke(config: Path | None, *args: str) -> Any:
    prefix = ["--config", str(config)] if config else []
    return runner.invoke(cli.app, [*prefix, *args])


def ok(result: Any, code: int = 0) -> Any:
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return result


# --- the loop ------------------------------------------------------------------------------------


def test_pull_diff_show_push_converge(wired: Emulator, config_path: Path) -> None:
    pulled = ok(invoke(config_path, "pull", "alpha", "--out", "a"))
    assert pulled.stdout == ""
    assert re.search(
        r"^Pulled \d+ records from alpha \(store alpha\) into a in \d+ requests$",
        pulled.stderr,
        re.MULTILINE,
    )
    ok(invoke(config_path, "pull", "beta", "--out", "b"))

    diffed = ok(
        invoke(
            config_path,
            "diff",
            "a",
            "b",
            "--out",
            "plan.json",
            "--html",
            "plan.html",
            "--markdown",
            "plan.md",
            "--exit-code",
        ),
        3,
    )
    assert "+ brands Acme" in diffed.stdout
    assert "+ brands Zed" in diffed.stdout
    assert "Wrote plan to plan.json" in diffed.stderr
    assert "<html" in Path("plan.html").read_text(encoding="utf-8").lower()
    assert "Wrote Markdown summary to plan.md" in diffed.stderr
    assert "| brands | 2 | 0 | 0 | 0 |" in Path("plan.md").read_text(encoding="utf-8")

    shown = ok(invoke(None, "show", "plan.json", "--markdown", "shown.md"))
    assert shown.stdout == diffed.stdout
    assert Path("shown.md").read_bytes() == Path("plan.md").read_bytes()
    as_json = json.loads(ok(invoke(None, "show", "plan.json", "--format", "json")).stdout)
    assert as_json["format"] == "stagesync.plan"

    dry = ok(invoke(config_path, "push", "--plan", "plan.json", "--dry-run"))
    assert dry.stdout == "would apply: + brands Acme\nwould apply: + brands Zed\n"
    assert "Dry run: 2 operations would be applied to beta" in dry.stderr

    pushed = ok(invoke(config_path, "push", "--plan", "plan.json"))
    assert pushed.stdout == ""
    assert "Applied 2 of 2 operations to beta" in pushed.stderr
    assert "done" in Path("plan.result.html").read_text(encoding="utf-8")
    result = json.loads(Path("plan.result.json").read_text(encoding="utf-8"))
    assert result["summary"]["done"] == 2

    ok(invoke(config_path, "pull", "beta", "--out", "b2"))
    ok(invoke(None, "diff", "a", "b2", "--exit-code"))


def test_diff_json_on_stdout_is_the_plan(wired: Emulator, config_path: Path) -> None:
    ok(invoke(config_path, "pull", "alpha", "--out", "a"))
    ok(invoke(config_path, "pull", "beta", "--out", "b"))

    result = ok(invoke(None, "diff", "a", "b", "--format", "json"))

    plan = json.loads(result.stdout)
    assert {(op["action"], op["kind"], op["key"]) for op in plan["operations"]} == {
        ("create", "brands", "Acme"),
        ("create", "brands", "Zed"),
    }
    assert result.stderr == ""


def test_diff_of_a_snapshot_with_itself_is_empty(wired: Emulator, config_path: Path) -> None:
    ok(invoke(config_path, "pull", "alpha", "--out", "a"))

    ok(invoke(None, "diff", "a", "a", "--exit-code"))


def test_diff_of_a_missing_snapshot_folder_names_it(wired: Emulator, config_path: Path) -> None:
    ok(invoke(config_path, "pull", "alpha", "--out", "a"))

    result = ok(invoke(None, "diff", "a", "nowhere"), 1)

    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert "nowhere" in result.stderr


def test_pull_selected_kinds_by_display_name(wired: Emulator, config_path: Path) -> None:
    ok(invoke(config_path, "pull", "alpha", "--kinds", "Brands", "--out", "a"))

    manifest = json.loads(Path("a/snapshot.json").read_text(encoding="utf-8"))
    assert "brands" in json.dumps(manifest)
    assert "products" not in json.dumps(manifest)


def test_pull_unknown_kind_is_a_usage_error_listing_the_valid_ones(
    wired: Emulator, config_path: Path
) -> None:
    result = ok(invoke(config_path, "pull", "alpha", "--kinds", "brnads"), 2)

    assert 'Unknown kind "brnads"' in result.stderr
    assert "brands" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kinds", "brnads"], 'Unknown kind "brnads"'),
        (["--only", "products"], '--only pattern "products" is not KIND:KEY'),
        (["--only", "nokind:X"], 'Unknown kind "nokind"'),
        (["--kinds", "brands", "--only", "products:X"], "which --kinds leaves out"),
    ],
)
def test_diff_selection_mistakes_exit_2(
    wired: Emulator, config_path: Path, args: list[str], message: str
) -> None:
    ok(invoke(config_path, "pull", "alpha", "--out", "a", "--kinds", "brands"))

    result = ok(invoke(config_path, "diff", "a", "a", *args), 2)

    assert message in result.stderr
    assert result.stdout == ""


def test_push_refuses_when_the_destination_drifted(wired: Emulator, config_path: Path) -> None:
    ok(invoke(config_path, "pull", "alpha", "--out", "a"))
    ok(invoke(config_path, "pull", "beta", "--out", "b"))
    ok(invoke(None, "diff", "a", "b", "--out", "plan.json"))

    async def acme_appears(store: StoreApi) -> None:
        await store.post("/v3/catalog/brands", {"name": "Acme", "page_title": "Elsewhere"})

    on_store(wired, "beta", acme_appears)

    result = ok(invoke(config_path, "push", "--plan", "plan.json", "--yes"), 1)

    error = result.stderr[result.stderr.index("Error: ") :]
    assert "changed after the plan was made" in error
    assert "brands Acme" in error
    assert result.stdout == ""


def test_status_reaches_the_stores(wired: Emulator, config_path: Path) -> None:
    result = ok(invoke(config_path, "status"))

    lines = result.stdout.splitlines()
    assert lines[0].startswith("ENVIRONMENT")
    assert [line.split()[0] for line in lines[1:]] == ["alpha", "beta"]
    assert [line.split()[-1] for line in lines[1:]] == ["yes", "yes"]


def test_status_keeps_the_whole_reason_and_names_the_configuration_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("stagesync.bigcommerce.client.FIRST_CONTACT_RETRIES", 0)
    Path("closed.toml").write_text(
        '[environments.gone]\nstore_hash = "abc"\naccess_token_env = "GONE_TOKEN"\n'
        'api_url = "http://127.0.0.1:9"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("GONE_TOKEN", "gone-token-1")

    result = ok(invoke(Path("closed.toml"), "status"))

    (row,) = result.stdout.splitlines()[1:]
    reason = row.split("  no (", 1)[1]
    assert reason.startswith("could not reach http://127.0.0.1:9 (GET /stores/abc/v2/store: ")
    assert reason.endswith(")")
    assert reason.count("(") + 1 == reason.count(")")  # "no (" opened one more
    assert "gone: Check api_url in closed.toml and the network." in result.stderr
    assert "stagesync.toml" not in result.stderr


def test_status_offline_sends_nothing(wired: Emulator, config_path: Path) -> None:
    before = len(wired.requests)

    result = ok(invoke(config_path, "status", "--offline"))

    assert len(wired.requests) == before
    rows = result.stdout.splitlines()[1:]
    assert [row.split()[0] for row in rows] == ["alpha", "beta"]
    assert all(row.endswith("not configured  - (not checked)") for row in rows)


# --- configuration errors, as the library meets them ---------------------------------------------


def test_unknown_environment_lists_the_configured_ones(wired: Emulator, config_path: Path) -> None:
    result = ok(invoke(config_path, "pull", "gamma"), 1)

    assert "Unknown environment 'gamma'" in result.stderr
    assert "alpha, beta" in result.stderr


def test_missing_token_variable_is_named(
    wired: Emulator, config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STAGESYNC_ALPHA_TOKEN")

    result = ok(invoke(config_path, "pull", "alpha"), 1)

    assert "STAGESYNC_ALPHA_TOKEN is not set" in result.stderr
    assert "environment 'alpha'" in result.stderr


def test_missing_config_file(wired: Emulator) -> None:
    result = ok(invoke(None, "pull", "alpha"), 1)

    assert "No configuration file at stagesync.toml" in result.stderr
    assert "stagesync init" in result.stderr


def test_config_from_the_environment_variable(
    wired: Emulator, config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGESYNC_CONFIG", str(config_path))

    ok(invoke(None, "pull", "alpha", "--out", "a"))


# --- demo ---------------------------------------------------------------------------------------


def test_demo_runs_the_loop(tmp_path: Path) -> None:
    result = ok(runner.invoke(cli.app, ["demo", "--dir", str(tmp_path / "demo")]))

    assert "Plan (staging -> production):" in result.stdout
    assert (tmp_path / "demo").is_dir()
