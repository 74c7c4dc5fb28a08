"""Promotions and their coupon codes (``/v3/promotions``), as the platform serves them.

- Automatic and coupon promotions: rules of a condition (the cart: items, minimum spend or
  quantity; ``and`` of cart conditions) and an action (``cart_value``, ``cart_items``,
  ``gift_item``, ``fixed_price_set``, ``shipping``); item matchers by brand, category, product,
  variant, product option or custom field, nested ``and``/``or``/``not`` at most three deep;
  customer groups (``0`` = guests and customers in no group), notifications, a weekly schedule,
  channels, shipping address countries, redemption type, max uses, stop flags and status.
- Every ID a promotion references (products, variants, categories, brands, customer groups,
  shipping zones, channels) must exist in the store: otherwise 422 naming the field.
- The server sets ``id``, ``current_uses`` (0), ``created_from`` (``api``), ``multiple_codes`` and
  a ``priority`` (creation order; not settable through the API). ``INVALID`` is a status only the
  store sets.
- Coupon codes: ``POST /codes`` one at a time; ``code`` at most 50 characters of letters, digits,
  spaces, underscores and hyphens, unique in the store (compared case-insensitively, as shoppers
  type them); a ``SINGLE`` coupon promotion holds one code, a ``BULK`` one many (and only BULK ones
  accept ``codegen``, 405 otherwise). Code lists page by cursor (``before``/``after``) or ``page``.
- Batch limits: ``DELETE /v3/promotions?id:in=`` at most 50 (and a promotion that still has codes
  is not deleted: 422 with per-item errors); ``DELETE .../codes?id:in=`` at most 250;
  ``codegen`` ``batch_size`` at most 250.
- Concurrency (429 over the limit): 40 requests in flight on promotions, 10 on code listing and
  on codegen.
"""

from __future__ import annotations

import random
import re
import string
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .customers import GROUP_DELETE_HOOKS
from .customers import state as customer_state
from .errors import ApiError, invalid, not_found
from .routes import (
    CURSORS,
    PAGING,
    Call,
    Endpoint,
    FilterSpec,
    Listing,
    Reply,
    Table,
    apply_filters,
    cursor_page_of,
    page_of,
    register,
    single,
)
from .schema import BOOL, array, integer, obj
from .schema import string as text_schema
from .shipping import state as shipping_state
from .store import (
    BRAND_DELETE_HOOKS,
    CATEGORY_DELETE_HOOKS,
    PRODUCT_DELETE_HOOKS,
    VARIANT_DELETE_HOOKS,
    Record,
    Store,
    now_rfc3339,
)
from .v2 import limit, state_of

PATH = "/v3/promotions"
BULK_DELETE_MAX = 50
CODES_DELETE_MAX = 250
CODEGEN_MAX = 250
CODE_MAX_LENGTH = 50
NAME_MAX_LENGTH = 255
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_ \-]+$")
MONEY = re.compile(r"^[0-9]+(\.[0-9]+)?$")
TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$")
WEEK_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Tuples, not sets: a request may put any JSON value where these are expected, and a list or an
# object cannot be looked up in a set.
NOTIFICATION_TYPES = ("UPSELL", "ELIGIBLE", "APPLIED")
LOCATIONS = ("HOME_PAGE", "PRODUCT_PAGE", "CART_PAGE", "CHECKOUT_PAGE")
STRATEGIES = ("LEAST_EXPENSIVE", "LEAST_EXPENSIVE_ONLY", "MOST_EXPENSIVE", "MOST_EXPENSIVE_ONLY")
ACTIONS = ("cart_value", "cart_items", "gift_item", "fixed_price_set", "shipping")
MATCHER_DEPTH = 3
"""``and``/``or``/``not`` nest at most three levels above a simple matcher (the spec's
ItemMatcher, ItemMatcher2, ItemMatcher3)."""
SERVER_FIELDS = ("id", "current_uses", "created_from", "multiple_codes", "priority")
WRITABLE = (
    "name",
    "display_name",
    "channels",
    "customer",
    "rules",
    "max_uses",
    "status",
    "start_date",
    "end_date",
    "stop",
    "can_be_used_with_other_promotions",
    "currency_code",
    "notifications",
    "shipping_address",
    "schedule",
    "coupon_overrides_other_promotions",
    "coupon_overrides_automatic_when_offering_higher_discounts",
    "coupon_type",
)


@dataclass
class PromotionState:
    promotions: dict[int, Record] = field(default_factory=dict)
    codes: dict[int, Record] = field(default_factory=dict)
    """Code id -> code, with its ``promotion_id`` (not rendered)."""
    priority: int = 0


_STATES: weakref.WeakKeyDictionary[Store, PromotionState] = weakref.WeakKeyDictionary()


def state(store: Store) -> PromotionState:
    return state_of(store, _STATES, PromotionState)


