"""What stagesync assumes about the platform, one registry.

Each entry names a behaviour by a stable id: what is assumed, where it matters, the reference that
promises it (or says nothing), and whether stagesync relies on it. An incremental pull skips a
read only on an assumption the reference promises (``relied_on``) or one the last probe of that
same store found holding (``probe.last_results``, kept beside the configuration; ``stagesync
probe --write`` checks the ones that need writes); otherwise the part it would save is re-read
in full (docs/performance.md, "Incremental pull"). A fast pull that
silently misses a change is a defect; a slower one is not.

An entry with a ``check`` is one ``stagesync probe`` verifies read-only on a real store
(stagesync/probe.py runs them; docs/probe.md explains each); one with a ``write_check`` is one
``stagesync probe --write`` verifies on a sandbox store (stagesync/probe_writes.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from stagesync import probe_checks as probe
from stagesync import probe_writes as writes
from stagesync.entities.products import CHANGE_FIELDS
from stagesync.probe_checks import Check
from stagesync.probe_writes import WriteCheck


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
    """The most requests ``check`` (or ``write_check``) sends (pages already read by another
    check are reused; entities another write check created too)."""
    write_check: WriteCheck | None = None
    """How ``stagesync probe --write`` verifies it on a sandbox store (probe_writes.py)."""


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

_MOVES_REQUESTS = {
    "variant": writes.PRODUCT_COUNT + len(writes.WITH_VARIANT) + 3 + 2 * len(writes.PARTS) + 2,
    "channel_assignment": writes.CHANNEL_ASSIGNMENT_REQUESTS,
}
"""What ``--write`` spends on the date_modified checks, all counted on the first: the products
(and the variants of those created with one), the image and video to copy, the modifier the
complex rule names, the dates read before the writes, one write per part, the dates read after
them, one delete of what each write created (not the variant's update) and the dates read after
those, and the one request that deletes the products."""

_REFERENCES = {
    "channel_assignment": "products_catalog.v3.yml /catalog/products/channel-assignments: "
    "'Returns a list of products channel assignments.' (GET), with PUT and DELETE; it says "
    "nothing of the product's date_modified, and documents date_modified only as a read-only "
    "product field."
}
_WRITE_CHECKS: dict[str, WriteCheck] = {"channel_assignment": writes.channel_assignment}
"""Parts whose write check is not one of ``writes.moves``: channel assignments are written
through a store-wide endpoint, not under the product."""

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
            _REFERENCES.get(part, _PRODUCT_REF),
            relied_on=False,
            write_check=_WRITE_CHECKS.get(part)
            or (writes.moves(part) if part in writes.PARTS else None),
            requests=_MOVES_REQUESTS.get(part, 0),
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
    Assumption(
        "ASSUMPTION_ORDER_TOTALS",
        "An order created or written through v2 has its money computed from its line items as "
        "checkout does: subtotal_ex_tax/subtotal_inc_tax = the sum of price_ex_tax/price_inc_tax "
        "x quantity, shipping_cost_* = the sum of the shipping addresses' cost_*, total_* = "
        "subtotal + shipping + handling + wrapping - discount_amount; a value the request gives "
        "(subtotal_*, total_*, shipping_cost_* ...) is kept instead. The emulator behaves so; "
        "stagesync writes every total of an order it copies, so it does not depend on it.",
        "stagesync/emulator/orders.py: compute_totals; stagesync/entities/orders.py: create "
        "(writes the source's totals)",
        "orders.v2.oas2.yml order_Post: subtotal_ex_tax, subtotal_inc_tax, total_ex_tax, "
        "total_inc_tax are 'Override value for ...' (given in pairs); it does not spell out the "
        "computation they override.",
        relied_on=False,
    ),
    Assumption(
        "ASSUMPTION_PRICE_LISTS_FILTER_NAME",
        "GET /v3/pricelists?name=N answers the price list named N (others the filter also "
        "matches may come too).",
        "stagesync/entities/price_lists.py: by_names (what push reads of the destination)",
        "price_lists.v3.yml getPriceLists name: 'Filter items by name.'; the price list's name "
        "is 'The unique name of the Price List'.",
        relied_on=True,
    ),
    Assumption(
        "ASSUMPTION_PRICE_LISTS_FILTER_ID_IN",
        "GET /v3/pricelists?id:in=A,B answers those price lists.",
        "stagesync/entities/price_lists.py: by_ids (price lists a live customer group names)",
        "price_lists.v3.yml getPriceLists id:in.",
        relied_on=True,
    ),
    Assumption(
        "ASSUMPTION_CUSTOMER_GROUPS_FILTER_NAME",
        "GET /v2/customer_groups?name=N answers the groups named N; a page of fewer than 50 "
        "(the v2 default page size) is the last.",
        "stagesync/entities/customer_groups.py: _named (what push reads of the destination)",
        "customers.v2.yml getCustomerGroups name: 'Filter customer groups by exact name "
        "match.'; v2 lists answer 50 a page without limit (reference section 2.2).",
        relied_on=True,
    ),
    Assumption(
        "ASSUMPTION_PROMOTIONS_FILTER_NAME",
        "GET /v3/promotions?name=N answers the promotion named N (others the filter also "
        "matches may come too).",
        "stagesync/entities/promotions.py: by_names (what push reads of the destination)",
        "promotions.v3.yml getPromotions name: 'Filter items by `name`.'",
        relied_on=True,
    ),
    Assumption(
        "ASSUMPTION_WIDGETS_FILTER_NAME_IN",
        "GET /v3/content/widgets?name:in=A,B answers the widgets with those names, and name=N "
        "the widget named N.",
        "stagesync/entities/widgets.py: by_names (what push reads of the destination)",
        "widgets.v3.yml getWidgets name:in: 'Use to pass in comma-separated list of widget "
        "names.'; name: 'The URL-encoded name of the widget.'",
        relied_on=True,
    ),
)


PRODUCTS = probe.PRODUCTS
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
        "ASSUMPTION_PRODUCT_LIST_INCLUDES_CHANNELS",
        "Products listed with include=channels (and include_fields, as pull lists them) each "
        "carry channels, an array of the ids of every channel the product is assigned to.",
        "stagesync/entities/channel_assignments.py: listed (every pull reads the assignments "
        "with the product list, an incremental one with its ID listing; a product without "
        "the array fails the pull)",
        "products_catalog.v3.yml Product channels: 'The channels to which the product is "
        "assigned. This field only appears in the response if you include channels in the "
        "include query parameter.'; reference section 6.12.",
        probe.product_channels(f"{CHANGE_FIELDS},channels"),
        2,
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
        "ASSUMPTION_CUSTOMERS_FILTER_EMAIL_IN",
        "GET /v3/customers?email:in=A,B answers exactly the customers with those emails, "
        "whatever their letter case.",
        "stagesync/entities/customers.py: key_queries (what push reads of the destination)",
        "customers.v3.yml email:in filter; emails are unique (customer email 'Must be unique').",
        probe.filter_check(
            CUSTOMERS, "email:in", lambda c: probe.first(c, "email", 2), probe.listed("email")
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


def _written(
    id: str, statement: str, matters: str, reference: str, check: WriteCheck, requests: int
) -> Assumption:
    return Assumption(id, statement, matters, reference, True, write_check=check, requests=requests)


WRITTEN: tuple[Assumption, ...] = (
    # Need writes: `stagesync probe ENV --write` checks these on a sandbox store (docs/probe.md).
    _written(
        "ASSUMPTION_PRODUCTS_BATCH_PUT_LIMIT_10",
        f"PUT /v3/catalog/products takes {writes.BATCH_LIMIT} products in one request and refuses "
        f"{writes.BATCH_LIMIT + 1} with a 4xx.",
        "stagesync/entities/products.py: BATCH_SIZE (product updates, ten a request)",
        "products_catalog.v3.yml updateProducts: 'Limit of 10 products per batch'; reference "
        "section 5.",
        writes.batch_limit,
        2,
    ),
    _written(
        "ASSUMPTION_PRODUCT_DUPLICATE_SKU_409",
        "Creating a product with another product's SKU answers 409 with a v3 error body "
        "{status, title, errors} naming sku.",
        "stagesync/bigcommerce/client.py: _ERROR_TYPES (never retried) and the error's message",
        "products_catalog.v3.yml createProduct 409: 'duplicate unique values, such as name or "
        "SKU'; reference section 3.",
        writes.duplicate("sku"),
        1,
    ),
    _written(
        "ASSUMPTION_PRODUCT_DUPLICATE_NAME_409",
        "Creating a product with another product's name answers 409 with a v3 error body "
        "{status, title, errors} naming name.",
        "stagesync/bigcommerce/client.py: _ERROR_TYPES (never retried) and the error's message",
        "products_catalog.v3.yml createProduct 409 and product name 'A unique product name'.",
        writes.duplicate("name"),
        1,
    ),
    _written(
        "ASSUMPTION_MISSING_FIELDS_422",
        "Creating a product without price and weight answers 422 with a v3 error body "
        "{status, title, errors} naming the missing fields.",
        "stagesync/bigcommerce/client.py: _ERROR_TYPES and the 'field: message' details",
        "reference section 3: 422 'Missing Required Fields' with errors per field.",
        writes.missing_fields,
        1,
    ),
    _written(
        "ASSUMPTION_CATEGORY_BATCH_PARTIAL_207",
        "POST /v3/catalog/trees/categories with one valid and one invalid item creates the valid "
        "one and answers it in data (207), not refusing the whole batch.",
        "stagesync/entities/categories.py: create_many (a batch that created only some)",
        "catalog trees spec: 201/207 on POST categories; reference section 3 (207 Multi-Status).",
        writes.partial_batch,
        3,
    ),
    _written(
        "ASSUMPTION_REPLACED_PROMOTION_KEEPS_NAME_AND_CODES",
        "A promotion deleted with its coupon codes can be created again at once with the same "
        "name and codes (stagesync's replace), reads back as sent and starts at current_uses 0.",
        "stagesync/entities/promotions.py: delete and create (a replace is both, in that order)",
        "promotions.v3.yml: codes are unique; the reference does not say when a deleted "
        "promotion's name and codes are free again.",
        writes.promotion_replace,
        10,
    ),
)


_B2B_REF = "B2B Edition OpenAPI files (reference section 3, B2B error and list bodies)."

B2B_PROBED: tuple[Assumption, ...] = (
    # Read-only, when the environment has B2B Edition connected (`not checked` otherwise).
    _probed(
        "ASSUMPTION_B2B_ENVELOPE_OFFSET_PAGING",
        "B2B lists answer {code, data, meta: {pagination: {totalCount, offset, limit}}} with at "
        "most limit records, and offset=1 starts at the second record of offset=0.",
        "stagesync/bigcommerce/b2b.py: get_all (totalCount says which offsets to read)",
        _B2B_REF,
        probe.b2b_envelope,
        2,
    ),
    _probed(
        "ASSUMPTION_B2B_COMPANY_FIELD_TYPES",
        "B2B companies carry companyId, companyName, companyEmail, customerGroupId, "
        "parentCompany (null allowed) and extraFields with these JSON types.",
        "stagesync/entities/b2b_companies.py: the company record a pull writes",
        "B2B company.yaml company list response.",
        probe.b2b_fields_check(
            "/companies",
            {
                "companyId": "integer",
                "companyName": "string",
                "companyEmail": "string",
                "customerGroupId": "integer",
                "parentCompany": "object|null",
                "extraFields": "array",
            },
        ),
        0,
    ),
    _probed(
        "ASSUMPTION_B2B_USER_FIELD_TYPES",
        "B2B users carry id, companyId, email, firstName, lastName, role and channelIds with "
        "these JSON types.",
        "stagesync/entities/b2b_users.py: the user record a pull writes",
        "B2B user.yaml user list response.",
        probe.b2b_fields_check(
            "/users",
            {
                "id": "integer",
                "companyId": "integer",
                "email": "string",
                "firstName": "string",
                "lastName": "string",
                "role": "integer",
                "channelIds": "array",
            },
        ),
        1,
    ),
    _probed(
        "ASSUMPTION_B2B_ORDER_FIELD_TYPES",
        "B2B orders carry id, bcOrderId, companyId, poNumber and extraFields with these JSON "
        "types.",
        "stagesync/entities/b2b_orders.py: the B2B order record a pull writes",
        "B2B order.yaml order list response.",
        probe.b2b_fields_check(
            "/orders",
            {
                "id": "integer",
                "bcOrderId": "integer",
                "companyId": "integer",
                "poNumber": "string",
                "extraFields": "array",
            },
        ),
        1,
    ),
)


# What a delete through the API does to the resources naming the deleted entity (the emulator's
# cascade, docs/emulator.md "What a delete takes with it"); the reference does not say.
_DELETE_REF = (
    "The reference documents the delete endpoints, not what becomes of other resources naming "
    "the deleted entity (it documents only: a brand's products get brand_id 0, a category with "
    "products is refused, a customer group's customers are unassigned)."
)
DELETES = (
    Assumption(
        "ASSUMPTION_ORDERS_KEEP_DELETED_IDS",
        "Orders (and B2B quotes) keep the product_id of a line item whose product was deleted, "
        "and the customer_id of a deleted customer: order history is not rewritten.",
        "stagesync/entities/orders.py: _item, normalise (the line item and the order are kept "
        "without the reference, and the pull notes it); stagesync/emulator/orders.py",
        _DELETE_REF,
        relied_on=False,
    ),
    Assumption(
        "ASSUMPTION_DELETE_DROPS_GROUP_DISCOUNT_RULES",
        "Deleting a product or category removes the customer groups' discount rules naming it, "
        "and a category from the groups' category access lists.",
        "stagesync/emulator/customers.py: _forget_in_groups",
        _DELETE_REF,
        relied_on=False,
    ),
    Assumption(
        "ASSUMPTION_DELETE_CLEARS_PROMOTION_REFERENCES",
        "Deleting a product, variant, category, brand or customer group removes its id from "
        "every promotion's item matchers and group lists; a promotion whose gift item it was, "
        "or whose only groups are gone, loses that rule (or group) and becomes INVALID.",
        "stagesync/emulator/promotions.py: _forget, _forget_group",
        _DELETE_REF + " promotions.v3.yml: status INVALID is set by the store.",
        relied_on=False,
    ),
    Assumption(
        "ASSUMPTION_DELETE_DROPS_ENTITY_LAYOUTS",
        "Deleting a product, category or brand removes the custom template associations and the "
        "widget placements that target it.",
        "stagesync/emulator/content.py: _forget_entity",
        _DELETE_REF,
        relied_on=False,
    ),
    Assumption(
        "ASSUMPTION_DELETE_DROPS_SHOPPING_LIST_ITEMS",
        "Deleting a product or variant removes it from every B2B shopping list (quotes keep "
        "their lines, as orders do).",
        "stagesync/emulator/b2b.py: _forget_in_lists; stagesync/entities/b2b_shopping_lists.py "
        "and b2b_quotes.py keep a line without its product",
        _DELETE_REF,
        relied_on=False,
    ),
)
REGISTRY = (*REGISTRY, *PROBED, *B2B_PROBED, *WRITTEN, *DELETES)

BY_ID = {assumption.id: assumption for assumption in REGISTRY}
