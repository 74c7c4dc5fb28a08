"""What an incremental pull assumes about the platform, one registry.

Each entry names a behaviour by a stable id: what is assumed, where it matters, the reference that
promises it (or says nothing), and whether stagesync relies on it. An incremental pull skips a
read only on an assumption the reference promises (``relied_on``); the others are listed so a
later ``stagesync probe`` can check them on real stores, and until then the part they would save
is re-read in full (docs/performance.md, "Incremental pull"). A fast pull that silently misses a
change is a defect; a slower one is not.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Assumption:
    id: str
    statement: str
    matters: str
    """Where stagesync would (or does) skip a read on it."""
    reference: str
    """What the platform's reference says, and where."""
    relied_on: bool


ORDER_DATE_MODIFIED_MOVES_ON_ORDER_WRITE = "ASSUMPTION_ORDER_DATE_MODIFIED_MOVES_ON_ORDER_WRITE"
STORE_TIME_IS_THE_DATE_MODIFIED_CLOCK = "ASSUMPTION_STORE_TIME_IS_THE_DATE_MODIFIED_CLOCK"

_ORDERS = "stagesync/entities/orders.py: fetch (order products and coupons)"
_PRODUCTS = "stagesync/entities/products.py: fetch_pages (read in full on every pull)"
_PRODUCT_REF = (
    "products_catalog.v3.yml documents date_modified only as a read-only product field and the "
    "date_modified:min/:max filters; it does not say which writes move it."
)

REGISTRY: tuple[Assumption, ...] = (
    Assumption(
        ORDER_DATE_MODIFIED_MOVES_ON_ORDER_WRITE,
        "An order's date_modified moves whenever the order is created or written, the only way "
        "its products and coupons change.",
        _ORDERS,
        "orders.v2.oas2.yml order_Resp.date_modified: 'A read-only value representing the last "
        "modification of the order'; /v2/orders/{order_id}/products and /coupons are GET only "
        "(reference section 6.20).",
        relied_on=True,
    ),
    Assumption(
        STORE_TIME_IS_THE_DATE_MODIFIED_CLOCK,
        "GET /v2/time and date_modified come from the same clock, to within the overlap margin.",
        "stagesync/order_cache.py: OVERLAP (the earlier pull's store time minus the margin)",
        "store_information.v2.yml /time: 'Returns the system timestamp at the time of the "
        "request'; the margin covers clock skew between the platform's servers.",
        relied_on=True,
    ),
    Assumption(
        "ASSUMPTION_ORDER_DATE_MODIFIED_MOVES_ON_SHIPPING_ADDRESS_CHANGE",
        "An order's date_modified moves when one of its shipping addresses is written.",
        "stagesync/entities/orders.py: fetch (shipping addresses are re-read for every order)",
        "PUT /v2/orders/{order_id}/shipping_addresses/{id} is an endpoint of its own; the "
        "reference does not say it moves the order's date_modified.",
        relied_on=False,
    ),
    Assumption(
        "ASSUMPTION_ORDER_DATE_MODIFIED_MOVES_ON_SHIPMENT_CHANGE",
        "An order's date_modified moves when one of its shipments is created, written or deleted.",
        "stagesync/entities/orders.py: fetch (shipments are re-read for every order)",
        "/v2/orders/{order_id}/shipments has endpoints of its own; the reference does not say "
        "writing them moves the order's date_modified.",
        relied_on=False,
    ),
    *(
        Assumption(
            f"ASSUMPTION_PRODUCT_DATE_MODIFIED_MOVES_ON_{part.upper()}_CHANGE",
            f"A product's date_modified moves when one of its {part.replace('_', ' ')}s is "
            "created, written or deleted.",
            _PRODUCTS,
            _PRODUCT_REF,
            relied_on=False,
        )
        for part in (
            "variant",
            "option",
            "modifier",
            "image",
            "video",
            "custom_field",
            "complex_rule",
            "metafield",
            "review",
            "bulk_pricing_rule",
            "channel_assignment",
        )
    ),
    Assumption(
        "ASSUMPTION_CUSTOMER_DATE_MODIFIED_MOVES_ON_ADDRESS_CHANGE",
        "A customer's date_modified moves when one of its addresses, attribute values or form "
        "field values is written.",
        "stagesync/entities/customers.py: fetch (read in full on every pull)",
        "customers.v3.yml documents date_modified and the date_modified:min filter, not which "
        "writes move it.",
        relied_on=False,
    ),
)

BY_ID = {assumption.id: assumption for assumption in REGISTRY}