# ---- validation ----------------------------------------------------------------------------------


class _Errors:
    """Collects ``{field path: message}`` and raises one 422 with all of them."""

    def __init__(self) -> None:
        self.found: dict[str, str] = {}

    def add(self, where: str, message: str) -> None:
        self.found.setdefault(where, message)

    def raise_any(self) -> None:
        if self.found:
            raise invalid("The request payload was invalid.", self.found)


def _int_list(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    )


def _money(errors: _Errors, where: str, value: Any) -> None:
    if not isinstance(value, str) or not MONEY.match(value):
        errors.add(where, "Must be a monetary amount written as a string, e.g. '12.95'.")


def _exists(
    errors: _Errors, where: str, ids: Iterable[int], known: Mapping[int, Any], what: str
) -> None:
    for value in ids:
        if value not in known:
            errors.add(where, f"{what} with id {value} does not exist.")
            return


class _Checker:
    def __init__(self, store: Store, errors: _Errors) -> None:
        self.store = store
        self.errors = errors

    def matcher(self, where: str, value: Any, depth: int = 0) -> None:
        err = self.errors
        if not isinstance(value, dict) or len(value) != 1:
            err.add(where, "An item matcher is an object with exactly one key.")
            return
        ((kind, inner),) = value.items()
        if kind in ("and", "or"):
            if depth >= MATCHER_DEPTH:
                err.add(where, "Item matchers nest at most three levels deep.")
            elif not isinstance(inner, list) or not inner:
                err.add(f"{where}.{kind}", "Must be a non-empty array of item matchers.")
            else:
                for i, child in enumerate(inner):
                    self.matcher(f"{where}.{kind}.{i}", child, depth + 1)
        elif kind == "not":
            if depth >= MATCHER_DEPTH:
                err.add(where, "Item matchers nest at most three levels deep.")
            else:
                self.matcher(f"{where}.not", inner, depth + 1)
        elif kind in ("brands", "categories", "products", "variants"):
            if not _int_list(inner):
                err.add(f"{where}.{kind}", "Must be an array of integer ids.")
                return
            known: Mapping[int, Any] = {
                "brands": self.store.brands,
                "categories": self.store.categories,
                "products": self.store.products,
                "variants": self.store.variants,
            }[kind]
            _exists(err, f"{where}.{kind}", inner, known, kind[:-1].capitalize())
        elif kind == "product_option":
            if not isinstance(inner, dict) or not all(
                k in inner for k in ("name", "type", "values")
            ):
                err.add(f"{where}.product_option", "Requires name, type and values.")
            elif inner["type"] != "string_match":
                err.add(f"{where}.product_option.type", "The only supported type is string_match.")
        elif kind == "product_custom_field":
            if not isinstance(inner, dict) or "name" not in inner or not inner.get("values"):
                err.add(f"{where}.product_custom_field", "Requires name and values.")
        else:
            err.add(where, f"Unknown item matcher '{kind}'.")

    def cart_condition(self, where: str, value: Any) -> None:
        err = self.errors
        if not isinstance(value, dict) or set(value) - {
            "items",
            "minimum_spend",
            "minimum_quantity",
        }:
            err.add(where, "A cart condition has items, minimum_spend and minimum_quantity.")
            return
        if "items" in value:
            self.matcher(f"{where}.items", value["items"])
            if "minimum_quantity" not in value and "minimum_spend" not in value:
                err.add(where, "minimum_quantity or minimum_spend is required with items.")
        if "minimum_spend" in value:
            _money(err, f"{where}.minimum_spend", value["minimum_spend"])
        quantity = value.get("minimum_quantity")
        if quantity is not None and (not isinstance(quantity, int) or quantity < 1):
            err.add(f"{where}.minimum_quantity", "Must be a positive integer.")

    def condition(self, where: str, value: Any) -> None:
        if isinstance(value, dict) and set(value) == {"and"}:
            children = value["and"]
            if not isinstance(children, list) or not children:
                self.errors.add(f"{where}.and", "Must be a non-empty array of conditions.")
                return
            for i, child in enumerate(children):
                self.condition(f"{where}.and.{i}", child)
        elif isinstance(value, dict) and set(value) == {"cart"}:
            self.cart_condition(f"{where}.cart", value["cart"])
        else:
            self.errors.add(where, "A condition is {cart: ...} or {and: [...]}.")

    def discount(self, where: str, value: Any) -> None:
        if isinstance(value, dict) and set(value) == {"percentage_amount"}:
            amount = value["percentage_amount"]
            _money(self.errors, f"{where}.percentage_amount", amount)
            if isinstance(amount, str) and MONEY.match(amount) and float(amount) > 100:
                self.errors.add(f"{where}.percentage_amount", "Must be at most 100.")
        elif isinstance(value, dict) and set(value) == {"fixed_amount"}:
            _money(self.errors, f"{where}.fixed_amount", value["fixed_amount"])
        else:
            self.errors.add(where, "A discount is {percentage_amount} or {fixed_amount}.")

    def action(self, where: str, value: Any) -> None:
        err = self.errors
        if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in ACTIONS:
            err.add(where, f"An action has exactly one of {', '.join(ACTIONS)}.")
            return
        ((kind, body),) = value.items()
        here = f"{where}.{kind}"
        if not isinstance(body, dict):
            err.add(here, "Must be an object.")
            return
        if kind in ("cart_value", "cart_items"):
            if "discount" not in body:
                err.add(f"{here}.discount", "The discount is required.")
            else:
                self.discount(f"{here}.discount", body["discount"])
            cap = body.get("maximum_allowed_discount_amount")
            if cap is not None:
                _money(err, f"{here}.maximum_allowed_discount_amount", cap)
        if kind in ("cart_items", "fixed_price_set"):
            if "items" in body:
                self.matcher(f"{here}.items", body["items"])
            strategy = body.get("strategy")
            if strategy is not None and strategy not in STRATEGIES:
                err.add(f"{here}.strategy", f"Must be one of {', '.join(sorted(STRATEGIES))}.")
        if kind == "fixed_price_set":
            for name in ("fixed_price", "quantity"):
                if name not in body:
                    err.add(f"{here}.{name}", f"The {name} is required.")
            if "fixed_price" in body:
                _money(err, f"{here}.fixed_price", body["fixed_price"])
        if kind == "gift_item":
            quantity = body.get("quantity")
            if not isinstance(quantity, int) or quantity < 1:
                err.add(f"{here}.quantity", "A positive quantity is required.")
            if "product_id" not in body and "variant_id" not in body:
                err.add(here, "product_id or variant_id is required.")
            if "product_id" in body:
                _exists(
                    err, f"{here}.product_id", [body["product_id"]], self.store.products, "Product"
                )
            if "variant_id" in body:
                _exists(
                    err, f"{here}.variant_id", [body["variant_id"]], self.store.variants, "Variant"
                )
        if kind == "shipping":
            zones: Any = body.get("zone_ids")
            if zones == "*":
                return
            if not _int_list(zones) or len(set(zones)) != len(zones):
                err.add(f"{here}.zone_ids", "Must be '*' or an array of distinct zone ids.")
                return
            _exists(
                err, f"{here}.zone_ids", zones, shipping_state(self.store).zones, "Shipping zone"
            )

    def rules(self, value: Any) -> None:
        if not isinstance(value, list) or not value:
            self.errors.add("rules", "At least one rule is required.")
            return
        for i, rule in enumerate(value):
            where = f"rules.{i}"
            if not isinstance(rule, dict) or "action" not in rule:
                self.errors.add(where, "A rule requires an action.")
                continue
            unknown = set(rule) - {"action", "condition", "apply_once", "stop"}
            if unknown:
                self.errors.add(where, f"Unknown rule field(s): {', '.join(sorted(unknown))}.")
            self.action(f"{where}.action", rule["action"])
            if "condition" in rule:
                self.condition(f"{where}.condition", rule["condition"])
            for flag in ("apply_once", "stop"):
                if flag in rule and not isinstance(rule[flag], bool):
                    self.errors.add(f"{where}.{flag}", "Must be a boolean.")

    def customer(self, value: Any) -> None:
        err = self.errors
        if not isinstance(value, dict):
            err.add("customer", "Must be an object.")
            return
        groups = customer_state(self.store).groups
        for name in ("group_ids", "excluded_group_ids"):
            ids = value.get(name, [])
            if not _int_list(ids):
                err.add(f"customer.{name}", "Must be an array of customer group ids.")
            else:
                _exists(
                    err, f"customer.{name}", [i for i in ids if i != 0], groups, "Customer group"
                )
        if value.get("group_ids") and value.get("excluded_group_ids"):
            err.add("customer", "Give group_ids or excluded_group_ids, not both.")
        count = value.get("minimum_order_count", 0)
        if not isinstance(count, int) or count < 0:
            err.add("customer.minimum_order_count", "Must be a non-negative integer.")

    def notifications(self, value: Any) -> None:
        if not isinstance(value, list):
            self.errors.add("notifications", "Must be an array.")
            return
        for i, note in enumerate(value):
            where = f"notifications.{i}"
            if not isinstance(note, dict) or not all(
                k in note for k in ("content", "type", "locations")
            ):
                self.errors.add(where, "A notification requires content, type and locations.")
                continue
            if note["type"] not in NOTIFICATION_TYPES:
                self.errors.add(f"{where}.type", "Must be UPSELL, ELIGIBLE or APPLIED.")
            locations = note["locations"]
            if not isinstance(locations, list) or not all(
                place in LOCATIONS for place in locations
            ):
                self.errors.add(
                    f"{where}.locations", f"Must be among {', '.join(sorted(LOCATIONS))}."
                )

    def schedule(self, value: Any) -> None:
        err = self.errors
        if value is None:
            return
        required = ("week_frequency", "week_days", "daily_start_time", "daily_end_time")
        if not isinstance(value, dict) or not all(k in value for k in required):
            err.add("schedule", f"A schedule requires {', '.join(required)}.")
            return
        frequency = value["week_frequency"]
        if not isinstance(frequency, int) or frequency < 1:
            err.add("schedule.week_frequency", "Must be at least 1.")
        days = value["week_days"]
        if not isinstance(days, list) or not days or not set(days) <= set(WEEK_DAYS):
            err.add("schedule.week_days", "Must be a non-empty array of Monday ... Sunday.")
        for name in ("daily_start_time", "daily_end_time"):
            if not isinstance(value[name], str) or not TIME.match(value[name]):
                err.add(f"schedule.{name}", "Must be a time of day, HH:MM:SS.")

    def channels(self, value: Any) -> None:
        if not isinstance(value, list) or not all(
            isinstance(c, dict) and isinstance(c.get("id"), int) for c in value
        ):
            self.errors.add("channels", "Must be an array of {id} objects ([] = all channels).")
            return
        _exists(self.errors, "channels", [c["id"] for c in value], self.store.channels, "Channel")

    def shipping_address(self, value: Any) -> None:
        if value is None:
            return
        inner = value.get("not") if isinstance(value, dict) and "not" in value else value
        if not isinstance(inner, dict) or not isinstance(inner.get("countries"), list):
            self.errors.add("shipping_address", "Must be {countries: [...]} or {not: {countries}}.")
            return
        for i, country in enumerate(inner["countries"]):
            code = country.get("iso2_country_code") if isinstance(country, dict) else None
            if not isinstance(code, str) or len(code) != 2:
                self.errors.add(f"shipping_address.countries.{i}", "Requires iso2_country_code.")


