"""What every catalogue resource shares: a store's identity and ID sequence, the catalogue's tables
and uniqueness indexes, and the helpers several resources use (``StoreCore``).

Each resource adds its rules, rendering and routes in its own module, as one layer of the
``Store`` class: ``brands`` -> ``categories`` (trees too) -> ``media`` (images, custom fields) ->
``variants`` (options too) -> ``products``; a layer may use the ones before it. Every write
validates first and mutates only once the whole request is known to succeed (no half-applied
writes), raising ``ApiError`` with the platform's status and body when a rule is broken.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from stagesync.emulator.errors import ApiError, conflict, invalid, not_found
from stagesync.emulator.fields import (
    read_fields,
)
from stagesync.emulator.routes import Record as Record  # re-exported for the catalogue modules

if TYPE_CHECKING:
    from stagesync.emulator.store import Store


MAX_CATEGORY_DEPTH = 8
MAX_CATEGORY_NAME = 50
MAX_CUSTOM_FIELDS = 200
MAX_VARIANTS = 600
MAX_OPTION_VALUES = 250

ProductRenderHook = Callable[["Store", dict[str, Any], dict[str, Any], set[str]], None]
PRODUCT_RENDER_HOOKS: list[ProductRenderHook] = []
"""Called at the end of ``render_product`` (store, product, rendered, include): product
sub-resources kept by other modules (``product_parts``) add themselves."""
PRODUCT_DELETE_HOOKS: list[Callable[[Store, int], None]] = []
"""Called with the id of a product just deleted (its sub-resources kept elsewhere go too)."""
VARIANT_DELETE_HOOKS: list[Callable[[Store, int], None]] = []
"""Called with the id of a variant just removed."""
CATEGORY_DELETE_HOOKS: list[Callable[[Store, int], None]] = []
"""Called with the id of each category just deleted."""
BRAND_DELETE_HOOKS: list[Callable[[Store, int], None]] = []
"""Called with the id of a brand just deleted.

Each API area that stores the id of a catalogue entity registers one function per hook that
drops or clears what named it, so a delete never leaves a reference to something gone (the
cascade, and the assumptions it rests on, are listed in docs/emulator.md)."""


def id_offset(store_hash: str) -> int:
    """Where a store's ID sequence starts: derived from its hash, so stores never share IDs."""
    return 100 * (1 + zlib.crc32(store_hash.encode("utf-8")) % 997)


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug or "item"


def _missing(errors: dict[str, str], fields: Iterable[str]) -> ApiError:
    return ApiError(
        422,
        "Missing Required Fields",
        {**{name: f"Please provide a {name}." for name in fields}, **errors},
    )


def _too_long(errors: dict[str, str], body: Mapping[str, Any], limits: Mapping[str, int]) -> None:
    for name, limit in limits.items():
        value = body.get(name)
        if isinstance(value, str) and len(value) > limit:
            errors[name] = f"The field '{name}' must be at most {limit} characters."


def _require_object(body: Any) -> None:
    """The platform's 400 for a request body that is not a JSON object."""
    if not isinstance(body, dict):
        raise ApiError(400, "Input is invalid", detail="The request body must be an object.")


def _owned(table: Mapping[int, Record], product_id: int, child_id: int, label: str) -> Record:
    """A product's sub-resource by id: 404 when it does not exist or belongs to another product."""
    found = table.get(child_id)
    if found is None or found["product_id"] != product_id:
        raise not_found(f"{label} {child_id} was not found.")
    return found


