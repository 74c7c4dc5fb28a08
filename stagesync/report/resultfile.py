"""A push's result as versioned JSON (``plan.result.json``), for pipelines.

Same serialisation as the plan file (sorted keys, 2-space indent, trailing newline). The schema is
``docs/schemas/result.schema.json``; ``docs/plan-format.md`` describes the fields.
"""

from __future__ import annotations

from typing import Any

import orjson

from stagesync.model import Plan
from stagesync.planfile import plan_digest
from stagesync.report.common import Outcome, Results, outcomes

FORMAT = "stagesync.result"
FORMAT_VERSION = 1


def result_body(
    plan: Plan,
    results: Results,
    *,
    environment: str | None,
    requests: int,
    finished_at: str,
    dry_run: bool = False,
) -> dict[str, Any]:
    """The result document: what happened to each of ``plan``'s operations, in plan order."""
    done = outcomes(results)
    operations = []
    statuses: dict[str, int] = {}
    for op in plan.operations:
        outcome = done.get(op.id, Outcome("not run"))
        statuses[outcome.status] = statuses.get(outcome.status, 0) + 1
        operations.append(
            {
                "id": op.id,
                "action": op.action.value,
                "kind": op.kind,
                "key": op.key.key,
                "status": outcome.status,
                "error": outcome.error,
                "requests": outcome.requests,
                "duration_s": outcome.duration_s,
            }
        )
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "plan_digest": plan_digest(plan),
        "finished_at": finished_at,
        "destination": {
            "environment": environment or plan.destination.environment,
            "store_hash": plan.destination.store_hash,
        },
        "dry_run": dry_run,
        "requests": requests,
        "summary": {"operations": len(operations), "statuses": statuses},
        "operations": operations,
    }


def result_to_json(
    plan: Plan,
    results: Results,
    *,
    environment: str | None,
    requests: int,
    finished_at: str,
    dry_run: bool = False,
) -> bytes:
    body = result_body(
        plan,
        results,
        environment=environment,
        requests=requests,
        finished_at=finished_at,
        dry_run=dry_run,
    )
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"
