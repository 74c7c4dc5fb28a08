"""What stagesync assumes about the platform, one registry.

Each entry names a behaviour by a stable id: what is assumed, where it matters, the reference that
promises it (or says nothing), and whether stagesync relies on it. An incremental pull skips a
read only on an assumption the reference promises (``relied_on``) or one the last probe of that
same store found holding (``probe.last_results``, kept beside the configuration); otherwise the
part it would save is re-read in full (docs/performance.md, "Incremental pull"). A fast pull that
silently misses a change is a defect; a slower one is not.

An entry with a ``check`` is one ``stagesync probe`` verifies read-only on a real store
(stagesync/probe.py runs them; docs/probe.md explains each).
"""

from __future__ import annotations

from dataclasses import dataclass

from stagesync import probe_checks as probe
from stagesync.probe_checks import Check


@dataclass(frozen=True)
class Assumption:
    id: str
    statement: str
    matters: str
    """Where in stagesync's code it matters (where a read is, or would be, skipped on it)."""
    reference: str
    """What the platform's reference says, and where."""
    relied_on: bool
    check: Check | None = None
    """How ``stagesync probe`` verifies it with reads (None: it needs writes)."""
    requests: int = 0
    """The most requests ``check`` sends (pages already read by another check are reused)."""


ORDER_DATE_MODIFIED_MOVES_ON_ORDER_WRITE = "ASSUMPTION_ORDER_DATE_MODIFIED_MOVES_ON_ORDER_WRITE"
STORE_TIME_IS_THE_DATE_MODIFIED_CLOCK = "ASSUMPTION_STORE_TIME_IS_THE_DATE_MODIFIED_CLOCK"
PRODUCT_DATE_MODIFIED_MOVES_ON_PRODUCT_WRITE = (
    "ASSUMPTION_PRODUCT_DATE_MODIFIED_MOVES_ON_PRODUCT_WRITE"
)
PRODUCT_DATE_MODIFIED_MOVES_ON_INVENTORY_CHANGE = (
    "ASSUMPTION_PRODUCT_DATE_MODIFIED_MOVES_ON_INVENTORY_CHANGE"
)
PRODUCT_PARTS = (
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


def product_part(part: str) -> str:
    """The id of the assumption that a product's date_modified moves when ``part`` changes."""
    return f"ASSUMPTION_PRODUCT_DATE_MODIFIED_MOVES_ON_{part.upper()}_CHANGE"


_ORDERS = "stagesync/entities/orders.py: fetch (order products and coupons)"
_PRODUCTS = (
    "stagesync/entities/products.py: fetch_pages (an incremental pull reuses the products whose "
    "date_modified did not move; without this assumption holding, every product is read in full)"
)
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
    Assumption(
        PRODUCT_DATE_MODIFIED_MOVES_ON_PRODUCT_WRITE,
        "A product's date_modified moves whenever the product's own fields are written.",
        _PRODUCTS,
        "products_catalog.v3.yml Product date_modified: 'The date on which the product was "
        "modified.' (read-only), with the date_modified:min/:max filters.",
        relied_on=True,
    ),
    Assumption(
        PRODUCT_DATE_MODIFIED_MOVES_ON_INVENTORY_CHANGE,
        "A product's date_modified moves when its or its variants' inventory level changes "
        "(orders, inventory adjustments).",
        _PRODUCTS + "; only with stock recorded",
        "The reference says nothing of inventory changes moving date_modified.",
        relied_on=False,
    ),
    *(
        Assumption(
            product_part(part),
            f"A product's date_modified moves when one of its {part.replace('_', ' ')}s is "
            "created, written or deleted.",
            _PRODUCTS,
            _PRODUCT_REF,
            relied_on=False,
        )
        for part in PRODUCT_PARTS
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


PRODUCTS = "/v3/catalog/products"
ORDERS = "/v2/orders"
CUSTOMERS = "/v3/customers"
_PUSH_READ = "stagesync/entities/products.py: key_queries (what push reads of the destination)"
_UNUSED = "not used yet: a pull that read only what changed since the last would rely on it"


def _probed(
    id: str,
    statement: str,
    matters: str,
    reference: str,
    check: Check,
    requests: int,
    *,
    relied_on: bool = True,
) -> Assumption:
    return Assumption(id, statement, matters, reference, relied_on, check=check, requests=requests)


PROBED: tuple[Assumption, ...] = (
    # Read-only: `stagesync probe` checks these (docs/probe.md).
    _probed(
        "ASSUMPTION_STORE_TIME_ANSWERS",
        "GET /v2/time answers {time: seconds} close to the time the store's responses carry.",
        "stagesync/stages/pull/read.py: read_store (the store time a pull starts from)",
        "store_information.v2.yml /time; RFC 9110 Date header.",
        probe.clock,
        1,
    ),
    _probed(
        "ASSUMPTION_RATE_LIMIT_HEADERS",
        "Store API responses carry X-Rate-Limit-Requests-Quota/-Left and "
        "X-Rate-Limit-Time-Window-Ms/-Reset-Ms, which pace every command.",
        "stagesync/bigcommerce/client.py: _note_rate_limit and _pace",
        "BigCommerce API rate limits guide (reference section on rate limits).",
        probe.rate_limit_headers,
        1,
    ),
    _probed(
        "ASSUMPTION_PAGE_LIMIT_250",
        f"A v3 list answers limit={probe.PAGE_LIMIT} with at most {probe.PAGE_LIMIT} records.",
        "stagesync/bigcommerce/client.py: _pages_v3 (every v3 list a pull reads)",
        "products_catalog.v3.yml limit parameter (max 250).",
        probe.page_limit,
        1,
    ),
    _probed(
        "ASSUMPTION_INCLUDE_PAGE_LIMIT_10",
        f"Products with include=options,modifiers answer limit={probe.INCLUDE_PAGE_LIMIT} with at "
        f"most {probe.INCLUDE_PAGE_LIMIT} records.",
        "stagesync/entities/products.py: KEYS_PER_REQUEST (products read complete, ten a page)",
        "products_catalog.v3.yml: include with options or modifiers limits a page to 10.",
        probe.include_page_limit,
        1,
    ),
    _probed(
        "ASSUMPTION_PRODUCTS_FILTER_ID_IN",
        "GET /v3/catalog/products?id:in=A,B answers exactly those products.",
        _PUSH_READ,
        "products_catalog.v3.yml id:in filter.",
        probe.filter_check(
            PRODUCTS, "id:in", lambda p: probe.first(p, "id", 2), probe.listed("id")
        ),
        2,
    ),
    _probed(
        "ASSUMPTION_PRODUCTS_FILTER_SKU_IN",
        "GET /v3/catalog/products?sku:in=A,B answers exactly the products with those SKUs.",
        _PUSH_READ,
        "products_catalog.v3.yml sku:in filter.",
        probe.filter_check(
            PRODUCTS, "sku:in", lambda p: probe.first(p, "sku", 2), probe.listed("sku")
        ),
        2,
    ),
    _probed(
        "ASSUMPTION_PRODUCTS_FILTER_NAME",
        "GET /v3/catalog/products?name=N answers exactly the product named N.",
        _PUSH_READ,
        "products_catalog.v3.yml name filter.",
        probe.filter_check(
            PRODUCTS, "name", lambda p: probe.first(p, "name", 1), lambda r, v: r.get("name") == v
        ),
        2,
    ),
    _probed(
        "ASSUMPTION_PRODUCTS_FILTER_DATE_MODIFIED_MIN",
        "GET /v3/catalog/products?date_modified:min=T answers the products modified at T or later.",
        _UNUSED,
        "products_catalog.v3.yml date_modified:min filter.",
        probe.filter_check(
            PRODUCTS,
            "date_modified:min",
            lambda p: probe.latest(p, "date_modified"),
            probe.since("date_modified"),
        ),
        2,
        relied_on=False,
    ),
    _probed(
        "ASSUMPTION_ORDERS_FILTER_MIN_DATE_MODIFIED",
        "GET /v2/orders?min_date_modified=T answers the orders modified at T or later.",
        _UNUSED,
        "orders.v2.oas2.yml min_date_modified parameter.",
        probe.filter_check(
            ORDERS,
            "min_date_modified",
            lambda o: probe.latest(o, "date_modified"),
            probe.since("date_modified"),
        ),
        2,
        relied_on=False,
    ),
    _probed(
        "ASSUMPTION_PRODUCT_FIELD_TYPES",
        "Products carry id, name, sku, type, price, brand_id, categories, date_modified with "
        "these JSON types.",
        "stagesync/entities/products.py: the product record a pull writes",
        "products_catalog.v3.yml Product schema.",
        probe.fields_check(
            PRODUCTS,
            {
                "id": "integer",
                "name": "string",
                "sku": "string",
                "type": "string",
                "price": "number",
                "brand_id": "integer",
                "categories": "array",
                "date_modified": "string",
            },
        ),
        0,
    ),
    _probed(
        "ASSUMPTION_CUSTOMER_FIELD_TYPES",
        "Customers carry id, email, first_name, last_name, company, customer_group_id, "
        "date_modified with these JSON types.",
        "stagesync/entities/customers.py: the customer record a pull writes",
        "customers.v3.yml Customer schema.",
        probe.fields_check(
            CUSTOMERS,
            {
                "id": "integer",
                "email": "string",
                "first_name": "string",
                "last_name": "string",
                "company": "string",
                "customer_group_id": "integer",
                "date_modified": "string",
            },
        ),
        1,
    ),
    _probed(
        "ASSUMPTION_ORDER_FIELD_TYPES",
        "v2 orders carry id, customer_id, status_id, date_modified, billing_address and "
        "external_id (null allowed) with these JSON types.",
        "stagesync/entities/orders.py: the order record a pull writes",
        "orders.v2.oas2.yml order_Resp.",
        probe.fields_check(
            ORDERS,
            {
                "id": "integer",
                "customer_id": "integer",
                "status_id": "integer",
                "date_modified": "string",
                "billing_address": "object",
                "external_id": "string|null",
            },
        ),
        0,
    ),
)


REGISTRY = (*REGISTRY, *PROBED)

BY_ID = {assumption.id: assumption for assumption in REGISTRY}
