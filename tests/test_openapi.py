"""The emulator against BigCommerce's own OpenAPI files.

schemathesis drives every operation the emulator routes, in every spec file it serves, through its
examples, coverage and fuzzing phases (fixed seed) against `stagesync emulator serve`, with the
checks `not_a_server_error` and `response_schema_conformance`. Any server error fails. A
response-schema deviation fails unless its operation is listed, with the reason, in
tests/openapi_quirks.py (quirks of the files, and the emulator's own differences still open).

Marked `openapi` (not part of the README's plain test command; `.ci/run` runs it after): it needs
the OpenAPI files, found at ../shared/bigcommerce-openapi beside the project or wherever
STAGESYNC_OPENAPI_DIR names, and skips saying so when they are absent.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import STAGESYNC, free_port
from tests.openapi_quirks import KNOWN_DIFFERENCES, RESPONSE_QUIRKS, UNTESTABLE

pytestmark = [pytest.mark.openapi, pytest.mark.serve]

ROOT = Path(__file__).resolve().parent.parent
OPENAPI_DIR = Path(
    os.environ.get("STAGESYNC_OPENAPI_DIR") or ROOT.parent / "shared" / "bigcommerce-openapi"
)
SPEC_GLOBS = ("reference/**/*.yml", "docs/b2b-edition/specs/**/*.yaml")
SEED = 20260401
FUZZ_EXAMPLES = 4
"""Fuzzing cases per operation: with the examples and coverage phases the run stays < 5 minutes."""
SLOWEST_FIRST = frozenset(
    {
        "reference/promotions.v3.yml",
        "reference/catalog/products_catalog.v3.yml",
        "reference/orders.v2.oas2.yml",
    }
)
"""Started first, so that on two workers (`-n 2`) the longest files do not finish last alone."""
STORE, TOKEN = "staging", "staging-token"
B2B_USER = f"{STORE}=admin@example.com:admin-password"


def spec_files() -> list[str]:
    if not OPENAPI_DIR.is_dir():
        return []
    found = {p for pattern in SPEC_GLOBS for p in OPENAPI_DIR.glob(pattern)}
    names = sorted(str(p.relative_to(OPENAPI_DIR)) for p in found)
    return sorted(names, key=lambda name: name not in SLOWEST_FIRST)


def routed_operations(spec: Path) -> tuple[str, list[str]]:
    """The base path the spec's server names, and its operations the emulator routes
    (``"GET /catalog/brands"``)."""
    import yaml

    from stagesync.emulator import (
        app,  # noqa: F401  (registers every route)
        b2b,
        routes,
    )
    from stagesync.emulator.errors import ApiError

    document = yaml.safe_load(spec.read_text(encoding="utf-8"))
    server = ((document.get("servers") or [{}])[0]).get("url", "")
    base = re.sub(r"^https?://[^/]+", "", server)
    names = []
    for path, item in (document.get("paths") or {}).items():
        for method in ("get", "post", "put", "delete"):
            if method not in item:
                continue
            sample = re.sub(r"\{[^}]+\}", "1", path)
            try:
                if base.startswith("/stores/{store_hash}/"):
                    routes.resolve(method.upper(), base[len("/stores/{store_hash}") :] + sample)
                elif base.startswith(b2b.V3):
                    b2b.resolve(method.upper(), base[len(b2b.V3) :] + sample)
                else:
                    continue
            except (ApiError, b2b.B2BError):
                continue
            name = f"{method.upper()} {path}"
            if name not in UNTESTABLE:
                names.append(name)
    return base, names


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`stagesync emulator serve` with the demo stores and B2B Edition on; its output goes to a
    file (thousands of requests would fill a pipe nobody reads and stall the server)."""
    log = tmp_path_factory.mktemp("openapi") / "emulator.log"
    yield from serve_emulator_logged(log)


