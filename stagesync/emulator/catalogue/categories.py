"""Category trees and categories: rules, rendering and routes (``/v3/catalog/categories``,
``/v3/catalog/trees``)."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from stagesync.emulator.errors import ApiError, conflict, invalid, not_found
from stagesync.emulator.fields import (
    CATEGORY_FIELDS,
    defaults,
    read_fields,
)
from stagesync.emulator.routes import (
    FIELDS,
    PAGING,
    Call,
    Endpoint,
    FilterSpec,
    Listing,
    Reply,
    Table,
    apply_filters,
    batch_meta,
    body_list,
    has_filter,
    int_param,
    keyword_filter,
    listed,
    page_of,
    register,
    select_fields,
    single,
)
from stagesync.emulator.schema import BOOL, ID, INT32, Schema, array, obj, string

from .brands import Brands
from .common import (
    CATEGORY_DELETE_HOOKS,
    MAX_CATEGORY_DEPTH,
    MAX_CATEGORY_NAME,
    Record,
    _missing,
    slugify,
)


class Categories(Brands):
    """Category trees and categories: their rules and rendering."""

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
            for hook in CATEGORY_DELETE_HOOKS:
                hook(self.as_store(), category_id)

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


# ---- legacy categories -------------------------------------------------------------------------

LEGACY_CATEGORY_FILTERS: FilterSpec = {
    "id": ("int", lambda c: c["id"]),
    "name": ("str", lambda c: c["name"]),
    "parent_id": ("int", lambda c: c["parent_id"]),
    "page_title": ("str", lambda c: c["page_title"]),
    "is_visible": ("bool", lambda c: c["is_visible"]),
}


def _default_tree_categories(store: Categories) -> list[Record]:
    return [c for c in store.categories.values() if c["tree_id"] == store.default_tree_id]


LEGACY_CATEGORIES = Listing(
    LEGACY_CATEGORY_FILTERS,
    "id id:in id:not_in id:min id:max id:greater id:less name name:like parent_id parent_id:in "
    "parent_id:min parent_id:max parent_id:greater parent_id:less page_title page_title:like "
    "is_visible",
    sorts=("name", "id", "parent_id", "sort_order"),
    others=(*PAGING, *FIELDS, "keyword"),
)


def list_categories(store: Categories, call: Call) -> Reply:
    items = listed(call, _default_tree_categories(store))
    items = keyword_filter(items, call.query, ("name", "description", "search_keywords"))
    rendered = [select_fields(store.render_category_legacy(c), call.query) for c in items]
    return page_of(rendered, call.query)


def create_category(store: Categories, call: Call) -> Reply:
    if not isinstance(call.body, dict):
        raise ApiError(400, "Input is invalid", detail="The request body must be one category.")
    return single(store.render_category_legacy(store.create_category(call.body)))


def delete_categories(store: Categories, call: Call) -> Reply:
    if not has_filter(call.query, LEGACY_CATEGORY_FILTERS):
        raise invalid("A filter is required.", {"id:in": "Provide a filter such as id:in."})
    items = apply_filters(_default_tree_categories(store), call.query, LEGACY_CATEGORY_FILTERS)
    store.delete_categories(c["id"] for c in items)
    return Reply(204)


def _legacy_category(store: Categories, call: Call) -> Record:
    category = store.categories.get(call.params["category_id"])
    if category is None or category["tree_id"] != store.default_tree_id:
        raise not_found("The category was not found.")
    return category


def get_category(store: Categories, call: Call) -> Reply:
    category = _legacy_category(store, call)
    return single(select_fields(store.render_category_legacy(category), call.query))


def update_category(store: Categories, call: Call) -> Reply:
    category = _legacy_category(store, call)
    if not isinstance(call.body, dict):
        raise ApiError(400, "Input is invalid", detail="The request body must be an object.")
    return single(store.render_category_legacy(store.update_category(category["id"], call.body)))


def delete_category(store: Categories, call: Call) -> Reply:
    store.delete_categories([_legacy_category(store, call)["id"]])
    return Reply(204)


# ---- trees and tree categories -----------------------------------------------------------------

TREE_FILTERS: FilterSpec = {
    "id": ("int", lambda t: t["id"]),
    "channel_id": ("ints", lambda t: t["channels"]),
}

TREE_CATEGORY_FILTERS: FilterSpec = {
    "category_id": ("int", lambda c: c["id"]),
    "category_uuid": ("str", lambda c: c["category_uuid"]),
    "tree_id": ("int", lambda c: c["tree_id"]),
    "parent_id": ("int", lambda c: c["parent_id"]),
    "name": ("str", lambda c: c["name"]),
    "page_title": ("str", lambda c: c["page_title"]),
    "is_visible": ("bool", lambda c: c["is_visible"]),
}


TREES_LISTING = Listing(TREE_FILTERS, "id:in channel_id:in", others=PAGING)
TREE_CATEGORIES = Listing(
    TREE_CATEGORY_FILTERS,
    "category_uuid:in category_uuid:not_in category_id:in category_id:not_in tree_id:in "
    "tree_id:not_in parent_id:in parent_id:not_in page_title page_title:like name name:like "
    "is_visible",
    others=(*PAGING, *FIELDS, "keyword"),
)
TREE = Listing(others=("depth",))


def list_trees(store: Categories, call: Call) -> Reply:
    items = listed(call, store.trees.values())
    return page_of([dict(t, channels=list(t["channels"])) for t in items], call.query)


def upsert_trees(store: Categories, call: Call) -> Reply:
    items = body_list(call.body, 50, "trees")
    trees = [store.upsert_tree(item) for item in items]
    data = [dict(t, channels=list(t["channels"])) for t in trees]
    return Reply(200, {"data": data, "meta": batch_meta(len(items), len(items))})


def delete_trees(store: Categories, call: Call) -> Reply:
    if not has_filter(call.query, {"id": TREE_FILTERS["id"]}):
        raise invalid("A filter is required.", {"id:in": "Provide the id:in filter."})
    for tree in apply_filters(list(store.trees.values()), call.query, TREE_FILTERS):
        store.delete_tree(tree["id"])
    return Reply(204)


def get_tree_categories(store: Categories, call: Call) -> Reply:
    tree_id = call.params["tree_id"]
    if tree_id not in store.trees:
        raise not_found("The tree was not found.")
    depth = call.query.get("depth")
    depth_limit = int_param(call.query, "depth", 0) if depth else None
    roots = sorted(
        (c for c in store.categories.values() if c["tree_id"] == tree_id and not c["parent_id"]),
        key=lambda c: (c["sort_order"], c["id"]),
    )
    return single([store.category_node(c, depth_limit) for c in roots])


def list_tree_categories(store: Categories, call: Call) -> Reply:
    items = listed(call, store.categories.values())
    items = keyword_filter(items, call.query, ("name", "description", "search_keywords"))
    rendered = [select_fields(store.render_category_tree(c), call.query) for c in items]
    return page_of(rendered, call.query)


def _partial(
    results: list[Record], failures: list[tuple[int, ApiError]], total: int, status: int, data: bool
) -> Reply:
    if failures and not results:
        if total == 1:
            raise failures[0][1]
        first = failures[0][1]
        errors = {f"{index}": f"{err.title} {err.errors}" for index, err in failures}
        raise ApiError(first.status, first.title, errors)
    body: dict[str, Any] = {}
    if data:
        body["data"] = results
    if failures:
        body["errors"] = {
            "status": failures[0][1].status,
            "title": failures[0][1].title,
            "type": failures[0][1].body()["type"],
            "errors": {f"{i}": f"{e.title} {e.errors}" for i, e in failures},
        }
    body["meta"] = batch_meta(total, len(results))
    return Reply(207 if failures else status, body)


def create_tree_categories(store: Categories, call: Call) -> Reply:
    items = body_list(call.body, None, "categories")
    results: list[Record] = []
    failures: list[tuple[int, ApiError]] = []
    for index, item in enumerate(items):
        try:
            results.append(store.render_category_tree(store.create_category(item, tree_api=True)))
        except ApiError as err:
            failures.append((index, err))
    return _partial(results, failures, len(items), 201, data=True)


def update_tree_categories(store: Categories, call: Call) -> Reply:
    items = body_list(call.body, None, "categories")
    results: list[Record] = []
    failures: list[tuple[int, ApiError]] = []
    for index, item in enumerate(items):
        try:
            if not isinstance(item, dict) or not isinstance(item.get("category_id"), int):
                raise ApiError(
                    422,
                    "Missing Required Fields",
                    {"category_id": "Please provide a category_id."},
                )
            store.update_category(item["category_id"], item, tree_api=True)
            results.append({})
        except ApiError as err:
            failures.append((index, err))
    return _partial(results, failures, len(items), 200, data=False)


def delete_tree_categories(store: Categories, call: Call) -> Reply:
    allowed = {
        k: TREE_CATEGORY_FILTERS[k]
        for k in ("category_id", "category_uuid", "tree_id", "parent_id")
    }
    if not has_filter(call.query, allowed):
        raise invalid(
            "A filter is required.",
            {
                "category_id:in": "Provide category_uuid:in, category_id:in, tree_id:in or "
                "parent_id:in."
            },
        )
    items = apply_filters(list(store.categories.values()), call.query, allowed)
    store.delete_categories(c["id"] for c in items)
    return Reply(202, {"meta": batch_meta(len(items), len(items))})


# ---- request schemas (checked by the router before a handler runs) ------------------------------

TREES = array(obj({"id": ID, "name": string(255), "channels": array(ID)}))
_TREE_CATEGORY_FIELDS: dict[str, Schema] = {
    "name": string(),
    "parent_id": ID,
    "tree_id": ID,
    "url": obj({"path": string(255), "is_customized": BOOL}),
    "description": string(),
    "views": INT32,
    "sort_order": INT32,
    "page_title": string(),
    "search_keywords": string(),
    "meta_keywords": array(string()),
    "meta_description": string(),
    "layout_file": string(),
    "is_visible": BOOL,
    "default_product_sort": string(),
    "image_url": string(),
}
NEW_TREE_CATEGORIES = array(obj(_TREE_CATEGORY_FIELDS))
TREE_CATEGORY_UPDATES = array(obj({**_TREE_CATEGORY_FIELDS, "category_id": ID}))

CATEGORY_ROUTES: Table = [
    (
        "/v3/catalog/categories",
        {
            "GET": Endpoint(list_categories, listing=LEGACY_CATEGORIES),
            "POST": create_category,
            "DELETE": delete_categories,
        },
    ),
    (
        "/v3/catalog/categories/{category_id}",
        {"GET": get_category, "PUT": update_category, "DELETE": delete_category},
    ),
    (
        "/v3/catalog/trees",
        {
            "GET": Endpoint(list_trees, listing=TREES_LISTING),
            "PUT": Endpoint(upsert_trees, TREES),
            "DELETE": delete_trees,
        },
    ),
    (
        "/v3/catalog/trees/categories",
        {
            "GET": Endpoint(list_tree_categories, listing=TREE_CATEGORIES),
            "POST": Endpoint(create_tree_categories, NEW_TREE_CATEGORIES),
            "PUT": Endpoint(update_tree_categories, TREE_CATEGORY_UPDATES),
            "DELETE": delete_tree_categories,
        },
    ),
    (
        "/v3/catalog/trees/{tree_id}/categories",
        {"GET": Endpoint(get_tree_categories, listing=TREE)},
    ),
]
register(CATEGORY_ROUTES)