def _check(store: Store, body: dict[str, Any], current: Record | None) -> None:
    errors = _Errors()
    merged = {**(current or {}), **body}
    check = _Checker(store, errors)
    if current is None:
        if merged.get("redemption_type") not in ("AUTOMATIC", "COUPON"):
            errors.add("redemption_type", "Required: AUTOMATIC or COUPON.")
    elif "redemption_type" in body and body["redemption_type"] != current["redemption_type"]:
        errors.add("redemption_type", "The redemption type of a promotion cannot be changed.")
    name = merged.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.add("name", "The name is required.")
    elif len(name) > NAME_MAX_LENGTH:
        errors.add("name", f"Must be at most {NAME_MAX_LENGTH} characters.")
    if current is None or "rules" in body:
        check.rules(merged.get("rules"))
    if "customer" in body:
        check.customer(body["customer"])
    if "channels" in body:
        check.channels(body["channels"])
    if "notifications" in body:
        check.notifications(body["notifications"])
    if "schedule" in body:
        check.schedule(body["schedule"])
    if "shipping_address" in body:
        check.shipping_address(body["shipping_address"])
    if "status" in body and body["status"] not in ("ENABLED", "DISABLED"):
        errors.add("status", "Must be ENABLED or DISABLED (INVALID is set by the store).")
    max_uses = merged.get("max_uses")
    if max_uses is not None and (not isinstance(max_uses, int) or max_uses < 0):
        errors.add("max_uses", "Must be a non-negative integer.")
    for flag in ("stop", "can_be_used_with_other_promotions", "coupon_overrides_other_promotions"):
        if flag in body and not isinstance(body[flag], bool):
            errors.add(flag, "Must be a boolean.")
    end = merged.get("end_date")
    if end is not None and isinstance(merged.get("start_date"), str) and end < merged["start_date"]:
        errors.add("end_date", "The end date must be after the start date.")
    coupon = merged.get("redemption_type") == "COUPON"
    if not coupon:
        for name in ("coupon_type", "coupon_overrides_other_promotions", "codes"):
            if body.get(name):
                errors.add(name, "Only coupon promotions take this field.")
    else:
        kind = body.get("coupon_type")
        if kind is not None and kind not in ("SINGLE", "BULK"):
            errors.add("coupon_type", "Must be SINGLE or BULK.")
        if current is not None and kind is not None and kind != current.get("coupon_type"):
            errors.add("coupon_type", "Changing the coupon type is not supported.")
    overrides = (
        "coupon_overrides_other_promotions",
        "coupon_overrides_automatic_when_offering_higher_discounts",
    )
    for name in overrides:
        if body.get(name) and merged.get("can_be_used_with_other_promotions", True):
            errors.add(name, "Only when can_be_used_with_other_promotions is false.")
    errors.raise_any()


