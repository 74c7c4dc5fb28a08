"""Content endpoints: web pages, widget templates, widgets, placements, custom template
associations, Script Manager scripts (``/v3/content/...``,
``/v3/storefront/custom-template-associations``).

State lives in one ``ContentState`` per store (``content_of(store)``), so the catalogue's
``Store`` needs no fields for it. Rules follow the platform's documentation: the 4,000 web page
limit, unique page names, type-specific required fields, parent pages that must exist, widget
template validation (required fields, schema shape, balanced Handlebars tags), widgets that need
an existing template, placements that need an existing widget and, for product, category, brand
and page templates, an existing entity; scripts whose ``kind`` says which of ``src`` and ``html``
they carry, at most 50 on a channel.
"""

from __future__ import annotations

import re
import uuid
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, invalid, not_found
from .routes import (
    PAGING,
    Call,
    Endpoint,
    FilterSpec,
    Listing,
    Reply,
    Table,
    apply_filters,
    listed,
    page_of,
    register,
    single,
)
from .schema import BOOL, ID, INT32, array, integer, obj, one_or_many, string
from .store import (
    BRAND_DELETE_HOOKS,
    CATEGORY_DELETE_HOOKS,
    PRODUCT_DELETE_HOOKS,
    Record,
    Store,
    now_rfc3339,
    slugify,
)

MAX_PAGES = 4000
"""The platform limit on web pages per store."""
MAX_TEMPLATES = 1000
MAX_WIDGETS = 100_000
PAGE_TYPES = ("page", "raw", "contact_form", "link", "blog")
PAGE_FIELDS = (
    "channel_id",
    "name",
    "is_visible",
    "parent_id",
    "sort_order",
    "type",
    "body",
    "is_homepage",
    "is_customers_only",
    "url",
    "meta_title",
    "meta_keywords",
    "meta_description",
    "search_keywords",
    "link",
    "email",
    "contact_fields",
)
SCHEMA_TYPES = ("tab", "array", "hidden")
ENTITY_TEMPLATES = {
    "pages/product": "product",
    "pages/category": "category",
    "pages/brand": "brand",
    "pages/page": "page",
}
"""Template files whose placements target one entity (``entity_id``), and which entity."""
ASSOCIATION_TYPES = ("product", "category", "brand", "page")
MAX_ASSOCIATIONS_PER_REQUEST = 100


@dataclass
class ContentState:
    pages: dict[int, Record] = field(default_factory=dict)
    templates: dict[str, Record] = field(default_factory=dict)
    widgets: dict[str, Record] = field(default_factory=dict)
    placements: dict[str, Record] = field(default_factory=dict)
    associations: dict[int, Record] = field(default_factory=dict)
    scripts: dict[str, Record] = field(default_factory=dict)


_STATES: weakref.WeakKeyDictionary[Store, ContentState] = weakref.WeakKeyDictionary()


def content_of(store: Store) -> ContentState:
    """The content of ``store`` (created empty on first use)."""
    state = _STATES.get(store)
    if state is None:
        state = _STATES[store] = ContentState()
    return state


