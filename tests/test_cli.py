"""The command line as a client of stagesync.api: exit codes, and stdout (data) kept apart from
stderr (messages, prompts, progress).

These tests stand in for the library where they exercise only the CLI's own behaviour (rendering,
exit codes, prompting); tests/test_cli_flow.py runs the real library end to end.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from stagesync import __version__, api, cli
from stagesync.config import CONFIG_TEMPLATE, load_config
from stagesync.errors import ConfigError, PlanRefused
from stagesync.model import Action, Endpoint, EntityKey, Operation, Plan
from stagesync.push import OperationResult

runner = CliRunner()


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STAGESYNC_CONFIG", raising=False)
    monkeypatch.delenv("STAGESYNC_STAGING_TOKEN", raising=False)


def invoke(*args: str, input: str | None = None) -> Any:
    return runner.invoke(cli.app, list(args), input=input)


def command_paths() -> list[list[str]]:
    """Every command and group, as the words after ``stagesync``."""
    found: list[list[str]] = []

    def walk(command: Any, path: list[str]) -> None:
        found.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(get_command(cli.app), [])
    return found


def make_plan(operations: int = 2) -> Plan:
    ops = tuple(
        Operation(
            id=f"op{i}",
            action=Action.CREATE,
            key=EntityKey("brands", f"Brand {i}"),
            after={"name": f"Brand {i}"},
            precondition=None,
        )
        for i in range(operations)
    )
    return Plan(
        source=Endpoint("staging", "abc123", "sha256:a"),
        destination=Endpoint("production", "def456", "sha256:b"),
        operations=ops,
        created_at="2024-01-01T00:00:00Z",
    )


# --- help, version, surface ------------------------------------------------------------------


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "stagesync")
def test_every_command_has_help(path: list[str]) -> None:
    result = invoke(*path, "--help")

    assert result.exit_code == 0, result.output
    assert "Usage: stagesync" in result.stdout
    assert "<bool>" not in result.stdout


@pytest.mark.parametrize(
    "path",
    [p for p in command_paths() if p and p[0] not in ("connect", "emulator") or len(p) == 2],
    ids=" ".join,
)
def test_every_command_help_ends_with_runnable_examples(path: list[str]) -> None:
    """Each example is the command itself, with options the command really has."""
    help_text = invoke(*path, "--help").stdout
    examples = help_text.split("Examples:", 1)[1].split("\n")
    lines = [line.strip() for line in examples if line.strip().startswith("stagesync ")]
    assert lines
    command = get_command(cli.app)
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    known = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    for line in lines:
        assert line.startswith("stagesync " + " ".join(path))
        flags = {word for word in line.split() if word.startswith("-")}
        assert flags <= known, (line, flags - known)


def test_shell_completion_is_offered_and_completes_commands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    top = invoke("--help").stdout
    assert "--install-completion" in top
    assert "--show-completion" in top

    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    script = runner.invoke(cli.app, ["--show-completion", "bash"], prog_name="stagesync")
    assert "_STAGESYNC_COMPLETE=complete_bash" in script.stdout

    monkeypatch.setenv("_STAGESYNC_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", "stagesync pu")
    monkeypatch.setenv("COMP_CWORD", "1")
    completed = runner.invoke(cli.app, [], prog_name="stagesync")
    assert completed.stdout.split() == ["pull", "push"]


def test_the_surface_is_complete() -> None:
    assert sorted(" ".join(p) for p in command_paths() if p) == [
        "check",
        "connect",
        "connect b2b",
        "demo",
        "diff",
        "drift",
        "emulator",
        "emulator serve",
        "init",
        "probe",
        "pull",
        "push",
        "rehearse",
        "show",
        "status",
        "textconv",
    ]


def test_version_goes_to_stdout() -> None:
    result = invoke("--version")

    assert result.exit_code == 0
    assert result.stdout == f"stagesync {__version__}\n"
    assert result.stderr == ""


def test_main_is_the_console_script() -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["--version"])
    assert caught.value.code == 0


def test_usage_error_exits_2() -> None:
    result = invoke("pull")

    assert result.exit_code == 2
    assert "Missing argument 'ENV'" in result.stderr
    assert result.stdout == ""


def test_unknown_command_exits_2() -> None:
    assert invoke("fetch").exit_code == 2


# --- init ------------------------------------------------------------------------------------


def test_init_writes_a_config_and_says_so_on_stderr(tmp_path: Path) -> None:
    result = invoke("init")

    assert result.exit_code == 0, result.output
    assert (tmp_path / "stagesync.toml").read_text(encoding="utf-8") == CONFIG_TEMPLATE
    assert result.stdout == ""
    assert "Wrote stagesync.toml" in result.stderr


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "stagesync.toml").write_text("# mine\n", encoding="utf-8")

    result = invoke("init")

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: stagesync.toml already exists")
    assert "--force" in result.stderr
    assert "Traceback" not in result.output
    assert (tmp_path / "stagesync.toml").read_text(encoding="utf-8") == "# mine\n"


def test_init_force_and_path(tmp_path: Path) -> None:
    target = tmp_path / "conf" / "other.toml"
    assert invoke("init", "--path", str(target)).exit_code == 0
    target.write_text("# mine\n", encoding="utf-8")

    result = invoke("init", "--path", str(target), "--force")

    assert result.exit_code == 0
    assert target.read_text(encoding="utf-8") == CONFIG_TEMPLATE


# --- errors become "Error: ..." and an exit code, in one place ---------------------------------


@pytest.fixture
def pull_loading_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """api.pull's first step, for real: load the configuration, find the environment, its token."""

    def pull(environment: str, *, config_path: Path | None = None, **_: Any) -> api.PullResult:
        load_config(config_path).environment(environment).token()
        raise AssertionError("not reached in these tests")

    monkeypatch.setattr(api, "pull", pull)


