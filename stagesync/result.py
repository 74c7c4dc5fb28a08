"""The push result report as JSON (``<plan>.result.json``): every operation with its status, the
requests it used and how long it took. The format is documented in docs/push.md."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from stagesync.model import Plan
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
    resumed: bool,
    verified: bool,
    journal: str | None,
    rollback_plan: str | None,
) -> dict[str, Any]:
    return {
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
        "concurrency": concurrency,
        "resumed": resumed,
        "verified": verified,
        "journal": journal,
        "rollback_plan": rollback_plan,
        "summary": result_summary(list(results)),
        "operations": [
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
        ],
    }


def result_to_json(body: dict[str, Any]) -> bytes:
    return orjson.dumps(body, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
