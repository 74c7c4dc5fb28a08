"""The dependency maps: which kinds a kind brings along, as data, in this one place.

Every kind the design names has a row here, whether this version can move it yet or not, so the
map is complete from day one. A kind module does not declare its dependencies itself:
``EntityKind.depends_on`` reads this table. ``docs/entities.md`` carries the rendered table
(``render_markdown``), and a test checks the two agree.

The kind-level map drives which kinds ``pull`` and ``push`` read for their IDs and the order of
kinds in a plan. Which *entities* a plan brings along is decided per record by each kind's
``references`` and ``links`` (``stagesync.plan``): the map says which kinds those may point at.
References within a kind (a category's parent, a product's related products) are implied and not
listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class KindRow:
    kind: str
    """The snake_case plural used everywhere (``price_list_records``)."""
    display_name: str
    brings_along: tuple[str, ...] = ()
    """Kinds whose entities this kind's records reference (excluding its own kind)."""
    part_of: str | None = None
    """For a kind whose data lives inside another kind's records (reviews inside products)."""
    b2b: bool = False
    """A B2B Edition kind (read and written through the B2B API)."""


def _row(
    kind: str, display: str, *deps: str, part_of: str | None = None, b2b: bool = False
) -> KindRow:
    return KindRow(kind, display, tuple(deps), part_of, b2b)


KIND_MAP: tuple[KindRow, ...] = (
    _row("channels", "Channels"),
    _row("brands", "Brands"),
    _row("categories", "Categories", "channels"),
    _row("category_metafields", "Category Metafields", "categories"),
    _row("products", "Products", "brands", "categories"),
    _row(
        "product_reviews",
        "Product Reviews",
        "brands",
        "categories",
        "products",
        part_of="products",
    ),
    _row("bulk_pricing_rules", "Bulk Pricing Rules", "products", part_of="products"),
    _row("channel_assignments", "Channel Assignments", "products", "channels", part_of="products"),
    _row("product_locales", "Product Locale", "products", "channels"),
    _row("customer_groups", "Customer Groups", "categories", "products", "price_lists"),
    _row("customers", "Customers", "customer_groups", "channels"),
    _row("price_lists", "Price Lists"),
    _row(
        "price_list_records",
        "Price List Records",
        "brands",
        "categories",
        "products",
        "price_lists",
    ),
    _row(
        "price_list_assignments",
        "Price List Assignments",
        "price_lists",
        "customer_groups",
        "channels",
    ),
    _row("shipping_zones", "Shipping Zones"),
    _row("shipping_methods", "Shipping Methods", "shipping_zones", "channels"),
    _row(
        "promotions",
        "Promotions",
        "brands",
        "categories",
        "products",
        "customer_groups",
        "shipping_zones",
        "channels",
    ),
    _row("orders", "Orders", "products", "customers", "channels"),
    _row("pages", "Pages", "channels"),
    _row("widget_templates", "Widget Templates", "channels"),
    _row("widgets", "Widgets", "widget_templates", "channels"),
    _row(
        "placements",
        "Placements",
        "widgets",
        "brands",
        "categories",
        "products",
        "pages",
        "channels",
    ),
    _row(
        "custom_template_associations",
        "Custom Template Associations",
        "brands",
        "categories",
        "products",
        "pages",
        "channels",
    ),
    _row("scripts", "Scripts", "channels"),
    _row("themes", "Themes"),
)
"""The store's own kinds."""

B2B_MAP: tuple[KindRow, ...] = (
    _row("b2b_companies", "Companies", "customer_groups", "price_lists", "customers", b2b=True),
    _row("b2b_addresses", "Addresses", "b2b_companies", b2b=True),
    _row("b2b_users", "Users", "customers", "b2b_companies", b2b=True),
    _row("b2b_orders", "Orders", "orders", "b2b_companies", b2b=True),
    _row("b2b_super_admins", "SuperAdmins", "b2b_companies", b2b=True),
    _row("b2b_quotes", "Quotes", "products", "orders", "b2b_orders", "b2b_companies", b2b=True),
    _row(
        "b2b_shopping_lists",
        "ShoppingLists",
        "b2b_companies",
        "b2b_users",
        "products",
        b2b=True,
    ),
    _row("b2b_invoices", "Invoices", "products", "orders", "b2b_companies", b2b=True),
)
"""B2B Edition's kinds (display names as B2B Edition names them)."""

ROWS: Mapping[str, KindRow] = {row.kind: row for row in KIND_MAP + B2B_MAP}

DEPENDS_ON: Mapping[str, tuple[str, ...]] = {row.kind: row.brings_along for row in ROWS.values()}
"""Kind -> the kinds it brings along (directly)."""


def depends_on(kind: str) -> tuple[str, ...]:
    """The kinds ``kind``'s records reference; ``()`` for a kind without a row."""
    return DEPENDS_ON.get(kind, ())


def closure(kinds: Iterable[str]) -> set[str]:
    """``kinds`` and every kind they bring along, transitively."""
    needed: set[str] = set()
    pending = list(kinds)
    while pending:
        kind = pending.pop()
        if kind not in needed:
            needed.add(kind)
            pending.extend(depends_on(kind))
    return needed


def _display(kind: str) -> str:
    row = ROWS.get(kind)
    if row is None:
        return kind
    return f"B2B {row.display_name}" if row.b2b else row.display_name


def render_markdown() -> str:
    """Both maps as Markdown tables, as ``docs/entities.md`` carries them between ``MARKERS``."""
    out: list[str] = []
    for title, rows in (("Kind-level map", KIND_MAP), ("B2B map", B2B_MAP)):
        out += [
            f"**{title}**",
            "",
            "| Migrating | kind | Brings along | Lives inside |",
            "|---|---|---|---|",
        ]
        for row in rows:
            deps = ", ".join(f"{_display(d)} (`{d}`)" for d in row.brings_along) or "–"
            part = f"`{row.part_of}`" if row.part_of else "–"
            out.append(f"| {row.display_name} | `{row.kind}` | {deps} | {part} |")
        out.append("")
    return "\n".join(out)


MARKERS = ("<!-- dependency-map:start -->", "<!-- dependency-map:end -->")
"""The generated section of docs/entities.md lies between these lines."""


def update_document(text: str) -> str:
    """``text`` (docs/entities.md) with its generated section replaced by ``render_markdown()``."""
    start, end = MARKERS
    head, found, rest = text.partition(start)
    if not found or end not in rest:
        raise ValueError(f"the document has no {start} ... {end} section")
    tail = rest.partition(end)[2]
    return f"{head}{start}\n{render_markdown()}{end}{tail}"


if __name__ == "__main__":  # python -m stagesync.entities.dependencies docs/entities.md
    import sys
    from pathlib import Path

    for name in sys.argv[1:]:
        path = Path(name)
        path.write_text(update_document(path.read_text(encoding="utf-8")), encoding="utf-8")