CONFIG = """\
[environments.staging]
store_hash = "abc123"
access_token_env = "STAGESYNC_STAGING_TOKEN"

[environments.production]
store_hash = "def456"
access_token_env = "STAGESYNC_PRODUCTION_TOKEN"
"""


@pytest.mark.usefixtures("pull_loading_config")
@pytest.mark.parametrize(
    ("config", "args", "expected"),
    [
        (None, ["pull", "staging"], "No configuration file at stagesync.toml"),
        (None, ["--config", "nope.toml", "pull", "staging"], "No configuration file at nope.toml"),
        (CONFIG, ["pull", "prod"], "Configured in stagesync.toml: production, staging."),
        (CONFIG, ["pull", "staging"], "STAGESYNC_STAGING_TOKEN is not set"),
        ("[environments.staging\n", ["pull", "staging"], "stagesync.toml is not valid TOML"),
        (
            CONFIG.replace("access_token_env", "acess_token_env", 1),
            ["pull", "staging"],
            "unknown key 'acess_token_env' in [environments.staging]",
        ),
    ],
)
def test_config_errors(tmp_path: Path, config: str | None, args: list[str], expected: str) -> None:
    if config is not None:
        (tmp_path / "stagesync.toml").write_text(config, encoding="utf-8")

    result = invoke(*args)

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_config_option_reaches_the_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Path | None] = []

    def status(config_path: Path | None, **_: Any) -> list[Any]:
        seen.append(config_path)
        return []

    monkeypatch.setattr(api, "status", status)

    assert invoke("--config", "x.toml", "status").exit_code == 0
    assert invoke("status").exit_code == 0
    assert seen == [Path("x.toml"), None]


def test_keyboard_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def pull(*_: Any, **__: Any) -> api.PullResult:
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "pull", pull)

    result = invoke("pull", "staging")

    assert result.exit_code == 130
    assert result.stderr == "Interrupted.\n"


# --- B2B flags --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc=a@b.c", "expected HASH=EMAIL:PASSWORD"),
        ("nobody=a@b.c:pw", "store 'nobody' is not declared"),
    ],
)
def test_a_bad_b2b_user_is_a_usage_error(value: str, message: str) -> None:
    result = invoke("emulator", "serve", "--store", "abc=tok", "--b2b-user", value)

    assert result.exit_code == 2
    assert message in " ".join(result.stderr.replace("│", " ").split())
    assert result.stdout == ""


def test_connect_b2b_needs_a_configured_environment(tmp_path: Path) -> None:
    result = invoke("--config", str(tmp_path / "missing.toml"), "connect", "b2b", "staging")

    assert result.exit_code == 1
    assert "No configuration file" in result.stderr
    assert result.stdout == ""


# --- status ----------------------------------------------------------------------------------


