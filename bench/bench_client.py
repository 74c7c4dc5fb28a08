"""CPU the HTTP client spends per request, against the emulator served over HTTP (not part of the
test suite).

    .venv/bin/python bench/bench_client.py --requests 3000

Serves an empty emulator in a child process, then sends ``--requests`` sequential
``GET /v3/catalog/brands`` through ``BigCommerceClient`` and prints this process's CPU time per
request (best of ``--rounds``). The emulator's own CPU is in its process and not counted. Run it
once with and once without a package installed to see what that package costs or saves (for
``sniffio``: httpcore detects the async library on every lock it creates, retrying a failed
import each time when sniffio is missing).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import time

from bench_sync import Server

from stagesync.bigcommerce import BigCommerceClient


async def requests_cpu(url: str, count: int) -> float:
    """CPU seconds per request of ``count`` sequential reads."""
    async with BigCommerceClient("staging", "staging-token", api_url=url) as client:
        await client.get("/v3/catalog/brands")  # connect once before measuring
        started = time.process_time()
        for _ in range(count):
            await client.get("/v3/catalog/brands")
        return (time.process_time() - started) / count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server = Server(0)
    try:
        best = min(asyncio.run(requests_cpu(server.url, args.requests)) for _ in range(args.rounds))
    finally:
        server.stop()
    sniffio = "installed" if importlib.util.find_spec("sniffio") else "not installed"
    print(f"client CPU per request: {best * 1e6:.0f} us (sniffio {sniffio})")


if __name__ == "__main__":
    main()