def new_uuid(store: Store) -> str:
    """A UUID unique to this store (deterministic, so runs are reproducible)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{store.store_hash}/{store.next_id()}"))


def entity_exists(store: Store, entity_type: str, entity_id: int) -> bool:
    if entity_type == "product":
        return entity_id in store.products
    if entity_type == "category":
        return entity_id in store.categories
    if entity_type == "brand":
        return entity_id in store.brands
    return entity_id in content_of(store).pages


def _forget_entity(entity_type: str) -> Callable[[Store, int], None]:
    """ASSUMPTION_DELETE_DROPS_ENTITY_LAYOUTS: a deleted product, category or brand takes the
    custom template associations and the widget placements that target it."""

    def hook(store: Store, entity_id: int) -> None:
        state = content_of(store)
        for association_id in [
            k
            for k, a in state.associations.items()
            if a["entity_type"] == entity_type and a["entity_id"] == entity_id
        ]:
            del state.associations[association_id]
        for uuid_key in [
            k
            for k, p in state.placements.items()
            if ENTITY_TEMPLATES.get(str(p.get("template_file"))) == entity_type
            and str(p.get("entity_id") or "") == str(entity_id)
        ]:
            del state.placements[uuid_key]

    return hook


PRODUCT_DELETE_HOOKS.append(_forget_entity("product"))
CATEGORY_DELETE_HOOKS.append(_forget_entity("category"))
BRAND_DELETE_HOOKS.append(_forget_entity("brand"))


# ---- pages -------------------------------------------------------------------------------------


def _check_page(store: Store, page: Record, page_id: int | None) -> None:
    state = content_of(store)
    errors: dict[str, str] = {}
    name = page.get("name")
    if not isinstance(name, str) or not name.strip():
        errors["name"] = "name is required."
    elif len(name) > 100:
        errors["name"] = "name must be at most 100 characters."
    elif any(
        other["name"].casefold() == name.casefold() and other["channel_id"] == page["channel_id"]
        for pid, other in state.pages.items()
        if pid != page_id
    ):
        errors["name"] = f'A page named "{name}" already exists. Must be unique.'
    kind = page.get("type")
    if kind not in PAGE_TYPES:
        errors["type"] = f"type must be one of {', '.join(PAGE_TYPES)}."
    if kind == "raw" and not page.get("body"):
        errors["body"] = "body is required for raw pages."
    if kind == "link" and not page.get("link"):
        errors["link"] = "link is required for link pages."
    if kind == "contact_form":
        email = page.get("email")
        if email and any(
            o.get("type") == "contact_form" and o.get("email") == email
            for pid, o in state.pages.items()
            if pid != page_id
        ):
            errors["email"] = "email must be unique among contact forms."
    if page["channel_id"] not in store.channels:
        errors["channel_id"] = f"Channel {page['channel_id']} does not exist."
    parent = int(page.get("parent_id") or 0)
    if parent:
        if parent not in state.pages:
            errors["parent_id"] = f"Parent page {parent} does not exist."
        elif page_id is not None and _is_descendant(state, parent, page_id):
            errors["parent_id"] = "A page cannot be its own ancestor."
    url = page.get("url")
    if kind != "link" and isinstance(url, str) and url:
        for pid, other in state.pages.items():
            same_channel = other["channel_id"] == page["channel_id"]
            if pid != page_id and other.get("url") == url and same_channel:
                errors["url"] = f'The URL "{url}" is already used by page {pid}.'
    if errors:
        raise invalid("The page is invalid.", errors)


def _is_descendant(state: ContentState, candidate: int, ancestor: int) -> bool:
    node: int = candidate
    seen: set[int] = set()
    while node and node not in seen:
        if node == ancestor:
            return True
        seen.add(node)
        node = int(state.pages.get(node, {}).get("parent_id") or 0)
    return False


def _page_defaults(body: Mapping[str, Any]) -> Record:
    page: Record = {
        "channel_id": 1,
        "name": None,
        "is_visible": True,
        "parent_id": 0,
        "sort_order": 0,
        "type": None,
        "is_homepage": False,
        "is_customers_only": False,
        "url": "",
        "meta_title": "",
        "meta_keywords": "",
        "meta_description": "",
        "search_keywords": "",
    }
    for name in PAGE_FIELDS:
        if name in body:
            page[name] = body[name]
    return page


def _create_page(store: Store, body: Any) -> Record:
    state = content_of(store)
    if not isinstance(body, dict):
        raise ApiError(400, "Input is invalid", detail="Each page must be a JSON object.")
    if len(state.pages) >= MAX_PAGES:
        raise invalid(
            f"This store has reached the limit of {MAX_PAGES} web pages.",
            {"pages": f"Delete pages before creating more (limit {MAX_PAGES})."},
        )
    page = _page_defaults(body)
    if not page.get("url") and page.get("type") != "link" and isinstance(page.get("name"), str):
        page["url"] = f"/{slugify(page['name'])}/"
    _check_page(store, page, None)
    page_id = store.next_id()
    page["id"] = page_id
    state.pages[page_id] = page
    return page


def _update_page(store: Store, page_id: int, body: Any) -> Record:
    state = content_of(store)
    if page_id not in state.pages:
        raise not_found(f"Page {page_id} not found.")
    if not isinstance(body, dict):
        raise ApiError(400, "Input is invalid", detail="Each page must be a JSON object.")
    page = {**state.pages[page_id], **{k: v for k, v in body.items() if k in PAGE_FIELDS}}
    _check_page(store, page, page_id)
    state.pages[page_id] = page
    return page


def _page_out(page: Record, query: Mapping[str, str]) -> Record:
    includes = {part.strip() for part in query.get("include", "").split(",")}
    out = dict(page)
    if "body" not in includes:
        out.pop("body", None)
    return out


PAGE_FILTERS: FilterSpec = {
    "channel_id": ("int", lambda p: p["channel_id"]),
    "id": ("int", lambda p: p["id"]),
    "name": ("istr", lambda p: p["name"]),
}


PAGE_LIST = Listing(PAGE_FILTERS, "channel_id id:in name name:like", others=(*PAGING, "include"))


def list_pages(store: Store, call: Call) -> Reply:
    pages = listed(call, sorted(content_of(store).pages.values(), key=lambda p: p["id"]))
    return page_of([_page_out(p, call.query) for p in pages], call.query)


def create_pages(store: Store, call: Call) -> Reply:
    if isinstance(call.body, list):
        return single([_create_page(store, item) for item in call.body], 201)
    return single(_create_page(store, call.body), 201)


def update_pages(store: Store, call: Call) -> Reply:
    items = call.body if isinstance(call.body, list) else [call.body]
    out = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), int):
            raise invalid("The page is invalid.", {"id": "id is required for a bulk update."})
        out.append(_update_page(store, item["id"], item))
    return single(out if isinstance(call.body, list) else out[0])


def _delete_page(store: Store, page_id: int, children: bool) -> None:
    state = content_of(store)
    kids = [pid for pid, p in state.pages.items() if int(p.get("parent_id") or 0) == page_id]
    if kids and not children:
        raise invalid(
            f"Page {page_id} has child pages.",
            {"id": "Delete or move its child pages first, or pass delete_children=true."},
        )
    for kid in kids:
        _delete_page(store, kid, children)
    state.pages.pop(page_id, None)


def delete_pages(store: Store, call: Call) -> Reply:
    raw = call.query.get("id:in", "")
    ids = [int(part) for part in raw.split(",") if part.strip().isdigit()]
    if not ids:
        raise invalid("id:in is required.", {"id:in": "Name the pages to delete."})
    children = call.query.get("delete_children", "").lower() == "true"
    for page_id in ids:
        if page_id in content_of(store).pages:
            _delete_page(store, page_id, children)
    return Reply(204)


def get_page(store: Store, call: Call) -> Reply:
    page = content_of(store).pages.get(call.params["page_id"])
    if page is None:
        raise not_found(f"Page {call.params['page_id']} not found.")
    return single(_page_out(page, call.query))


def update_page(store: Store, call: Call) -> Reply:
    return single(_update_page(store, call.params["page_id"], call.body))


def delete_page(store: Store, call: Call) -> Reply:
    page_id = call.params["page_id"]
    if page_id not in content_of(store).pages:
        raise not_found(f"Page {page_id} not found.")
    _delete_page(store, page_id, call.query.get("delete_children", "").lower() == "true")
    return Reply(204)


# ---- widget templates --------------------------------------------------------------------------


def template_errors(body: Mapping[str, Any], *, partial: bool = False) -> dict[str, str]:
    """What is wrong with a widget template body (empty when it is valid)."""
    errors: dict[str, str] = {}
    if not partial or "name" in body:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            errors["name"] = "name is required."
        elif len(name) > 255:
            errors["name"] = "name must be at most 255 characters."
    if not partial or "template" in body:
        template = body.get("template")
        if not isinstance(template, str) or not template.strip():
            errors["template"] = "template is required."
        else:
            problem = handlebars_problem(template)
            if problem:
                errors["template"] = problem
    schema = body.get("schema")
    if schema is not None:
        if not isinstance(schema, list):
            errors["schema"] = "schema must be an array of settings (tab, array or hidden)."
        else:
            for i, item in enumerate(schema):
                if not isinstance(item, dict) or item.get("type") not in SCHEMA_TYPES:
                    errors[f"schema[{i}]"] = (
                        f"each schema entry needs a type of {', '.join(SCHEMA_TYPES)}."
                    )
    query = body.get("storefront_api_query")
    if query is not None and not isinstance(query, str):
        errors["storefront_api_query"] = "storefront_api_query must be a string."
    return errors


def handlebars_problem(template: str) -> str | None:
    """Unbalanced ``{{`` / ``}}`` or block helpers, as the platform's template compiler rejects."""
    if template.count("{{") != template.count("}}"):
        return "The template has unbalanced {{ and }}."
    stack: list[str] = []
    for match in re.finditer(r"\{\{\{?\s*([#^/])\s*([\w-]+)", template):
        sign, name = match.groups()
        if sign in "#^":
            stack.append(name)
        elif not stack or stack.pop() != name:
            return f"The template closes {{{{/{name}}}}} without a matching {{{{#{name}}}}}."
    if stack:
        return f"The template opens {{{{#{stack[-1]}}}}} without closing it."
    return None