# ---- promotions ----------------------------------------------------------------------------------


def _render(store: Store, promotion: Record) -> Record:
    out = {k: v for k, v in promotion.items() if not k.startswith("_")}
    if promotion["redemption_type"] == "COUPON":
        count = sum(1 for c in state(store).codes.values() if c["promotion_id"] == promotion["id"])
        out["multiple_codes"] = {"has_multiple_codes": count > 1}
    return out


def create_promotion(store: Store, body: Any) -> Record:
    if not isinstance(body, dict):
        raise invalid("The request payload was invalid.", {"body": "Must be a JSON object."})
    body = {k: v for k, v in body.items() if k not in SERVER_FIELDS}
    _check(store, body, None)
    st = state(store)
    st.priority += 1
    coupon = body["redemption_type"] == "COUPON"
    promotion: Record = {
        "id": store.next_id(),
        "redemption_type": body["redemption_type"],
        "name": "",
        "display_name": "",
        "created_from": "api",
        "channels": [],
        "customer": {"group_ids": [], "excluded_group_ids": [], "minimum_order_count": 0},
        "rules": [],
        "current_uses": 0,
        "max_uses": None,
        "status": "ENABLED",
        "start_date": now_rfc3339(),
        "end_date": None,
        "stop": False,
        "can_be_used_with_other_promotions": True,
        "currency_code": "*",
        "notifications": [],
        "shipping_address": None,
        "schedule": None,
        "priority": st.priority,
    }
    if coupon:
        promotion["coupon_type"] = "SINGLE"
        promotion["coupon_overrides_other_promotions"] = False
        promotion["coupon_overrides_automatic_when_offering_higher_discounts"] = False
    _apply(promotion, body)
    code = body.get("codes")
    if coupon and isinstance(code, dict) and code.get("code"):
        _check_code(store, promotion, code)
    st.promotions[promotion["id"]] = promotion
    if coupon and isinstance(code, dict) and code.get("code"):
        _add_code(store, promotion, code)
    return promotion


