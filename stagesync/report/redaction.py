"""What every plan report says about redaction: whether the source snapshot is redacted, and
what the redaction guard left out (``Plan.withheld``) and why. Pure functions over a ``Plan``."""

from __future__ import annotations

from stagesync.model import WITHHELD_REASON, Plan


def source_redaction(plan: Plan) -> str | None:
    """``Source alpha is a redacted snapshot (pseudonym scheme 1): customers, orders.``"""
    marker = plan.source.redaction
    if marker is None:
        return None
    where = plan.source.environment or "snapshot"
    keyed = ", keyed" if marker.keyed else ""
    kinds = ", ".join(sorted(marker.kinds)) or "no kind with personal data"
    return (
        f"Source {where} is a redacted snapshot (pseudonym scheme {marker.version}{keyed}): "
        f"{kinds}."
    )


def withheld_heading(plan: Plan) -> str:
    """``Left out by the redaction guard (5 records): pseudonymised people never go ...``"""
    total = sum(w.writes + w.deletes for w in plan.withheld)
    return (
        f"Left out by the redaction guard ({total} record{'s' if total != 1 else ''}): "
        f"{WITHHELD_REASON}."
    )


def redaction_lines(plan: Plan) -> list[str]:
    """The text report's redaction section, after a blank line; nothing when there is none."""
    out: list[str] = []
    said = source_redaction(plan)
    if said:
        out.append(said)
    if plan.withheld:
        out.append(withheld_heading(plan))
        out.extend(f"  {w.describe()}" for w in plan.withheld)
    return ["", *out] if out else []