def _template_out(template: Record) -> Record:
    return dict(template)


TEMPLATE_FIELDS = ("name", "schema", "template", "storefront_api_query", "channel_id")


TEMPLATES = Listing(
    {
        "widget_template_kind": ("str", lambda t: t["kind"]),
        "channel_id": ("int", lambda t: t.get("channel_id", 1)),
    },
    "widget_template_kind channel_id:in",
)


def list_templates(store: Store, call: Call) -> Reply:
    items = listed(call, content_of(store).templates.values())
    return page_of([_template_out(t) for t in items], call.query)


def create_template(store: Store, call: Call) -> Reply:
    state = content_of(store)
    body = call.body if isinstance(call.body, dict) else {}
    errors = template_errors(body)
    if errors:
        raise invalid("The widget template is invalid.", errors)
    if len(state.templates) >= MAX_TEMPLATES:
        raise invalid(f"The limit of {MAX_TEMPLATES} custom widget templates is reached.")
    now = now_rfc3339()
    template = {
        "uuid": new_uuid(store),
        "name": body["name"],
        "schema": body.get("schema") or [],
        "template": body["template"],
        "storefront_api_query": body.get("storefront_api_query") or "",
        "channel_id": body.get("channel_id", 1),
        "kind": "custom",
        "icon_name": "default",
        "template_engine": "handlebars_v3",
        "date_created": now,
        "date_modified": now,
        "current_version_uuid": new_uuid(store),
    }
    state.templates[template["uuid"]] = template
    return single(_template_out(template))