def _apply(promotion: Record, body: Mapping[str, Any]) -> None:
    for name in WRITABLE:
        if name not in body:
            continue
        if name == "customer":
            promotion["customer"] = {
                "group_ids": [],
                "excluded_group_ids": [],
                "minimum_order_count": 0,
                **body["customer"],
            }
        else:
            promotion[name] = body[name]


def _promotion(store: Store, call: Call, name: str = "id") -> Record:
    promotion = state(store).promotions.get(call.params[name])
    if promotion is None:
        raise not_found("The promotion was not found.")
    return promotion


PROMOTION_FILTERS: FilterSpec = {
    "id": ("int", lambda p: p["id"]),
    "name": ("str", lambda p: p["name"]),
    "currency_code": ("str", lambda p: p["currency_code"]),
    "redemption_type": ("str", lambda p: p["redemption_type"].lower()),
    "status": ("str", lambda p: p["status"]),
}
SORTS = {"id", "name", "priority", "start_date"}
PROMOTIONS = Listing(
    PROMOTION_FILTERS,
    "id name currency_code redemption_type status",
    others=(*PAGING, "sort", "direction", "code", "channels", "query"),
)
"""The promotion list's documented parameters (its handler checks ``sort`` and ``direction``
itself, with the platform's 422)."""
CODES = Listing(others=(*PAGING, *CURSORS, "code"))


def list_promotions(store: Store, call: Call) -> Reply:
    st = state(store)
    query = dict(call.query)
    sort = query.pop("sort", "") or "id"
    direction = query.pop("direction", "") or "asc"
    if sort not in SORTS or direction not in ("asc", "desc"):
        raise invalid(
            "Failure due to an invalid query parameter.",
            {"sort": f"Sort by one of {', '.join(sorted(SORTS))}, direction asc or desc."},
        )
    code = query.pop("code", None)
    channels = query.pop("channels", None)
    text = query.pop("query", None)
    if "redemption_type" in query:
        query["redemption_type"] = query["redemption_type"].lower()
    items = apply_filters(st.promotions.values(), query, PROMOTION_FILTERS)
    if code:
        owners = {
            c["promotion_id"] for c in st.codes.values() if c["code"].casefold() == code.casefold()
        }
        items = [p for p in items if p["id"] in owners]
    if channels:
        wanted = {int(c) for c in channels.split(",") if c.strip().isdigit()}
        items = [p for p in items if not p["channels"] or {c["id"] for c in p["channels"]} & wanted]
    if text:
        items = [p for p in items if text.casefold() in p["name"].casefold()]
    items.sort(key=lambda p: (p[sort] if p[sort] is not None else "", p["id"]))
    if direction == "desc":
        items.reverse()
    return page_of([_render(store, p) for p in items], call.query)


def post_promotion(store: Store, call: Call) -> Reply:
    return single(_render(store, create_promotion(store, call.body)), 201)


