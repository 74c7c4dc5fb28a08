"""The CLI as a user runs it: `stagesync emulator serve` in its own process on 127.0.0.1, and the
`stagesync` commands talking to it over real sockets."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import STAGESYNC, free_port, serve_emulator

pytestmark = pytest.mark.serve


@pytest.fixture
def server() -> Iterator[str]:
    yield from serve_emulator("--seed", "demo")


@pytest.fixture
def faulty_server() -> Iterator[str]:
    yield from serve_emulator("--seed", "demo", "--fault-rate", "0.25")


def configure(tmp_path: Path, url: str) -> dict[str, str]:
    (tmp_path / "stagesync.toml").write_text(
        "".join(
            f'[environments.{name}]\nstore_hash = "{name}"\n'
            f'access_token_env = "TOKEN_{name.upper()}"\napi_url = "{url}"\n\n'
            for name in ("staging", "production")
        )
    )
    return {
        **os.environ,
        "TOKEN_STAGING": "staging-token",
        "TOKEN_PRODUCTION": "production-token",
    }


def run(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*STAGESYNC, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


def test_pull_diff_push_over_http(tmp_path: Path, server: str) -> None:
    env = configure(tmp_path, server)

    pulled = run(tmp_path, env, "pull", "staging")
    assert pulled.returncode == 0, pulled.stderr
    assert pulled.stdout == ""
    assert "staging" in pulled.stderr
    assert run(tmp_path, env, "pull", "production").returncode == 0

    diff = run(
        tmp_path,
        env,
        "diff",
        "snapshots/staging",
        "snapshots/production",
        "--out",
        "plan.json",
        "--exit-code",
    )
    assert diff.returncode == 3, diff.stderr
    assert "+ brands Evergreen Threads" in diff.stdout

    checked = run(tmp_path, env, "check", "plan.json")
    assert checked.returncode == 5, checked.stdout + checked.stderr
    assert "ERROR  notifies-people  customers" in checked.stdout
    refused = run(tmp_path, env, "push", "--plan", "plan.json", "--yes")
    assert refused.returncode == 1
    assert "--override notifies-people" in refused.stderr
    reason = "the emulator emails nobody"
    pushed = run(
        tmp_path,
        env,
        *("push", "--plan", "plan.json", "--yes"),
        *("--override", "notifies-people", "--reason", reason),
    )
    assert pushed.returncode == 0, pushed.stderr
    assert pushed.stdout == ""
    result = json.loads((tmp_path / "plan.result.json").read_text())
    assert result["policy"]["overrides"] == [{"rule": "notifies-people", "reason": reason}]

    assert run(tmp_path, env, "pull", "production", "--out", "after").returncode == 0
    again = run(tmp_path, env, "diff", "snapshots/staging", "after", "--exit-code")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No changes" in again.stdout


def test_pull_survives_dropped_connections_and_5xx(tmp_path: Path, faulty_server: str) -> None:
    """A quarter of the requests fail (500/502/503, or the socket closes mid-response). Reads are
    retried, so every pull is complete: identical to one pulled without faults."""
    env = configure(tmp_path, faulty_server)
    seen: set[str] = set()
    pulls = 0
    said = ""
    while seen != {"drop", "5xx"} and pulls < 10:
        pulls += 1
        pulled = run(tmp_path, env, "pull", "staging", "--out", f"faulty-{pulls}")
        assert pulled.returncode == 0, pulled.stderr
        said += pulled.stderr
        log = httpx.get(f"{faulty_server}/__emulator/requests").json()["requests"]
        seen |= {"drop" for r in log if r["status"] is None}
        seen |= {"5xx" for r in log if r["status"] in (500, 502, 503)}
    assert seen == {"drop", "5xx"}, f"only {seen} after {pulls} pulls"
    # The retries are visible, with their causes: in the progress lines and the summary.
    assert re.search(r"^pull \w+: .*, \d+ retr(y|ies) \(", said, re.MULTILINE)
    assert re.search(r"^Pulled .* requests, \d+ retr(y|ies) \(.*after", said, re.MULTILINE)
    assert "after 5xx" in said and "after dropped connection" in said

    httpx.post(f"{faulty_server}/__emulator/faults", json={"fault_rate": 0})
    assert run(tmp_path, env, "pull", "staging", "--out", "clean").returncode == 0
    for n in range(1, pulls + 1):
        diff = run(tmp_path, env, "diff", f"faulty-{n}", "clean", "--exit-code")
        assert diff.returncode == 0, diff.stdout


def test_unreachable_store_is_a_clear_error(tmp_path: Path) -> None:
    env = configure(tmp_path, f"http://127.0.0.1:{free_port()}")
    result = run(tmp_path, env, "pull", "staging")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ")
    assert "http://127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_port_in_use_fails_before_the_banner_with_exit_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*STAGESYNC, "emulator", "serve", "--seed", "demo", "--port", str(port)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr.startswith(f"Error: the emulator cannot listen on 127.0.0.1:{port}: ")
    assert "already in use" in result.stderr
    assert "--port" in result.stderr
    assert "token" not in result.stderr
    assert result.stdout == ""
