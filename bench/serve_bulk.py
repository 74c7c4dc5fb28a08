"""Serve an emulator whose ``staging`` store holds N generated products (``production`` is empty,
or holds the same products with ``--mirror``).

    python bench/serve_bulk.py --port 8765 --products 10000
    python bench/serve_bulk.py --port 8765 --products 10000 --mirror   # production too
    python bench/serve_bulk.py --port 8765 --products 10000 --aged     # last modified a day ago

Seeding goes straight into the emulated store (100,000 products take seconds); everything after
that is plain HTTP. Latency, faults and quota are set through ``POST /__emulator/faults``.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from stagesync.emulator import Emulator
from stagesync.emulator.bulk import fill_store
from stagesync.emulator.server import serve


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--products", type=int, required=True)
    parser.add_argument(
        "--mirror", action="store_true", help="seed production with the same products"
    )
    parser.add_argument(
        "--aged",
        action="store_true",
        help="every product last modified a day ago, as in a store not edited right before a pull",
    )
    args = parser.parse_args()
    emulator = Emulator({"staging": "staging-token", "production": "production-token"})
    started = time.monotonic()
    fill_store(emulator.stores["staging"], args.products)
    if args.aged:
        stamp = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
        for product in emulator.stores["staging"].products.values():
            product["date_modified"] = stamp
    if args.mirror:
        fill_store(emulator.stores["production"], args.products)
    print(f"seeded {args.products} products in {time.monotonic() - started:.1f}s", flush=True)
    serve(emulator, port=args.port)


if __name__ == "__main__":
    main()