def get_promotion(store: Store, call: Call) -> Reply:
    return single(_render(store, _promotion(store, call)))


def put_promotion(store: Store, call: Call) -> Reply:
    promotion = _promotion(store, call)
    if not isinstance(call.body, dict):
        raise invalid("The request payload was invalid.", {"body": "Must be a JSON object."})
    body = {k: v for k, v in call.body.items() if k not in SERVER_FIELDS and k != "codes"}
    _check(store, body, promotion)
    _apply(promotion, body)
    return single(_render(store, promotion))


def _remove(store: Store, promotion_id: int) -> None:
    st = state(store)
    st.promotions.pop(promotion_id, None)
    for code_id in [i for i, c in st.codes.items() if c["promotion_id"] == promotion_id]:
        del st.codes[code_id]


def delete_promotion(store: Store, call: Call) -> Reply:
    _remove(store, call.params["id"])
    return Reply(204)


def _id_in(query: Mapping[str, str], most: int) -> list[int]:
    raw = query.get("id:in")
    if not raw:
        raise ApiError(422, "Parameter id:in is required")
    try:
        ids = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise ApiError(422, "Parameter id:in must be a list of integers") from None
    if not ids:
        raise ApiError(422, "Parameter id:in is required")
    if len(ids) > most:
        raise ApiError(
            422,
            f"Batches are limited to {most} items.",
            {"id:in": f"{len(ids)} ids given; send at most {most} per request."},
        )
    return ids


def delete_promotions(store: Store, call: Call) -> Reply:
    ids = _id_in(call.query, BULK_DELETE_MAX)
    st = state(store)
    failures: dict[str, str] = {}
    for index, promotion_id in enumerate(ids):
        if promotion_id not in st.promotions:
            failures[f"{index}.id"] = "Invalid ID"
        elif any(c["promotion_id"] == promotion_id for c in st.codes.values()):
            failures[f"{index}.code"] = (
                f"Failed for id={promotion_id}. Error: some relating codes are still present."
            )
        else:
            _remove(store, promotion_id)
    if failures:
        meta = {"total": len(ids), "success": len(ids) - len(failures), "failed": len(failures)}
        error = {
            "status": 422,
            "title": "Errors occurred in bulk delete action.",
            "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
            "errors": failures,
        }
        return Reply(422, {"errors": [error], "meta": meta})
    return Reply(204)


# ---- coupon codes --------------------------------------------------------------------------------


def _render_code(code: Record) -> Record:
    return {k: v for k, v in code.items() if k != "promotion_id"}


