"""The registry: every entity kind stagesync can pull and push, in one place.

Adding a kind is one module exporting ``KIND`` plus a line here (see docs/adding-an-entity.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from stagesync.entities import (
    b2b_addresses,
    b2b_companies,
    b2b_invoices,
    b2b_orders,
    b2b_quotes,
    b2b_shopping_lists,
    b2b_super_admins,
    b2b_users,
    brands,
    bulk_pricing_rules,
    categories,
    category_metafields,
    channel_assignments,
    channels,
    custom_template_associations,
    customer_groups,
    customers,
    dependencies,
    orders,
    pages,
    placements,
    price_list_assignments,
    price_list_records,
    price_lists,
    product_locales,
    product_reviews,
    products,
    promotions,
    scripts,
    shipping_methods,
    shipping_zones,
    themes,
    widget_templates,
    widgets,
)
from stagesync.entities.base import EntityKind, Lookup
from stagesync.errors import UsageError

REGISTRY: Mapping[str, EntityKind] = {
    kind.name: kind
    for kind in (
        channels.KIND,
        brands.KIND,
        categories.KIND,
        category_metafields.KIND,
        products.KIND,
        product_reviews.KIND,
        bulk_pricing_rules.KIND,
        channel_assignments.KIND,
        product_locales.KIND,
        price_lists.KIND,
        customer_groups.KIND,
        customers.KIND,
        price_list_records.KIND,
        price_list_assignments.KIND,
        shipping_zones.KIND,
        shipping_methods.KIND,
        promotions.KIND,
        orders.KIND,
        pages.KIND,
        widget_templates.KIND,
        widgets.KIND,
        placements.KIND,
        custom_template_associations.KIND,
        scripts.KIND,
        themes.KIND,
        b2b_companies.KIND,
        b2b_addresses.KIND,
        b2b_users.KIND,
        b2b_orders.KIND,
        b2b_super_admins.KIND,
        b2b_quotes.KIND,
        b2b_shopping_lists.KIND,
        b2b_invoices.KIND,
    )
}
"""Kinds by name, in the order their dependencies allow (dependencies first)."""

PLANNED = tuple(kind for kind in dependencies.ROWS if kind not in REGISTRY)
"""Kinds named in the design that this version cannot move yet."""


class UnknownKind(UsageError):
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


def resolve_patterns(patterns: Iterable[str]) -> list[tuple[str, str]]:
    """``--only`` patterns (``products:SHOE-*``, ``Customer Groups:VIP``) -> (kind, key glob).
    The kind is spelled as ``resolve_kinds`` accepts; the glob (``*``, ``?``, ``[...]``) is
    matched against whole keys, case-sensitively. Only the first ``:`` separates them, so keys
    with colons (``name:Gift card``) work."""
    out: list[tuple[str, str]] = []
    for pattern in patterns:
        kind, colon, glob = pattern.partition(":")
        if not colon or not kind.strip() or not glob:
            raise UnknownKind(
                f'--only pattern "{pattern}" is not KIND:KEY; write e.g. products:SHOE-* or '
                f"promotions:SUMMER10."
            )
        (resolved,) = resolve_kinds([kind]) or [kind]
        out.append((resolved, glob))
    return sorted(set(out))


def with_dependencies(kinds: Iterable[str]) -> list[str]:
    """``kinds`` plus every kind they bring along (``entities.dependencies``), in registry order.
    Kinds this version cannot move yet are left out."""
    needed = dependencies.closure(kinds)
    return [kind for kind in REGISTRY if kind in needed]


WHOLE = "whole"
"""Read every object as ``fetch`` makes it."""
WHOLE_KEYS = "whole keys"
"""Read every object for its key and ID only (``fetch_keys``)."""
TARGETED = "targeted"
"""Read the plan's entities by key (``targeted.by_keys``), and entities of the kind they
reference by ID or key (the lean readers)."""
TARGETED_KEYS = "targeted, whole keys"
"""``TARGETED``, and every object for its key and ID (``fetch_keys``): a kind read whole needs
them all."""
REFERENCED = "referenced"
"""Read only the entities other objects reference, for their keys and IDs (lean readers)."""


def push_reads(
    kinds: Iterable[str], registry: Mapping[str, EntityKind] | None = None
) -> dict[str, str]:
    """How push reads each kind for a plan with operations on ``kinds``: kind -> ``WHOLE``,
    ``WHOLE_KEYS``, ``TARGETED``, ``TARGETED_KEYS`` or ``REFERENCED``, in registry order. A
    kind the plan touches is targeted when it declares how; a kind read only for IDs is
    referenced when it can be. Either only when every kind that needs it is targeted: a kind
    read whole may reference any entity of it, or need them all to identify its own. A kind
    read only for IDs needs its dependencies only to identify its own (``identify_with``): a
    kind it merely references is not read for it (customer groups read for customers do not
    bring every product key along). Kinds no one needs are not read."""
    registry = REGISTRY if registry is None else registry
    touched = set(kinds)
    modes: dict[str, str] = {}
    for kind in reversed(list(registry)):
        entity = registry[kind]
        targeted = entity.targeted
        users = [
            modes[user]
            for user in modes
            if kind in dependencies.depends_on(user)
            and modes[user] != REFERENCED
            and (user in touched or registry[user].identify_with is not None)
        ]
        all_targeted = all(mode in (TARGETED, TARGETED_KEYS) for mode in users)
        if kind in touched:
            if not (targeted and targeted.by_keys):
                modes[kind] = WHOLE
            elif all_targeted:
                modes[kind] = TARGETED
            else:
                modes[kind] = TARGETED_KEYS if entity.fetch_keys else WHOLE
            continue
        if not users:
            continue
        if targeted and targeted.referable and all_targeted:
            modes[kind] = REFERENCED
        else:
            modes[kind] = WHOLE_KEYS if entity.fetch_keys else WHOLE
    return {kind: modes[kind] for kind in registry if kind in modes}


def _check_registry() -> None:
    """Every registered kind has a row in the dependency map and comes after what it needs."""
    seen: set[str] = set()
    for name in REGISTRY:
        if name not in dependencies.ROWS:
            raise RuntimeError(f"kind {name} has no row in stagesync/entities/dependencies.py")
        late = [d for d in dependencies.depends_on(name) if d in REGISTRY and d not in seen]
        if late:
            raise RuntimeError(f"REGISTRY lists {name} before {', '.join(late)}, which it needs")
        seen.add(name)


_check_registry()


__all__ = [
    "REGISTRY",
    "EntityKind",
    "Lookup",
    "resolve_kinds",
    "resolve_patterns",
    "with_dependencies",
    "UnknownKind",
]
