"""Replace personal data in a snapshot with stable pseudonyms (``stagesync pull ENV --redact``).

Which fields hold personal data is declared per kind in the registry (``EntityKind.pii_fields``,
and ``pii_key`` when the natural key itself is personal, as a customer's email is). Every string
value of such a field, at any depth of the record, is replaced by a pseudonym of its type:

- ``email``: ``customer-<16 hex>@example.com``, from the email folded to lower case, so it stays a
  valid, unique email and a customer's key, its ``email`` field and every order naming it agree;
- ``name``: ``Name <8 hex>``; ``phone``: ``555-<7 digits>``; ``address``: ``Redacted <8 hex>``;
  ``text`` (notes, messages, IP addresses): ``[redacted <8 hex>]``.

The same input always gives the same pseudonym, so diffs between redacted snapshots stay
meaningful. Pseudonyms are SHA-256 digests; set ``STAGESYNC_REDACT_SECRET`` to key them (HMAC), so
nobody holding a list of candidate emails can test which ones are in the snapshot. A key built
from personal fields (``EntityKind.redacted_key``) is computed again from the redacted record.

A redacted snapshot says so (``Redaction``: scheme version, kinds and fields), and pseudonyms are
recognised by their shape (``is_pseudonym``) wherever a record comes from: docs/redaction.md.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from stagesync.entities.base import EntityKind
from stagesync.model import REDACTION_VERSION, KindSnapshot, Record, Redaction, Snapshot

SECRET_ENV = "STAGESYNC_REDACT_SECRET"
TYPES = ("email", "name", "phone", "address", "text")


class Pseudonyms:
    """Stable pseudonyms: the same (type, value) always gives the same result."""

    def __init__(self, secret: str | None = None) -> None:
        if secret is None:
            secret = os.environ.get(SECRET_ENV) or None
        self._key = secret.encode("utf-8") if secret else None

    @property
    def keyed(self) -> bool:
        """Made with a secret (HMAC)."""
        return self._key is not None

    def _digest(self, kind: str, value: str) -> str:
        message = f"{kind}\x00{value}".encode()
        if self._key is not None:
            return hmac.new(self._key, message, hashlib.sha256).hexdigest()
        return hashlib.sha256(b"stagesync-redact\x00" + message).hexdigest()

    def of(self, kind: str, value: str) -> str:
        if kind not in TYPES:
            raise ValueError(f"unknown personal-data type {kind!r}; use one of {', '.join(TYPES)}")
        if kind == "email":
            value = value.strip().casefold()
        digest = self._digest(kind, value)
        if kind == "email":
            return f"customer-{digest[:16]}@example.com"
        if kind == "name":
            return f"Name {digest[:8]}"
        if kind == "phone":
            return f"555-{int(digest[:12], 16) % 10_000_000:07d}"
        if kind == "address":
            return f"Redacted {digest[:8]}"
        return f"[redacted {digest[:8]}]"


_PSEUDONYM = {
    "email": re.compile(r"customer-[0-9a-f]{16}@example\.com"),
    "name": re.compile(r"Name [0-9a-f]{8}"),
    "phone": re.compile(r"555-[0-9]{7}"),
    "address": re.compile(r"Redacted [0-9a-f]{8}"),
    "text": re.compile(r"\[redacted [0-9a-f]{8}\]"),
}
"""What ``Pseudonyms.of`` gives for each type: how a redacted value is recognised."""


def is_pseudonym(kind: str, value: str) -> bool:
    """Whether ``value`` has the shape ``Pseudonyms.of(kind, ...)`` gives."""
    return _PSEUDONYM[kind].fullmatch(value) is not None


def personal_values(value: Any, fields: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    """(pseudonym type, string) of every non-empty string under a personal-data field name, at
    any depth: exactly the values ``redact_value`` replaces."""
    if isinstance(value, dict):
        for name, item in value.items():
            kind = fields.get(name)
            if kind is not None and isinstance(item, str) and item:
                yield kind, item
            else:
                yield from personal_values(item, fields)
    elif isinstance(value, list):
        for item in value:
            yield from personal_values(item, fields)


def pseudonym_count(kind: EntityKind, key: str, record: Record) -> tuple[int, int]:
    """(pseudonyms, other values) among the personal data of ``kind``'s record ``key`` (the key
    itself when it is personal)."""
    values = list(personal_values(record, dict(kind.pii_fields)))
    if kind.pii_key:
        values.append((kind.pii_key, key))
    pseudonyms = sum(is_pseudonym(t, v) for t, v in values)
    return pseudonyms, len(values) - pseudonyms


def looks_redacted(kind: EntityKind, key: str, record: Record) -> bool:
    """Whether every piece of personal data in ``kind``'s record ``key`` (the key itself when it
    is personal) is a pseudonym: a record ``redact_records`` wrote, or one without personal
    data. Judged from the values, so it holds wherever the record came from."""
    return pseudonym_count(kind, key, record)[1] == 0


def holds_pseudonyms(kind: EntityKind, key: str, record: Record) -> bool:
    """Whether any personal data of the record is a pseudonym: pseudonymised data, even if
    some of it was typed in since."""
    return pseudonym_count(kind, key, record)[0] > 0


def is_pseudonymous(kind: EntityKind, key: str, record: Record) -> bool:
    """Whether the record holds pseudonyms and nothing else (``looks_redacted``, and not for
    lack of personal data): not a real person's record."""
    pseudonyms, other = pseudonym_count(kind, key, record)
    return pseudonyms > 0 and other == 0


def redact_value(value: Any, fields: Mapping[str, str], names: Pseudonyms) -> Any:
    """``value`` with every string under a personal-data field name replaced, at any depth."""
    if isinstance(value, dict):
        out = {}
        for name, item in value.items():
            kind = fields.get(name)
            if kind is not None and isinstance(item, str) and item:
                out[name] = names.of(kind, item)
            else:
                out[name] = redact_value(item, fields, names)
        return out
    if isinstance(value, list):
        return [redact_value(item, fields, names) for item in value]
    return value


def redact_records(
    kind: EntityKind, records: Mapping[str, Record], names: Pseudonyms
) -> dict[str, Record]:
    fields = dict(kind.pii_fields)
    out: dict[str, Record] = {}
    for key, record in records.items():
        redacted = redact_value(record, fields, names) if fields else record
        new_key = key
        if kind.pii_key:
            new_key = names.of(kind.pii_key, key)
        elif kind.redacted_key is not None:
            new_key = kind.redacted_key(redacted)
        out[new_key] = redacted
    return out


def marker(kind: EntityKind) -> dict[str, object]:
    """What a redacted snapshot records about ``kind``: its key's and fields' pseudonym types."""
    return {"key": kind.pii_key, "fields": dict(sorted(kind.pii_fields))}


def redact_snapshot(
    snapshot: Snapshot, registry: Mapping[str, EntityKind], names: Pseudonyms | None = None
) -> Snapshot:
    """A copy of ``snapshot`` with the personal data of every kind pseudonymised."""
    names = names or Pseudonyms()
    kinds = {}
    redacted: dict[str, Mapping[str, object]] = {}
    for kind, records in snapshot.kinds.items():
        entity = registry.get(kind)
        if entity is None or not (entity.pii_fields or entity.pii_key):
            kinds[kind] = records
        else:
            kinds[kind] = KindSnapshot(redact_records(entity, records.records, names))
            redacted[kind] = marker(entity)
    return replace(
        snapshot, kinds=kinds, redaction=Redaction(REDACTION_VERSION, names.keyed, redacted)
    )
