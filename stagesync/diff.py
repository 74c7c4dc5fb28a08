"""Two snapshots in, the entities that differ out: ``diff(source, destination) -> list[Change]``.

Pure: no files, no HTTP, no printing. Records are compared by canonical JSON first (equal bytes
iff equal digests, without hashing; numbers by value, ``189`` = ``189.0``); only records that
differ are diffed field by field, and only their differing nested fields go through deepdiff, so a
snapshot of 100,000 unchanged products costs 200,000 serialisations and nothing more.

Field paths are dotted (``price``, ``custom_fields[Color].value``). A list of dicts is addressed by
its items' natural key when it has one: the first of ``KEY_FIELDS`` that every item on both sides
carries as a scalar, unique within each side, with the items common to both sides in the same
relative order. Otherwise its items are addressed by index (``images[0].url``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from deepdiff import DeepDiff
from deepdiff.helper import NotPresent

from stagesync.model import (
    Action,
    Change,
    EntityKey,
    FieldChange,
    Record,
    Snapshot,
    canonical_json,
    canonical_value,
    digest,
)

KEY_FIELDS: tuple[str, ...] = (
    "sku",
    "key",
    "name",
    "label",
    "display_name",
    "email",
    "url",
    "code",
    "image_url",
    "video_id",
)
"""Fields that name an item inside a nested list of dicts, most specific first."""


def diff(
    source: Snapshot,
    destination: Snapshot,
    *,
    kinds: Iterable[str] | None = None,
    prune: bool = False,
) -> list[Change]:
    """The changes that make ``destination`` look like ``source``, ordered by (kind, key).

    Only kinds present in ``source`` are compared (a kind absent there was not pulled), restricted
    to ``kinds`` when given. A key only in the source is a CREATE, a key in both whose records
    differ is an UPDATE carrying field-level changes, and a key only in the destination is a
    DELETE when ``prune`` is set (and ignored otherwise).
    """
    selected = set(kinds) if kinds is not None else None
    changes: list[Change] = []
    for kind in sorted(source.kinds):
        if selected is not None and kind not in selected:
            continue
        changes.extend(
            diff_kind(kind, source.records(kind), destination.records(kind), prune=prune)
        )
    return changes


def diff_kind(
    kind: str,
    source: Mapping[str, Record],
    destination: Mapping[str, Record],
    *,
    prune: bool = False,
) -> Iterator[Change]:
    """The changes within one kind, by key."""
    keys = set(source) | set(destination) if prune else set(source)
    for key in sorted(keys):
        after = source.get(key)
        before = destination.get(key)
        entity = EntityKey(kind, key)
        if after is None:
            if before is not None:
                yield Change(entity, Action.DELETE, before=before, after=None)
        elif before is None:
            yield Change(entity, Action.CREATE, before=None, after=after)
        elif canonical_json(before) != canonical_json(after):
            yield Change(
                entity,
                Action.UPDATE,
                before=before,
                after=after,
                fields=field_changes(before, after),
            )


# --- field-level changes --------------------------------------------------------------------------


class _Keyed(dict[str, Any]):
    """A list of dicts re-indexed by its items' natural key, so deepdiff matches items by key."""


class _Absent:
    """Marks a side of a path that does not exist (an added or removed field or item)."""


_ABSENT = _Absent()


TREE_FIELDS: tuple[str, ...] = ("files",)
"""Top-level fields holding a file tree (path -> content), as a theme's record does. Each changed
file is one change, at ``files/<path>`` (``files/templates/pages/home.html``)."""