def test_status_prints_a_table_on_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    statuses = [
        api.EnvironmentStatus(
            "staging",
            "abc123",
            "http://127.0.0.1:8765",
            "STAGING_TOKEN",
            True,
            True,
            "",
            "not configured",
        ),
        api.EnvironmentStatus(
            "production",
            "def456",
            "https://api.bigcommerce.com",
            "PRODUCTION_TOKEN",
            False,
            None,
            "token not set",
            "not configured",
        ),
    ]
    monkeypatch.setattr(api, "status", lambda config_path, **_: statuses)

    result = invoke("status")

    assert result.exit_code == 0
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ENVIRONMENT", "STORE", "API", "URL", "TOKEN", "B2B", "REACHABLE"]
    assert lines[1].split() == [
        "staging",
        "abc123",
        "http://127.0.0.1:8765",
        "STAGING_TOKEN",
        "set",
        "not",
        "configured",
        "yes",
    ]
    assert "PRODUCTION_TOKEN not set" in lines[2]
    assert "- (token not set)" in lines[2]


def test_status_without_environments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "status", lambda config_path, **_: [])

    result = invoke("status")

    assert result.exit_code == 0
    assert result.stdout == ""
    assert "No environments configured" in result.stderr


# --- pull ------------------------------------------------------------------------------------


def test_pull_summary_goes_to_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def pull(environment: str, **kwargs: Any) -> api.PullResult:
        calls.append({"environment": environment, **kwargs})
        kwargs["progress"].start("pull brands", 2)
        kwargs["progress"].advance("pull brands", 2)
        kwargs["progress"].finish("pull brands")
        return api.PullResult(
            directory=Path("snapshots/staging"),
            environment="staging",
            store_hash="abc123",
            counts={"brands": 2, "products": 118},
            requests=7,
        )

    monkeypatch.setattr(api, "pull", pull)

    result = invoke("pull", "staging", "--out", "snap")

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "pull brands: 2/2",
        "Pulled 120 records from staging (store abc123) into snapshots/staging in 7 requests",
    ]
    assert calls[0]["out"] == Path("snap")
    assert calls[0]["kinds"] is None
    assert calls[0]["config_path"] is None


# --- push ------------------------------------------------------------------------------------


def push_result(plan: Plan, statuses: list[str], *, dry_run: bool = False) -> api.PushResult:
    return api.PushResult(
        plan=plan,
        destination="production",
        results=tuple(
            OperationResult(
                operation=op,
                status=status,
                error="422: name is taken" if status == "failed" else None,
            )
            for op, status in zip(plan.operations, statuses, strict=True)
        ),
        requests=3,
        dry_run=dry_run,
    )


