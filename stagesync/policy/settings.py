"""Policy settings: ``[policy]`` and ``[environments.NAME.policy]`` tables, checked line by line.

::

    [policy]
    plan-warning = "off"                     # a rule's severity: error, warn or off

    [policy.price-change]
    max_decrease_percent = 30                # the rule's thresholds
    exceptions = ["products:CLEARANCE-*"]    # KIND:GLOB entities the rule leaves alone

    [environments.staging.policy.mass-change]
    severity = "off"                         # only for plans whose destination is staging

An unknown rule id, key, severity, threshold value or exception is a ``ConfigError`` naming the
file and the line (``tomllib`` gives no line numbers: ``find_line`` looks the key up in the text).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stagesync.entities import dependencies
from stagesync.errors import ConfigError
from stagesync.policy.rules import BY_ID, Rule, Severity

Exception_ = tuple[str, str]
"""(kind, glob) of one ``exceptions`` entry."""


@dataclass(frozen=True)
class RuleSettings:
    """What one ``[policy.RULE]`` table says; anything it leaves out keeps the default."""

    severity: Severity | None = None
    limits: Mapping[str, float] = field(default_factory=dict)
    exceptions: tuple[Exception_, ...] = ()


@dataclass(frozen=True)
class PolicySettings:
    """One ``policy`` table: rule id -> its settings."""

    rules: Mapping[str, RuleSettings] = field(default_factory=dict)
    origin: str | None = None
    """Where it was read (``stagesync.toml``), for messages."""


def parse_policy(
    table: Any, *, at: tuple[str, ...], where: str, text: str | None = None
) -> PolicySettings:
    """The settings in the ``policy`` table found at ``at`` (``("policy",)`` or
    ``("environments", "staging", "policy")``) of the file ``where``, whose ``text`` gives the
    line numbers for errors."""
    place = _Place(where, text)
    name = _header(at)
    if not isinstance(table, dict):
        raise place.error(at, None, f"{'.'.join(at)} must be a table: {name}")
    rules: dict[str, RuleSettings] = {}
    for rule_id, value in table.items():
        rule = BY_ID.get(rule_id)
        if rule is None:
            match = difflib.get_close_matches(rule_id, list(BY_ID), n=1, cutoff=0.6)
            hint = f" Did you mean '{match[0]}'?" if match else ""
            raise place.error(
                at,
                rule_id,
                f"unknown policy rule '{rule_id}' in {name}.{hint} Rules: {', '.join(BY_ID)}",
            )
        if isinstance(value, str):
            rules[rule_id] = RuleSettings(severity=_severity(value, place, at, rule_id, name))
        elif isinstance(value, dict):
            rules[rule_id] = _parse_rule(rule, value, (*at, rule_id), place)
        else:
            raise place.error(
                at,
                rule_id,
                f'{name} {rule_id} must be a severity ("error", "warn" or "off") or a table '
                f"{_header((*at, rule_id))}",
            )
    return PolicySettings(rules, where)


def _parse_rule(
    rule: Rule, table: dict[str, Any], at: tuple[str, ...], place: _Place
) -> RuleSettings:
    name = _header(at)
    allowed = ("severity", "exceptions", *(t.name for t in rule.thresholds))
    for key in table:
        if key not in allowed:
            match = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            hint = f" Did you mean '{match[0]}'?" if match else ""
            raise place.error(
                at, key, f"unknown key '{key}' in {name}.{hint} Allowed: {', '.join(allowed)}"
            )
    severity = (
        _severity(table["severity"], place, at, "severity", name) if "severity" in table else None
    )
    limits: dict[str, float] = {}
    for threshold in rule.thresholds:
        if threshold.name not in table:
            continue
        value = table[threshold.name]
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if threshold.integer and not isinstance(value, int):
            number = False
        if not number or value < 0 or (threshold.maximum is not None and value > threshold.maximum):
            upper = f" and at most {threshold.maximum:g}" if threshold.maximum is not None else ""
            what = "a whole number" if threshold.integer else "a number"
            raise place.error(
                at,
                threshold.name,
                f"{name} {threshold.name} must be {what}, 0 or more{upper} ({threshold.doc}); "
                f"got {value!r}",
            )
        limits[threshold.name] = value
    exceptions = _exceptions(table.get("exceptions", []), place, at, name)
    return RuleSettings(severity, limits, exceptions)


def _severity(value: Any, place: _Place, at: tuple[str, ...], key: str, name: str) -> Severity:
    if isinstance(value, str) and value in Severity._value2member_map_:
        return Severity(value)
    raise place.error(at, key, f'{name} {key} must be "error", "warn" or "off", got {value!r}')


def _exceptions(
    value: Any, place: _Place, at: tuple[str, ...], name: str
) -> tuple[Exception_, ...]:
    example = 'exceptions = ["products:CLEARANCE-*"]'
    if not isinstance(value, list):
        raise place.error(at, "exceptions", f"{name} exceptions must be a list, e.g. {example}")
    out: list[Exception_] = []
    for item in value:
        kind, colon, glob = item.partition(":") if isinstance(item, str) else ("", "", "")
        kind = kind.strip().replace("-", "_")
        if not colon or not glob.strip() or kind not in dependencies.ROWS:
            problem = (
                f"names no kind stagesync knows ('{kind}')"
                if colon and glob.strip()
                else "is not KIND:GLOB"
            )
            raise place.error(
                at,
                "exceptions",
                f"{name} exceptions entry {item!r} {problem}; write e.g. {example} "
                "(kind names as in --kinds)",
                value=item if isinstance(item, str) else None,
            )
        out.append((kind, glob.strip()))
    return tuple(out)


def _header(at: tuple[str, ...]) -> str:
    return "[" + ".".join(at) + "]"


# --- line numbers ----------------------------------------------------------------------------

_TABLE = re.compile(r"\s*\[(?!\[)(?P<name>[^\]]+)\]\s*(?:#.*)?")
_ASSIGN = re.compile(r"\s*(?P<key>[^=\[#][^=]*?)\s*=")
_SEGMENT = re.compile(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([A-Za-z0-9_-]+)')


def _segments(dotted: str) -> tuple[str, ...]:
    return tuple(a or b or c for a, b, c in _SEGMENT.findall(dotted))


def find_line(
    text: str, at: tuple[str, ...], key: str | None, value: str | None = None
) -> int | None:
    """The 1-based line of ``text`` (TOML) that sets ``key`` in the table ``at`` (the table's own
    header when ``key`` is None), or None. With ``value``, the line within that setting (an
    array written over several lines) holding that string."""
    target = (*at, key) if key is not None else at
    lines = text.splitlines()
    table: tuple[str, ...] = ()
    found: int | None = None
    for number, line in enumerate(lines, start=1):
        header = _TABLE.fullmatch(line)
        if header is not None:
            table = _segments(header["name"])
            if table == target:
                found = number
                break
            continue
        assign = _ASSIGN.match(line)
        if assign is None:
            continue
        path = (*table, *_segments(assign["key"]))
        inline = path != target and target[: len(path)] == path and target[-1] in line
        if path == target or inline:
            found = number
            break
    if found is None or value is None:
        return found
    quoted = (f'"{value}"', f"'{value}'")
    for number in range(found, min(found + 200, len(lines)) + 1):
        if any(q in lines[number - 1] for q in quoted):
            return number
    return found


class _Place:
    """The file being checked, for errors that name their line."""

    def __init__(self, where: str, text: str | None) -> None:
        self.where = where
        self.text = text

    def error(
        self, at: tuple[str, ...], key: str | None, message: str, *, value: str | None = None
    ) -> ConfigError:
        line = find_line(self.text, at, key, value) if self.text is not None else None
        prefix = f"{self.where}, line {line}" if line is not None else self.where
        return ConfigError(
            f"{prefix}: {message}.", path=self.where if self.text is not None else None
        )