def serve_emulator_logged(log: Path) -> Iterator[str]:
    port = free_port()
    flags = ["--port", str(port), "--seed", "demo", "--b2b-user", B2B_USER]
    with log.open("w", encoding="utf-8") as sink:
        server = subprocess.Popen(
            [*STAGESYNC, "emulator", "serve", *flags], stdout=sink, stderr=sink
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while not _answers(url):
            if time.monotonic() > deadline:
                pytest.fail(f"emulator serve did not start: {log.read_text(encoding='utf-8')}")
            time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/__emulator/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def config_file(tmp_path: Path) -> Path:
    """A schemathesis config: no example database (a fixed seed decides every case) and no probing
    of methods a path does not declare (the emulator's 405s are not under test and would lengthen
    the run)."""
    lines = [
        "[generation]",
        'database = "none"',
        "",
        "[phases.coverage]",
        "unexpected-methods = []",
        "",
    ]
    path = tmp_path / "schemathesis.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.mark.skipif(
    not OPENAPI_DIR.is_dir(),
    reason=f"no OpenAPI files at {OPENAPI_DIR}: set STAGESYNC_OPENAPI_DIR to the folder holding "
    "BigCommerce's OpenAPI files (reference/, docs/b2b-edition/)",
)
@pytest.mark.parametrize("spec", spec_files() or ["(none)"])
def test_no_server_error_and_conforming_responses(
    spec: str, server_url: str, tmp_path: Path
) -> None:
    base, names = routed_operations(OPENAPI_DIR / spec)
    if not names:
        pytest.skip(f"the emulator routes none of the operations in {spec}")
    if base.startswith("/stores/"):
        url = server_url + base.replace("{store_hash}", STORE)
        headers = ["-H", f"X-Auth-Token: {TOKEN}"]
    else:
        url = server_url + base
        headers = ["-H", f"X-Auth-Token: {TOKEN}", "-H", f"X-Store-Hash: {STORE}"]
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(config_file(tmp_path)),
        "run",
        str(OPENAPI_DIR / spec),
        "--url",
        url,
        *headers,
        "--phases",
        "examples,coverage,fuzzing",
        "--checks",
        "not_a_server_error,response_schema_conformance",
        "--seed",
        str(SEED),
        "--max-examples",
        str(FUZZ_EXAMPLES),
        "--generation-deterministic",
        "--workers",
        "1",  # one: hypothesis's lambda descriptions are not thread-safe on Python 3.11
        "--no-color",
        "--continue-on-failure",
    ]
    for name in names:
        command += ["--include-name", name]
    result = subprocess.run(
        command, capture_output=True, text=True, cwd=tmp_path, timeout=600, check=False
    )
    problems = findings(result.stdout)
    server_errors = sorted(op for op, found in problems.items() if "ST101" in found)
    assert not server_errors, f"server errors in {spec}: {server_errors}\n{result.stdout[-4000:]}"
    tolerated = RESPONSE_QUIRKS.keys() | KNOWN_DIFFERENCES.keys()
    unexplained = {op: found for op, found in problems.items() if op not in tolerated}
    assert not unexplained, f"{spec}: {unexplained}\n{result.stdout[-4000:]}"
    if not problems:
        assert result.returncode == 0, f"{spec}:\n{result.stdout[-4000:]}"


SECTION = re.compile(r"\n_{3,} ([A-Z]+ /\S*) _{3,}\n")


def findings(output: str) -> dict[str, str]:
    """What schemathesis reported per operation: the failed checks (``ST101 Server error``...)
    or the error that stopped it, by ``"METHOD /path"``."""
    parts = SECTION.split(output)
    found: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        body = body.split("\n===", 1)[0]
        codes = sorted(set(re.findall(r"- (ST\d+ [^\n(]+)", body)))
        first = re.search(r"- ST108 [^\n]*\n\n\s+([^\n]{1,160})", body)
        status = re.search(r"for status code (\d+)", body)
        if first:
            codes.append(f"{first.group(1)} ({status.group(1) if status else '?'})")
        errors = re.findall(r"^(\w[\w ]*Error)$", body, flags=re.MULTILINE)
        found[name] = "; ".join(codes + errors).strip() or body.strip()[:200]
    return found
