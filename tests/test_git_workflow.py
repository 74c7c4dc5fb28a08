"""The example GitHub Actions workflows (examples/github-actions/) run as written: each is parsed,
and its jobs and steps are run in order against a served emulator. The stagesync commands (the
``run:`` steps) run for real in bash, with GitHub's step outputs, ``$RUNNER_TEMP`` and
``$GITHUB_STEP_SUMMARY``; the GitHub-specific actions (checkout, artifacts, the pull-request
comment, opening a pull request) are stubbed, each checking that the files it would take exist.
And the ``git diff`` driver: ``stagesync textconv`` shows a snapshot record one field per line."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml

from tests.conftest import STAGESYNC, serve_emulator

WORKFLOWS = Path(__file__).resolve().parent.parent / "examples" / "github-actions"
SECRETS = {"STAGESYNC_PRODUCTION_TOKEN": "production-token"}
EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    yield from serve_emulator("--seed", "demo")


@dataclass
class Repository:
    """The user's repository (what ``main`` holds), the artifacts and what the stubs saw."""

    root: Path
    artifacts: dict[str, Path] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)
    pull_requests: list[dict[str, Any]] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    """``workflow/job/step`` of every step that ran, in order."""


@dataclass
class Job:
    workspace: Path
    temp: Path
    steps: dict[str, dict[str, str]] = field(default_factory=dict)
    needs: dict[str, dict[str, str]] = field(default_factory=dict)


def value_of(expression: str, job: Job) -> str:
    """The few expressions the workflows use."""
    parts = expression.split(".")
    if parts[0] == "secrets":
        return SECRETS[parts[1]]
    if expression == "runner.temp":
        return str(job.temp)
    if parts[0] == "steps" and parts[2] == "outputs":
        return job.steps.get(parts[1], {}).get(parts[3], "")
    if parts[0] == "needs" and parts[2] == "outputs":
        return job.needs.get(parts[1], {}).get(parts[3], "")
    if parts[0] == "github":
        return {"server_url": "https://github.example", "repository": "shop/store"}.get(
            parts[1], "1"
        )
    raise AssertionError(f"the test does not know the expression {expression!r}")


def substitute(text: str, job: Job) -> str:
    return EXPRESSION.sub(lambda m: value_of(m.group(1), job), text)


def condition(text: str | None, job: Job) -> bool:
    if text is None:
        return True
    text = EXPRESSION.sub(lambda m: m.group(1), text).strip()
    if text == "always()":
        return True
    left, _, right = text.partition(" == ")
    return value_of(left.strip(), job) == right.strip().strip("'")


