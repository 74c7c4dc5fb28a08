"""The registry: every entity kind stagesync can pull and push, in one place.

Adding a kind is one module exporting ``KIND`` plus a line here (see docs/adding-an-entity.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from stagesync.entities import (
    brands,
    categories,
    custom_template_associations,
    customer_groups,
    customers,
    orders,
    pages,
    placements,
    price_list_assignments,
    price_list_records,
    price_lists,
    products,
    shipping_methods,
    shipping_zones,
    themes,
    widget_templates,
    widgets,
)
from stagesync.entities.base import EntityKind, Lookup
from stagesync.errors import StageSyncError

REGISTRY: Mapping[str, EntityKind] = {
    kind.name: kind
    for kind in (
        brands.KIND,
        categories.KIND,
        products.KIND,
        price_lists.KIND,
        customer_groups.KIND,
        customers.KIND,
        price_list_records.KIND,
        price_list_assignments.KIND,
        shipping_zones.KIND,
        shipping_methods.KIND,
        orders.KIND,
        pages.KIND,
        widget_templates.KIND,
        widgets.KIND,
        placements.KIND,
        custom_template_associations.KIND,
        themes.KIND,
    )
}
"""Kinds by name, in the order their dependencies allow (dependencies first)."""

PLANNED = (
    "category_metafields",
    "product_reviews",
    "bulk_pricing_rules",
    "channel_assignments",
    "product_locales",
    "channels",
    "promotions",
    "b2b_companies",
    "b2b_addresses",
    "b2b_users",
    "b2b_orders",
    "b2b_super_admins",
    "b2b_quotes",
    "b2b_shopping_lists",
    "b2b_invoices",
)
"""Kinds named in the design that this version cannot move yet."""


class UnknownKind(StageSyncError):
    pass


def _spelling(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip()).lower()


def resolve_kinds(names: Iterable[str]) -> list[str]:
    """Kind names as users type them (``products``, ``customer-groups``, ``Customer Groups``) ->
    registry names, in registry order, without duplicates."""
    wanted: set[str] = set()
    for name in names:
        spelled = _spelling(name)
        if not spelled:
            continue
        if spelled in REGISTRY:
            wanted.add(spelled)
            continue
        if spelled in PLANNED:
            raise UnknownKind(
                f'Kind "{name}" is not supported by this version of stagesync yet. Supported '
                f"kinds: {', '.join(REGISTRY)}."
            )
        raise UnknownKind(f'Unknown kind "{name}". Known kinds: {", ".join(REGISTRY)}.')
    return [kind for kind in REGISTRY if kind in wanted]


def with_dependencies(kinds: Iterable[str]) -> list[str]:
    """``kinds`` plus every kind their records reference, in registry order."""
    needed: set[str] = set()
    pending = list(kinds)
    while pending:
        kind = pending.pop()
        if kind not in needed:
            needed.add(kind)
            pending.extend(REGISTRY[kind].depends_on)
    return [kind for kind in REGISTRY if kind in needed]


__all__ = ["REGISTRY", "EntityKind", "Lookup", "resolve_kinds", "with_dependencies", "UnknownKind"]