def field_changes(before: Record, after: Record) -> tuple[FieldChange, ...]:
    """Field-level changes from ``before`` to ``after``, sorted by path (file trees last, one
    change per added, removed or changed file). Numbers compare by value: ``189`` and ``189.0``
    are no change, and changes show numbers in their one form."""
    before, after = canonical_value(before), canonical_value(after)
    tree: list[FieldChange] = []
    for name in TREE_FIELDS:
        old, new = before.get(name), after.get(name)
        if isinstance(old, dict) and isinstance(new, dict):
            before = {k: v for k, v in before.items() if k != name}
            after = {k: v for k, v in after.items() if k != name}
            tree.extend(
                FieldChange(f"{name}/{path}", old.get(path), new.get(path))
                for path in sorted(set(old) | set(new))
                if digest(old.get(path)) != digest(new.get(path))
            )
    return _record_changes(before, after) + tuple(tree)


def _record_changes(before: Record, after: Record) -> tuple[FieldChange, ...]:
    """Field-level changes from ``before`` to ``after``, sorted by path.

    Top-level fields are compared by their canonical JSON first; a scalar that differs is one
    change, and only fields holding objects or lists that differ go through deepdiff (which is
    slow: it copies and runs difflib), so a product whose price changed costs microseconds."""
    found: list[tuple[tuple[tuple[int, int | str], ...], FieldChange]] = []
    for name in set(before) | set(after):
        if name in before and name in after:
            old, new = before[name], after[name]
            if canonical_json(old) == canonical_json(new):
                continue
            if isinstance(old, dict | list) and isinstance(new, dict | list):
                deep = _deep_changes({name: old}, {name: new})
                found.extend(deep or [((_sort_step(name),), _whole(name, old, new))])
                continue
        found.append(((_sort_step(name),), _whole(name, before.get(name), after.get(name))))
    found.sort(key=lambda item: (item[0], item[1].path))
    return tuple(change for _, change in found)


def _whole(name: str, before: Any, after: Any) -> FieldChange:
    """A change of a whole top-level field (added, removed, a scalar, or a type change)."""
    return FieldChange(_escape(name, ".[]"), before, after)


def _deep_changes(
    before: Record, after: Record
) -> list[tuple[tuple[tuple[int, int | str], ...], FieldChange]]:
    left, right = _keyed_pair(before, after)
    tree = DeepDiff(left, right, view="tree", threshold_to_diff_deeper=0, verbose_level=2)
    found: list[tuple[tuple[tuple[int, int | str], ...], FieldChange]] = []
    for report in tree.values():
        for level in report:
            steps = level.path(output_format="list")
            path = _format_path(left, right, steps)
            change = FieldChange(path, _plain(level.t1), _plain(level.t2))
            found.append((tuple(_sort_step(step) for step in steps), change))
    return found


def _sort_step(step: Any) -> tuple[int, int | str]:
    return (0, step) if isinstance(step, int) else (1, str(step))


def _keyed_pair(before: Any, after: Any) -> tuple[Any, Any]:
    """Both sides with every keyable list of dicts turned into a ``_Keyed`` dict, consistently."""
    if isinstance(before, dict) and isinstance(after, dict):
        left: dict[str, Any] = {}
        right: dict[str, Any] = {}
        for name, value in before.items():
            if name in after:
                left[name], right[name] = _keyed_pair(value, after[name])
            else:
                left[name] = _keyed_pair(value, value)[0]
        for name, value in after.items():
            if name not in before:
                right[name] = _keyed_pair(value, value)[1]
        return left, right
    if isinstance(before, list) and isinstance(after, list):
        field = _list_key(before, after)
        if field is None:
            if len(before) == len(after):
                pairs = [_keyed_pair(b, a) for b, a in zip(before, after, strict=True)]
                return [p[0] for p in pairs], [p[1] for p in pairs]
            return _keyed_pair_each(before), _keyed_pair_each(after)
        by_key_after = {_item_key(item, field): item for item in after}
        by_key_before = {_item_key(item, field): item for item in before}
        left_keyed = _Keyed()
        right_keyed = _Keyed()
        for item in before:
            k = _item_key(item, field)
            other = by_key_after.get(k, item)
            left_keyed[k] = _keyed_pair(item, other)[0]
        for item in after:
            k = _item_key(item, field)
            other = by_key_before.get(k, item)
            right_keyed[k] = _keyed_pair(other, item)[1]
        return left_keyed, right_keyed
    return _keyed_pair_one(before), _keyed_pair_one(after)


