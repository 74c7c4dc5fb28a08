"""Shipping zones and their methods (``/v2/shipping/zones``), as the platform serves them: v2 bare
arrays with no paging (the whole list whatever ``page`` says), ``[{status, message}]`` errors, and
a 400 for ``id`` in a write. Money in ``free_shipping`` and ``handling_fees`` is answered as v2
money, a string with four decimals (``"100.0000"``), whether written as a number or a string.
Carrier connections (``/v2/shipping/carrier/connection``) accept credentials and answer 204
whatever happens; they cannot be read back.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, not_found
from .routes import Call, Endpoint, Reply, Table, register
from .schema import BOOL, ID, array, obj, string
from .store import Record, Store
from .v2 import refuse_read_only, require_object, state_of, v2_money

ZONE_TYPES = {"zip", "country", "state", "global"}
METHOD_TYPES = {
    "perorder",
    "peritem",
    "weight",
    "total",
    "auspost",
    "canadapost",
    "endicia",
    "usps",
    "fedex",
    "royalmail",
    "upsready",
    "freeshipping",
}
ZONE_FIELDS = ("name", "type", "locations", "free_shipping", "handling_fees", "enabled")
METHOD_FIELDS = (
    "name",
    "type",
    "settings",
    "enabled",
    "handling_fees",
    "is_fallback",
    "channel_ids",
)


@dataclass
class ShippingState:
    zones: dict[int, Record] = field(default_factory=dict)
    methods: dict[int, Record] = field(default_factory=dict)
    connections: dict[str, Record] = field(default_factory=dict)


_STATES: weakref.WeakKeyDictionary[Store, ShippingState] = weakref.WeakKeyDictionary()


def state(store: Store) -> ShippingState:
    return state_of(store, _STATES, ShippingState)


MONEY_FIELDS = {
    "free_shipping": ("minimum_sub_total",),
    "handling_fees": ("fixed_surcharge", "percentage_surcharge"),
}
"""The money inside a zone's or method's settings objects, answered as v2 money strings."""


def _settings(record: Record, body: dict[str, Any], names: tuple[str, ...]) -> Record:
    """``record``'s fields ``names`` as ``body`` writes them: its settings objects merged into the
    stored ones (a field left out keeps its value), their money as four-decimal strings."""
    out = {k: v for k, v in body.items() if k in names}
    for name, amounts in MONEY_FIELDS.items():
        if name not in out:
            continue
        merged = {**(record.get(name) or {}), **out[name]}
        for amount in amounts:
            if amount in merged:
                merged[amount] = v2_money(merged[amount])
        out[name] = merged
    return out


def _locations(store: Store, raw: Any) -> list[Record]:
    if not isinstance(raw, list):
        raise ApiError(400, "The field 'locations' must be an array.")
    out = []
    for location in raw:
        if not isinstance(location, dict):
            raise ApiError(400, "Each location must be an object.")
        refuse_read_only(location, ("id",))
        out.append({"id": store.next_id(), **location})
    return out


def _check_zone(body: dict[str, Any], creating: bool) -> None:
    refuse_read_only(body, ("id",))
    if creating and not (isinstance(body.get("name"), str) and body["name"].strip()):
        raise ApiError(400, "The required field 'name' was not supplied.")
    if "type" in body and body["type"] not in ZONE_TYPES:
        raise ApiError(400, "The field 'type' must be one of zip, country, state, global.")


def create_zone(store: Store, body: Any) -> Record:
    body = require_object(body, "shipping zone")
    _check_zone(body, True)
    zone: Record = {
        "id": store.next_id(),
        "name": "",
        "type": "country",
        "locations": [],
        "free_shipping": {
            "enabled": False,
            "minimum_sub_total": "0.0000",
            "exclude_fixed_shipping_products": False,
        },
        "handling_fees": {
            "fixed_surcharge": "0.0000",
            "display_separately": True,
            "percentage_surcharge": "0.0000",
        },
        "enabled": True,
    }
    zone.update(_settings(zone, body, tuple(f for f in ZONE_FIELDS if f != "locations")))
    zone["locations"] = _locations(store, body.get("locations") or [])
    state(store).zones[zone["id"]] = zone
    return zone


def _zone(store: Store, call: Call) -> Record:
    zone = state(store).zones.get(call.params["zone_id"])
    if zone is None:
        raise not_found("The shipping zone was not found.")
    return zone


def list_zones(store: Store, call: Call) -> Reply:
    zones = [dict(z) for z in sorted(state(store).zones.values(), key=lambda z: z["id"])]
    return Reply(200, zones) if zones else Reply(204)


def post_zone(store: Store, call: Call) -> Reply:
    return Reply(201, dict(create_zone(store, call.body)))


def get_zone(store: Store, call: Call) -> Reply:
    return Reply(200, dict(_zone(store, call)))


def put_zone(store: Store, call: Call) -> Reply:
    zone = _zone(store, call)
    body = require_object(call.body, "shipping zone")
    _check_zone(body, False)
    locations = _locations(store, body["locations"]) if "locations" in body else zone["locations"]
    changes = _settings(zone, body, tuple(f for f in ZONE_FIELDS if f != "locations"))
    zone.update(changes)
    zone["locations"] = locations
    return Reply(200, dict(zone))


def delete_zone(store: Store, call: Call) -> Reply:
    zone = _zone(store, call)
    st = state(store)
    del st.zones[zone["id"]]
    for method_id in [m["id"] for m in st.methods.values() if m["zone_id"] == zone["id"]]:
        del st.methods[method_id]
    return Reply(204)


def _check_method(store: Store, body: dict[str, Any], creating: bool) -> None:
    refuse_read_only(body, ("id", "zone_id"))
    if creating:
        for name in ("name", "type"):
            if not body.get(name):
                raise ApiError(400, f"The required field '{name}' was not supplied.")
    if "type" in body and body["type"] not in METHOD_TYPES:
        raise ApiError(400, f"The shipping method type '{body['type']}' is not supported.")
    for channel_id in body.get("channel_ids") or []:
        if channel_id not in store.channels:
            raise ApiError(400, f"The channel {channel_id} does not exist.")


def create_method(store: Store, zone_id: int, body: Any) -> Record:
    body = require_object(body, "shipping method")
    _check_method(store, body, True)
    method: Record = {
        "id": store.next_id(),
        "zone_id": zone_id,
        "settings": {},
        "enabled": True,
        "handling_fees": {"fixed_surcharge": "0.0000", "percentage_surcharge": "0.0000"},
        "is_fallback": False,
        "channel_ids": sorted(store.channels),  # all channels unless given
    }
    method.update(_settings(method, body, METHOD_FIELDS))
    state(store).methods[method["id"]] = method
    return method


def _render_method(method: Record) -> Record:
    return {k: v for k, v in method.items() if k != "zone_id"}


def _method(store: Store, call: Call) -> Record:
    zone = _zone(store, call)
    method = state(store).methods.get(call.params["method_id"])
    if method is None or method["zone_id"] != zone["id"]:
        raise not_found("The shipping method was not found.")
    return method


def list_methods(store: Store, call: Call) -> Reply:
    zone = _zone(store, call)
    methods = [
        _render_method(m)
        for m in sorted(state(store).methods.values(), key=lambda m: m["id"])
        if m["zone_id"] == zone["id"]
    ]
    return Reply(200, methods) if methods else Reply(204)


def post_method(store: Store, call: Call) -> Reply:
    return Reply(201, _render_method(create_method(store, _zone(store, call)["id"], call.body)))


def get_method(store: Store, call: Call) -> Reply:
    return Reply(200, _render_method(_method(store, call)))


def put_method(store: Store, call: Call) -> Reply:
    method = _method(store, call)
    body = require_object(call.body, "shipping method")
    _check_method(store, body, False)
    method.update(_settings(method, body, METHOD_FIELDS))
    return Reply(200, _render_method(method))


def delete_method(store: Store, call: Call) -> Reply:
    del state(store).methods[_method(store, call)["id"]]
    return Reply(204)


def carrier_connection(store: Store, call: Call) -> Reply:
    """Credentials go in; nothing comes back, success or not (there is no GET)."""
    if isinstance(call.body, dict) and isinstance(call.body.get("carrier_id"), str):
        state(store).connections[call.body["carrier_id"]] = dict(call.body)
    return Reply(204)


# ---- request schemas (checked by the router before a handler runs) ------------------------------

_AMOUNT = {"type": ["string", "number"]}
"""v2 money: the platform writes it as a string (``"5.0000"``) and reads a number as well."""
ZONE = obj(
    {
        "name": string(255),
        "type": string(enum=sorted(ZONE_TYPES)),
        "locations": array(
            obj({"id": ID, "zip": string(), "country_iso2": string(2), "state_iso2": string()})
        ),
        "free_shipping": obj(
            {
                "enabled": BOOL,
                "minimum_sub_total": _AMOUNT,
                "exclude_fixed_shipping_products": BOOL,
            }
        ),
        "handling_fees": obj(
            {
                "fixed_surcharge": _AMOUNT,
                "percentage_surcharge": _AMOUNT,
                "display_separately": BOOL,
            }
        ),
        "enabled": BOOL,
    }
)
METHOD = obj(
    {
        "name": string(255),
        "type": string(enum=sorted(METHOD_TYPES)),
        "settings": obj(),
        "enabled": BOOL,
        "handling_fees": obj({"fixed_surcharge": _AMOUNT, "percentage_surcharge": _AMOUNT}),
        "is_fallback": BOOL,
        "channel_ids": array(ID),
    }
)
CONNECTION = obj({"carrier_id": string(), "connection": obj()})

TABLE: Table = [
    ("/v2/shipping/zones", {"GET": list_zones, "POST": Endpoint(post_zone, ZONE)}),
    (
        "/v2/shipping/zones/{zone_id}",
        {"GET": get_zone, "PUT": Endpoint(put_zone, ZONE), "DELETE": delete_zone},
    ),
    (
        "/v2/shipping/zones/{zone_id}/methods",
        {"GET": list_methods, "POST": Endpoint(post_method, METHOD)},
    ),
    (
        "/v2/shipping/zones/{zone_id}/methods/{method_id}",
        {"GET": get_method, "PUT": Endpoint(put_method, METHOD), "DELETE": delete_method},
    ),
    (
        "/v2/shipping/carrier/connection",
        {
            "POST": Endpoint(carrier_connection, CONNECTION),
            "PUT": Endpoint(carrier_connection, CONNECTION),
            "DELETE": carrier_connection,
        },
    ),
]
register(TABLE)
