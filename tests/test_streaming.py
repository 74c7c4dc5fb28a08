"""Streaming reads: pages fetched as they are consumed, raws kept only where asked, snapshots
written record by record with the same bytes and digests."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from stagesync.bigcommerce import BigCommerceClient
from stagesync.bigcommerce.client import PAGES_AHEAD
from stagesync.emulator import Emulator
from stagesync.emulator.bulk import fill_store
from stagesync.entities.common import DuplicateKey
from stagesync.model import KindSnapshot, Snapshot
from stagesync.ports import StoreApi
from stagesync.pull import read_live
from stagesync.snapshot import StreamedSnapshot, streamed, write_snapshot
from tests.conftest import on_store


def test_pages_are_fetched_as_they_are_consumed() -> None:
    requested: list[int] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        requested.append(page)
        body = {"data": [page], "meta": {"pagination": {"total_pages": 200}}}
        return httpx.Response(200, json=body)

    async def go() -> list[Any]:
        async with BigCommerceClient(
            "abc", "t", api_url="https://api.test", transport=httpx.MockTransport(handler)
        ) as api:
            pages = api.pages("/v3/catalog/products")
            first = [await anext(pages), await anext(pages)]
            await asyncio.sleep(0.01)  # let whatever was started finish
            await pages.aclose()
            return first

    assert asyncio.run(go()) == [[1], [2]]
    # Page 1, then a bounded window ahead of the consumer: never the whole list of 200.
    assert len(requested) <= 2 + PAGES_AHEAD
    assert sorted(requested) == list(range(1, len(requested) + 1))


def _products(emulator: Emulator, n: int) -> None:
    fill_store(emulator.stores["alpha"], n)


def test_read_live_keeps_only_the_keys_asked_for(emulator: Emulator) -> None:
    _products(emulator, 25)  # three pages of products (ten a page with options)

    async def read(api: StoreApi) -> Any:
        full = await read_live(api, ["products"], store="alpha")
        some = await read_live(api, ["products"], store="alpha", keep={"products": {"P-000003"}})
        stream = await read_live(api, ["products"], store="alpha", keep={})
        return full, some, stream

    full, some, stream = on_store(emulator, "alpha", read)
    assert len(full.records["products"]) == 25
    assert set(some.raws["products"]) == set(some.records["products"]) == {"P-000003"}
    assert some.records["products"]["P-000003"] == full.records["products"]["P-000003"]
    assert "brands" not in some.raws and "categories" not in some.raws  # only their IDs
    assert some.lookup.id_of("products", "P-000020") == full.lookup.id_of("products", "P-000020")
    # Not kept: stored compactly, normalised one at a time, in key order, equal to the full read.
    assert stream.raws == {} and stream.records == {}
    assert stream.keys("products") == sorted(full.records["products"])
    assert dict(stream.iter_records("products")) == full.records["products"]
    assert list(stream.iter_records("products")) == sorted(full.records["products"].items())


def test_a_key_repeated_across_pages_is_an_error(emulator: Emulator) -> None:
    _products(emulator, 12)
    products = emulator.stores["alpha"].products  # ten a page: the last is on page two
    products[max(products)]["sku"] = products[min(products)]["sku"]

    async def read(api: StoreApi) -> Any:
        return await read_live(api, ["products"], store="alpha", keep={})

    with pytest.raises(DuplicateKey, match="appears twice"):
        on_store(emulator, "alpha", read)


def test_a_streamed_snapshot_is_written_byte_for_byte_like_a_whole_one(tmp_path: Path) -> None:
    records = {
        "b": {"name": "Bé", "n": [2, 1]},
        "a": {"name": "A", "nested": {"z": 1, "a": None}},
        "ü/x": {"name": "slash"},
    }
    whole = Snapshot({"brands": KindSnapshot(records)}, "env", "hash", "2025-01-01T00:00:00Z")
    stream = StreamedSnapshot(
        {"brands": streamed(KindSnapshot(records))}, "env", "hash", "2025-01-01T00:00:00Z"
    )
    write_snapshot(tmp_path / "whole", whole)
    write_snapshot(tmp_path / "stream", stream)
    files = sorted(p.relative_to(tmp_path / "whole") for p in (tmp_path / "whole").rglob("*"))
    assert files == sorted(
        p.relative_to(tmp_path / "stream") for p in (tmp_path / "stream").rglob("*")
    )
    for rel in files:
        if (tmp_path / "whole" / rel).is_file():
            assert (tmp_path / "whole" / rel).read_bytes() == (
                tmp_path / "stream" / rel
            ).read_bytes()
    assert whole.kinds["brands"].digest in (tmp_path / "stream" / "snapshot.json").read_text()
