"""Every API area the emulator serves; importing this module registers all their routes.

An area is one module (or package) holding its state, its rules and its routes: the store
information and channels (``store``), the catalogue (``catalogue``), customers, pricing, shipping,
orders, promotions, content, themes. B2B Edition is served beside them by ``b2b`` (its own
authentication, envelopes and route table).
"""

from __future__ import annotations

from . import (  # noqa: F401  (each registers its routes on import)  # noqa: F401
    content,
    customers,
    order_parts,
    orders,
    pricing,
    promotions,
    shipping,
    store,
    themes,
)
from .catalogue import meta, parts  # noqa: F401