def _template(store: Store, call: Call) -> Record:
    found = content_of(store).templates.get(call.params["template_uuid"])
    if found is None:
        raise not_found("Widget template not found.")
    return found


def get_template(store: Store, call: Call) -> Reply:
    return single(_template_out(_template(store, call)))


def update_template(store: Store, call: Call) -> Reply:
    template = _template(store, call)
    body = call.body if isinstance(call.body, dict) else {}
    errors = template_errors(body, partial=True)
    if errors:
        raise invalid("The widget template is invalid.", errors)
    template.update({k: v for k, v in body.items() if k in TEMPLATE_FIELDS})
    template["date_modified"] = now_rfc3339()
    template["current_version_uuid"] = new_uuid(store)
    return single(_template_out(template))


def delete_template(store: Store, call: Call) -> Reply:
    template = _template(store, call)
    state = content_of(store)
    if any(w["widget_template_uuid"] == template["uuid"] for w in state.widgets.values()):
        raise invalid(
            "The widget template is in use.",
            {"uuid": "Delete the widgets that use this template first."},
        )
    del state.templates[template["uuid"]]
    return Reply(204)


# ---- widgets -----------------------------------------------------------------------------------


WIDGET_FIELDS = (
    "name",
    "description",
    "widget_configuration",
    "widget_template_uuid",
    "channel_id",
)


def _widget_out(store: Store, widget: Record) -> Record:
    out = dict(widget)
    template = content_of(store).templates.get(widget["widget_template_uuid"])
    out["widget_template"] = _template_out(template) if template else None
    return out


def _check_widget(store: Store, widget: Mapping[str, Any]) -> None:
    errors: dict[str, str] = {}
    name = widget.get("name")
    if not isinstance(name, str) or not name.strip():
        errors["name"] = "name is required."
    if widget.get("widget_template_uuid") not in content_of(store).templates:
        errors["widget_template_uuid"] = "The widget template does not exist."
    config = widget.get("widget_configuration")
    if config is not None and not isinstance(config, dict):
        errors["widget_configuration"] = "widget_configuration must be an object."
    if errors:
        raise invalid("The widget is invalid.", errors)


WIDGETS = Listing(
    {
        "widget_template_uuid": ("str", lambda w: w["widget_template_uuid"]),
        "name": ("str", lambda w: w["name"]),
        "channel_id": ("int", lambda w: w.get("channel_id", 1)),
    },
    "widget_template_uuid name name:in channel_id:in",
    missing="widget_template_kind site_id:in",
)


def list_widgets(store: Store, call: Call) -> Reply:
    items = listed(call, content_of(store).widgets.values())
    return page_of([_widget_out(store, w) for w in items], call.query)


def create_widget(store: Store, call: Call) -> Reply:
    state = content_of(store)
    body = call.body if isinstance(call.body, dict) else {}
    _check_widget(store, body)
    if len(state.widgets) >= MAX_WIDGETS:
        raise invalid(f"The limit of {MAX_WIDGETS} widgets is reached.")
    now = now_rfc3339()
    widget = {
        "uuid": new_uuid(store),
        "name": body["name"],
        "description": body.get("description", ""),
        "widget_configuration": body.get("widget_configuration") or {},
        "widget_template_uuid": body["widget_template_uuid"],
        "channel_id": body.get("channel_id", 1),
        "version_uuid": new_uuid(store),
        "date_created": now,
        "date_modified": now,
    }
    state.widgets[widget["uuid"]] = widget
    return single(_widget_out(store, widget))


