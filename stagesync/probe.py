"""``stagesync probe``: check, with reads only, that a store behaves as stagesync assumes.

The assumptions with a ``check`` in the registry (stagesync/assumptions.py) are run one after the
other through the store's normal client, which paces itself on the rate-limit headers like pull.
The probe never sends more than the sum of their declared ``requests`` (``budget``), which the
command states before it starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from stagesync.assumptions import Assumption
from stagesync.errors import ApiError
from stagesync.ports import StoreApi
from stagesync.probe_checks import Finding, Probe, not_checked


@dataclass(frozen=True)
class Result:
    assumption: Assumption
    finding: Finding


@dataclass(frozen=True)
class ProbeReport:
    environment: str
    budget: int
    requests: int
    results: tuple[Result, ...]
    store_hash: str = ""
    """The store probed: a saved result speaks only for that store (``last_results``)."""

    @property
    def differs(self) -> bool:
        return any(r.finding.status == "differs" for r in self.results)


def budget(assumptions: Sequence[Assumption]) -> int:
    """The most requests the probe sends for ``assumptions``."""
    return sum(a.requests for a in assumptions if a.check is not None)


async def run(environment: str, api: StoreApi, assumptions: Sequence[Assumption]) -> ProbeReport:
    probe = Probe(api)
    start = api.requests_made
    results = []
    for assumption in assumptions:
        if assumption.check is None:
            continue
        try:
            finding = await assumption.check(probe)
        except ApiError as error:
            finding = not_checked(f"the store answered {error.status} to the read it needs")
        results.append(Result(assumption, finding))
    requests = api.requests_made - start
    return ProbeReport(environment, budget(assumptions), requests, tuple(results), api.store_hash)


def as_json(report: ProbeReport) -> dict[str, Any]:
    """The report as docs/schemas/probe.schema.json describes it."""
    return {
        "format": "stagesync.probe",
        "format_version": 1,
        "environment": report.environment,
        "store_hash": report.store_hash,
        "budget": report.budget,
        "requests": report.requests,
        "assumptions": [
            {
                "id": r.assumption.id,
                "statement": r.assumption.statement,
                "matters": r.assumption.matters,
                "reference": r.assumption.reference,
                "status": r.finding.status,
                **(
                    {"expected": r.finding.expected, "seen": r.finding.seen}
                    if r.finding.expected
                    else {}
                ),
                **({"why": r.finding.why} if r.finding.why else {}),
            }
            for r in report.results
        ],
    }


RESULTS = Path(".stagesync") / "probe"
"""Where the last probe of each environment is kept, in the folder of ``stagesync.toml``."""


def saved_at(config_dir: Path, environment: str) -> Path:
    return config_dir / RESULTS / f"{environment}.json"


def save(report: ProbeReport, config_dir: Path, environment: str) -> Path:
    """Keep ``report`` (``as_json``) as the last probe of ``environment``, written atomically;
    pull reads it back with ``last_results``."""
    from stagesync.files import write_atomic

    path = saved_at(config_dir, environment)
    options = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
    write_atomic(path, orjson.dumps(as_json(report), option=options))
    return path


def last_results(config_dir: Path, environment: str, store_hash: str) -> dict[str, str] | None:
    """Assumption id -> status of the last probe of ``environment`` kept beside the
    configuration, or None when there is none of the store ``store_hash`` (another store, no
    probe yet, an unreadable file)."""
    try:
        body = orjson.loads(saved_at(config_dir, environment).read_bytes())
        if body.get("store_hash") != store_hash:
            return None
        return {str(a["id"]): str(a["status"]) for a in body["assumptions"]}
    except (OSError, orjson.JSONDecodeError, AttributeError, KeyError, TypeError):
        return None


def summary(report: ProbeReport) -> str:
    counts = dict.fromkeys(("holds", "differs", "not checked"), 0)
    for r in report.results:
        counts[r.finding.status] += 1
    figures = ", ".join(f"{count} {status}" for status, count in counts.items())
    return f"{figures} ({report.requests} requests of at most {report.budget})"


def as_text(report: ProbeReport) -> str:
    lines = [f"Probe of environment '{report.environment}':"]
    for r in report.results:
        lines.append(f"  {r.finding.status:<12} {r.assumption.id}")
        lines.extend(f"               {line}" for line in _detail(r.finding))
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def as_markdown(report: ProbeReport) -> str:
    lines = [
        f"## stagesync probe: `{report.environment}`",
        "",
        summary(report),
        "",
        "| Assumption | Result | Detail |",
        "| --- | --- | --- |",
    ]
    for r in report.results:
        detail = "; ".join(_detail(r.finding)).replace("|", "\\|")
        lines.append(f"| `{r.assumption.id}` | {r.finding.status} | {detail} |")
    return "\n".join(lines) + "\n"


def _detail(finding: Finding) -> list[str]:
    if finding.status == "differs":
        return [f"expected: {finding.expected}", f"seen: {finding.seen}"]
    if finding.status == "not checked":
        return [finding.why]
    return []
