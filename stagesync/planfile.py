"""The plan file (``plan.json``): a ``Plan`` as deterministic, self-verifying JSON.

``plan_to_json`` and ``plan_from_json`` are pure; ``write_plan`` and ``read_plan`` add the file.
docs/plan-format.md describes every field.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

import orjson

from stagesync.errors import PlanError
from stagesync.files import write_atomic_chunks
from stagesync.jsonstream import indented_chunks
from stagesync.model import (
    WITHHELD_REASON,
    Action,
    Conflict,
    ConflictField,
    Endpoint,
    EntityKey,
    FieldChange,
    Finding,
    Kept,
    LeftAlone,
    Operation,
    Plan,
    Redaction,
    Withheld,
    canonical_json,
)

FORMAT = "stagesync.plan"
FORMAT_VERSION = 1


def plan_body(plan: Plan) -> dict[str, Any]:
    """Every field of the plan file except ``digest``."""
    body = _head(plan)
    body["operations"] = [_operation_to_json(op) for op in plan.operations]
    return body


def _head(plan: Plan) -> dict[str, Any]:
    """``plan_body`` without ``operations`` (``stock`` and ``left_alone`` only when set)."""
    head = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": plan.created_at,
        "source": _endpoint_to_json(plan.source),
        "destination": _endpoint_to_json(plan.destination),
        "kinds": list(plan.kinds),
        "warnings": list(plan.warnings),
        "summary": {
            "counts": plan.counts(),
            "estimated_requests": plan.estimated_requests,
            "estimated_seconds": plan.estimated_seconds,
            "quota": {"requests": plan.quota, "window_ms": plan.window_ms},
            "operations": len(plan.operations),
        },
    }
    if plan.stock:
        head["stock"] = True
    if plan.findings:
        head["findings"] = [finding_to_json(f) for f in plan.findings]
    if plan.withheld:
        head["withheld"] = {
            "reason": WITHHELD_REASON,
            "kinds": [
                {"kind": w.kind, "writes": w.writes, "deletes": w.deletes} for w in plan.withheld
            ],
        }
    if plan.left_alone:
        head["left_alone"] = [_left_alone_to_json(entry) for entry in plan.left_alone]
    if plan.base is not None:  # a three-way plan (stagesync.stages.plan.merge)
        head["base"] = _endpoint_to_json(plan.base)
        head["merge"] = _merge_to_json(plan)
    return head


def plan_digest(plan: Plan) -> str:
    """The digest a plan file of ``plan`` carries: sha256 of the canonical JSON of its body.
    Operations are hashed one at a time, their records embedded as the canonical bytes they are
    kept as (never decoded)."""
    body = _head(plan)
    body["operations"] = (_operation_to_canonical(op) for op in plan.operations)
    return _body_digest(body)


def _body_digest(body: dict[str, Any], consume: Callable[[Any], None] | None = None) -> str:
    """``digest(body)`` computed piece by piece (the same canonical bytes: sorted keys, no
    whitespace), so a plan of 100,000 operations never needs its whole canonical JSON at once.
    Each operation is handed to ``consume`` once hashed and its list entry dropped (a plan being
    loaded keeps only what ``consume`` makes of it)."""
    hasher = hashlib.sha256(b"{")
    for index, name in enumerate(sorted(body)):
        value = body[name]
        hasher.update((b"," if index else b"") + orjson.dumps(name) + b":")
        if isinstance(value, list | Iterator):
            hasher.update(b"[")
            for position, item in enumerate(value):
                shown = _operation_to_canonical(item) if isinstance(item, Operation) else item
                hasher.update((b"," if position else b"") + canonical_json(shown))
                if consume is not None and name == "operations" and isinstance(value, list):
                    consume(item)
                    value[position] = None
            hasher.update(b"]")
        else:
            hasher.update(canonical_json(value))
    hasher.update(b"}")
    return "sha256:" + hasher.hexdigest()


def plan_to_json(plan: Plan) -> bytes:
    """The plan file's bytes: sorted keys, 2-space indent, trailing newline."""
    return b"".join(plan_chunks(plan))


def plan_chunks(plan: Plan) -> Iterator[bytes]:
    """``plan_to_json``'s bytes in pieces, one operation at a time."""
    head = _head(plan)
    head["digest"] = plan_digest(plan)
    return indented_chunks(head, "operations", (_operation_to_json(op) for op in plan.operations))


