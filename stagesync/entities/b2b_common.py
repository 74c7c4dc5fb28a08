"""What the eight B2B Edition kinds share: their API (``ports.b2b_api``) and key helpers.

B2B kinds are read and written through the environment's B2B Edition API, which pull and push
open only for connected environments; entity functions reach it with ``api()``.
"""

from __future__ import annotations

from typing import Any

from stagesync.entities.base import Lookup
from stagesync.ports import B2BApi, b2b_api


def api() -> B2BApi:
    return b2b_api()


def key_or_none(lookup: Lookup, kind: str, live_id: Any) -> str | None:
    """The natural key of ``kind``'s entity ``live_id``; None for 0, "" or None."""
    if live_id in (None, 0, "", "0"):
        return None
    return lookup.key_of(kind, int(live_id))


def id_or_none(lookup: Lookup, kind: str, key: str | None) -> int | None:
    return None if key is None else lookup.id_of(kind, key)


def company_key(raw: dict[str, Any]) -> str:
    """A company's natural key: its external ``uuid`` when set, else its name."""
    uuid = str(raw.get("uuid") or "").strip()
    return uuid if uuid else str(raw["companyName"])


def email_key(raw: dict[str, Any]) -> str:
    return str(raw["email"]).casefold()