def _widget(store: Store, call: Call) -> Record:
    found = content_of(store).widgets.get(call.params["widget_uuid"])
    if found is None:
        raise not_found("Widget not found.")
    return found


def get_widget(store: Store, call: Call) -> Reply:
    return single(_widget_out(store, _widget(store, call)))


def update_widget(store: Store, call: Call) -> Reply:
    widget = _widget(store, call)
    body = call.body if isinstance(call.body, dict) else {}
    merged = {**widget, **{k: v for k, v in body.items() if k in WIDGET_FIELDS}}
    _check_widget(store, merged)
    widget.update(merged)
    widget["date_modified"] = now_rfc3339()
    return single(_widget_out(store, widget))


def delete_widget(store: Store, call: Call) -> Reply:
    widget = _widget(store, call)
    state = content_of(store)
    del state.widgets[widget["uuid"]]
    for placement_uuid in [
        p["uuid"] for p in state.placements.values() if p["widget_uuid"] == widget["uuid"]
    ]:
        del state.placements[placement_uuid]  # the platform removes a widget's placements too
    return Reply(204)


# ---- placements --------------------------------------------------------------------------------


PLACEMENT_FIELDS = (
    "widget_uuid",
    "template_file",
    "channel_id",
    "entity_id",
    "sort_order",
    "region",
    "status",
)


def _check_placement(store: Store, placement: Mapping[str, Any]) -> None:
    errors: dict[str, str] = {}
    if placement.get("widget_uuid") not in content_of(store).widgets:
        errors["widget_uuid"] = "The widget does not exist."
    template_file = placement.get("template_file")
    if not isinstance(template_file, str) or not template_file:
        errors["template_file"] = "template_file is required."
    if placement.get("status", "inactive") not in ("active", "inactive"):
        errors["status"] = "status must be active or inactive."
    entity_id = placement.get("entity_id")
    entity_type = ENTITY_TEMPLATES.get(str(template_file))
    if entity_id not in (None, ""):
        if entity_type is None:
            errors["entity_id"] = f"{template_file} does not support entity_id."
        elif not str(entity_id).isdigit() or not entity_exists(
            store, entity_type, int(str(entity_id))
        ):
            errors["entity_id"] = f"{entity_type} {entity_id} does not exist."
    region = placement.get("region")
    if region is not None and not isinstance(region, str):
        errors["region"] = "region must be a string."
    if errors:
        raise invalid("The placement is invalid.", errors)


def _placement_out(store: Store, placement: Record) -> Record:
    out = dict(placement)
    widget = content_of(store).widgets.get(placement["widget_uuid"])
    out["widget"] = _widget_out(store, widget) if widget else None
    return out


PLACEMENTS = Listing(
    {
        "template_file": ("str", lambda p: p["template_file"]),
        "widget_uuid": ("str", lambda p: p["widget_uuid"]),
        "channel_id": ("int", lambda p: p.get("channel_id", 1)),
    },
    "template_file widget_uuid channel_id:in",
    missing="widget_template_kind widget_template_uuid site_id:in",
)


def list_placements(store: Store, call: Call) -> Reply:
    items = listed(call, content_of(store).placements.values())
    return page_of([_placement_out(store, p) for p in items], call.query)


def create_placement(store: Store, call: Call) -> Reply:
    body = call.body if isinstance(call.body, dict) else {}
    _check_placement(store, body)
    now = now_rfc3339()
    placement: Record = {
        "uuid": new_uuid(store),
        "widget_uuid": body["widget_uuid"],
        "template_file": body["template_file"],
        "channel_id": body.get("channel_id", 1),
        "sort_order": body.get("sort_order", 0),
        "status": body.get("status", "inactive"),
        "date_created": now,
        "date_modified": now,
    }
    if body.get("entity_id") not in (None, ""):
        placement["entity_id"] = str(body["entity_id"])
    if body.get("region"):
        placement["region"] = body["region"]
    content_of(store).placements[placement["uuid"]] = placement
    return single(_placement_out(store, placement), 201)


def _placement(store: Store, call: Call) -> Record:
    found = content_of(store).placements.get(call.params["placement_uuid"])
    if found is None:
        raise not_found("Placement not found.")
    return found


def get_placement(store: Store, call: Call) -> Reply:
    return single(_placement_out(store, _placement(store, call)))


