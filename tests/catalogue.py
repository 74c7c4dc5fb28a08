"""A small catalogue with every awkward case the round trip must survive, built through the API
the way a merchant's tools would build it."""

from __future__ import annotations

from typing import Any

from stagesync.ports import StoreApi

TREE_PATH = [
    "Outdoor",
    "Outdoor/Footwear",
    "Outdoor/Footwear/Trail Running",
    "Outdoor/Footwear/Trail Running/Wide Fit",
]


async def category(api: StoreApi, tree_id: int, name: str, parent_id: int = 0, **extra: Any) -> int:
    body = {"name": name, "tree_id": tree_id, "parent_id": parent_id, **extra}
    created = await api.post("/v3/catalog/trees/categories", [body])
    return int(created[0]["category_id"])


async def build(api: StoreApi) -> dict[str, int]:
    """Create the catalogue; returns the ids of a few entities tests change afterwards."""
    trees = await api.get_all("/v3/catalog/trees")
    tree = int(trees[0]["id"])
    ids: dict[str, int] = {}

    # A four-level tree, a category whose name contains "/", unicode names.
    parent = 0
    for path in TREE_PATH:
        parent = await category(
            api, tree, path.split("/")[-1], parent, description=f"<p>{path}</p>"
        )
    ids["wide_fit"] = parent
    bags = await category(api, tree, "Bags/Cases", is_visible=True, sort_order=3)
    ids["bags"] = bags
    cafe = await category(api, tree, "Café & Crème", page_title="Café")
    await category(api, tree, "Größe ß", cafe)

    acme = await api.post("/v3/catalog/brands", {"name": "Acme", "page_title": "Acme Outdoor"})
    await api.post("/v3/catalog/brands", {"name": "Zürich Gear", "meta_keywords": ["b", "a"]})
    ids["acme"] = int(acme["id"])

    # A product without variants, with images and custom fields.
    tent = await api.post(
        "/v3/catalog/products",
        {
            "name": "Trail Tent",
            "type": "physical",
            "sku": "TENT-1",
            "price": 199.0,
            "weight": 2.5,
            "brand_id": ids["acme"],
            "categories": [bags, ids["wide_fit"]],
            "description": "<p>Sleeps two.</p>",
            "images": [
                {
                    "image_url": "https://cdn.example.com/tent-a.jpg",
                    "is_thumbnail": True,
                    "sort_order": 0,
                    "description": "Front",
                },
                {"image_url": "https://cdn.example.com/tent-b.jpg", "sort_order": 1},
            ],
            "custom_fields": [
                {"name": "Material", "value": "Ripstop"},
                {"name": "Season", "value": "3"},
            ],
        },
    )
    ids["tent"] = int(tent["id"])

    # A two-option variant matrix (Size x Colour), with a unicode option label.
    variants = [
        {
            "sku": f"SHOE-{size}-{colour[:3].upper()}",
            "price": 120.0 + size,
            "option_values": [
                {"option_display_name": "Size", "label": str(size)},
                {"option_display_name": "Colour", "label": colour},
            ],
        }
        for size in (42, 43)
        for colour in ("Blue", "Grün")
    ]
    shoe = await api.post(
        "/v3/catalog/products",
        {
            "name": "Trail Shoe ✓",
            "type": "physical",
            "sku": "SHOE",
            "price": 120.0,
            "weight": 0.8,
            "categories": [ids["wide_fit"]],
            "variants": variants,
            "custom_fields": [{"name": "Drop", "value": "6mm"}],
        },
    )
    ids["shoe"] = int(shoe["id"])

    # A product without a SKU is keyed by its name.
    await api.post(
        "/v3/catalog/products",
        {"name": "Gift Wrap", "type": "digital", "price": 0, "weight": 0, "categories": [cafe]},
    )
    return ids
