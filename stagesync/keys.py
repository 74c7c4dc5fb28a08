"""Natural-key helpers shared by entities, the snapshot store and the CLI.

Category keys are paths of category names from the tree's root: ``Shoes/Running``. A ``/`` or
``\\`` inside a name is escaped with a backslash, so ``Bags\\/Cases/Small`` is the category
``Small`` under the category ``Bags/Cases``::

    >>> split_path(r"Bags\\/Cases/Small")
    ['Bags/Cases', 'Small']
    >>> join_path(["Bags/Cases", "Small"])
    'Bags\\\\/Cases/Small'

Reading is lenient: a backslash before any other character, or at the very end, is kept as it is.
``join_path`` always writes the canonical form, so ``split_path(join_path(names)) == names``.
"""

from __future__ import annotations

from collections.abc import Iterable

SEPARATOR = "/"
ESCAPE = "\\"


def split_raw(key: str) -> list[str]:
    """Split a path key on its unescaped ``/`` only, keeping each segment's escapes as written.

    ``"/".join(split_raw(key)) == key`` for every string, which is what makes file names built
    from these segments collision-free (see ``stagesync.snapshot``).
    """
    segments: list[str] = []
    start = 0
    i = 0
    n = len(key)
    while i < n:
        ch = key[i]
        if ch == ESCAPE:
            i += 2
            continue
        if ch == SEPARATOR:
            segments.append(key[start:i])
            start = i + 1
        i += 1
    segments.append(key[start:])
    return segments


def unescape(segment: str) -> str:
    """One raw segment's name: ``\\/`` becomes ``/``, ``\\\\`` becomes ``\\``."""
    if ESCAPE not in segment:
        return segment
    out: list[str] = []
    i = 0
    n = len(segment)
    while i < n:
        ch = segment[i]
        if ch == ESCAPE and i + 1 < n and segment[i + 1] in (ESCAPE, SEPARATOR):
            out.append(segment[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def escape(name: str) -> str:
    """A category name as it appears inside a path key."""
    return name.replace(ESCAPE, ESCAPE + ESCAPE).replace(SEPARATOR, ESCAPE + SEPARATOR)


def split_path(key: str) -> list[str]:
    """The category names along a path key, root first: ``Shoes/Running`` -> Shoes, Running."""
    return [unescape(segment) for segment in split_raw(key)]


def join_path(names: Iterable[str]) -> str:
    """The path key of a list of category names, root first (the inverse of ``split_path``)."""
    parts = [escape(name) for name in names]
    if not parts:
        raise ValueError("a category path needs at least one name")
    return SEPARATOR.join(parts)
