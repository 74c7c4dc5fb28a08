"""``stagesync probe``: check, with reads only, that a store behaves as stagesync assumes.

The assumptions with a ``check`` in the registry (stagesync/assumptions.py) are run one after the
other through the store's normal client, which paces itself on the rate-limit headers like pull.
The probe never sends more than the sum of their declared ``requests`` (``budget``), which the
command states before it starts.

``run_write`` (``--write``, sandbox stores only) runs those and then the assumptions with a
``write_check`` (stagesync/probe_writes.py), and deletes what the write checks created, also when
one fails or the run is interrupted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from stagesync.assumptions import Assumption
from stagesync.errors import ApiError
from stagesync.ports import StoreApi
from stagesync.probe_checks import Finding, Probe, not_checked
from stagesync.probe_writes import Journal, Unexpected, WriteProbe


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
    mode: str = "read"
    """``read`` (reads only) or ``write`` (``--write``: the write checks too)."""

    @property
    def differs(self) -> bool:
        return any(r.finding.status == "differs" for r in self.results)


def budget(assumptions: Sequence[Assumption], *, write: bool = False) -> int:
    """The most requests the probe sends for ``assumptions`` (with the write checks: ``write``)."""
    return sum(
        a.requests
        for a in assumptions
        if a.check is not None or (write and a.write_check is not None)
    )


async def run(
    environment: str,
    api: StoreApi,
    assumptions: Sequence[Assumption],
    *,
    b2b: Any = None,
    b2b_missing: str = "B2B not connected",
) -> ProbeReport:
    """The read checks; the B2B ones through ``b2b`` (the store's B2B Edition client), or
    ``not checked`` with ``b2b_missing`` without one."""
    probe = Probe(api, b2b=b2b, b2b_missing=b2b_missing)
    start = _sent(api, b2b)
    results = []
    for assumption in assumptions:
        if assumption.check is None:
            continue
        try:
            finding = await assumption.check(probe)
        except ApiError as error:
            finding = not_checked(f"the store answered {error.status} to the read it needs")
        results.append(Result(assumption, finding))
    requests = _sent(api, b2b) - start
    return ProbeReport(environment, budget(assumptions), requests, tuple(results), api.store_hash)


def _sent(api: StoreApi, b2b: Any) -> int:
    """Requests sent so far, to the store API and B2B Edition."""
    return api.requests_made + (b2b.requests_made if b2b is not None else 0)


async def run_write(
    environment: str,
    api: StoreApi,
    assumptions: Sequence[Assumption],
    journal: Journal,
    *,
    b2b: Any = None,
    b2b_missing: str = "B2B not connected",
) -> ProbeReport:
    """The read checks, then the write checks; what they created is deleted before it returns
    (when deleting fails, the journal keeps it for ``--resume`` and the error propagates)."""
    start = _sent(api, b2b)
    read = await run(environment, api, assumptions, b2b=b2b, b2b_missing=b2b_missing)
    probe = WriteProbe(api, journal)
    results = list(read.results)
    try:
        for assumption in assumptions:
            if assumption.write_check is None:
                continue
            try:
                finding = await assumption.write_check(probe)
            except ApiError as error:
                finding = not_checked(f"the store answered {error.status} to a write it needs")
            except (Unexpected, LookupError, TypeError, ValueError) as error:
                finding = not_checked(f"an answer had an unexpected shape ({type(error).__name__})")
            results.append(Result(assumption, finding))
    except BaseException:
        # Stopped (an error, an interrupt): delete what was made; if that fails too, the
        # journal keeps it for --resume and the first error is the one reported.
        with contextlib.suppress(Exception):
            await probe.cleanup()
        raise
    await probe.cleanup()
    return ProbeReport(
        environment,
        budget(assumptions, write=True),
        _sent(api, b2b) - start,
        tuple(results),
        api.store_hash,
        mode="write",
    )


def as_json(report: ProbeReport) -> dict[str, Any]:
    """The report as docs/schemas/probe.schema.json describes it."""
    return {
        "format": "stagesync.probe",
        "format_version": 1,
        "environment": report.environment,
        "store_hash": report.store_hash,
        "mode": report.mode,
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
    writes = " (with --write)" if report.mode == "write" else ""
    lines = [f"Probe of environment '{report.environment}'{writes}:"]
    for r in report.results:
        lines.append(f"  {r.finding.status:<12} {r.assumption.id}")
        lines.extend(f"               {line}" for line in _detail(r.finding))
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def as_markdown(report: ProbeReport) -> str:
    writes = " --write" if report.mode == "write" else ""
    lines = [
        f"## stagesync probe{writes}: `{report.environment}`",
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