def _keyed_pair_one(value: Any) -> Any:
    return _keyed_pair(value, value)[0] if isinstance(value, dict | list) else value


def _keyed_pair_each(items: list[Any]) -> list[Any]:
    return [_keyed_pair_one(item) for item in items]


def _item_key(item: dict[str, Any], field: str) -> str:
    return str(item[field])


def _list_key(before: list[Any], after: list[Any]) -> str | None:
    """The natural key field of a list of dicts on both sides, or None to address by index."""
    items = before + after
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for field in KEY_FIELDS:
        if not all(isinstance(item.get(field), str | int) for item in items):
            continue
        left = [_item_key(item, field) for item in before]
        right = [_item_key(item, field) for item in after]
        if len(set(left)) != len(left) or len(set(right)) != len(right):
            continue
        common = set(left) & set(right)
        if [k for k in left if k in common] != [k for k in right if k in common]:
            return None  # a reorder is a change: address by index so it shows
        return field
    return None


def _format_path(left: Any, right: Any, steps: list[Any]) -> str:
    """``['variants', 'SKU-1', 'price']`` -> ``variants[SKU-1].price``, using the shapes on
    either side to tell a dict field from a keyed or indexed list item."""
    out = ""
    for step in steps:
        container = left if not isinstance(left, _Absent) else right
        if isinstance(container, _Keyed | list):
            out += "[" + _escape(str(step), "]") + "]"
        else:
            name = _escape(str(step), ".[]")
            out += ("." + name) if out else name
        left = _child(left, step)
        right = _child(right, step)
    return out


def _child(container: Any, step: Any) -> Any:
    if isinstance(container, dict) and step in container:
        return container[step]
    if isinstance(container, list) and isinstance(step, int) and 0 <= step < len(container):
        return container[step]
    return _ABSENT


def _escape(text: str, special: str) -> str:
    out = text.replace("\\", "\\\\")
    for char in special:
        out = out.replace(char, "\\" + char)
    return out


def _plain(value: Any) -> Any:
    """A value back in its snapshot shape: keyed lists as lists, absent as None."""
    if isinstance(value, _Keyed):
        return [_plain(item) for item in value.values()]
    if isinstance(value, dict):
        return {name: _plain(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, NotPresent):
        return None
    return value


def field_lines(record: Any) -> list[str]:
    """``record`` as one ``path = value`` line per field, in a stable order (fields sorted, lists
    in their order, list items of a natural key addressed by it), with the paths a plan's field
    changes use (``variants[SKU-1].price = 12.5``, ``files/templates/home.html = "…"``), so a
    ``git diff`` of two versions reads like the plan. Values are canonical JSON on one line."""
    value = canonical_value(record)
    lines: list[str] = []
    if isinstance(value, dict):
        for name in TREE_FIELDS:
            tree = value.get(name)
            if isinstance(tree, dict):
                value = {k: v for k, v in value.items() if k != name}
                lines += [f"{name}/{path} = {_line_value(tree[path])}" for path in sorted(tree)]
    return _field_lines(_keyed_pair_one(value), "") + lines


def _field_lines(value: Any, path: str) -> list[str]:
    if isinstance(value, _Keyed) and value:
        return [
            line
            for key, item in value.items()
            for line in _field_lines(item, f"{path}[{_escape(str(key), ']')}]")
        ]
    if isinstance(value, dict) and value:
        return [
            line
            for name in sorted(value)
            for line in _field_lines(
                value[name], f"{path}.{_escape(name, '.[]')}" if path else _escape(name, ".[]")
            )
        ]
    if isinstance(value, list) and value:
        return [line for i, item in enumerate(value) for line in _field_lines(item, f"{path}[{i}]")]
    return [f"{path or '.'} = {_line_value(value)}"]


def _line_value(value: Any) -> str:
    return canonical_json(_plain(value)).decode()
