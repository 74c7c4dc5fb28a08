"""The code stays as STYLE.md asks: ruff lint (layering included: only stagesync/bigcommerce and the
emulator may import httpx), ruff formatting, and mypy strict on the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    "command",
    [
        ("ruff", "check", "stagesync", "tests"),
        ("ruff", "format", "--check", "stagesync", "tests"),
        ("mypy",),
    ],
    ids=["ruff-check", "ruff-format", "mypy-strict"],
)
def test_tool_passes(command: tuple[str, ...]) -> None:
    result = run(*command)
    assert result.returncode == 0, result.stdout + result.stderr


def test_httpx_is_banned_outside_the_http_edge() -> None:
    """The layering rule is enforced by ruff, not by memory: prove the rule bites. The offender
    is given on stdin as a module of the package (no file is written into the package, where a
    parallel mypy or ruff run would see it)."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--select",
            "TID251",
            "--stdin-filename",
            "stagesync/_layering_probe.py",
            "-",
        ],
        cwd=ROOT,
        input="import httpx\n\nhttpx.get\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "Only stagesync/bigcommerce and stagesync/emulator talk HTTP" in result.stdout