def update_placement(store: Store, call: Call) -> Reply:
    placement = _placement(store, call)
    body = call.body if isinstance(call.body, dict) else {}
    merged = {**placement, **{k: v for k, v in body.items() if k in PLACEMENT_FIELDS}}
    _check_placement(store, merged)
    placement.update(merged)
    placement["date_modified"] = now_rfc3339()
    return single(_placement_out(store, placement))


def delete_placement(store: Store, call: Call) -> Reply:
    placement = _placement(store, call)
    del content_of(store).placements[placement["uuid"]]
    return Reply(204)


# ---- custom template associations --------------------------------------------------------------


ASSOCIATION_FILTERS: FilterSpec = {
    "channel_id": ("int", lambda a: a["channel_id"]),
    "entity_id": ("int", lambda a: a["entity_id"]),
    "type": ("str", lambda a: a["entity_type"]),
    "is_valid": ("bool", lambda a: a["is_valid"]),
    "id": ("int", lambda a: a["id"]),
}


ASSOCIATION_LIST = Listing(ASSOCIATION_FILTERS, "channel_id entity_id:in type is_valid")


def list_associations(store: Store, call: Call) -> Reply:
    items = sorted(content_of(store).associations.values(), key=lambda a: a["id"])
    return page_of(listed(call, items), call.query)


def upsert_associations(store: Store, call: Call) -> Reply:
    body = call.body
    if not isinstance(body, list) or not body:
        raise ApiError(400, "Input is invalid", detail="Send an array of 1 to 100 associations.")
    if len(body) > MAX_ASSOCIATIONS_PER_REQUEST:
        raise ApiError(
            413,
            "The request payload is too large. The maximum items allowed in the array is "
            f"{MAX_ASSOCIATIONS_PER_REQUEST}.",
        )
    errors: dict[str, str] = {}
    for i, item in enumerate(body):
        if not isinstance(item, dict):
            errors[str(i)] = "Each association must be an object."
            continue
        required = ("channel_id", "entity_type", "entity_id", "file_name")
        missing = [f for f in required if f not in item]
        if missing:
            errors[str(i)] = f"Missing {', '.join(missing)}."
        elif item["entity_type"] not in ASSOCIATION_TYPES:
            errors[str(i)] = f"entity_type must be one of {', '.join(ASSOCIATION_TYPES)}."
        elif not isinstance(item["entity_id"], int) or not entity_exists(
            store, item["entity_type"], item["entity_id"]
        ):
            errors[str(i)] = f"{item['entity_type']} {item['entity_id']} does not exist."
        elif item["channel_id"] not in store.channels:
            errors[str(i)] = f"Channel {item['channel_id']} does not exist."
        elif not isinstance(item["file_name"], str) or not item["file_name"].endswith(".html"):
            errors[str(i)] = "file_name must name a custom .html template."
    if errors:
        raise invalid("Custom template associations are invalid.", errors)
    state = content_of(store)
    out = []
    now = now_rfc3339()
    for item in body:
        existing = next(
            (
                a
                for a in state.associations.values()
                if (a["channel_id"], a["entity_type"], a["entity_id"])
                == (item["channel_id"], item["entity_type"], item["entity_id"])
            ),
            None,
        )
        if existing is None:
            existing = {
                "id": store.next_id(),
                "channel_id": item["channel_id"],
                "entity_type": item["entity_type"],
                "entity_id": item["entity_id"],
                "date_created": now,
            }
            state.associations[existing["id"]] = existing
        existing["file_name"] = item["file_name"]
        existing["is_valid"] = True
        existing["date_modified"] = now
        out.append(existing)
    return single(out)


def delete_associations(store: Store, call: Call) -> Reply:
    if not any(key.partition(":")[0] in ASSOCIATION_FILTERS for key in call.query):
        raise invalid(
            "At least one query parameter must be used.",
            {"id:in": "Name the associations to delete (id:in, entity_id:in, type, channel_id)."},
        )
    state = content_of(store)
    for item in apply_filters(list(state.associations.values()), call.query, ASSOCIATION_FILTERS):
        del state.associations[item["id"]]
    return Reply(204)


# ---- request schemas (checked by the router before a handler runs) ------------------------------