class StoreCore:
    """One store's identity, ID sequence and catalogue tables. All methods are synchronous: a
    request's mutation is atomic."""

    def __init__(self, store_hash: str, token: str, *, name: str | None = None) -> None:
        self.store_hash = store_hash
        self.token = token
        self.name = name or f"{store_hash.replace('-', ' ').replace('_', ' ').title()} Store"
        self._next_id = id_offset(store_hash)
        self.created = now_rfc3339()
        self.brands: dict[int, Record] = {}
        self.channels: dict[int, Record] = {}
        self.trees: dict[int, Record] = {}
        self.categories: dict[int, Record] = {}
        self.products: dict[int, Record] = {}
        self.variants: dict[int, Record] = {}
        self.options: dict[int, Record] = {}
        self.images: dict[int, Record] = {}
        self.custom_fields: dict[int, Record] = {}
        # Uniqueness indexes.
        self._skus: dict[str, tuple[str, int]] = {}
        self._product_names: dict[str, int] = {}
        self._urls: dict[str, tuple[str, int]] = {}
        self.channels[1] = {
            "id": 1,
            "name": self.name,
            "type": "storefront",
            "platform": "bigcommerce",
            "status": "active",
            "external_id": "",
            "is_listable_from_ui": True,
            "is_visible": True,
            "is_enabled": True,
            "icon_url": "",
            "date_created": self.created,
            "date_modified": self.created,
        }
        self.default_tree_id = self.next_id()
        self.trees[self.default_tree_id] = {
            "id": self.default_tree_id,
            "name": "Default",
            "channels": [1],
        }

    def as_store(self) -> Store:
        """This object as the whole ``Store`` it is a layer of (for hooks kept by other modules)."""
        return cast("Store", self)

    def next_id(self) -> int:
        value = self._next_id
        self._next_id += 1
        return value

    # ---- URLs ------------------------------------------------------------------------------------

    def _free_url(self, base: str, owner: tuple[str, int] | None = None) -> str:
        """``base`` or the first ``base-N`` not used by another object."""
        candidate = base
        n = 1
        while candidate in self._urls and self._urls[candidate] != owner:
            n += 1
            candidate = f"{base.rstrip('/')}-{n}/"
        return candidate

    def _check_custom_url(
        self, url: Any, owner: tuple[str, int] | None, errors: dict[str, str]
    ) -> bool:
        if not isinstance(url, str) or not url.startswith("/") or len(url) > 255:
            errors["custom_url"] = "The URL must be a path starting with '/'."
            return False
        holder = self._urls.get(url)
        if holder is not None and holder != owner:
            raise conflict(
                f"The URL '{url}' is already in use.",
                {"custom_url": f"The URL '{url}' is already in use by another {holder[0]}."},
            )
        return True

    def _set_url(self, owner: tuple[str, int], old: str | None, new: str) -> None:
        if old is not None and self._urls.get(old) == owner:
            del self._urls[old]
        self._urls[new] = owner

    def _drop_url(self, owner: tuple[str, int], url: str | None) -> None:
        if url is not None and self._urls.get(url) == owner:
            del self._urls[url]

    # ---- shared by several catalogue resources ----

    def _sku_conflict(self, sku: str, owner: tuple[str, int] | None) -> None:
        if not sku:
            return
        holder = self._skus.get(sku.casefold())
        if holder is not None and holder != owner:
            raise conflict(
                f"Sku '{sku}' is not unique.",
                {"sku": f"The SKU '{sku}' is already in use by another {holder[0]}."},
            )

    def _plan_children(
        self, items: Any, field: str, spec: Mapping[str, Any], required: list[str]
    ) -> list[dict[str, Any]]:
        if items is None:
            return []
        if not isinstance(items, list):
            raise invalid("Input is invalid", {field: f"The field '{field}' must be an array."})
        out = []
        for index, item in enumerate(items):
            errors: dict[str, str] = {}
            if not isinstance(item, dict):
                raise invalid("Input is invalid", {f"{field}[{index}]": "Must be an object."})
            fields = read_fields(item, spec, errors)
            for name in required:
                if not fields.get(name):
                    errors[f"{field}[{index}].{name}"] = f"Please provide a {name}."
            if errors:
                raise invalid("Input is invalid", errors)
            out.append(fields)
        return out

    def get_product(self, product_id: int) -> Record:
        product = self.products.get(product_id)
        if product is None:
            raise not_found(f"Product {product_id} was not found.")
        return product

    touch_frozen = False
    """True while a write the quirks exempt runs (``quirks.date_modified_frozen_by``)."""

    def touch(self, product: Record) -> None:
        if not self.touch_frozen:
            product["date_modified"] = now_rfc3339()

    def touch_product(self, product_id: int) -> None:
        """Move the product's ``date_modified``, as every write to one of its sub-resources does
        (variants, options, modifiers, images, videos, custom fields, complex rules, metafields,
        reviews, bulk pricing rules, channel assignments: the
        ``ASSUMPTION_PRODUCT_DATE_MODIFIED_MOVES_ON_*`` entries of stagesync/assumptions.py).
        Nothing for a product that no longer exists."""
        product = self.products.get(product_id)
        if product is not None:
            self.touch(product)

    def prepare_product_update(self, product_id: int, body: Any) -> Callable[[], Record]:
        """Validate a product update and return the function applying it (``products``)."""
        raise NotImplementedError
