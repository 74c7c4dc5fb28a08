"""Bulk catalogue data for benchmarks and fault tests: ``n`` products, each with 3 variants (one
option), 2 images and 2 custom fields, spread over a few brands and categories.

``product_bodies`` gives the API request bodies (tests create them through the real client);
``fill_store`` writes them straight into an emulated store, which is how benchmarks seed 100,000
products in seconds instead of hours.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .store import Store

BRANDS = 5
CATEGORIES = 10


def brand_names() -> list[str]:
    return [f"Brand {i}" for i in range(BRANDS)]


def category_names() -> list[str]:
    return [f"Category {i}" for i in range(CATEGORIES)]


def product_bodies(
    n: int, brand_ids: list[int], category_ids: list[int], prefix: str = "P"
) -> Iterator[dict[str, Any]]:
    for i in range(n):
        sku = f"{prefix}-{i:06d}"
        yield {
            "name": f"Product {prefix} {i}",
            "type": "physical",
            "sku": sku,
            "price": 10.0 + i % 90,
            "weight": 1.0 + i % 5,
            "brand_id": brand_ids[i % len(brand_ids)] if brand_ids else 0,
            "categories": [category_ids[i % len(category_ids)]] if category_ids else [],
            "description": f"<p>Product {i}</p>",
            "variants": [
                {
                    "sku": f"{sku}-{size}",
                    "price": 10.0 + i % 90 + n_size,
                    "option_values": [{"option_display_name": "Size", "label": size}],
                }
                for n_size, size in enumerate(("S", "M", "L"))
            ],
            "images": [
                {
                    "image_url": f"https://cdn.example.com/{sku}-{k}.jpg",
                    "is_thumbnail": k == 0,
                    "sort_order": k,
                }
                for k in range(2)
            ],
            "custom_fields": [
                {"name": "Material", "value": ("Cotton", "Wool", "Linen")[i % 3]},
                {"name": "Batch", "value": str(i % 7)},
            ],
        }


def fill_store(store: Store, n: int, prefix: str = "P") -> None:
    """Create the brands, categories and ``n`` products directly in ``store``."""
    brand_ids = [int(store.create_brand({"name": name})["id"]) for name in brand_names()]
    tree = store.tree_for_channel(1)
    assert tree is not None
    category_ids = [
        int(
            store.create_category(
                {"name": name, "tree_id": tree["id"], "parent_id": 0}, tree_api=True
            )["id"]
        )
        for name in category_names()
    ]
    for body in product_bodies(n, brand_ids, category_ids, prefix):
        store.create_product(body)
