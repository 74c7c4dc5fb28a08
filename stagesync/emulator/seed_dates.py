"""Realistic creation and modification times for seeded records.

Seeded records are made in one instant, the emulator's start; left so, every one of them would
carry that instant as ``date_created`` and ``date_modified``, and anything that syncs by day (an
incremental pull, a ``date_modified:min`` filter) could not be exercised on the day the emulator
starts. ``spread_dates`` gives each seeded record of a store times spread over the past instead,
deterministic for a given seed and store: creation times between ``START`` and ``END`` rising with
the record's ID (older records were made first), and a modification time at or after its creation
(a share of records never modified since), all before ``END``. ``END`` is fixed, so the seeded
data is the same whenever the emulator starts; it is moved back to a day before the emulator's
clock should that clock ever be earlier.

Records spread: channels (the default storefront is the oldest record), products, customers,
customer groups, price lists and their records, orders. Writes through the API move
``date_modified`` to the time of the write as before.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from .store import Store

START = datetime(2024, 1, 1, tzinfo=UTC)
END = datetime(2026, 6, 1, tzinfo=UTC)
NEVER_MODIFIED = 0.3
"""The share of seeded records whose ``date_modified`` is their ``date_created``."""

Record = dict[str, Any]


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _kinds(store: Store) -> Iterable[tuple[str, list[Record]]]:
    from .customers import state as customers
    from .orders import state as orders
    from .pricing import state as pricing

    def by_key(records: dict[Any, Record]) -> list[Record]:
        return [records[key] for key in sorted(records)]

    yield "channels", by_key(store.channels)
    yield "products", by_key(store.products)
    yield "customers", by_key(customers(store).customers)
    yield "customer_groups", by_key(customers(store).groups)
    yield "price_lists", by_key(pricing(store).lists)
    yield "price_list_records", by_key(pricing(store).records)
    yield "orders", by_key(orders(store).orders)


def spread_dates(store: Store, seed: str, now: datetime | None = None) -> None:
    """Give the store's seeded records past, spread-out ``date_created``/``date_modified``
    (deterministic for ``seed`` and the store's hash)."""
    clock = now or datetime.now(UTC)
    end = min(END, clock - timedelta(days=1))
    start = min(START, end - timedelta(days=30))
    span = (end - start).total_seconds()
    for kind, records in _kinds(store):
        rng = random.Random(f"{seed}/{store.store_hash}/{kind}")
        created = sorted(start + timedelta(seconds=int(rng.random() * span)) for _ in records)
        if kind == "channels" and created:
            created[0] = start  # the default storefront came with the store
        for record, made in zip(records, created, strict=True):
            changed = made
            if rng.random() >= NEVER_MODIFIED:
                changed = made + timedelta(seconds=int(rng.random() * (end - made).total_seconds()))
            record["date_created"] = _stamp(made)
            record["date_modified"] = _stamp(changed)
