"""Pure page and batch arithmetic of stagesync.bigcommerce.paging."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stagesync.bigcommerce import chunks
from stagesync.bigcommerce.paging import b2b_offsets, page_params, v3_has_next, v3_total_pages


@given(st.lists(st.integers()), st.integers(min_value=1, max_value=50))
def test_chunks_concatenate_back_to_the_input(items: list[int], size: int) -> None:
    assert [item for chunk in chunks(items, size) for item in chunk] == items


@given(st.lists(st.integers()), st.integers(min_value=1, max_value=50))
def test_chunks_are_full_except_perhaps_the_last(items: list[int], size: int) -> None:
    result = list(chunks(items, size))
    assert all(0 < len(chunk) <= size for chunk in result)
    assert all(len(chunk) == size for chunk in result[:-1])
    assert len(result) == -(-len(items) // size)


def test_chunks_examples() -> None:
    assert list(chunks("abcde", 2)) == [["a", "b"], ["c", "d"], ["e"]]
    assert list(chunks([], 10)) == []
    assert list(chunks(range(3), 3)) == [[0, 1, 2]]


def test_chunks_is_lazy() -> None:
    def endless() -> Iterator[int]:
        n = 0
        while True:
            yield n
            n += 1

    batches = chunks(endless(), 4)
    assert next(batches) == [0, 1, 2, 3]
    assert next(batches) == [4, 5, 6, 7]


@pytest.mark.parametrize("size", [0, -1])
def test_chunks_rejects_a_size_below_one(size: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        list(chunks([1], size))


def test_page_params_add_page_and_limit_over_the_callers() -> None:
    assert page_params({"include": "variants", "page": 9}, 2, 250) == {
        "include": "variants",
        "page": 2,
        "limit": 250,
    }
    assert page_params(None, 1, 50) == {"page": 1, "limit": 50}


def test_v3_total_pages() -> None:
    body = {"data": [], "meta": {"pagination": {"total": 7, "total_pages": 3}}}
    assert v3_total_pages(body) == 3
    assert v3_total_pages({"data": [], "meta": {}}) is None
    assert v3_total_pages({"data": []}) is None
    assert v3_total_pages([1, 2]) is None
    assert v3_total_pages(None) is None
    assert v3_total_pages({"meta": {"pagination": {"total_pages": "3"}}}) is None
    assert v3_total_pages({"meta": {"pagination": {"total_pages": True}}}) is None


def test_v3_has_next() -> None:
    assert v3_has_next({"meta": {"pagination": {"links": {"next": "?page=2&limit=5"}}}})
    assert not v3_has_next({"meta": {"pagination": {"links": {"current": "?page=1"}}}})
    assert not v3_has_next({"meta": {"pagination": {"links": {"next": ""}}}})
    assert not v3_has_next({"data": []})


def test_b2b_offsets() -> None:
    assert list(b2b_offsets(25, 10)) == [10, 20]
    assert list(b2b_offsets(20, 10)) == [10]
    assert list(b2b_offsets(10, 10)) == []
    assert list(b2b_offsets(0, 10)) == []
    with pytest.raises(ValueError):
        b2b_offsets(5, 0)
