"""One emulated store: its ID sequence, its data, and the catalogue rules the platform enforces.

Every write goes through a method here, used alike by the HTTP handlers and by the demo seed, so
seeded objects look exactly like ones a client created. Each method validates first and mutates
only once the whole request is known to succeed (no half-applied writes), and it raises
``ApiError`` with the platform's status and body when a rule is broken.
"""

from __future__ import annotations

import copy
import re
import time
import unicodedata
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from .errors import ApiError, conflict, invalid, not_found
from .fields import (
    BRAND_FIELDS,
    CATEGORY_FIELDS,
    CUSTOM_FIELD_FIELDS,
    IMAGE_FIELDS,
    OPTION_FIELDS,
    OPTION_VALUE_FIELDS,
    PRODUCT_FIELDS,
    PRODUCT_MAX_LENGTHS,
    SHARED_WITH_BASE_VARIANT,
    VARIANT_FIELDS,
    defaults,
    read_fields,
)

Record = dict[str, Any]

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


class Store:
    """The state of one store. All methods are synchronous: a request's mutation is atomic."""

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

    def next_id(self) -> int:
        value = self._next_id
        self._next_id += 1
        return value

    # ---- store information ---------------------------------------------------------------------

    def info(self) -> Record:
        domain = f"{slugify(self.store_hash)}.example-store.com"
        return {
            "id": self.store_hash,
            "account_uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"store:{self.store_hash}")),
            "domain": domain,
            "secure_url": f"https://{domain}",
            "control_panel_base_url": f"https://store-{self.store_hash}.mybigcommerce.com",
            "status": "live",
            "name": self.name,
            "first_name": "Store",
            "last_name": "Owner",
            "address": "",
            "country": "United States",
            "country_code": "US",
            "phone": "",
            "admin_email": f"admin@{domain}",
            "order_email": f"orders@{domain}",
            "favicon_url": "",
            "timezone": {
                "name": "Etc/UTC",
                "raw_offset": 0,
                "dst_offset": 0,
                "dst_correction": False,
                "date_format": {
                    "display": "M jS Y",
                    "export": "M jS Y",
                    "extended_display": "M jS Y @ g:i A",
                },
            },
            "language": "en",
            "currency": "USD",
            "currency_symbol": "$",
            "decimal_separator": ".",
            "thousands_separator": ",",
            "decimal_places": 2,
            "currency_symbol_location": "left",
            "weight_units": "LBS",
            "dimension_units": "Inches",
            "dimension_decimal_places": 2,
            "dimension_decimal_token": ".",
            "dimension_thousands_token": ",",
            "plan_name": "Standard",
            "plan_level": "Standard",
            "plan_is_trial": False,
            "industry": "Apparel",
            "logo": [],
            "is_price_entered_with_tax": False,
            "store_id": id_offset(self.store_hash) * 1000 + 7,
            "default_channel_id": 1,
            "default_site_id": 1000,
            "active_comparison_modules": [],
            "features": {
                "stencil_enabled": True,
                "sitewidehttps_enabled": True,
                "facebook_catalog_id": "",
                "checkout_type": "optimized",
                "wishlists_enabled": True,
                "graphql_storefront_api_enabled": True,
                "shopper_consent_tracking_enabled": True,
                "multi_storefront_enabled": True,
                "storefront_limits": {"active": 1, "total_including_inactive": 1},
            },
        }

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

    # ---- brands ---------------------------------------------------------------------------------

    def render_brand(self, brand: Record) -> Record:
        return copy.deepcopy(brand)

    def find_brand_by_name(self, name: str) -> Record | None:
        for brand in self.brands.values():
            if brand["name"].casefold() == name.casefold():
                return brand
        return None

    def create_brand(self, body: Mapping[str, Any]) -> Record:
        errors: dict[str, str] = {}
        fields = read_fields(body, BRAND_FIELDS, errors)
        if not fields.get("name"):
            raise _missing(errors, ["name"])
        _too_long(errors, fields, {"name": 255, "page_title": 255, "search_keywords": 255})
        if errors:
            raise invalid("Input is invalid", errors)
        if self.find_brand_by_name(fields["name"]) is not None:
            raise conflict(
                f"Brand name '{fields['name']}' is not unique.",
                {"name": "Brand name must be unique."},
            )
        url, customized = self._requested_url(body, "custom_url", "url", None, errors)
        if errors:
            raise invalid("Input is invalid", errors)
        brand_id = self.next_id()
        owner = ("brand", brand_id)
        url = url or self._free_url(f"/{slugify(fields['name'])}/", owner)
        brand = {"id": brand_id, **defaults(BRAND_FIELDS), **fields}
        brand["custom_url"] = {"url": url, "is_customized": customized}
        self._set_url(owner, None, url)
        self.brands[brand_id] = brand
        return brand

    def update_brand(self, brand_id: int, body: Mapping[str, Any]) -> Record:
        brand = self.brands.get(brand_id)
        if brand is None:
            raise not_found("The brand was not found.")
        errors: dict[str, str] = {}
        fields = read_fields(body, BRAND_FIELDS, errors)
        if "name" in fields and not fields["name"]:
            errors["name"] = "Brand name must not be empty."
        _too_long(errors, fields, {"name": 255, "page_title": 255, "search_keywords": 255})
        if errors:
            raise invalid("Input is invalid", errors)
        if "name" in fields:
            other = self.find_brand_by_name(fields["name"])
            if other is not None and other["id"] != brand_id:
                raise conflict(
                    f"Brand name '{fields['name']}' is not unique.",
                    {"name": "Brand name must be unique."},
                )
        owner = ("brand", brand_id)
        url, customized = self._requested_url(body, "custom_url", "url", owner, errors)
        if errors:
            raise invalid("Input is invalid", errors)
        brand.update(fields)
        if url is not None:
            self._set_url(owner, brand["custom_url"]["url"], url)
            brand["custom_url"] = {"url": url, "is_customized": customized}
        return brand

    def delete_brand(self, brand_id: int) -> None:
        brand = self.brands.pop(brand_id, None)
        if brand is None:
            raise not_found("The brand was not found.")
        self._drop_url(("brand", brand_id), brand["custom_url"]["url"])
        for product in self.products.values():
            if product["brand_id"] == brand_id:
                product["brand_id"] = 0

    def _requested_url(
        self,
        body: Mapping[str, Any],
        field: str,
        key: str,
        owner: tuple[str, int] | None,
        errors: dict[str, str],
    ) -> tuple[str | None, bool]:
        """A URL the client asked for (``custom_url.url`` or tree ``url.path``), if any."""
        value = body.get(field)
        if value is None:
            return None, False
        if not isinstance(value, dict) or key not in value:
            errors[field] = f"The field '{field}' must be an object with '{key}'."
            return None, False
        url = value[key]
        if not self._check_custom_url(url, owner, errors):
            return None, False
        customized = value.get("is_customized", True)
        return str(url), bool(customized)

    # ---- category trees and categories ----------------------------------------------------------

    def tree_for_channel(self, channel_id: int) -> Record | None:
        for tree in self.trees.values():
            if channel_id in tree["channels"]:
                return tree
        return None

    def upsert_tree(self, body: Mapping[str, Any]) -> Record:
        if not isinstance(body, dict):
            raise invalid("Input is invalid", {"tree": "Each tree must be an object."})
        tree_id = body.get("id")
        if tree_id:
            tree = self.trees.get(tree_id) if isinstance(tree_id, int) else None
            if tree is None:
                raise invalid("Tree not found", {"id": f"Category tree {tree_id} does not exist."})
            if "channels" in body:
                raise invalid(
                    "Input is invalid",
                    {"channels": "The channels field must be absent when updating a tree."},
                )
            name = body.get("name", tree["name"])
            if not isinstance(name, str) or not name or len(name) > 255:
                raise invalid("Input is invalid", {"name": "The tree name is invalid."})
            tree["name"] = name
            return tree
        name = body.get("name")
        channels = body.get("channels")
        errors: dict[str, str] = {}
        if not isinstance(name, str) or not name:
            errors["name"] = "Please provide a name."
        if not isinstance(channels, list) or len(channels) != 1:
            errors["channels"] = "Please provide exactly one channel ID."
        if errors:
            raise _missing({}, errors)
        assert isinstance(channels, list)
        channel_id = channels[0]
        if channel_id not in self.channels:
            raise invalid("Input is invalid", {"channels": f"Channel {channel_id} does not exist."})
        if self.tree_for_channel(channel_id) is not None:
            raise invalid(
                "Input is invalid",
                {"channels": f"Channel {channel_id} already has a category tree."},
            )
        new_id = self.next_id()
        tree = {"id": new_id, "name": name, "channels": [channel_id]}
        self.trees[new_id] = tree
        return tree

    def delete_tree(self, tree_id: int) -> None:
        if tree_id not in self.trees:
            return
        roots = [
            c["id"]
            for c in self.categories.values()
            if c["tree_id"] == tree_id and not c["parent_id"]
        ]
        self.delete_categories(roots)
        del self.trees[tree_id]

    def category_depth(self, category_id: int) -> int:
        depth = 0
        current: int = category_id
        while current:
            depth += 1
            current = self.categories[current]["parent_id"]
        return depth

    def category_path(self, category_id: int) -> list[int]:
        path: list[int] = []
        current = category_id
        while current:
            path.append(current)
            current = self.categories[current]["parent_id"]
        return list(reversed(path))

    def _subtree(self, category_id: int) -> list[int]:
        out = [category_id]
        for child in self.categories.values():
            if child["parent_id"] == category_id:
                out.extend(self._subtree(child["id"]))
        return out

    def _subtree_height(self, category_id: int) -> int:
        children = [c["id"] for c in self.categories.values() if c["parent_id"] == category_id]
        return 1 + max((self._subtree_height(c) for c in children), default=0)

    def _auto_category_url(self, parent_id: int, name: str, owner: tuple[str, int] | None) -> str:
        parts = [slugify(self.categories[c]["name"]) for c in self.category_path(parent_id)]
        parts.append(slugify(name))
        return self._free_url("/" + "/".join(parts) + "/", owner)

    def _sibling_conflict(
        self, tree_id: int, parent_id: int, name: str, own_id: int | None
    ) -> None:
        for other in self.categories.values():
            if (
                other["tree_id"] == tree_id
                and other["parent_id"] == parent_id
                and other["id"] != own_id
                and other["name"].casefold() == name.casefold()
            ):
                raise conflict(
                    f"Category name '{name}' is not unique among its siblings.",
                    {"name": "The name must be unique among the category's siblings."},
                )

    def create_category(self, body: Mapping[str, Any], *, tree_api: bool = False) -> Record:
        """Create one category. Legacy bodies use ``custom_url``; tree ones ``tree_id``, ``url``."""
        if not isinstance(body, dict):
            raise invalid("Input is invalid", {"category": "Each category must be an object."})
        errors: dict[str, str] = {}
        fields = read_fields(body, CATEGORY_FIELDS, errors)
        parent_id = body.get("parent_id", 0 if not tree_api else None)
        tree_id = body.get("tree_id") if tree_api else self.default_tree_id
        missing = []
        if not fields.get("name"):
            missing.append("name")
        if tree_api and not parent_id and not tree_id:
            missing.append("tree_id")
        if not tree_api and "parent_id" not in body:
            missing.append("parent_id")
        if missing:
            raise _missing(errors, missing)
        if parent_id is not None and (
            not isinstance(parent_id, int) or isinstance(parent_id, bool)
        ):
            errors["parent_id"] = "The field 'parent_id' is invalid."
        if len(fields["name"]) > MAX_CATEGORY_NAME:
            errors["name"] = f"The name must be at most {MAX_CATEGORY_NAME} characters."
        if errors:
            raise invalid("Input is invalid", errors)
        parent_id = parent_id or 0
        if parent_id:
            parent = self.categories.get(parent_id)
            if parent is None:
                raise invalid(
                    "Parent category does not exist.",
                    {"parent_id": f"Category {parent_id} does not exist."},
                )
            if tree_id and tree_id != parent["tree_id"]:
                raise invalid(
                    "Input is invalid",
                    {"tree_id": "The parent category belongs to another tree."},
                )
            tree_id = parent["tree_id"]
            if self.category_depth(parent_id) + 1 > MAX_CATEGORY_DEPTH:
                raise invalid(
                    "Category depth limit exceeded.",
                    {"parent_id": f"Categories can be at most {MAX_CATEGORY_DEPTH} levels deep."},
                )
        if tree_id not in self.trees:
            raise invalid(
                "Input is invalid", {"tree_id": f"Category tree {tree_id} does not exist."}
            )
        self._sibling_conflict(tree_id, parent_id, fields["name"], None)
        url_field, url_key = ("url", "path") if tree_api else ("custom_url", "url")
        url, customized = self._requested_url(body, url_field, url_key, None, errors)
        if errors:
            raise invalid("Input is invalid", errors)
        category_id = self.next_id()
        owner = ("category", category_id)
        url = url or self._auto_category_url(parent_id, fields["name"], owner)
        category: Record = {
            "id": category_id,
            "category_uuid": str(uuid.uuid4()),
            "tree_id": tree_id,
            "parent_id": parent_id,
            **defaults(CATEGORY_FIELDS),
            **fields,
            "url": {"path": url, "is_customized": customized},
        }
        self._set_url(owner, None, url)
        self.categories[category_id] = category
        return category

    def update_category(
        self, category_id: int, body: Mapping[str, Any], *, tree_api: bool = False
    ) -> Record:
        category = self.categories.get(category_id)
        if category is None:
            raise not_found("The category was not found.")
        errors: dict[str, str] = {}
        fields = read_fields(body, CATEGORY_FIELDS, errors)
        if "name" in fields and not fields["name"]:
            errors["name"] = "The name must not be empty."
        if len(fields.get("name", "")) > MAX_CATEGORY_NAME:
            errors["name"] = f"The name must be at most {MAX_CATEGORY_NAME} characters."
        parent_id = body.get("parent_id", category["parent_id"])
        if not isinstance(parent_id, int) or isinstance(parent_id, bool):
            errors["parent_id"] = "The field 'parent_id' is invalid."
        if errors:
            raise invalid("Input is invalid", errors)
        if parent_id != category["parent_id"] and parent_id:
            parent = self.categories.get(parent_id)
            if parent is None or parent["tree_id"] != category["tree_id"]:
                raise invalid(
                    "Parent category does not exist.",
                    {"parent_id": f"Category {parent_id} does not exist."},
                )
            if parent_id in self._subtree(category_id):
                raise invalid(
                    "Input is invalid",
                    {"parent_id": "A category cannot be moved below itself."},
                )
            depth = self.category_depth(parent_id) + self._subtree_height(category_id)
            if depth > MAX_CATEGORY_DEPTH:
                raise invalid(
                    "Category depth limit exceeded.",
                    {"parent_id": f"Categories can be at most {MAX_CATEGORY_DEPTH} levels deep."},
                )
        name = str(fields.get("name", category["name"]))
        self._sibling_conflict(category["tree_id"], parent_id, name, category_id)
        owner = ("category", category_id)
        url_field, url_key = ("url", "path") if tree_api else ("custom_url", "url")
        url, customized = self._requested_url(body, url_field, url_key, owner, errors)
        if errors:
            raise invalid("Input is invalid", errors)
        category.update(fields)
        category["parent_id"] = parent_id
        if url is not None:
            self._set_url(owner, category["url"]["path"], url)
            category["url"] = {"path": url, "is_customized": customized}
        return category

    def delete_categories(self, category_ids: Iterable[int]) -> None:
        """Delete categories and their subtrees; 422 (nothing deleted) if any holds products."""
        doomed: list[int] = []
        for category_id in category_ids:
            if category_id in self.categories:
                doomed.extend(c for c in self._subtree(category_id) if c not in doomed)
        doomed_set = set(doomed)
        for product in self.products.values():
            used = doomed_set.intersection(product["categories"])
            if used:
                raise invalid(
                    "Category has products assigned and cannot be deleted.",
                    {
                        "category_id": f"Category {min(used)} contains products. Move the "
                        "products to another category before deleting it."
                    },
                )
        for category_id in doomed:
            category = self.categories.pop(category_id)
            self._drop_url(("category", category_id), category["url"]["path"])

    def render_category_legacy(self, category: Record) -> Record:
        out = {"id": category["id"], "parent_id": category["parent_id"]}
        for name in CATEGORY_FIELDS:
            out[name] = copy.deepcopy(category[name])
        out["custom_url"] = {
            "url": category["url"]["path"],
            "is_customized": category["url"]["is_customized"],
        }
        return out

    def render_category_tree(self, category: Record) -> Record:
        out = {
            "category_id": category["id"],
            "category_uuid": category["category_uuid"],
            "parent_id": category["parent_id"],
            "tree_id": category["tree_id"],
        }
        for name in CATEGORY_FIELDS:
            out[name] = copy.deepcopy(category[name])
        out["url"] = dict(category["url"])
        return out

    def category_node(self, category: Record, depth_limit: int | None, depth: int = 0) -> Record:
        children = sorted(
            (c for c in self.categories.values() if c["parent_id"] == category["id"]),
            key=lambda c: (c["sort_order"], c["id"]),
        )
        node: Record = {
            "id": category["id"],
            "parent_id": category["parent_id"],
            "depth": depth,
            "path": self.category_path(category["id"])[:-1],
            "name": category["name"],
            "is_visible": category["is_visible"],
            "url": category["url"]["path"],
            "children": [],
        }
        if depth_limit is None or depth + 1 < depth_limit:
            node["children"] = [self.category_node(c, depth_limit, depth + 1) for c in children]
        return node

    # ---- products -------------------------------------------------------------------------------

    def _sku_conflict(self, sku: str, owner: tuple[str, int] | None) -> None:
        if not sku:
            return
        holder = self._skus.get(sku.casefold())
        if holder is not None and holder != owner:
            raise conflict(
                f"Sku '{sku}' is not unique.",
                {"sku": f"The SKU '{sku}' is already in use by another {holder[0]}."},
            )

    def _product_name_conflict(self, name: str, own_id: int | None) -> None:
        holder = self._product_names.get(name.casefold())
        if holder is not None and holder != own_id:
            raise conflict(
                "The product name is a duplicate",
                {"name": f"The product name '{name}' is already in use."},
            )

    def _check_references(self, fields: Mapping[str, Any]) -> None:
        brand_id = fields.get("brand_id")
        if brand_id and brand_id not in self.brands:
            raise conflict(
                f"Brand with id {brand_id} does not exist.",
                {"brand_id": f"Brand {brand_id} does not exist."},
            )
        for category_id in fields.get("categories", []):
            if category_id not in self.categories:
                raise conflict(
                    f"Category with id {category_id} does not exist.",
                    {"categories": f"Category {category_id} does not exist."},
                )

    def _validate_product_fields(
        self, body: Mapping[str, Any], own_id: int | None
    ) -> tuple[dict[str, Any], str | None, bool]:
        errors: dict[str, str] = {}
        fields = read_fields(body, PRODUCT_FIELDS, errors)
        _too_long(errors, fields, PRODUCT_MAX_LENGTHS)
        if "categories" in fields and len(fields["categories"]) > 1000:
            errors["categories"] = "A product can be in at most 1,000 categories."
        if "name" in fields and not fields["name"].strip():
            errors["name"] = "Please provide a name."
        owner = ("product", own_id) if own_id is not None else None
        url, customized = self._requested_url(body, "custom_url", "url", owner, errors)
        if errors:
            raise invalid("Input is invalid", errors)
        if "name" in fields:
            self._product_name_conflict(fields["name"], own_id)
        if "sku" in fields:
            self._sku_conflict(fields["sku"], owner)
        self._check_references(fields)
        return fields, url, customized

    def create_product(self, body: Any) -> Record:
        if not isinstance(body, dict):
            raise ApiError(400, "Input is invalid", detail="The request body must be one product.")
        missing = [name for name in ("name", "type", "weight", "price") if name not in body]
        if missing:
            raise _missing({}, missing)
        fields, url, customized = self._validate_product_fields(body, None)
        variant_plan = self._plan_inline_variants(body.get("variants"), fields.get("sku", ""))
        images = self._plan_children(body.get("images"), "images", IMAGE_FIELDS, ["image_url"])
        custom_fields = self._plan_children(
            body.get("custom_fields"), "custom_fields", CUSTOM_FIELD_FIELDS, ["name", "value"]
        )
        self._check_custom_field_set(custom_fields, [])
        # Everything is valid: apply.
        product_id = self.next_id()
        owner = ("product", product_id)
        stamp = now_rfc3339()
        product: Record = {
            "id": product_id,
            **defaults(PRODUCT_FIELDS),
            **fields,
            "date_created": stamp,
            "date_modified": stamp,
            "variant_ids": [],
            "option_ids": [],
            "image_ids": [],
            "custom_field_ids": [],
            "base_variant_id": None,
        }
        url = url or self._free_url(f"/{slugify(product['name'])}/", owner)
        product["custom_url"] = {"url": url, "is_customized": customized}
        self._set_url(owner, None, url)
        self.products[product_id] = product
        self._product_names[product["name"].casefold()] = product_id
        if product["sku"]:
            self._skus[product["sku"].casefold()] = owner
        if variant_plan:
            option_ids: dict[str, int] = {}
            value_ids: dict[tuple[str, str], int] = {}
            for display_name, labels in variant_plan["options"].items():
                option = self._add_option(
                    product,
                    {
                        "display_name": display_name,
                        "type": "rectangles",
                        "option_values": [
                            {"label": label, "sort_order": i} for i, label in enumerate(labels)
                        ],
                    },
                )
                option_ids[display_name] = option["id"]
                for value in option["option_values"]:
                    value_ids[(display_name, value["label"])] = value["id"]
            for variant_fields, pairs in variant_plan["variants"]:
                refs = [(option_ids[d], value_ids[(d, label)]) for d, label in pairs]
                self._add_variant(product, variant_fields, refs)
        else:
            self._ensure_base_variant(product)
        for image in images:
            self._add_image(product, image)
        for custom_field in custom_fields:
            self._add_custom_field(product, custom_field)
        return product

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

    def _plan_inline_variants(self, variants: Any, product_sku: str) -> Record | None:
        """Validate inline variants; return the options to create and the variants to add."""
        if variants is None:
            return None
        if not isinstance(variants, list):
            raise invalid(
                "Input is invalid", {"variants": "The field 'variants' must be an array."}
            )
        if len(variants) > MAX_VARIANTS:
            raise invalid("Input is invalid", {"variants": f"At most {MAX_VARIANTS} variants."})
        options: dict[str, list[str]] = {}
        planned: list[tuple[dict[str, Any], list[tuple[str, str]]]] = []
        seen_skus: set[str] = {product_sku.casefold()} if product_sku else set()
        seen_combos: set[tuple[tuple[str, str], ...]] = set()
        for index, variant in enumerate(variants):
            if not isinstance(variant, dict):
                raise invalid("Input is invalid", {f"variants[{index}]": "Must be an object."})
            errors: dict[str, str] = {}
            fields = read_fields(variant, VARIANT_FIELDS, errors)
            if not fields.get("sku"):
                raise _missing(errors, [f"variants[{index}].sku"])
            if errors:
                raise invalid("Input is invalid", errors)
            sku = fields["sku"]
            if sku.casefold() in seen_skus:
                raise conflict(f"Sku '{sku}' is not unique.", {"sku": f"Duplicate SKU '{sku}'."})
            self._sku_conflict(sku, None)
            seen_skus.add(sku.casefold())
            values = variant.get("option_values") or []
            pairs: list[tuple[str, str]] = []
            if not isinstance(values, list) or not values:
                raise invalid(
                    "Input is invalid",
                    {f"variants[{index}].option_values": "Each variant needs option values."},
                )
            for value in values:
                display = value.get("option_display_name") if isinstance(value, dict) else None
                label = value.get("label") if isinstance(value, dict) else None
                if not isinstance(display, str) or not isinstance(label, str) or not display:
                    raise invalid(
                        "Input is invalid",
                        {
                            f"variants[{index}].option_values": "Inline variant option values "
                            "need option_display_name and label."
                        },
                    )
                pairs.append((display, label))
                labels = options.setdefault(display, [])
                if label not in labels:
                    labels.append(label)
            combo = tuple(sorted(pairs))
            if combo in seen_combos or len({d for d, _ in pairs}) != len(pairs):
                raise conflict(
                    "A variant with the same option values already exists.",
                    {f"variants[{index}].option_values": "Duplicate option value combination."},
                )
            seen_combos.add(combo)
            planned.append((fields, pairs))
        if not planned:
            return None
        names = set(options)
        for index, (_, pairs) in enumerate(planned):
            if {d for d, _ in pairs} != names:
                raise invalid(
                    "Input is invalid",
                    {
                        f"variants[{index}].option_values": "Every variant needs a value for each "
                        f"option: {', '.join(sorted(names))}."
                    },
                )
        return {"options": options, "variants": planned}

    def update_product(self, product_id: int, body: Any) -> Record:
        apply = self.prepare_product_update(product_id, body)
        return apply()

    def prepare_product_update(self, product_id: int, body: Any) -> Callable[[], Record]:
        """Validate an update; return a function that applies it (batches validate all first)."""
        product = self.products.get(product_id)
        if product is None:
            raise not_found(f"Product {product_id} was not found.")
        _require_object(body)
        fields, url, customized = self._validate_product_fields(body, product_id)

        def apply() -> Record:
            owner = ("product", product_id)
            if "name" in fields:
                self._product_names.pop(product["name"].casefold(), None)
                self._product_names[fields["name"].casefold()] = product_id
            if "sku" in fields:
                if product["sku"] and self._skus.get(product["sku"].casefold()) == owner:
                    del self._skus[product["sku"].casefold()]
                if fields["sku"]:
                    self._skus[fields["sku"].casefold()] = owner
            product.update(fields)
            if url is not None:
                self._set_url(owner, product["custom_url"]["url"], url)
                product["custom_url"] = {"url": url, "is_customized": customized}
            product["date_modified"] = now_rfc3339()
            return product

        return apply

    def delete_product(self, product_id: int) -> None:
        product = self.products.pop(product_id, None)
        if product is None:
            raise not_found(f"Product {product_id} was not found.")
        owner = ("product", product_id)
        self._product_names.pop(product["name"].casefold(), None)
        if product["sku"] and self._skus.get(product["sku"].casefold()) == owner:
            del self._skus[product["sku"].casefold()]
        self._drop_url(owner, product["custom_url"]["url"])
        for variant_id in product["variant_ids"]:
            variant = self.variants.pop(variant_id)
            self._release_variant_sku(variant)
        for option_id in product["option_ids"]:
            self.options.pop(option_id, None)
        for image_id in product["image_ids"]:
            self.images.pop(image_id, None)
        for field_id in product["custom_field_ids"]:
            self.custom_fields.pop(field_id, None)
        for hook in PRODUCT_DELETE_HOOKS:
            hook(self, product_id)
        for other in self.products.values():
            if product_id in other["related_products"]:
                other["related_products"] = [
                    p for p in other["related_products"] if p != product_id
                ]

    def get_product(self, product_id: int) -> Record:
        product = self.products.get(product_id)
        if product is None:
            raise not_found(f"Product {product_id} was not found.")
        return product

    def render_product(self, product: Record, include: Iterable[str] = ()) -> Record:
        out: Record = {"id": product["id"]}
        for name in PRODUCT_FIELDS:
            out[name] = copy.deepcopy(product[name])
        sale = product["sale_price"]
        out.update(
            {
                "calculated_price": sale if sale and sale > 0 else product["price"],
                "option_set_id": None,
                "option_set_display": "right",
                "reviews_rating_sum": 0,
                "reviews_count": 0,
                "total_sold": 0,
                "view_count": 0,
                "date_last_imported": None,
                "date_created": product["date_created"],
                "date_modified": product["date_modified"],
                "custom_url": dict(product["custom_url"]),
                "base_variant_id": product["base_variant_id"],
            }
        )
        wanted = set(include)
        if "variants" in wanted:
            out["variants"] = [
                self.render_variant(self.variants[v]) for v in product["variant_ids"]
            ]
        if "images" in wanted:
            out["images"] = [self.render_image(self.images[i]) for i in product["image_ids"]]
        if "primary_image" in wanted:
            thumbs = [
                self.images[i] for i in product["image_ids"] if self.images[i]["is_thumbnail"]
            ]
            out["primary_image"] = self.render_image(thumbs[0]) if thumbs else None
        if "custom_fields" in wanted:
            out["custom_fields"] = [
                self.render_custom_field(self.custom_fields[c]) for c in product["custom_field_ids"]
            ]
        if "options" in wanted:
            out["options"] = [self.render_option(self.options[o]) for o in product["option_ids"]]
        if "parent_relations" in wanted:
            out["parent_relations"] = []
        for hook in PRODUCT_RENDER_HOOKS:
            hook(self, product, out, wanted)
        return out

    def touch(self, product: Record) -> None:
        product["date_modified"] = now_rfc3339()

    # ---- variants -------------------------------------------------------------------------------

    def _release_variant_sku(self, variant: Record) -> None:
        owner = ("variant", variant["id"])
        sku = variant.get("sku") or ""
        if sku and self._skus.get(sku.casefold()) == owner:
            del self._skus[sku.casefold()]

    def _ensure_base_variant(self, product: Record) -> None:
        if product["variant_ids"]:
            return
        variant_id = self.next_id()
        self.variants[variant_id] = {
            "id": variant_id,
            "product_id": product["id"],
            "is_base": True,
            "sku_id": None,
            "option_value_refs": [],
            "purchasing_disabled": False,
            "purchasing_disabled_message": "",
            "image_url": "",
        }
        product["variant_ids"].append(variant_id)
        product["base_variant_id"] = variant_id

    def _add_variant(
        self, product: Record, fields: Mapping[str, Any], refs: list[tuple[int, int]]
    ) -> Record:
        if product["base_variant_id"] is not None:
            base = self.variants.pop(product["base_variant_id"])
            product["variant_ids"].remove(base["id"])
            product["base_variant_id"] = None
        variant_id = self.next_id()
        variant: Record = {
            "id": variant_id,
            "product_id": product["id"],
            "is_base": False,
            "sku_id": self.next_id(),
            **defaults(VARIANT_FIELDS),
            **fields,
            "option_value_refs": list(refs),
        }
        self.variants[variant_id] = variant
        product["variant_ids"].append(variant_id)
        self._skus[variant["sku"].casefold()] = ("variant", variant_id)
        return variant

    def _resolve_option_values(self, product: Record, values: Any) -> list[tuple[int, int]]:
        if not isinstance(values, list) or not values:
            raise _missing({}, ["option_values"])
        refs: list[tuple[int, int]] = []
        for value in values:
            if not isinstance(value, dict):
                raise invalid("Input is invalid", {"option_values": "Must be objects."})
            ref = self._find_option_value(product, value)
            if ref is None:
                raise invalid(
                    "Input is invalid",
                    {"option_values": f"Option value {value} does not exist on this product."},
                )
            refs.append(ref)
        option_ids = [o for o, _ in refs]
        if len(set(option_ids)) != len(option_ids) or set(option_ids) != set(product["option_ids"]):
            raise invalid(
                "Input is invalid",
                {"option_values": "A variant needs exactly one value for each product option."},
            )
        for variant_id in product["variant_ids"]:
            if sorted(self.variants[variant_id]["option_value_refs"]) == sorted(refs):
                raise conflict(
                    "A variant with the same option values already exists.",
                    {"option_values": "Duplicate option value combination."},
                )
        return refs

    def _find_option_value(
        self, product: Record, value: Mapping[str, Any]
    ) -> tuple[int, int] | None:
        for option_id in product["option_ids"]:
            option = self.options[option_id]
            if "option_id" in value and value["option_id"] != option_id:
                continue
            if (
                "option_display_name" in value
                and value["option_display_name"] != option["display_name"]
            ):
                continue
            for option_value in option["option_values"]:
                if "id" in value and value["id"] == option_value["id"]:
                    return option_id, option_value["id"]
                if "id" not in value and value.get("label") == option_value["label"]:
                    return option_id, option_value["id"]
        return None

    def create_variant(self, product_id: int, body: Any) -> Record:
        product = self.get_product(product_id)
        if not isinstance(body, dict):
            raise ApiError(400, "Input is invalid", detail="The request body must be one variant.")
        errors: dict[str, str] = {}
        fields = read_fields(body, VARIANT_FIELDS, errors)
        missing = [n for n in ("sku",) if not fields.get("sku")]
        if "option_values" not in body:
            missing.append("option_values")
        if missing:
            raise _missing(errors, missing)
        if errors:
            raise invalid("Input is invalid", errors)
        if len(product["variant_ids"]) >= MAX_VARIANTS:
            raise invalid("Input is invalid", {"variants": f"At most {MAX_VARIANTS} variants."})
        self._sku_conflict(fields["sku"], None)
        refs = self._resolve_option_values(product, body.get("option_values"))
        variant = self._add_variant(product, fields, refs)
        self.touch(product)
        return variant

    def prepare_variant_update(
        self, variant_id: int, body: Any, product_id: int | None
    ) -> Callable[[], Record]:
        variant = self.variants.get(variant_id)
        if variant is None or (product_id is not None and variant["product_id"] != product_id):
            raise not_found(f"Variant {variant_id} was not found.")
        _require_object(body)
        product = self.products[variant["product_id"]]
        errors: dict[str, str] = {}
        fields = read_fields(body, VARIANT_FIELDS, errors)
        if "sku" in fields and not fields["sku"] and not variant["is_base"]:
            errors["sku"] = "Please provide a sku."
        if errors:
            raise invalid("Input is invalid", errors)
        if variant["is_base"]:
            shared = {k: v for k, v in fields.items() if k in SHARED_WITH_BASE_VARIANT}
            own = {k: v for k, v in fields.items() if k not in SHARED_WITH_BASE_VARIANT}
            # A base variant is the product's own row: nullable variant values mean "no change".
            shared = {k: v for k, v in shared.items() if v is not None}
            apply_product = self.prepare_product_update(product["id"], shared)

            def apply_base() -> Record:
                apply_product()
                variant.update(own)
                return variant

            return apply_base
        if "sku" in fields:
            self._sku_conflict(fields["sku"], ("variant", variant_id))
        refs = None
        if "option_values" in body:
            others = [v for v in product["variant_ids"] if v != variant_id]
            saved = product["variant_ids"]
            product["variant_ids"] = others
            try:
                refs = self._resolve_option_values(product, body["option_values"])
            finally:
                product["variant_ids"] = saved

        def apply() -> Record:
            if "sku" in fields:
                self._release_variant_sku(variant)
                self._skus[fields["sku"].casefold()] = ("variant", variant_id)
            variant.update(fields)
            if refs is not None:
                variant["option_value_refs"] = refs
            self.touch(product)
            return variant

        return apply

    def delete_variant(self, product_id: int, variant_id: int) -> None:
        product = self.get_product(product_id)
        variant = self.variants.get(variant_id)
        if variant is None or variant["product_id"] != product_id:
            raise not_found(f"Variant {variant_id} was not found.")
        if variant["is_base"]:
            raise invalid(
                "The base variant cannot be deleted.",
                {"id": "A product always has at least one variant."},
            )
        self._remove_variant(product, variant_id)
        self.touch(product)

    def _remove_variant(self, product: Record, variant_id: int) -> None:
        variant = self.variants.pop(variant_id)
        self._release_variant_sku(variant)
        product["variant_ids"].remove(variant_id)
        for hook in VARIANT_DELETE_HOOKS:
            hook(self, variant_id)
        self._ensure_base_variant(product)

    def render_variant(self, variant: Record) -> Record:
        product = self.products[variant["product_id"]]
        out: Record = {"id": variant["id"], "product_id": variant["product_id"]}
        if variant["is_base"]:
            for name in VARIANT_FIELDS:
                if name in SHARED_WITH_BASE_VARIANT:
                    out[name] = copy.deepcopy(product[name])
                else:
                    out[name] = copy.deepcopy(variant.get(name, VARIANT_FIELDS[name][1]))
        else:
            for name in VARIANT_FIELDS:
                out[name] = copy.deepcopy(variant[name])
        out["sku_id"] = variant["sku_id"]
        price = out["price"] if out["price"] is not None else product["price"]
        sale = out["sale_price"] if out["sale_price"] is not None else product["sale_price"]
        out["calculated_price"] = sale if sale and sale > 0 else price
        out["calculated_weight"] = out["weight"] if out["weight"] is not None else product["weight"]
        out["map_price"] = product["map_price"]
        option_values = []
        for option_id, value_id in variant["option_value_refs"]:
            option = self.options[option_id]
            label = next(v["label"] for v in option["option_values"] if v["id"] == value_id)
            option_values.append(
                {
                    "id": value_id,
                    "label": label,
                    "option_id": option_id,
                    "option_display_name": option["display_name"],
                }
            )
        out["option_values"] = option_values
        return out

    # ---- options --------------------------------------------------------------------------------

    def _validate_option(
        self, product: Record, body: Any, own_id: int | None
    ) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
        if not isinstance(body, dict):
            raise ApiError(400, "Input is invalid", detail="The request body must be one option.")
        errors: dict[str, str] = {}
        fields = read_fields(body, OPTION_FIELDS, errors)
        if own_id is None:
            missing = [n for n in ("display_name", "type") if not body.get(n)]
            if "option_values" not in body:
                missing.append("option_values")
            if missing:
                raise _missing(errors, missing)
        if errors:
            raise invalid("Input is invalid", errors)
        if len(fields.get("display_name", "")) > 255:
            raise invalid("Input is invalid", {"display_name": "At most 255 characters."})
        if "display_name" in fields:
            for option_id in product["option_ids"]:
                other = self.options[option_id]
                if option_id != own_id and other["display_name"] == fields["display_name"]:
                    raise conflict(
                        f"The option '{fields['display_name']}' already exists on this product.",
                        {"display_name": "Option display names are unique within a product."},
                    )
        values = None
        if "option_values" in body:
            values = self._plan_children(
                body["option_values"], "option_values", OPTION_VALUE_FIELDS, ["label"]
            )
            labels = [v["label"] for v in values]
            if len(set(labels)) != len(labels):
                raise conflict(
                    "Option value labels must be unique.",
                    {"option_values": "Duplicate label."},
                )
            if len(values) > MAX_OPTION_VALUES:
                raise invalid("Input is invalid", {"option_values": "At most 250 values."})
        return fields, values

    def _add_option(self, product: Record, body: Mapping[str, Any]) -> Record:
        fields, values = self._validate_option(product, body, None)
        option_id = self.next_id()
        option: Record = {
            "id": option_id,
            "product_id": product["id"],
            **{k: copy.deepcopy(d) for k, (_, d) in OPTION_FIELDS.items()},
            **fields,
            "name": f"{fields['display_name']}{int(time.time())}-{product['id']}",
            "option_values": [],
        }
        for value in values or []:
            option["option_values"].append(
                {"id": self.next_id(), **defaults(OPTION_VALUE_FIELDS), **value}
            )
        self.options[option_id] = option
        product["option_ids"].append(option_id)
        return option

    def create_option(self, product_id: int, body: Any) -> Record:
        product = self.get_product(product_id)
        option = self._add_option(product, body)
        self.touch(product)
        return option

    def get_option(self, product_id: int, option_id: int) -> Record:
        return _owned(self.options, product_id, option_id, "Option")

    def update_option(self, product_id: int, option_id: int, body: Any) -> Record:
        product = self.get_product(product_id)
        option = self.get_option(product_id, option_id)
        fields, values = self._validate_option(product, body, option_id)
        option.update(fields)
        if values is not None:
            # Values with a known id or label are updated in place; others are added; values
            # left out are removed along with the variants that use them.
            kept: list[Record] = []
            for value in values:
                existing = next(
                    (v for v in option["option_values"] if v["label"] == value["label"]), None
                )
                if existing is None:
                    kept.append({"id": self.next_id(), **defaults(OPTION_VALUE_FIELDS), **value})
                else:
                    existing.update(value)
                    kept.append(existing)
            removed = {v["id"] for v in option["option_values"]} - {v["id"] for v in kept}
            option["option_values"] = kept
            self._drop_variants_using(product, removed)
        self.touch(product)
        return option

    def _drop_variants_using(self, product: Record, value_ids: set[int]) -> None:
        for variant_id in list(product["variant_ids"]):
            refs = self.variants[variant_id]["option_value_refs"]
            if any(value_id in value_ids for _, value_id in refs):
                self._remove_variant(product, variant_id)

    def delete_option(self, product_id: int, option_id: int) -> None:
        product = self.get_product(product_id)
        option = self.get_option(product_id, option_id)
        self._drop_variants_using(product, {v["id"] for v in option["option_values"]})
        del self.options[option_id]
        product["option_ids"].remove(option_id)
        self.touch(product)

    def render_option(self, option: Record) -> Record:
        out = copy.deepcopy(option)
        out["option_values"] = [self.render_option_value(v) for v in option["option_values"]]
        return out

    def render_option_value(self, value: Record) -> Record:
        return {
            "id": value["id"],
            "label": value["label"],
            "sort_order": value["sort_order"],
            "value_data": copy.deepcopy(value["value_data"]),
            "is_default": value["is_default"],
        }

    def create_option_value(self, product_id: int, option_id: int, body: Any) -> Record:
        option = self.get_option(product_id, option_id)
        values = self._plan_children([body], "option_value", OPTION_VALUE_FIELDS, ["label"])
        value = values[0]
        if "sort_order" not in body:
            raise _missing({}, ["sort_order"])
        if any(v["label"] == value["label"] for v in option["option_values"]):
            raise conflict(
                f"The option value '{value['label']}' already exists.",
                {"label": "Option value labels must be unique within an option."},
            )
        if len(option["option_values"]) >= MAX_OPTION_VALUES:
            raise invalid("Input is invalid", {"option_values": "At most 250 values."})
        record = {"id": self.next_id(), **defaults(OPTION_VALUE_FIELDS), **value}
        option["option_values"].append(record)
        self.touch(self.products[product_id])
        return record

    def get_option_value(self, product_id: int, option_id: int, value_id: int) -> Record:
        option = self.get_option(product_id, option_id)
        for value in option["option_values"]:
            if value["id"] == value_id:
                found: Record = value
                return found
        raise not_found(f"Option value {value_id} was not found.")

    def update_option_value(
        self, product_id: int, option_id: int, value_id: int, body: Any
    ) -> Record:
        option = self.get_option(product_id, option_id)
        value = self.get_option_value(product_id, option_id, value_id)
        _require_object(body)
        errors: dict[str, str] = {}
        fields = read_fields(body, OPTION_VALUE_FIELDS, errors)
        if errors:
            raise invalid("Input is invalid", errors)
        if "label" in fields and any(
            v["label"] == fields["label"] and v["id"] != value_id for v in option["option_values"]
        ):
            raise conflict(
                f"The option value '{fields['label']}' already exists.",
                {"label": "Option value labels must be unique within an option."},
            )
        value.update(fields)
        self.touch(self.products[product_id])
        return value

    def delete_option_value(self, product_id: int, option_id: int, value_id: int) -> None:
        option = self.get_option(product_id, option_id)
        self.get_option_value(product_id, option_id, value_id)
        product = self.products[product_id]
        self._drop_variants_using(product, {value_id})
        option["option_values"] = [v for v in option["option_values"] if v["id"] != value_id]
        self.touch(product)

    # ---- images ---------------------------------------------------------------------------------

    def _add_image(self, product: Record, fields: Mapping[str, Any]) -> Record:
        image_id = self.next_id()
        image: Record = {
            "id": image_id,
            "product_id": product["id"],
            **defaults(IMAGE_FIELDS),
            **fields,
            "date_modified": now_rfc3339(),
        }
        if not any(self.images[i]["is_thumbnail"] for i in product["image_ids"]):
            image["is_thumbnail"] = True
        elif image["is_thumbnail"]:
            for other in product["image_ids"]:
                self.images[other]["is_thumbnail"] = False
        self.images[image_id] = image
        product["image_ids"].append(image_id)
        return image

    def create_image(self, product_id: int, body: Any) -> Record:
        product = self.get_product(product_id)
        if not isinstance(body, dict):
            raise ApiError(400, "Input is invalid", detail="The request body must be one image.")
        fields = self._plan_children([body], "image", IMAGE_FIELDS, [])[0]
        if not fields.get("image_url"):
            raise _missing({}, ["image_url"])
        if len(fields["image_url"]) > 255:
            raise invalid("Input is invalid", {"image_url": "At most 255 characters."})
        if len(product["image_ids"]) >= 1000:
            raise invalid("Input is invalid", {"images": "At most 1,000 images per product."})
        image = self._add_image(product, fields)
        self.touch(product)
        return image

    def get_image(self, product_id: int, image_id: int) -> Record:
        return _owned(self.images, product_id, image_id, "Image")

    def update_image(self, product_id: int, image_id: int, body: Any) -> Record:
        product = self.get_product(product_id)
        image = self.get_image(product_id, image_id)
        _require_object(body)
        errors: dict[str, str] = {}
        fields = read_fields(body, IMAGE_FIELDS, errors)
        if errors:
            raise invalid("Input is invalid", errors)
        if fields.get("is_thumbnail"):
            for other in product["image_ids"]:
                self.images[other]["is_thumbnail"] = False
        image.update(fields)
        image["date_modified"] = now_rfc3339()
        self.touch(product)
        return image

    def delete_image(self, product_id: int, image_id: int) -> None:
        product = self.get_product(product_id)
        image = self.get_image(product_id, image_id)
        del self.images[image_id]
        product["image_ids"].remove(image_id)
        if image["is_thumbnail"] and product["image_ids"]:
            self.images[product["image_ids"][0]]["is_thumbnail"] = True
        self.touch(product)

    def render_image(self, image: Record) -> Record:
        source = image["image_url"].rsplit("/", 1)[-1].split("?", 1)[0] or "image.jpg"
        stem, _, ext = source.rpartition(".")
        if not stem:
            stem, ext = source, "jpg"
        stamp = 1_700_000_000 + image["id"]
        base = f"https://cdn11.bigcommerce.com/s-{self.store_hash}/images/stencil"
        file_part = f"products/{image['product_id']}/{image['id']}/{slugify(stem)}__{stamp}"

        def sized(size: str) -> str:
            w, h = size.split("x")
            return f"{base}/{size}/{file_part}.{w}.{h}.{ext}"

        return {
            "id": image["id"],
            "product_id": image["product_id"],
            "is_thumbnail": image["is_thumbnail"],
            "sort_order": image["sort_order"],
            "description": image["description"],
            "image_file": f"{source[0].lower()}/{stamp % 1000}/{source}",
            "image_url": image["image_url"],
            "url_zoom": sized("1280x1280"),
            "url_standard": sized("500x659"),
            "url_thumbnail": sized("220x290"),
            "url_tiny": sized("44x58"),
            "date_modified": image["date_modified"],
        }

    # ---- custom fields --------------------------------------------------------------------------

    def _check_custom_field_set(
        self, new: list[dict[str, Any]], existing: list[tuple[str, str]]
    ) -> None:
        pairs = list(existing)
        for field in new:
            for name in ("name", "value"):
                if len(field.get(name, "")) > 250:
                    raise invalid("Input is invalid", {name: "At most 250 characters."})
            pair = (field["name"], field["value"])
            if pair in pairs:
                raise conflict(
                    "Custom field name-value pairs must be unique within a product.",
                    {"name": f"The custom field '{pair[0]}: {pair[1]}' already exists."},
                )
            pairs.append(pair)
        if len(pairs) > MAX_CUSTOM_FIELDS:
            raise invalid(
                "Input is invalid",
                {"custom_fields": f"A product can have at most {MAX_CUSTOM_FIELDS} custom fields."},
            )

    def _add_custom_field(self, product: Record, fields: Mapping[str, Any]) -> Record:
        field_id = self.next_id()
        record = {"id": field_id, "product_id": product["id"], **fields}
        self.custom_fields[field_id] = record
        product["custom_field_ids"].append(field_id)
        return record

    def _custom_field_pairs(
        self, product: Record, skip: int | None = None
    ) -> list[tuple[str, str]]:
        return [
            (self.custom_fields[c]["name"], self.custom_fields[c]["value"])
            for c in product["custom_field_ids"]
            if c != skip
        ]

    def create_custom_field(self, product_id: int, body: Any) -> Record:
        product = self.get_product(product_id)
        _require_object(body)
        errors: dict[str, str] = {}
        fields = read_fields(body, CUSTOM_FIELD_FIELDS, errors)
        missing = [n for n in ("name", "value") if not fields.get(n)]
        if missing:
            raise _missing(errors, missing)
        if errors:
            raise invalid("Input is invalid", errors)
        self._check_custom_field_set([fields], self._custom_field_pairs(product))
        record = self._add_custom_field(product, fields)
        self.touch(product)
        return record

    def get_custom_field(self, product_id: int, field_id: int) -> Record:
        return _owned(self.custom_fields, product_id, field_id, "Custom field")

    def update_custom_field(self, product_id: int, field_id: int, body: Any) -> Record:
        product = self.get_product(product_id)
        record = self.get_custom_field(product_id, field_id)
        _require_object(body)
        errors: dict[str, str] = {}
        fields = read_fields(body, CUSTOM_FIELD_FIELDS, errors)
        if errors:
            raise invalid("Input is invalid", errors)
        merged = {"name": record["name"], "value": record["value"], **fields}
        self._check_custom_field_set([merged], self._custom_field_pairs(product, skip=field_id))
        record.update(fields)
        self.touch(product)
        return record

    def delete_custom_field(self, product_id: int, field_id: int) -> None:
        product = self.get_product(product_id)
        self.get_custom_field(product_id, field_id)
        del self.custom_fields[field_id]
        product["custom_field_ids"].remove(field_id)
        self.touch(product)

    def render_custom_field(self, record: Record) -> Record:
        return {"id": record["id"], "name": record["name"], "value": record["value"]}