@pytest.fixture
def fake_push(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    plan = make_plan(2)

    def push(plan_path: Path, **kwargs: Any) -> api.PushResult:
        calls.append({"plan_path": plan_path, **kwargs})
        if kwargs.get("dry_run"):
            return push_result(plan, ["planned", "planned"], dry_run=True)
        return push_result(plan, calls[0].get("statuses", ["done", "done"]))

    monkeypatch.setattr(api, "push", push)
    monkeypatch.setattr(api, "load_plan", lambda path: plan)
    return calls


def test_push_applies_and_exits_0(fake_push: list[dict[str, Any]]) -> None:
    result = invoke("push", "--plan", "plan.json", "--to", "production")

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "Applied 2 of 2 operations to production in 3 requests, estimated 0." in result.stderr
    assert fake_push[0]["plan_path"] == Path("plan.json")
    assert fake_push[0]["to"] == "production"
    assert fake_push[0]["dry_run"] is False


def test_push_summary_names_retries_and_their_causes(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = make_plan(2)
    retried = replace(
        push_result(plan, ["done", "done"]), throttled=1, retries={"429": 1, "connection": 2}
    )
    monkeypatch.setattr(api, "push", lambda plan_path, **_: retried)

    result = invoke("push", "--plan", "plan.json")

    assert result.exit_code == 0, result.output
    assert (
        "in 3 requests, estimated 0; 3 retries (1 after 429 (rate limit), "
        "2 after dropped connection)." in result.stderr
    )


def test_push_with_failed_operations_exits_4(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan = make_plan(2)
    monkeypatch.setattr(api, "push", lambda *_, **__: push_result(plan, ["done", "failed"]))

    result = invoke("push", "--plan", "plan.json")

    assert result.exit_code == 4
    assert result.stdout == ""
    assert "failed + brands Brand 1: 422: name is taken" in result.stderr
    assert "Applied 1 of 2 operations" in result.stderr


def test_push_dry_run(fake_push: list[dict[str, Any]]) -> None:
    result = invoke("push", "--plan", "plan.json", "--dry-run")

    assert result.exit_code == 0
    assert fake_push[0]["dry_run"] is True
    assert "Dry run: 2 operations would be applied to production" in result.stderr


def test_push_refused_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    def push(*_: Any, **__: Any) -> api.PushResult:
        raise PlanRefused("production drifted: brands Acme changed. Re-run pull and diff.")

    monkeypatch.setattr(api, "push", push)

    result = invoke("push", "--plan", "plan.json")

    assert result.exit_code == 1
    assert result.stderr == (
        "Error: production drifted: brands Acme changed. Re-run pull and diff.\n"
    )


def test_push_without_a_terminal_never_prompts(fake_push: list[dict[str, Any]]) -> None:
    result = invoke("push", "--plan", "plan.json", input="n\n")

    assert result.exit_code == 0
    assert "Apply" not in result.stderr.splitlines()[0]
    assert len(fake_push) == 1


def test_push_on_a_terminal_asks_first(
    fake_push: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "_interactive", lambda: True)

    declined = invoke("push", "--plan", "plan.json", input="n\n")

    assert declined.exit_code == 1
    assert "Apply 2 operations to production (store def456)? [y/N]" in declined.stderr
    assert "nothing was applied" in declined.stderr
    assert declined.stdout.strip() == "n"  # the runner echoes the typed answer, as a terminal does
    assert fake_push == []

    accepted = invoke("push", "--plan", "plan.json", input="y\n")

    assert accepted.exit_code == 0
    assert len(fake_push) == 1


def test_push_yes_answers_the_prompt(
    fake_push: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "_interactive", lambda: True)

    result = invoke("push", "--plan", "plan.json", "--yes")

    assert result.exit_code == 0
    assert "Apply 2 operations" not in result.stderr
    assert len(fake_push) == 1


def test_push_plan_is_required() -> None:
    result = invoke("push")

    assert result.exit_code == 2
    assert "--plan" in result.stderr


# --- errors carry no secrets -------------------------------------------------------------------


def test_a_config_error_from_the_library_is_printed_as_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def status(config_path: Path | None, **_: Any) -> list[Any]:
        raise ConfigError("stagesync.toml: something is off.")

    monkeypatch.setattr(api, "status", status)

    result = invoke("status")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "Error: stagesync.toml: something is off.\n"


def test_empty_kinds_is_a_usage_error() -> None:
    result = invoke("pull", "staging", "--kinds", " , ")

    assert result.exit_code == 2
    assert "name at least one kind" in result.stderr


# --- what a command imports --------------------------------------------------------------------

HEAVY = ("httpx", "deepdiff", "jinja2", "starlette", "stagesync.emulator", "typer.rich_utils")
"""Modules only some commands need (HTTP, the differ, the report templates, the emulator,
typer's rich help): loading them for every command made ``--help`` cost 0.5 s of CPU."""

IMPORTS_AFTER = """
import sys
from stagesync.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("loaded:" + ",".join(m for m in {heavy!r} if m in sys.modules))
"""


def _imported_by(*argv: str, cwd: Path) -> list[str]:
    """The heavy modules a fresh process has loaded after running ``stagesync ARGV``."""
    script = IMPORTS_AFTER.format(heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", script, *argv], cwd=cwd, capture_output=True, text=True, check=True
    )
    loaded = done.stdout.rpartition("loaded:")[2].strip()
    return [m for m in loaded.split(",") if m]


def test_help_loads_none_of_the_heavy_modules(tmp_path: Path) -> None:
    assert _imported_by("--help", cwd=tmp_path) == []
    assert _imported_by("push", "--help", cwd=tmp_path) == []


def test_diff_loads_the_differ_but_no_http_templates_or_emulator(tmp_path: Path) -> None:
    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "catalogue"
    loaded = _imported_by("diff", str(fixture), str(fixture), "--kinds", "products", cwd=tmp_path)
    assert loaded == ["deepdiff"]
