"""``stagesync demo``: the whole loop against a local emulator, with files left to inspect.

Starts the emulator (two seeded stores, staging and production) on a free local port, writes a
configuration for it, then pulls both stores, diffs them into a plan and an HTML report, pushes the
plan to production, pulls production again and shows that nothing is left to do.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from stagesync import api
from stagesync.emulator import Emulator, start_server
from stagesync.files import write_atomic
from stagesync.ports import Progress
from stagesync.report.html import render_html
from stagesync.report.text import render_text

TOKENS = {"staging": "staging-token", "production": "production-token"}
DEMO_REASON = "demo: the emulator's stores email nobody"


@dataclass(frozen=True)
class DemoResult:
    lines: list[str]
    ok: bool


def token_variable(environment: str) -> str:
    return f"STAGESYNC_DEMO_{environment.upper()}_TOKEN"


def demo_config(api_url: str) -> str:
    tables = [
        f'[environments.{name}]\nstore_hash = "{name}"\n'
        f'access_token_env = "{token_variable(name)}"\napi_url = "{api_url}"\n'
        for name in TOKENS
    ]
    header = "# Written by `stagesync demo`: two stores served by the local emulator.\n\n"
    return header + "\n".join(tables)


@contextmanager
def demo_tokens() -> Iterator[None]:
    """Expose the emulator's demo tokens the way real ones are given: in environment variables."""
    saved = {name: os.environ.get(token_variable(name)) for name in TOKENS}
    os.environ.update({token_variable(name): token for name, token in TOKENS.items()})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(token_variable(name), None)
            else:
                os.environ[token_variable(name)] = value


def run(directory: Path, progress: Progress | None = None) -> DemoResult:
    directory.mkdir(parents=True, exist_ok=True)
    snapshots = directory / "snapshots"
    config = directory / "stagesync.toml"
    plan_path = directory / "plan.json"
    report = directory / "plan.html"
    lines: list[str] = []
    with start_server(Emulator(seed="demo")) as server, demo_tokens():
        write_atomic(config, demo_config(server.url))
        lines.append(f"Emulator serving stores staging and production at {server.url}")
        for name in TOKENS:
            pulled = api.pull(name, config_path=config, out=snapshots / name, progress=progress)
            total = sum(pulled.counts.values())
            lines.append(f"Pulled {name}: {total} records in {pulled.requests} requests")

        plan = api.diff(snapshots / "staging", snapshots / "production", config_path=config)
        api.save_plan(plan, plan_path)
        write_atomic(report, render_html(plan))
        lines += ["", "Plan (staging -> production):", render_text(plan).rstrip(), ""]

        # The demo's stores are the emulator's: they email nobody and hold made-up people.
        rules = list(dict.fromkeys(f.rule for f in plan.findings if f.severity == "error"))
        overrides = [(rule, DEMO_REASON) for rule in rules]
        if rules:
            lines.append(f"Policy: pushing with --override {', '.join(rules)} ({DEMO_REASON}).")
        pushed = api.push(plan_path, config_path=config, overrides=overrides, progress=progress)
        applied = sum(1 for r in pushed.results if r.status == "done")
        lines.append(
            f"Pushed to production: {applied}/{len(pushed.results)} operations applied "
            f"in {pushed.requests} requests"
        )
        lines += [f"  failed: {r.operation.describe()}: {r.error}" for r in pushed.failed]
        lines += [f"Note: {notice}" for notice in pushed.notices]

        after = snapshots / "production-after-push"
        api.pull("production", config_path=config, out=after, progress=progress)
        remaining = api.diff(snapshots / "staging", after)
        verdict = (
            "Verified: production now matches staging (the diff is empty)."
            if remaining.empty
            else f"Not converged: {len(remaining.operations)} operations still differ."
        )
        lines += [verdict, "", "Files:"]
    files = [
        (config, "configuration for the two emulated stores"),
        (snapshots / "staging", "snapshot of staging"),
        (snapshots / "production", "snapshot of production before the push"),
        (plan_path, "the plan"),
        (report, "the plan as a self-contained HTML report"),
    ]
    outputs = [
        (pushed.report, "the push result report"),
        (pushed.result_json, "the push result as JSON, for pipelines"),
        (pushed.journal, "the push journal, which --resume continues from"),
        (pushed.rollback, "a plan that restores what the push changed"),
    ]
    files += [(path, what) for path, what in outputs if path is not None]
    files.append((after, "snapshot of production after the push"))
    lines += [f"  {path}  ({what})" for path, what in files]
    return DemoResult(lines, ok=pushed.ok and remaining.empty)