def outputs_of(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines() if path.exists() else []
    return dict(line.split("=", 1) for line in lines if "=" in line)


def stub(action: str, settings: dict[str, Any], job: Job, repo: Repository) -> None:
    """What a GitHub action would do, checking the files it takes."""
    name = action.split("@")[0]
    paths = [substitute(p, job) for p in str(settings.get("path", "")).split()]
    if name == "actions/checkout":
        shutil.copytree(repo.root, job.workspace, dirs_exist_ok=True)
    elif name == "actions/upload-artifact":
        stored = repo.artifacts[settings["name"]] = job.temp.parent / "artifact"
        for path in paths:
            source = job.workspace / path
            assert source.is_file(), f"upload-artifact: {path} was not written"
            (stored / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, stored / path)
    elif name == "actions/download-artifact":
        stored = repo.artifacts[settings["name"]]
        for source in stored.rglob("*"):
            if source.is_file():
                relative = source.relative_to(stored)
                target = job.workspace / settings["path"] / relative.relative_to(relative.parts[0])
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(source, target)
    elif name == "actions/github-script":
        read = re.search(r'readFileSync\("([^"]+)"', settings["script"])
        assert read is not None
        repo.comments.append((job.workspace / read.group(1)).read_text())
    elif name == "peter-evans/create-pull-request":
        body = Path(substitute(settings["body-path"], job))
        repo.pull_requests.append({**settings, "body": body.read_text()})
        # Merged as it is: the repository now holds the pull request's files.
        for path in str(settings["add-paths"]).split():
            shutil.rmtree(repo.root / path, ignore_errors=True)
            shutil.copytree(job.workspace / path, repo.root / path)
    elif name != "actions/setup-python":
        raise AssertionError(f"no stub for {action}")


def run_workflow(file_name: str, repo: Repository) -> dict[str, dict[str, str]]:
    """Run every job of the workflow in order; the outputs of each job."""
    workflow = yaml.safe_load((WORKFLOWS / file_name).read_text())
    outputs: dict[str, dict[str, str]] = {}
    for job_id, spec in workflow["jobs"].items():
        base = Path(tempfile.mkdtemp(prefix=f"{file_name}-{job_id}-", dir=repo.root.parent))
        job = Job(base / "workspace", base / "temp", needs=outputs)
        job.workspace.mkdir(parents=True)
        job.temp.mkdir()
        if not condition(spec.get("if"), job):
            continue
        env = {k: substitute(str(v), job) for k, v in spec.get("env", {}).items()}
        for step in spec["steps"]:
            if not condition(step.get("if"), job):
                continue
            label = f"{file_name}/{job_id}/{step.get('name', step.get('uses'))}"
            if "uses" in step:
                stub(step["uses"], step.get("with", {}), job, repo)
            elif step.get("name") == "Install stagesync":
                pass  # installed already: the tests run this checkout's stagesync
            else:
                run_step(step, env, job)
            repo.ran.append(label)
        outputs[job_id] = {
            name: substitute(str(value), job) for name, value in spec.get("outputs", {}).items()
        }
    return outputs


def run_step(step: dict[str, Any], env: dict[str, str], job: Job) -> None:
    output, summary = job.temp / "github-output", job.temp / "step-summary"
    output.write_text("")
    script = job.temp / "step.sh"
    script.write_text(substitute(step["run"], job))
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=job.workspace,
        env={
            **os.environ,
            **env,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "RUNNER_TEMP": str(job.temp),
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{step.get('name')}: {done.stderr}"
    if "id" in step:
        job.steps[step["id"]] = outputs_of(output)


def stagesync(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*STAGESYNC, *args], cwd=repo, capture_output=True, text=True, timeout=300, env=TOKENS
    )


TOKENS = {
    **os.environ,
    "STAGESYNC_STAGING_TOKEN": "staging-token",
    "STAGESYNC_PRODUCTION_TOKEN": "production-token",
}


def test_the_workflows_run_their_commands_in_order(served: str, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "stagesync.toml").write_text(
        "".join(
            f'[environments.{name}]\nstore_hash = "{name}"\n'
            f'access_token_env = "STAGESYNC_{name.upper()}_TOKEN"\napi_url = "{served}"\n'
            f'role = "{name}"\n\n'
            for name in ("staging", "production")
        )
        # The emulator emails nobody: its customers and orders need no --override in CI.
        + '[policy]\nnotifies-people = "warn"\n'
    )
    shutil.copy(WORKFLOWS.parent / "repository" / ".gitattributes", root / ".gitattributes")
    for env in ("staging", "production"):
        assert stagesync(root, "pull", env).returncode == 0
    repo = Repository(root)
    # Someone edits production directly: the nightly pull must notice.
    httpx.post(
        f"{served}/stores/production/v3/catalog/brands",
        json={"name": "Edited In The Control Panel"},
        headers={"X-Auth-Token": "production-token"},
    ).raise_for_status()

    run_workflow("nightly-pull.yml", repo)
    assert [pr["branch"] for pr in repo.pull_requests] == ["stagesync/nightly-production"]
    assert "Edited In The Control Panel" in repo.pull_requests[0]["body"]
    assert list((root / "snapshots" / "production" / "brands").glob("Edited*"))

    run_workflow("plan-on-pull-request.yml", repo)
    assert len(repo.comments) == 1 and "create" in repo.comments[0]
    plan = orjson.loads((repo.artifacts["plan"] / "plans" / "plan.json").read_bytes())
    assert plan["operations"]

    outputs = run_workflow("push-on-merge.yml", repo)
    assert outputs["plan"] == {"changes": "true"}
    pushed = repo.artifacts["push-result"] / "plans"
    result = orjson.loads((pushed / "plan.result.json").read_bytes())
    assert [op["status"] for op in result["operations"]] == ["done"] * len(plan["operations"])
    assert (pushed / "rollback-plan.json").is_file()
    assert [step.split("/", 2)[2] for step in repo.ran if step.startswith("push-on")] == [
        "actions/checkout@v4",
        "actions/setup-python@v5",
        "Install stagesync",
        "Read production",
        "Plan",
        "Upload the plan",
        "actions/checkout@v4",
        "actions/setup-python@v5",
        "Install stagesync",
        "Download the plan",
        "Push",
        "Upload the result and the rollback plan",
    ]

    # Production now holds what staging's snapshot says; the next nightly pull finds no change.
    assert stagesync(root, "pull", "production", "--out", str(tmp_path / "after")).returncode == 0
    left = stagesync(root, "diff", "snapshots/staging", str(tmp_path / "after"), "--exit-code")
    assert left.returncode == 0, left.stdout
    repo.pull_requests.clear()
    shutil.rmtree(root / "snapshots" / "production")
    shutil.copytree(tmp_path / "after", root / "snapshots" / "production")
    run_workflow("nightly-pull.yml", repo)
    assert repo.pull_requests == []


def test_textconv_shows_a_record_one_field_per_line(tmp_path: Path) -> None:
    record = {
        "kind": "products",
        "key": "SKU-1",
        "record": {
            "name": "Tent",
            "price": 189.0,
            "variants": [{"sku": "SKU-1-B", "price": 2}, {"sku": "SKU-1-A", "price": 1}],
            "custom_url": {"url": "/tent/", "is_customized": False},
        },
    }
    path = tmp_path / "SKU-1.json"
    path.write_bytes(orjson.dumps(record))
    shown = subprocess.run(
        [*STAGESYNC, "textconv", str(path)], capture_output=True, text=True, check=True
    )
    assert shown.stdout.splitlines() == [
        "products SKU-1",
        "custom_url.is_customized = false",
        'custom_url.url = "/tent/"',
        'name = "Tent"',
        "price = 189",
        "variants[SKU-1-B].price = 2",
        'variants[SKU-1-B].sku = "SKU-1-B"',
        "variants[SKU-1-A].price = 1",
        'variants[SKU-1-A].sku = "SKU-1-A"',
    ]
    missing = subprocess.run(
        [*STAGESYNC, "textconv", str(tmp_path / "nope.json")], capture_output=True, text=True
    )
    assert missing.returncode == 1 and "nope.json" in missing.stderr


def test_git_diff_of_a_snapshot_reads_like_the_plan(tmp_path: Path) -> None:
    """With the documented .gitattributes and diff driver, a changed price is one line."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path / "repo"
    (root / "snapshots" / "staging" / "products").mkdir(parents=True)
    shutil.copy(WORKFLOWS.parent / "repository" / ".gitattributes", root / ".gitattributes")
    record_file = root / "snapshots" / "staging" / "products" / "SKU-1.json"
    document = {"kind": "products", "key": "SKU-1", "record": {"name": "Tent", "price": 10}}
    record_file.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    driver = f"{sys.executable} -m stagesync textconv"
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "config", "diff.stagesync.textconv", driver], cwd=root, check=True)
    subprocess.run([*git, "add", "."], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "pull"], cwd=root, check=True)
    document["record"]["price"] = 12.5
    record_file.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    shown = subprocess.run(
        [*git, "diff", "--no-color"], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    changed = [line for line in shown.splitlines() if line[:1] in "+-" and line[:3] not in "+++---"]
    assert changed == ["-price = 10", "+price = 12.5"]