def _check_code(store: Store, promotion: Record, body: Any) -> None:
    if promotion["redemption_type"] != "COUPON":
        raise invalid(
            "The request payload was invalid.",
            {"code": "Automatic promotions have no coupon codes."},
        )
    errors = _Errors()
    if not isinstance(body, dict) or not isinstance(body.get("code"), str) or not body["code"]:
        raise invalid("The request payload was invalid.", {"code": "The code is required."})
    text = body["code"]
    if len(text) > CODE_MAX_LENGTH:
        errors.add("code", f"Must be at most {CODE_MAX_LENGTH} characters.")
    elif not CODE_PATTERN.match(text):
        errors.add(
            "code", "Only letters, numbers, white spaces, underscores and hyphens are allowed."
        )
    for name in ("max_uses", "max_uses_per_customer"):
        value = body.get(name, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            errors.add(name, "Must be a non-negative integer (0 = unlimited).")
    errors.raise_any()
    st = state(store)
    if any(c["code"].casefold() == text.casefold() for c in st.codes.values()):
        raise ApiError(409, "The coupon code already exists.", {"code": f"'{text}' is taken."})
    if promotion.get("coupon_type", "SINGLE") == "SINGLE" and any(
        c["promotion_id"] == promotion["id"] for c in st.codes.values()
    ):
        raise invalid(
            "The request payload was invalid.",
            {"code": "A SINGLE coupon promotion has one code; use a BULK promotion for more."},
        )


def _add_code(store: Store, promotion: Record, body: Mapping[str, Any]) -> Record:
    code: Record = {
        "id": store.next_id(),
        "code": body["code"],
        "current_uses": 0,
        "max_uses": int(body.get("max_uses", 0)),
        "max_uses_per_customer": int(body.get("max_uses_per_customer", 0)),
        "created": now_rfc3339(),
        "promotion_id": promotion["id"],
    }
    state(store).codes[code["id"]] = code
    return code


def list_codes(store: Store, call: Call) -> Reply:
    promotion = _promotion(store, call, "promotion_id")
    codes = sorted(
        (c for c in state(store).codes.values() if c["promotion_id"] == promotion["id"]),
        key=lambda c: c["id"],
    )
    wanted = call.query.get("code")
    if wanted:
        codes = [c for c in codes if c["code"].casefold() == wanted.casefold()]
    return cursor_page_of(codes, call.query, _render_code)


def post_code(store: Store, call: Call) -> Reply:
    promotion = _promotion(store, call, "promotion_id")
    _check_code(store, promotion, call.body)
    return single(_render_code(_add_code(store, promotion, call.body)), 201)


def delete_codes(store: Store, call: Call) -> Reply:
    promotion = _promotion(store, call, "promotion_id")
    st = state(store)
    if call.query.get("code") and not call.query.get("id:in"):
        wanted = call.query["code"].casefold()
        ids = [i for i, c in st.codes.items() if c["code"].casefold() == wanted]
    else:
        ids = _id_in(call.query, CODES_DELETE_MAX)
    for code_id in ids:
        code = st.codes.get(code_id)
        if code is not None and code["promotion_id"] == promotion["id"]:
            del st.codes[code_id]
    return Reply(204)


def delete_code(store: Store, call: Call) -> Reply:
    st = state(store)
    code = st.codes.get(call.params["code_id"])
    if code is not None and code["promotion_id"] == call.params["promotion_id"]:
        del st.codes[code["id"]]
    return Reply(204)


def find_code(store: Store, call: Call) -> Reply:
    wanted = call.query.get("code")
    if not wanted:
        raise invalid("The 'code' parameter is required.", {"code": "Give the code to look up."})
    codes = [c for c in state(store).codes.values() if c["code"].casefold() == wanted.casefold()]
    return cursor_page_of(codes, {}, _render_code)


def delete_code_by_code(store: Store, call: Call) -> Reply:
    wanted = call.query.get("code")
    if not wanted:
        raise invalid("The 'code' parameter is required.", {"code": "Give the code to delete."})
    st = state(store)
    for code_id in [i for i, c in st.codes.items() if c["code"].casefold() == wanted.casefold()]:
        del st.codes[code_id]
    return Reply(204)


def codegen(store: Store, call: Call) -> Reply:
    promotion = _promotion(store, call, "promotion_id")
    if promotion["redemption_type"] != "COUPON" or promotion.get("coupon_type") != "BULK":
        raise ApiError(
            405,
            "Bulk code generation is only supported for promotions with redemption_type of "
            "'COUPON' and coupon_type of 'BULK'.",
        )
    body = call.body if isinstance(call.body, dict) else {}
    size = body.get("batch_size")
    errors = _Errors()
    if not isinstance(size, int) or not 1 <= size <= CODEGEN_MAX:
        errors.add("batch_size", f"Must be an integer from 1 to {CODEGEN_MAX}.")
    length = body.get("code_length", 16)
    if not isinstance(length, int) or not 6 <= length <= 16:
        errors.add("code_length", "Must be from 6 to 16.")
    prefix, suffix = str(body.get("prefix", "")), str(body.get("suffix", ""))
    delimiter = str(body.get("delimiter", ""))
    for name, text in (("prefix", prefix), ("suffix", suffix)):
        if len(text) > 20 or not re.fullmatch(r"[A-Z0-9_-]*", text):
            errors.add(name, "At most 20 capital letters, numbers, underscores and hyphens.")
    if delimiter not in ("", "_", "-"):
        errors.add("delimiter", "Must be _ or -.")
    excluded = set(body.get("exclude_characters") or [])
    alphabet = [c for c in string.ascii_uppercase + string.digits if c not in excluded]
    if not alphabet:
        errors.add("exclude_characters", "Leaves no characters to generate codes from.")
    errors.raise_any()
    assert isinstance(size, int) and isinstance(length, int)
    max_uses = int(body.get("max_uses", 1))
    per_customer = int(body.get("max_uses_per_customer", 1))
    rng = random.Random(f"{store.store_hash}:{promotion['id']}:{len(state(store).codes)}")
    taken = {c["code"].casefold() for c in state(store).codes.values()}
    made: list[Record] = []
    while len(made) < size:
        middle = "".join(rng.choice(alphabet) for _ in range(length))
        text = (
            (prefix + delimiter if prefix else "") + middle + (delimiter + suffix if suffix else "")
        )
        if text.casefold() in taken:
            continue
        taken.add(text.casefold())
        made.append(
            _add_code(
                store,
                promotion,
                {"code": text, "max_uses": max_uses, "max_uses_per_customer": per_customer},
            )
        )
    data = {
        "created": now_rfc3339(),
        "max_uses": max_uses,
        "max_uses_per_customer": per_customer,
        "batch_size": size,
        "codes": [{"code": c["code"]} for c in made],
    }
    return Reply(201, {"data": data, "meta": {}})


# The top-level types of a promotion body (the checker above judges what is inside them).
PROMOTION = obj(
    {
        "name": text_schema(),
        "display_name": text_schema(),
        "channels": array(),
        "customer": obj(),
        "rules": array(),
        "max_uses": integer(0, 2**31 - 1, nullable=True),
        "status": text_schema(),
        "start_date": text_schema(),
        "end_date": text_schema(nullable=True),
        "stop": BOOL,
        "can_be_used_with_other_promotions": BOOL,
        "currency_code": text_schema(),
        "notifications": array(),
        "shipping_address": obj(nullable=True),
        "schedule": obj(nullable=True),
        "coupon_overrides_other_promotions": BOOL,
        "coupon_overrides_automatic_when_offering_higher_discounts": BOOL,
        "coupon_type": text_schema(nullable=True),
        "redemption_type": text_schema(),
    }
)

TABLE: Table = [
    ("/v3/promotions/codes", {"GET": find_code, "DELETE": delete_code_by_code}),
    (
        PATH,
        {
            "GET": Endpoint(list_promotions, listing=PROMOTIONS),
            "POST": Endpoint(post_promotion, PROMOTION),
            "DELETE": delete_promotions,
        },
    ),
    (
        f"{PATH}/{{id}}",
        {
            "GET": get_promotion,
            "PUT": Endpoint(put_promotion, PROMOTION),
            "DELETE": delete_promotion,
        },
    ),
    (
        f"{PATH}/{{promotion_id}}/codes",
        {"GET": Endpoint(list_codes, listing=CODES), "POST": post_code, "DELETE": delete_codes},
    ),
    (f"{PATH}/{{promotion_id}}/codes/{{code_id}}", {"DELETE": delete_code}),
    (f"{PATH}/{{promotion_id}}/codegen", {"POST": codegen}),
]


# ---- what a delete elsewhere takes from promotions -----------------------------------------------


def _strip(value: Any, matcher: str, single: str, entity_id: int) -> tuple[bool, bool]:
    """Remove ``entity_id`` from every ``matcher`` list in ``value`` (in place); (changed, and
    whether a ``single`` field names it: the rule holding it can no longer apply)."""
    changed = broken = False
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for name, inner in list(items):
        if name == matcher and isinstance(inner, list) and entity_id in inner:
            value[name] = [i for i in inner if i != entity_id]
            changed = True
        elif name == single and inner == entity_id:
            broken = True
        elif isinstance(inner, dict | list):
            inner_changed, inner_broken = _strip(inner, matcher, single, entity_id)
            changed, broken = changed or inner_changed, broken or inner_broken
    return changed, broken


def _forget(matcher: str, single: str) -> Callable[[Store, int], None]:
    """ASSUMPTION_DELETE_CLEARS_PROMOTION_REFERENCES: a deleted product, variant, category or
    brand leaves every promotion's item matchers; a rule whose gift item was it is dropped and
    the promotion becomes INVALID (the status only the store sets)."""

    def hook(store: Store, entity_id: int) -> None:
        for promotion in state(store).promotions.values():
            rules = promotion.get("rules") or []
            kept = []
            for rule in rules:
                _, broken = _strip(rule, matcher, single, entity_id)
                if not broken:
                    kept.append(rule)
            if len(kept) != len(rules):
                promotion["rules"] = kept
                promotion["status"] = "INVALID"

    return hook


def _forget_group(store: Store, group_id: int) -> None:
    """A deleted customer group leaves the promotions' group lists; a promotion limited to
    groups that are all gone becomes INVALID rather than open to every shopper."""
    for promotion in state(store).promotions.values():
        customer = promotion.get("customer") or {}
        for name in ("group_ids", "excluded_group_ids"):
            ids = customer.get(name) or []
            if group_id in ids:
                customer[name] = [i for i in ids if i != group_id]
                if name == "group_ids" and not customer[name]:
                    promotion["status"] = "INVALID"


PRODUCT_DELETE_HOOKS.append(_forget("products", "product_id"))
VARIANT_DELETE_HOOKS.append(_forget("variants", "variant_id"))
CATEGORY_DELETE_HOOKS.append(_forget("categories", ""))
BRAND_DELETE_HOOKS.append(_forget("brands", ""))
GROUP_DELETE_HOOKS.append(_forget_group)

register(TABLE)

for _method, _template, _most in (
    ("GET", PATH, 40),
    ("POST", PATH, 40),
    ("DELETE", PATH, 40),
    ("GET", f"{PATH}/{{id}}", 40),
    ("PUT", f"{PATH}/{{id}}", 40),
    ("DELETE", f"{PATH}/{{id}}", 40),
    ("GET", f"{PATH}/{{id}}/codes", 10),
    ("POST", f"{PATH}/{{id}}/codes", 40),
    ("DELETE", f"{PATH}/{{id}}/codes", 40),
    ("POST", f"{PATH}/{{id}}/codegen", 10),
):
    limit(_method, _template, _most)

__all__ = ["TABLE", "create_promotion", "state"]
