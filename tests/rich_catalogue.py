"""A rich catalogue exercising every product sub-resource, built through the API as a merchant's
tools would: content fields, options, a product with 120 variants (prices, weights, dimensions,
images, purchasing_disabled), modifiers of several types (checkbox, date, dropdown with adjusters),
a complex rule over a modifier value and a variant, images, videos, custom fields, bulk pricing
rules, related products in a cycle, metafields on products and variants, reviews and channel
assignments. ``fixtures/rich-catalogue`` is its snapshot."""

from __future__ import annotations

from typing import Any

from stagesync.emulator import Emulator
from stagesync.ports import StoreApi

P = "/v3/catalog/products"
OUTLET = "Outlet Storefront"


def add_channel(emulator: Emulator, store: str, name: str = OUTLET) -> int:
    """A second storefront (the emulator has no channel writes of its own yet)."""
    target = emulator.stores[store]
    channel_id = target.next_id()
    target.channels[channel_id] = {**target.channels[1], "id": channel_id, "name": name}
    return channel_id


async def build(api: StoreApi, outlet: int | None = None) -> dict[str, int]:
    ids: dict[str, int] = {}
    brand = await api.post("/v3/catalog/brands", {"name": "Northwind"})
    trees = await api.get_all("/v3/catalog/trees")
    made = await api.post(
        "/v3/catalog/trees/categories",
        [{"name": "Apparel", "tree_id": int(trees[0]["id"]), "parent_id": 0}],
    )
    category = int(made[0]["category_id"])
    sizes = ["XS", "S", "M", "L", "XL", "XXL"]
    colours = [f"Colour {n:02d}" for n in range(20)]
    variants: list[dict[str, Any]] = []
    for i, colour in enumerate(colours):
        for j, size in enumerate(sizes):
            variants.append(
                {
                    "sku": f"TEE-{i:02d}-{size}",
                    "price": 20 + j,
                    "weight": 0.2 + j / 10,
                    "width": 30 + j,
                    "height": 1,
                    "depth": 40 + j,
                    "image_url": f"https://cdn.example.com/tee/{i}.jpg" if j == 0 else "",
                    "purchasing_disabled": i == 19,
                    "option_values": [
                        {"option_display_name": "Colour", "label": colour},
                        {"option_display_name": "Size", "label": size},
                    ],
                }
            )
    tee = await api.post(
        P,
        {
            "name": "Organic Tee",
            "sku": "TEE",
            "type": "physical",
            "price": 20,
            "weight": 0.2,
            "brand_id": int(brand["id"]),
            "categories": [category],
            "description": "<p>Soft organic cotton.</p>",
            "page_title": "Organic Tee | Northwind",
            "meta_description": "An organic cotton tee.",
            "meta_keywords": ["tee", "organic"],
            "search_keywords": "tee,shirt",
            "custom_url": {"url": "/organic-tee/", "is_customized": True},
            "warranty": "Two years.",
            "availability": "preorder",
            "availability_description": "Ships in May",
            "preorder_message": "Back soon",
            "variants": variants,
            "images": [
                {"image_url": "https://cdn.example.com/tee/front.jpg", "is_thumbnail": True},
                {
                    "image_url": "https://cdn.example.com/tee/back.jpg",
                    "sort_order": 1,
                    "description": "Back",
                },
                {"image_url": "https://cdn.example.com/tee/detail.jpg", "sort_order": 2},
            ],
            "custom_fields": [{"name": "Material", "value": "Cotton"}],
        },
    )
    ids["tee"] = int(tee["id"])
    mug = await api.post(
        P,
        {
            "name": "Engraved Mug",
            "sku": "MUG",
            "type": "physical",
            "price": 12,
            "weight": 0.4,
            "categories": [category],
            "variants": [
                {
                    "sku": f"MUG-{c}",
                    "price": 12,
                    "option_values": [{"option_display_name": "Glaze", "label": c}],
                }
                for c in ("Matte", "Gloss")
            ],
        },
    )
    ids["mug"] = mug_id = int(mug["id"])
    engraving = await api.post(
        f"{P}/{mug_id}/modifiers",
        {
            "display_name": "Engraving",
            "type": "dropdown",
            "required": False,
            "option_values": [
                {"label": "None", "sort_order": 0, "is_default": True},
                {
                    "label": "Initials",
                    "sort_order": 1,
                    "adjusters": {
                        "price": {"adjuster": "relative", "adjuster_value": 5},
                        "weight": {"adjuster": "relative", "adjuster_value": 0.01},
                    },
                },
            ],
        },
    )
    gift = await api.post(
        f"{P}/{mug_id}/modifiers",
        {"display_name": "Gift wrap", "type": "checkbox", "required": False, "sort_order": 1},
    )
    yes = next(v for v in gift["option_values"] if v["label"] == "Yes")
    await api.put(
        f"{P}/{mug_id}/modifiers/{gift['id']}",
        {
            "option_values": [
                {**yes, "adjusters": {"price": {"adjuster": "relative", "adjuster_value": 3}}},
                next(v for v in gift["option_values"] if v["label"] == "No"),
            ]
        },
    )
    await api.post(
        f"{P}/{mug_id}/modifiers",
        {
            "display_name": "Delivery date",
            "type": "date",
            "required": False,
            "sort_order": 2,
            "config": {"default_value": "2024-12-01T00:00:00+00:00"},
        },
    )
    initials = next(v for v in engraving["option_values"] if v["label"] == "Initials")
    mug_variants = await api.get_all(f"{P}/{mug_id}/variants")
    gloss = next(v for v in mug_variants if v["sku"] == "MUG-Gloss")
    await api.post(
        f"{P}/{mug_id}/complex-rules",
        {
            "sort_order": 0,
            "price_adjuster": {"adjuster": "relative", "adjuster_value": 2},
            "purchasing_disabled_message": "",
            "conditions": [
                {"modifier_id": engraving["id"], "modifier_value_id": initials["id"]},
                {"variant_id": gloss["id"]},
            ],
        },
    )
    await api.post(f"{P}/{mug_id}/videos", {"video_id": "dQw4w9WgXcQ", "title": "Making of"})
    for low, high, amount in ((5, 9, 1), (10, 0, 2)):
        await api.post(
            f"{P}/{mug_id}/bulk-pricing-rules",
            {"quantity_min": low, "quantity_max": high, "type": "price", "amount": amount},
        )
    await api.post(
        f"{P}/{mug_id}/reviews",
        {
            "title": "Lovely",
            "text": "Great mug.",
            "rating": 5,
            "status": "approved",
            "name": "Ada",
            "email": "ada@example.com",
            "date_reviewed": "2024-03-01T10:00:00+00:00",
        },
    )
    await api.post(
        f"{P}/metafields",
        [
            {
                "resource_id": mug_id,
                "namespace": "erp",
                "key": "code",
                "value": "M-1",
                "permission_set": "read",
            }
        ],
    )
    await api.post(
        "/v3/catalog/variants/metafields",
        [
            {
                "resource_id": gloss["id"],
                "namespace": "erp",
                "key": "finish",
                "value": "gloss",
                "permission_set": "write",
                "description": "Finish code",
            }
        ],
    )
    # Related products in a cycle (create-then-link) and a channel assignment by name.
    await api.put(f"{P}/{ids['tee']}", {"related_products": [mug_id]})
    await api.put(f"{P}/{mug_id}", {"related_products": [ids["tee"]]})
    if outlet is not None:
        await api.put(
            "/v3/catalog/products/channel-assignments",
            [{"product_id": mug_id, "channel_id": outlet}],
        )
    return ids
