"""Pure page and batch arithmetic: no I/O, so it is tested on its own.

- ``chunks(items, size)`` splits a write into batches no larger than an endpoint's limit.
- ``v3_total_pages(body)`` / ``v3_has_next(body)`` read a v3 envelope's ``meta.pagination``.
- ``page_params(params, page, limit)`` is the query of one page.
- ``b2b_offsets(total, limit)`` are the ``offset`` values of a B2B Edition listing after its first
  page (B2B pages by ``offset``/``limit`` and reports ``meta.pagination.totalCount``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import Any, TypeVar

T = TypeVar("T")


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` items; only the last may be shorter.

    >>> list(chunks("abcde", 2))
    [['a', 'b'], ['c', 'd'], ['e']]
    """
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, got {size}")
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def page_params(
    params: Mapping[str, str | int] | None, page: int, limit: int
) -> dict[str, str | int]:
    """The caller's query plus ``page`` and ``limit`` (which win over the caller's)."""
    return {**(params or {}), "page": page, "limit": limit}


def _pagination(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        return {}
    meta = body.get("meta")
    if not isinstance(meta, Mapping):
        return {}
    pagination = meta.get("pagination")
    return pagination if isinstance(pagination, Mapping) else {}


def v3_total_pages(body: Any) -> int | None:
    """``meta.pagination.total_pages`` of a v3 list envelope, or None when it does not say."""
    total = _pagination(body).get("total_pages")
    if isinstance(total, bool) or not isinstance(total, int):
        return None
    return max(total, 0)


def v3_has_next(body: Any) -> bool:
    """Whether a v3 envelope links to a next page (for lists that give no ``total_pages``)."""
    links = _pagination(body).get("links")
    return isinstance(links, Mapping) and bool(links.get("next"))


def b2b_offsets(total: int, limit: int) -> range:
    """Offsets of the pages after the first (offset 0) of a B2B listing of ``total`` items."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    return range(limit, max(total, 0), limit)
