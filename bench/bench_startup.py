"""CPU of short CLI commands, each in a fresh process (not part of the test suite).

    .venv/bin/python bench/bench_startup.py --runs 7
    .venv/bin/python bench/bench_startup.py --compare /tmp/old   # a checkout of another version

Measures ``stagesync --help`` and ``stagesync diff`` of the two small fixture snapshots
(``fixtures/rich-catalogue`` against ``fixtures/catalogue``, products and channel assignments:
a plan of a few operations), best of ``--runs``: user + system CPU of the child (``os.wait4``).
What a command imports is most of it: see ``python -X importtime -m stagesync --help``. With
``--compare DIR`` the same commands also run from the ``stagesync`` package in DIR (put first on
``PYTHONPATH``), alternating run by run, so both columns share the machine's load.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "stagesync --help": ["--help"],
    "stagesync diff (two small snapshots)": [
        "diff",
        str(ROOT / "fixtures" / "rich-catalogue"),
        str(ROOT / "fixtures" / "catalogue"),
        "--kinds",
        "products,channel_assignments",
    ],
}


def cpu_of(args: list[str], cwd: str, source: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(source)}
    process = subprocess.Popen(
        [sys.executable, "-m", "stagesync", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, args
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--compare", type=Path, help="another version's source folder")
    args = parser.parse_args()
    sources = {"this version": ROOT}
    if args.compare:
        sources["compared"] = args.compare.resolve()
    print("| command | version | CPU s (best) | CPU s (median) |\n|---|---|---:|---:|")
    with tempfile.TemporaryDirectory() as work:
        for label, argv in COMMANDS.items():
            times: dict[str, list[float]] = {name: [] for name in sources}
            for _ in range(args.runs):
                for name, source in sources.items():
                    times[name].append(cpu_of(argv, work, source))
            for name, found in times.items():
                found.sort()
                print(f"| {label} | {name} | {found[0]:.2f} | {found[len(found) // 2]:.2f} |")


if __name__ == "__main__":
    main()