plan_json_for_output = plan_to_json
"""What ``--format json`` prints: the same bytes as the file."""


def plan_from_json(data: bytes, *, path: str) -> Plan:
    """Parse and verify a plan file's bytes; ``path`` names the file in error messages."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise PlanError(
            f"{path} is not valid JSON ({error}); re-run stagesync diff to make a new plan.",
            path=path,
        ) from None
    return _verified(document, path=path, as_written=lambda: data)


def _verified(document: Any, *, path: str, as_written: Callable[[], bytes]) -> Plan:
    """The plan in a parsed plan file, once its format, version and digest are checked.
    ``as_written`` gives the file's bytes again, read only when the digest differs (see
    ``_digest_as_written``)."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise PlanError(
            f'{path} is not a stagesync plan (its "format" is not "{FORMAT}").', path=path
        )
    version = document.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise PlanError(f"{path} has an invalid format_version: {version!r}.", path=path)
    if version > FORMAT_VERSION:
        raise PlanError(
            f"{path} was written by a newer stagesync (plan format_version {version}; this "
            f"stagesync reads up to {FORMAT_VERSION}). Upgrade stagesync to read it.",
            path=path,
        )
    claimed = document.pop("digest", None)
    operations: list[Operation] = []
    problems: list[Exception] = []

    def consume(item: Any) -> None:
        """Turn each operation into an ``Operation`` as soon as it is hashed (its parsed dict is
        dropped then), remembering the first malformed one. ``read_plan`` hands in most as
        ``Operation`` already."""
        if not problems:
            try:
                operations.append(
                    item if isinstance(item, Operation) else _operation_from_json(item)
                )
            except (KeyError, TypeError, ValueError) as error:
                problems.append(error)

    if claimed != _body_digest(document, consume) and claimed != _digest_as_written(as_written()):
        raise PlanError(
            f"{path} was edited after it was made (digest mismatch); re-run stagesync diff to "
            f"make a new plan.",
            path=path,
        )
    try:
        if problems:
            raise problems[0]
        return _plan_from_body(document, tuple(operations))
    except (KeyError, TypeError, ValueError) as error:
        raise PlanError(
            f"{path} is not a well-formed stagesync plan ({type(error).__name__}: {error}); "
            f"re-run stagesync diff to make a new plan.",
            path=path,
        ) from None


def write_plan(plan: Plan, path: Path) -> None:
    """Write the plan file atomically: a temporary file in the same folder, then a rename."""
    write_atomic_chunks(path, plan_chunks(plan))


def read_plan(path: Path) -> Plan:
    """Read and verify a plan file (format, version, digest)."""
    try:
        document = _load(path)
    except OSError as error:
        raise PlanError(
            f"cannot read plan {path}: {error.strerror or error}.", path=str(path)
        ) from None
    except (ValueError, RecursionError) as error:
        raise PlanError(
            f"{path} is not valid JSON ({error}); re-run stagesync diff to make a new plan.",
            path=str(path),
        ) from None
    return _verified(document, path=str(path), as_written=path.read_bytes)


