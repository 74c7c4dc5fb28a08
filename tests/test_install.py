"""A non-editable install works on its own: the wheel carries the templates and the console
script, and the installed copy runs the demo from outside the source tree."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)]
    built = subprocess.run(command, capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stderr
    (found,) = out.glob("stagesync-*.whl")
    return found


def test_wheel_carries_package_data_and_the_console_script(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "stagesync/report/templates/plan.html.j2" in names
    assert "stagesync/report/templates/report.js" in names
    assert "stagesync/py.typed" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "stagesync = stagesync.cli:main" in text
    assert not [n for n in names if n.startswith("tests/")]


def test_installed_copy_runs_the_demo(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    # Dependencies come from this interpreter; stagesync itself only from the installed copy.
    env = {**os.environ, "PYTHONPATH": str(target), "PYTHONSAFEPATH": "1"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import stagesync, sys; print(stagesync.__file__, file=sys.stderr); "
            "from stagesync.cli import main; main(['demo'])",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert str(target) in result.stderr
    assert "Verified: production now matches staging" in result.stdout
    assert (work / "stagesync-demo" / "plan.html").read_text().startswith("<!doctype html>")
