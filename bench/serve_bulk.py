"""Serve an emulator whose ``staging`` store holds N generated products (``production`` is empty).

    python bench/serve_bulk.py --port 8765 --products 10000

Seeding goes straight into the emulated store (100,000 products take seconds); everything after
that is plain HTTP. Latency, faults and quota are set through ``POST /__emulator/faults``.
"""

from __future__ import annotations

import argparse
import time

from stagesync.emulator import Emulator
from stagesync.emulator.bulk import fill_store
from stagesync.emulator.server import serve


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--products", type=int, required=True)
    args = parser.parse_args()
    emulator = Emulator({"staging": "staging-token", "production": "production-token"})
    started = time.monotonic()
    fill_store(emulator.stores["staging"], args.products)
    print(f"seeded {args.products} products in {time.monotonic() - started:.1f}s", flush=True)
    serve(emulator, port=args.port)


if __name__ == "__main__":
    main()
