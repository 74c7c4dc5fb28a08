"""The read-only parts of a v2 order beside its products, addresses, coupons and shipments:
order statuses (``/v2/order_statuses``), taxes, messages, consignments, fees, shipping quotes, and
an order's transactions (``/v3/orders/{id}/transactions``).

Orders made through the API carry no messages, shipping quotes or transactions (the platform makes
those at checkout): those lists are empty (204 for v2 lists, as past the end of any v2 list). Taxes
are the difference of the order's inc- and ex-tax money, one entry per shipping address (or one for
the order without addresses). Consignments present the order's shipping addresses with links to
their line items (their money as numbers, as the file declares for consignments).
"""

from __future__ import annotations

from typing import Any

from .errors import not_found
from .orders import (
    STATUSES,
    _order,
    link,
    money,
    state,
    status_record,
)
from .routes import Call, Reply, Table, page_of, refuse_unknown, register
from .store import Record, Store
from .v2 import v2_page

MESSAGE_PARAMETERS = (
    "page",
    "limit",
    "min_id",
    "max_id",
    "customer_id",
    "min_date_created",
    "max_date_created",
    "is_flagged",
    "status",
)


def list_statuses(store: Store, call: Call) -> Reply:
    return Reply(200, [status_record(status_id) for status_id in STATUSES])


def get_status(store: Store, call: Call) -> Reply:
    status_id = call.params["status_id"]
    if status_id not in STATUSES:
        raise not_found("The requested order status was not found.")
    return Reply(200, status_record(status_id))


def taxes(store: Store, order: Record) -> list[Record]:
    """One tax entry per shipping address (one for an order without), sharing the order's tax
    (its inc- less its ex-tax total) by each address's share of the items; none without tax."""
    total_tax = float(order["total_inc_tax"]) - float(order["total_ex_tax"])
    if total_tax <= 0:
        return []
    addresses = state(store).addresses[order["id"]] or [{"id": 0}]
    share = total_tax / len(addresses)
    return [
        {
            "id": order["id"] * 1000 + n,
            "order_id": order["id"],
            "order_address_id": address["id"],
            "tax_rate_id": 1,
            "sales_tax_id": "",
            "tax_class_id": 0,
            "name": "Tax",
            "class": "Default Tax Class",
            "rate": "0.0000",
            "priority": 0,
            "priority_amount": money(share),
            "line_amount": money(share),
            "order_pickup_method_id": 0,
        }
        for n, address in enumerate(addresses, start=1)
    ]


def list_taxes(store: Store, call: Call) -> Reply:
    refuse_unknown(call.query, {}, ("page", "limit", "details"), "order tax")
    order = _order(store, call)
    status, body = v2_page(taxes(store, order), call.query)
    return Reply(status, body)


def list_messages(store: Store, call: Call) -> Reply:
    """An order made through the API has no messages (the storefront writes them)."""
    refuse_unknown(call.query, {}, MESSAGE_PARAMETERS, "order message")
    _order(store, call)
    return Reply(204)


CONSIGNMENT_NUMBERS = (
    "base_cost",
    "cost_ex_tax",
    "cost_inc_tax",
    "cost_tax",
    "base_handling_cost",
    "handling_cost_ex_tax",
    "handling_cost_inc_tax",
    "handling_cost_tax",
)
"""Money a shipping consignment answers as numbers (shippingConsignment_Base), unlike the v2
shipping address it presents."""


def consignments(store: Store, order: Record, base_url: str) -> Record:
    """The order's consignments: its shipping addresses with links to its line items."""
    lines = [
        link(store, base_url, order["id"], f"products/{line['id']}")
        for line in state(store).products[order["id"]]
    ]
    shipping = [
        {
            **{k: v for k, v in address.items() if k not in ("order_id", "shipping_quotes")},
            **{k: float(address[k]) for k in CONSIGNMENT_NUMBERS if k in address},
            "line_items": lines,
            "shipping_quotes": link(
                store,
                base_url,
                order["id"],
                f"consignments/shipping/{address['id']}/shipping_quotes",
            ),
        }
        for address in state(store).addresses[order["id"]]
    ]
    return {
        "pickups": [],
        "shipping": shipping,
        "downloads": [],
        "email": {"gift_certificates": []},
    }


def get_consignments(store: Store, call: Call) -> Reply:
    refuse_unknown(call.query, {}, ("include",), "order consignment")
    return Reply(200, consignments(store, _order(store, call), call.base_url))


def fees(store: Store, order: Record) -> list[Record]:
    """An order's fees (none: the emulator takes no fees on create)."""
    return []


def get_fees(store: Store, call: Call) -> Reply:
    return Reply(200, {"fees": fees(store, _order(store, call))})


def _address(store: Store, call: Call, name: str) -> None:
    order = _order(store, call)
    if not any(a["id"] == call.params[name] for a in state(store).addresses[order["id"]]):
        raise not_found("The requested shipping address was not found.")


def shipping_quotes(store: Store, call: Call) -> Reply:
    """Orders made through the API have no shipping quote: 204, as the reference says."""
    _address(store, call, "address_id")
    return Reply(204)


def consignment_quotes(store: Store, call: Call) -> Reply:
    _address(store, call, "consignment_id")
    return Reply(204)


def list_transactions(store: Store, call: Call) -> Reply:
    """``GET /v3/orders/{id}/transactions``: an order made through the API has no payment
    transactions."""
    _order(store, call)
    refuse_unknown(call.query, {}, ("page", "limit"), "order transaction")
    empty: list[Any] = []
    return page_of(empty, call.query)


TABLE: Table = [
    ("/v2/order_statuses", {"GET": list_statuses}),
    ("/v2/order_statuses/{status_id}", {"GET": get_status}),
    ("/v2/orders/{order_id}/taxes", {"GET": list_taxes}),
    ("/v2/orders/{order_id}/messages", {"GET": list_messages}),
    ("/v2/orders/{order_id}/consignments", {"GET": get_consignments}),
    ("/v2/orders/{order_id}/fees", {"GET": get_fees}),
    (
        "/v2/orders/{order_id}/shipping_addresses/{address_id}/shipping_quotes",
        {"GET": shipping_quotes},
    ),
    (
        "/v2/orders/{order_id}/consignments/shipping/{consignment_id}/shipping_quotes",
        {"GET": consignment_quotes},
    ),
    ("/v3/orders/{order_id}/transactions", {"GET": list_transactions}),
]
register(TABLE)