def _digest_as_written(data: bytes) -> str | None:
    """The digest of a plan file's body with its numbers as written: what stagesync computed
    before numbers had one form, so a plan made then, holding ``189.0``, still reads (None when
    the bytes do not parse)."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(document, dict):
        return None
    document.pop("digest", None)
    return (
        "sha256:" + hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()
    )


def _load(path: Path) -> Any:
    """The parsed plan file, read piece by piece: each operation becomes an ``Operation`` (its
    records kept as compact bytes) as soon as it is parsed, so a plan of 100,000 products is
    never whole in memory, as text or as Python objects. An operation that would not hash the
    same once converted (an unknown field, a malformed value) is kept as parsed, for
    ``_verified`` to hash and report exactly as before."""
    with path.open("r", encoding="utf-8") as handle:
        reader = _Reader(handle)
        document: dict[str, Any] = {}
        reader.expect("{")
        if reader.peek() == "}":
            reader.pos += 1
        else:
            while True:
                name = reader.value()
                if not isinstance(name, str):
                    raise _invalid("an object key must be a string")
                reader.expect(":")
                if name == "operations" and reader.peek() == "[":
                    reader.pos += 1
                    document[name] = _operations(reader)
                else:
                    document[name] = reader.value()
                if reader.peek() == ",":
                    reader.pos += 1
                    continue
                reader.expect("}")
                break
        if reader.peek() != "":
            raise _invalid("unexpected data after the plan")
        return document


def _operations(reader: _Reader) -> list[Any]:
    """The rest of an ``operations`` array, after its ``[``."""
    out: list[Any] = []
    if reader.peek() == "]":
        reader.pos += 1
        return out
    while True:
        item = reader.value()
        out.append(_converted(item))
        if reader.peek() == ",":
            reader.pos += 1
            continue
        reader.expect("]")
        return out


def _converted(item: Any) -> Any:
    """``item`` as an ``Operation`` when that hashes to exactly the same bytes, else as is."""
    try:
        op = _operation_from_json(item)
    except (KeyError, TypeError, ValueError):
        return item
    if canonical_json(_operation_to_canonical(op)) != canonical_json(item):
        return item
    return op


def _invalid(message: str) -> json.JSONDecodeError:
    return json.JSONDecodeError(message, "", 0)


class _Reader:
    """JSON values read one at a time from a text file, through a window of ``CHUNK``
    characters (Python's JSON decoder parses each value; this only walks the structure)."""

    CHUNK = 1 << 20

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle
        self.buffer = ""
        self.pos = 0
        self.eof = False

    def _more(self) -> bool:
        if self.eof:
            return False
        chunk = self.handle.read(self.CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.buffer = self.buffer[self.pos :] + chunk
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next non-whitespace character ("" at the end of the file)."""
        while True:
            self.pos = _WHITESPACE.match(self.buffer, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._more():
                return ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise _invalid(f"expected {char!r} at character {self.pos}")
        self.pos += 1

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError:
                if self._more():
                    continue
                raise
            if end < len(self.buffer) or not self._more():
                # A number at the window's end may go on in the next chunk: decode it again.
                self.pos = end
                return value


_DECODER = json.JSONDecoder()
_WHITESPACE = re.compile(r"[ \t\n\r]*")


# --- fields ---------------------------------------------------------------------------------------


def _endpoint_to_json(endpoint: Endpoint) -> dict[str, Any]:
    out: dict[str, Any] = {
        "environment": endpoint.environment,
        "store_hash": endpoint.store_hash,
        "digest": endpoint.digest,
    }
    if endpoint.redaction is not None:  # only for a redacted snapshot
        out["redaction"] = endpoint.redaction.to_json()
    return out


def _endpoint_from_json(value: dict[str, Any]) -> Endpoint:
    marker = value.get("redaction")
    return Endpoint(
        environment=_optional_str(value["environment"]),
        store_hash=_optional_str(value["store_hash"]),
        digest=_str(value["digest"]),
        redaction=None
        if marker is None
        else Redaction(int(marker["version"]), marker["keyed"] is True, dict(marker["kinds"])),
    )


def finding_to_json(finding: Finding) -> dict[str, Any]:
    """A finding as plan files (and the reports built on them) hold it."""
    return {
        "rule": finding.rule,
        "severity": str(finding.severity),
        "kind": finding.kind,
        "key": finding.key,
        "message": finding.message,
        "fix": finding.fix,
    }


def _finding_from_json(value: dict[str, Any]) -> Finding:
    return Finding(
        rule=_str(value["rule"]),
        severity=_str(value["severity"]),
        message=_str(value["message"]),
        fix=_str(value["fix"]),
        kind=_optional_str(value["kind"]),
        key=_optional_str(value["key"]),
    )


def _merge_to_json(plan: Plan) -> dict[str, Any]:
    return {
        "conflicts": [
            {
                "kind": c.kind,
                "key": c.key,
                "resolution": c.resolution,
                "fields": [
                    {
                        "path": f.path,
                        "base": f.base,
                        "source": f.source,
                        "destination": f.destination,
                    }
                    for f in c.fields
                ],
            }
            for c in plan.conflicts
        ],
        "kept": [{"kind": k.kind, "key": k.key, "fields": list(k.fields)} for k in plan.kept],
        "resolutions": list(plan.resolutions),
    }


def _merge_from_json(body: dict[str, Any]) -> dict[str, Any]:
    """The ``Plan`` fields of a three-way plan's ``base`` and ``merge`` (none for a two-way
    plan)."""
    if body.get("base") is None:
        return {}
    merged = body["merge"]
    return {
        "base": _endpoint_from_json(body["base"]),
        "conflicts": tuple(
            Conflict(
                _str(c["kind"]),
                _str(c["key"]),
                tuple(
                    ConflictField(_str(f["path"]), f["base"], f["source"], f["destination"])
                    for f in c["fields"]
                ),
                _optional_str(c["resolution"]),
            )
            for c in merged["conflicts"]
        ),
        "kept": tuple(
            Kept(_str(k["kind"]), _str(k["key"]), tuple(_str(f) for f in k["fields"]))
            for k in merged["kept"]
        ),
        "resolutions": tuple(_str(r) for r in merged["resolutions"]),
    }


def _operation_to_json(op: Operation) -> dict[str, Any]:
    return {
        "id": op.id,
        "action": op.action.value,
        "kind": op.key.kind,
        "key": op.key.key,
        "after": op.after,
        "fields": [{"path": f.path, "before": f.before, "after": f.after} for f in op.fields],
        "depends_on": list(op.depends_on),
        "reason": op.reason,
        "note": op.note,
        "precondition": op.precondition,
    }


def _operation_to_canonical(op: Operation) -> dict[str, Any]:
    """``_operation_to_json(op)`` with ``after`` and ``fields`` as the canonical bytes the
    operation keeps (``canonical_json`` of it gives the same bytes without decoding them)."""
    return {
        "id": op.id,
        "action": op.action.value,
        "kind": op.key.kind,
        "key": op.key.key,
        "after": None if op.after_json is None else orjson.Fragment(op.after_json),
        "fields": orjson.Fragment(op.fields_json),
        "depends_on": list(op.depends_on),
        "reason": op.reason,
        "note": op.note,
        "precondition": op.precondition,
    }


def _operation_from_json(value: dict[str, Any]) -> Operation:
    after = value["after"]
    if after is not None and not isinstance(after, dict):
        raise TypeError(f"operation {value['id']!r}: after must be an object or null")
    return Operation(
        id=_str(value["id"]),
        action=Action(value["action"]),
        key=EntityKey(_str(value["kind"]), _str(value["key"])),
        after=after,
        precondition=_optional_str(value["precondition"]),
        fields=tuple(
            FieldChange(_str(f["path"]), f["before"], f["after"]) for f in value["fields"]
        ),
        depends_on=tuple(_str(d) for d in value["depends_on"]),
        reason=_str(value["reason"]),
        note=_optional_str(value.get("note")),
    )


def _plan_from_body(body: dict[str, Any], operations: tuple[Operation, ...]) -> Plan:
    """The plan of a verified body whose ``operations`` list were converted to ``operations``."""
    if not isinstance(body["operations"], list):
        raise TypeError("operations must be a list")
    quota = body["summary"].get("quota") or {}
    return Plan(
        source=_endpoint_from_json(body["source"]),
        destination=_endpoint_from_json(body["destination"]),
        operations=operations,
        created_at=_str(body["created_at"]),
        warnings=tuple(_str(w) for w in body["warnings"]),
        estimated_requests=int(body["summary"]["estimated_requests"]),
        kinds=tuple(_str(k) for k in body["kinds"]),
        quota=int(quota.get("requests", 150)),
        window_ms=int(quota.get("window_ms", 30000)),
        stock=body.get("stock") is True,
        findings=tuple(_finding_from_json(f) for f in body.get("findings", [])),
        withheld=tuple(
            Withheld(_str(w["kind"]), int(w["writes"]), int(w["deletes"]))
            for w in body.get("withheld", {}).get("kinds", [])
        ),
        left_alone=tuple(_left_alone_from_json(entry) for entry in body.get("left_alone", ())),
        **_merge_from_json(body),
    )


def _left_alone_to_json(entry: LeftAlone) -> dict[str, Any]:
    return {
        "kind": entry.key.kind,
        "key": entry.key.key,
        "fields": list(entry.fields),
        "needed_by": entry.needed_by,
    }


def _left_alone_from_json(value: dict[str, Any]) -> LeftAlone:
    return LeftAlone(
        key=EntityKey(_str(value["kind"]), _str(value["key"])),
        fields=tuple(_str(f) for f in value["fields"]),
        needed_by=_str(value["needed_by"]),
    )


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def _optional_str(value: Any) -> str | None:
    return None if value is None else _str(value)