_NULLABLE_TEXT = string(nullable=True)
_PAGE = obj(
    {
        "id": ID,
        "channel_id": ID,
        "name": string(100),
        "is_visible": BOOL,
        "parent_id": ID,
        "sort_order": INT32,
        "type": string(enum=PAGE_TYPES),
        "body": _NULLABLE_TEXT,
        "is_homepage": BOOL,
        "is_customers_only": BOOL,
        "url": string(),
        "meta_title": _NULLABLE_TEXT,
        "meta_keywords": _NULLABLE_TEXT,
        "meta_description": _NULLABLE_TEXT,
        "search_keywords": _NULLABLE_TEXT,
        "link": string(),
        "email": string(255),
        "contact_fields": string(),
    }
)
PAGES = one_or_many(_PAGE)
PAGE = _PAGE
WIDGET_TEMPLATE = obj(
    {
        "name": string(255),
        "schema": array(obj()),
        "template": string(),
        "storefront_api_query": string(),
        "channel_id": ID,
        "create_new_version": BOOL,
    }
)
WIDGET = obj(
    {
        "name": string(255),
        "description": string(),
        "widget_configuration": obj(),
        "widget_template_uuid": string(),
        "channel_id": ID,
        "upgrade": BOOL,
    }
)
PLACEMENT = obj(
    {
        "widget_uuid": string(),
        "template_file": string(),
        "channel_id": ID,
        "entity_id": {"type": ["string", "integer"]},
        "sort_order": INT32,
        "region": string(),
        "status": string(enum=("inactive", "active")),
    }
)
ASSOCIATIONS = array(
    obj(
        {
            "channel_id": ID,
            "entity_type": string(enum=ASSOCIATION_TYPES),
            "entity_id": ID,
            "file_name": string(),
        }
    )
)

TABLE: Table = [
    (
        "/v3/content/pages",
        {
            "GET": Endpoint(list_pages, listing=PAGE_LIST),
            "POST": Endpoint(create_pages, PAGES),
            "PUT": Endpoint(update_pages, PAGES),
            "DELETE": delete_pages,
        },
    ),
    (
        "/v3/content/pages/{page_id}",
        {"GET": get_page, "PUT": Endpoint(update_page, PAGE), "DELETE": delete_page},
    ),
    (
        "/v3/content/widget-templates",
        {
            "GET": Endpoint(list_templates, listing=TEMPLATES),
            "POST": Endpoint(create_template, WIDGET_TEMPLATE),
        },
    ),
    (
        "/v3/content/widget-templates/{template_uuid}",
        {
            "GET": get_template,
            "PUT": Endpoint(update_template, WIDGET_TEMPLATE),
            "DELETE": delete_template,
        },
    ),
    (
        "/v3/content/widgets",
        {"GET": Endpoint(list_widgets, listing=WIDGETS), "POST": Endpoint(create_widget, WIDGET)},
    ),
    (
        "/v3/content/widgets/{widget_uuid}",
        {"GET": get_widget, "PUT": Endpoint(update_widget, WIDGET), "DELETE": delete_widget},
    ),
    (
        "/v3/content/placements",
        {
            "GET": Endpoint(list_placements, listing=PLACEMENTS),
            "POST": Endpoint(create_placement, PLACEMENT),
        },
    ),
    (
        "/v3/content/placements/{placement_uuid}",
        {
            "GET": get_placement,
            "PUT": Endpoint(update_placement, PLACEMENT),
            "DELETE": delete_placement,
        },
    ),
    (
        "/v3/storefront/custom-template-associations",
        {
            "GET": Endpoint(list_associations, listing=ASSOCIATION_LIST),
            "PUT": Endpoint(upsert_associations, ASSOCIATIONS),
            "DELETE": delete_associations,
        },
    ),
]


# ---- scripts (Script Manager) ------------------------------------------------------------------


MAX_SCRIPTS_PER_CHANNEL = 50
"""The platform limit on scripts per channel."""
SCRIPT_KINDS = ("src", "script_tag")
SCRIPT_FIELDS = {
    "name": string(255, min_length=1),
    "description": string(),
    "html": string(65536),
    "src": string(),
    "auto_uninstall": BOOL,
    "load_method": string(enum=("default", "async", "defer")),
    "location": string(enum=("head", "footer")),
    "visibility": string(enum=("storefront", "all_pages", "checkout", "order_confirmation")),
    "kind": string(enum=SCRIPT_KINDS),
    "consent_category": string(enum=("essential", "functional", "analytics", "targeting")),
    "enabled": BOOL,
    "channel_id": integer(1),
    "integrity_hashes": array(string()),
}
SCRIPT_POST = obj(SCRIPT_FIELDS, required=["name"])
SCRIPT_PUT = obj(SCRIPT_FIELDS)
SCRIPT_DEFAULTS: Record = {
    "description": "",
    "auto_uninstall": False,
    "load_method": "default",
    "location": "footer",
    "visibility": "storefront",
    "kind": "src",
    "consent_category": "unknown",
    "enabled": True,
    "channel_id": 1,
    "integrity_hashes": [],
}
"""What a created script holds for the fields its body leaves out."""


