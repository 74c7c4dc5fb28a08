"""Indented JSON documents written piece by piece: the same bytes as
``orjson.dumps(document, option=OPT_SORT_KEYS | OPT_INDENT_2) + b"\\n"``, with one top-level
list produced item by item (a plan or push result of 100,000 operations is never whole in
memory, as values or as bytes)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2


def indented_chunks(head: dict[str, Any], name: str, items: Iterable[Any]) -> Iterator[bytes]:
    """The bytes of ``head | {name: list(items)}`` as sorted, 2-space indented JSON with a
    trailing newline, in pieces (one per item)."""
    text = orjson.dumps({**head, name: []}, option=_OPTIONS)
    # Only a top-level key sits on a line indented by exactly two spaces (raw newlines never occur
    # inside JSON strings), so this marker is the empty list's one occurrence.
    marker = b'\n  "' + name.encode("utf-8") + b'": []'
    before, found, after = text.partition(marker)
    if not found:  # pragma: no cover - orjson's layout is fixed
        raise ValueError(f"cannot find {name!r} in the document")
    yield before + marker[:-1]
    empty = True
    for item in items:
        yield (b"\n    " if empty else b",\n    ") + orjson.dumps(item, option=_OPTIONS).replace(
            b"\n", b"\n    "
        )
        empty = False
    yield (b"]" if empty else b"\n  ]") + after + b"\n"
