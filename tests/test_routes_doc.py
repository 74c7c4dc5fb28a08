"""The emulator's docs list every routed endpoint, as its routing tables hold them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from stagesync.emulator import Emulator
from stagesync.emulator.routes_doc import END, START, rewrite


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


DOC = Path(__file__).resolve().parent.parent / "docs" / "emulator.md"


def listed() -> list[tuple[str, str]]:
    text = DOC.read_text(encoding="utf-8")
    block = text[text.index(START) : text.index(END)]
    pairs = []
    for methods, path in re.findall(r"^- `([A-Z|]+) (/[^`]*)`$", block, re.MULTILINE):
        pairs += [(method, path) for method in methods.split("|")]
    return pairs


def test_docs_list_the_routing_table() -> None:
    run = [sys.executable, "-m", "stagesync.emulator.routes_doc", "--check", str(DOC)]
    result = subprocess.run(run, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert len(listed()) > 150


def test_check_names_a_stale_list(tmp_path: Path) -> None:
    stale = tmp_path / "emulator.md"
    stale.write_text(f"intro\n{START}\n- `GET /v3/nothing`\n{END}\nrest\n", encoding="utf-8")
    run = [sys.executable, "-m", "stagesync.emulator.routes_doc"]
    result = subprocess.run([*run, "--check", str(stale)], capture_output=True, text=True)
    assert result.returncode == 1
    assert "out of date" in result.stderr
    subprocess.run([*run, str(stale)], capture_output=True, text=True, check=True)
    fresh = stale.read_text(encoding="utf-8")
    assert fresh.startswith("intro\n") and fresh.endswith("\nrest\n")
    assert "/v3/nothing" not in fresh and "`GET|POST /v3/channels`" in fresh
    with pytest.raises(ValueError, match="routes:start"):
        rewrite("no markers here")


@pytest.mark.anyio
async def test_every_listed_store_path_is_routed_and_others_are_not() -> None:
    """Each listed method and path reaches a handler (any answer but the router's 404/405), and
    a method the list does not give a path answers 405."""
    emu = Emulator({"abc": "t"}, seed="demo")
    headers = {"X-Auth-Token": "t"}
    pairs = [(m, p) for m, p in listed() if not p.startswith("/api/")]
    by_path: dict[str, set[str]] = {}
    for method, path in pairs:
        by_path.setdefault(path, set()).add(method)
    async with httpx.AsyncClient(transport=emu.transport(), base_url="http://e") as client:
        for path, methods in by_path.items():
            concrete = re.sub(r"\{\w*uuid\}|\{job_id\}", "zz-missing", path)
            concrete = re.sub(r"\{\w+\}", "999999", concrete)
            for method in methods:
                r = await client.request(method, f"/stores/abc{concrete}", headers=headers)
                routed = r.status_code != 405 and not (
                    r.status_code == 404 and "requested resource was not" in r.text
                )
                assert routed, (method, path, r.status_code, r.text)
            other = next(m for m in ("PATCH", "PUT", "DELETE", "POST") if m not in methods)
            r = await client.request(other, f"/stores/abc{concrete}", headers=headers)
            assert r.status_code == 405, (other, path, r.status_code)
        r = await client.get("/stores/abc/v3/not-a-resource", headers=headers)
        assert r.status_code == 404
