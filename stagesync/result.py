"""The push result report as JSON (``<plan>.result.json``): every operation with its status, the
requests it used and how long it took. The format is documented in docs/push.md."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from stagesync.jsonstream import indented_chunks
from stagesync.model import Plan
from stagesync.ports import RETRY_CAUSES
from stagesync.push import OperationResult, result_summary

FORMAT = "stagesync.push-result"
FORMAT_VERSION = 1


def result_body(
    plan: Plan,
    results: Sequence[OperationResult],
    *,
    plan_file: str,
    plan_digest: str,
    environment: str,
    store_hash: str,
    started_at: str,
    finished_at: str,
    duration_ms: int,
    requests: int,
    throttled: int,
    concurrency: int,
    retries: Mapping[str, int] | None = None,
    resumed: bool,
    verified: bool,
    journal: str | None,
    rollback_plan: str | None,
    policy: dict[str, Any] | None = None,
    lazy: bool = False,
    base: str | None = None,
) -> dict[str, Any]:
    """The result document; with ``lazy``, its ``operations`` is a generator (for
    ``result_chunks``) instead of a list. ``policy`` (the policy findings and ``--override``s,
    when there are any) is recorded as it is. ``base``: the destination's base the push
    recorded. A three-way plan's conflicts and their resolutions are repeated under ``merge``."""
    operations = (
        {
            "id": r.operation.id,
            "kind": r.operation.kind,
            "key": r.operation.key.key,
            "action": r.operation.action.value,
            "status": r.status,
            "error": r.error,
            "requests": r.requests,
            "throttled": r.throttled,
            "duration_ms": r.duration_ms,
            "created_id": r.created_id,
            "resumed": r.resumed,
        }
        for r in results
    )
    body = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "plan": plan_file,
        "plan_digest": plan_digest,
        "destination": {"environment": environment, "store_hash": store_hash},
        "started_at": started_at,
        "finished_at": finished_at,
        "duration_ms": duration_ms,
        "requests": requests,
        "throttled": throttled,
        "retries": {cause: (retries or {}).get(cause, 0) for cause in RETRY_CAUSES},
        "concurrency": concurrency,
        "resumed": resumed,
        "verified": verified,
        "journal": journal,
        "rollback_plan": rollback_plan,
        "summary": result_summary(list(results)),
        "operations": operations if lazy else list(operations),
    }
    if policy is not None:
        body["policy"] = policy
    if base is not None:
        body["base"] = base
    if plan.base is not None:
        body["merge"] = {
            "resolutions": list(plan.resolutions),
            "conflicts": [
                {"kind": c.kind, "key": c.key, "resolution": c.resolution} for c in plan.conflicts
            ],
        }
    return body


def result_to_json(body: dict[str, Any]) -> bytes:
    return b"".join(result_chunks(body))


def result_chunks(body: dict[str, Any]) -> Iterator[bytes]:
    """``result_to_json``'s bytes in pieces, one operation at a time (``body["operations"]``
    may be any iterable, such as ``result_body(..., lazy=True)``'s generator)."""
    head = {name: value for name, value in body.items() if name != "operations"}
    return indented_chunks(head, "operations", body["operations"])