def _script_errors(store: Store, script: Mapping[str, Any]) -> dict[str, str]:
    """What the platform refuses in a whole script: ``src`` for a ``src`` script, one ``script``
    tag in ``html`` for a ``script_tag`` one (loaded the default way), never both; a channel the
    store has."""
    errors: dict[str, str] = {}
    if script["kind"] == "src":
        if not script.get("src"):
            errors["src"] = "src is required when kind is src."
        if script.get("html"):
            errors["html"] = "html must not be given when kind is src."
    else:
        html = str(script.get("html") or "")
        if len(re.findall(r"<script\b", html, re.I)) != 1:
            errors["html"] = "html must hold exactly one script tag when kind is script_tag."
        if script.get("src"):
            errors["src"] = "src must not be given when kind is script_tag."
        if script["load_method"] != "default":
            errors["load_method"] = "load_method must be default when kind is script_tag."
    if script["channel_id"] not in store.channels:
        errors["channel_id"] = f"Channel {script['channel_id']} does not exist."
    return errors


def _script_out(script: Record) -> Record:
    """A script as the API answers: ``src`` only for a ``src`` script, ``html`` only for a
    ``script_tag`` one."""
    unused = "html" if script["kind"] == "src" else "src"
    return {k: v for k, v in script.items() if k != unused}


def _on_channel(state: ContentState, channel_id: int, but: str | None = None) -> int:
    return sum(
        1 for s in state.scripts.values() if s["channel_id"] == channel_id and s["uuid"] != but
    )


def _check_script(store: Store, script: Record) -> None:
    errors = _script_errors(store, script)
    if errors:
        raise invalid("The script is invalid.", errors)
    if _on_channel(content_of(store), script["channel_id"], script["uuid"]) >= (
        MAX_SCRIPTS_PER_CHANNEL
    ):
        raise invalid(
            f"The limit of {MAX_SCRIPTS_PER_CHANNEL} scripts on channel "
            f"{script['channel_id']} is reached."
        )


SCRIPT_LIST = Listing(
    {"channel_id": ("int", lambda s: s["channel_id"])},
    "channel_id:in",
    sorts=("name", "description", "date_created", "date_modified"),
)
"""The Scripts API's list: ``channel_id:in``, ``sort`` and ``direction`` besides paging."""


def list_scripts(store: Store, call: Call) -> Reply:
    items = listed(call, content_of(store).scripts.values())
    return page_of([_script_out(s) for s in items], call.query)


def create_script(store: Store, call: Call) -> Reply:
    now = now_rfc3339()
    script: Record = {
        **SCRIPT_DEFAULTS,
        **{k: v for k, v in call.body.items() if k in SCRIPT_FIELDS},
        "uuid": new_uuid(store),
        "api_client_id": f"{store.store_hash}-api-client",
        "date_created": now,
        "date_modified": now,
    }
    _check_script(store, script)
    content_of(store).scripts[script["uuid"]] = script
    return single(_script_out(script))


def _script(store: Store, call: Call) -> Record:
    found = content_of(store).scripts.get(call.params["script_uuid"])
    if found is None:
        raise not_found("Script not found.")
    return found


def get_script(store: Store, call: Call) -> Reply:
    return single(_script_out(_script(store, call)))


def update_script(store: Store, call: Call) -> Reply:
    script = _script(store, call)
    changed = {**script, **{k: v for k, v in call.body.items() if k in SCRIPT_FIELDS}}
    other = "html" if changed["kind"] == "src" else "src"
    if "kind" in call.body and other not in call.body:  # it went with the old kind
        changed.pop(other, None)
    _check_script(store, changed)
    changed["date_modified"] = now_rfc3339()
    script.clear()
    script.update(changed)
    return single(_script_out(script))


def delete_script(store: Store, call: Call) -> Reply:
    del content_of(store).scripts[_script(store, call)["uuid"]]
    return Reply(204)


SCRIPTS: Table = [
    (
        "/v3/content/scripts",
        {
            "GET": Endpoint(list_scripts, listing=SCRIPT_LIST),
            "POST": Endpoint(create_script, body=SCRIPT_POST),
        },
    ),
    (
        "/v3/content/scripts/{script_uuid}",
        {
            "GET": get_script,
            "PUT": Endpoint(update_script, body=SCRIPT_PUT),
            "DELETE": delete_script,
        },
    ),
]


register(TABLE)
register(SCRIPTS)
