"""The ``demo`` seed: a small outdoor-apparel catalogue in ``production`` and a newer ``staging``.

Both stores are filled through the same ``Store`` methods the HTTP handlers use. Staging is
production plus a handful of edits: new brand, new category, three new products (one with
variants), a few price changes, a description change and a variant price change.
The data is fixed, so the seed is deterministic (apart from IDs per store); creation and
modification times are spread over the past, deterministically (``seed_dates``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .store import Store

CDN = "https://cdn.example.com/demo"

BRANDS = ["Northwind Outfitters", "Alpine & Co.", "Trailhead", "Tissage Café", "Summit Gear"]
STAGING_BRANDS = ["Evergreen Threads"]

# Category paths; "/" inside a name is written "\/" here and split accordingly.
CATEGORIES = [
    "Apparel",
    "Apparel/Men",
    "Apparel/Men/Jackets",
    "Apparel/Men/Shirts",
    "Apparel/Women",
    "Apparel/Women/Jackets",
    "Apparel/Women/Dresses",
    "Apparel/Kids",
    "Outdoor",
    "Outdoor/Camping",
    "Outdoor/Camping/Tents",
    "Outdoor/Camping/Sleeping Bags",
    "Outdoor/Hiking",
    "Outdoor/Hiking/Backpacks",
    "Accessories",
    "Accessories/Bags\\/Cases",
    "Accessories/Hats & Caps",
    "Café & Crème",
    "Café & Crème/Mugs",
]
STAGING_CATEGORIES = ["Outdoor/Climbing"]

SIZES = ["S", "M", "L", "XL"]
COLORS = ["Black", "Forest", "Rust"]


@dataclass
class DemoProduct:
    sku: str
    name: str
    price: float
    weight: float
    categories: list[str]
    brand: str
    description: str = ""
    sale_price: float = 0
    matrix: dict[str, list[str]] = field(default_factory=dict)
    variant_prices: dict[str, float] = field(default_factory=dict)
    custom_fields: list[tuple[str, str]] = field(default_factory=list)
    images: int = 1


def _products() -> list[DemoProduct]:
    p = DemoProduct
    return [
        p(
            "NW-JKT-01",
            "Ridge Shell Jacket",
            189.0,
            1.4,
            ["Apparel/Men/Jackets"],
            "Northwind Outfitters",
            "<p>Waterproof three-layer shell for alpine days.</p>",
            matrix={"Size": SIZES, "Color": COLORS},
            custom_fields=[("Fabric", "3L nylon"), ("Fit", "Regular")],
        ),
        p(
            "NW-JKT-02",
            "Drift Down Jacket",
            229.0,
            1.1,
            ["Apparel/Men/Jackets"],
            "Northwind Outfitters",
            "<p>800-fill down, packs into its own pocket.</p>",
            matrix={"Size": SIZES, "Color": ["Black", "Rust"]},
        ),
        p(
            "NW-JKT-03",
            "Coastline Rain Jacket",
            129.0,
            0.9,
            ["Apparel/Women/Jackets"],
            "Northwind Outfitters",
            "<p>Light rain jacket with pit zips.</p>",
            matrix={"Size": ["XS", "S", "M", "L"], "Color": ["Forest", "Sky"]},
        ),
        p(
            "AC-SHT-01",
            "Merino Base Tee",
            69.0,
            0.3,
            ["Apparel/Men/Shirts"],
            "Alpine & Co.",
            "<p>150 g/m² merino wool.</p>",
            matrix={"Size": SIZES},
            custom_fields=[("Fabric", "Merino wool")],
        ),
        p(
            "AC-SHT-02",
            "Flannel Camp Shirt",
            59.0,
            0.5,
            ["Apparel/Men/Shirts"],
            "Alpine & Co.",
            "<p>Brushed cotton flannel.</p>",
            matrix={"Size": SIZES, "Color": ["Rust", "Forest"]},
        ),
        p(
            "AC-SHT-03",
            "Sun Hoodie",
            54.0,
            0.35,
            ["Apparel/Men/Shirts", "Apparel/Women"],
            "Alpine & Co.",
            "<p>UPF 50 hooded sun shirt.</p>",
        ),
        p(
            "AC-DRS-01",
            "Trail Dress",
            79.0,
            0.4,
            ["Apparel/Women/Dresses"],
            "Alpine & Co.",
            "<p>Quick-dry dress with hidden pockets.</p>",
            matrix={"Size": ["XS", "S", "M", "L"]},
        ),
        p(
            "AC-DRS-02",
            "Wrap Knit Dress",
            95.0,
            0.45,
            ["Apparel/Women/Dresses"],
            "Tissage Café",
            "<p>Soft knit wrap dress.</p>",
            sale_price=79.0,
        ),
        p(
            "TH-KID-01",
            "Kids Puddle Suit",
            49.0,
            0.6,
            ["Apparel/Kids"],
            "Trailhead",
            "<p>One-piece rain suit for kids.</p>",
            matrix={"Size": ["2T", "3T", "4T"]},
        ),
        p(
            "TH-KID-02",
            "Kids Fleece Hoodie",
            39.0,
            0.4,
            ["Apparel/Kids"],
            "Trailhead",
            "<p>Cozy recycled fleece.</p>",
        ),
        p(
            "SG-TNT-01",
            "Basecamp 2P Tent",
            349.0,
            2.3,
            ["Outdoor/Camping/Tents"],
            "Summit Gear",
            "<p>Freestanding two-person tent.</p>",
            custom_fields=[("Capacity", "2 people"), ("Seasons", "3")],
        ),
        p(
            "SG-TNT-02",
            "Ultralight 1P Tent",
            299.0,
            0.9,
            ["Outdoor/Camping/Tents"],
            "Summit Gear",
            "<p>Trekking-pole tent under 1 kg.</p>",
        ),
        p(
            "SG-TNT-03",
            "Family Dome 6P",
            499.0,
            6.8,
            ["Outdoor/Camping/Tents"],
            "Summit Gear",
            "<p>Room for the whole family.</p>",
        ),
        p(
            "SG-SLP-01",
            "Summit -10 Sleeping Bag",
            279.0,
            1.3,
            ["Outdoor/Camping/Sleeping Bags"],
            "Summit Gear",
            "<p>Rated to -10 °C.</p>",
            matrix={"Length": ["Regular", "Long"]},
        ),
        p(
            "SG-SLP-02",
            "Summer Quilt",
            169.0,
            0.6,
            ["Outdoor/Camping/Sleeping Bags"],
            "Summit Gear",
            "<p>Open quilt for warm nights.</p>",
        ),
        p(
            "SG-CMP-01",
            "Camp Stove",
            89.0,
            0.4,
            ["Outdoor/Camping"],
            "Summit Gear",
            "<p>Compact canister stove.</p>",
        ),
        p(
            "SG-CMP-02",
            "Folding Camp Chair",
            65.0,
            1.0,
            ["Outdoor/Camping"],
            "Trailhead",
            "<p>Packs small, sits big.</p>",
            matrix={"Color": COLORS},
        ),
        p(
            "TH-PCK-01",
            "Daypack 22L",
            99.0,
            0.8,
            ["Outdoor/Hiking/Backpacks"],
            "Trailhead",
            "<p>Everyday hiking pack.</p>",
            matrix={"Color": COLORS},
            custom_fields=[("Volume", "22 L")],
        ),
        p(
            "TH-PCK-02",
            "Trekker 55L",
            249.0,
            1.9,
            ["Outdoor/Hiking/Backpacks"],
            "Trailhead",
            "<p>Multi-day pack with adjustable back.</p>",
            matrix={"Size": ["S/M", "M/L"], "Color": ["Black", "Forest"]},
        ),
        p(
            "TH-HIK-01",
            "Trekking Poles",
            119.0,
            0.5,
            ["Outdoor/Hiking"],
            "Trailhead",
            "<p>Carbon, three sections.</p>",
        ),
        p(
            "TH-HIK-02",
            "Trail Map Case",
            19.0,
            0.1,
            ["Outdoor/Hiking", "Accessories/Bags\\/Cases"],
            "Trailhead",
            "<p>Waterproof map case.</p>",
        ),
        p(
            "NW-BAG-01",
            "Duffel 40L",
            119.0,
            1.0,
            ["Accessories/Bags\\/Cases"],
            "Northwind Outfitters",
            "<p>Weatherproof travel duffel.</p>",
            matrix={"Color": ["Black", "Rust"]},
        ),
        p(
            "NW-BAG-02",
            "Phone Dry Case",
            24.0,
            0.1,
            ["Accessories/Bags\\/Cases"],
            "Northwind Outfitters",
            "<p>IPX8 phone case.</p>",
        ),
        p(
            "NW-BAG-03",
            "Packing Cubes Set",
            34.0,
            0.3,
            ["Accessories/Bags\\/Cases"],
            "Northwind Outfitters",
            "<p>Three cubes, three sizes.</p>",
        ),
        p(
            "AC-HAT-01",
            "Wool Beanie",
            29.0,
            0.1,
            ["Accessories/Hats & Caps"],
            "Alpine & Co.",
            "<p>Ribbed merino beanie.</p>",
            matrix={"Color": COLORS},
        ),
        p(
            "AC-HAT-02",
            "Trucker Cap",
            25.0,
            0.1,
            ["Accessories/Hats & Caps"],
            "Alpine & Co.",
            "<p>Mesh-back cap.</p>",
        ),
        p(
            "AC-HAT-03",
            "Wide Brim Sun Hat",
            39.0,
            0.15,
            ["Accessories/Hats & Caps"],
            "Tissage Café",
            "<p>Packable sun hat.</p>",
            matrix={"Size": ["S/M", "L/XL"]},
        ),
        p(
            "TC-MUG-01",
            "Enamel Camp Mug",
            16.0,
            0.2,
            ["Café & Crème/Mugs"],
            "Tissage Café",
            "<p>Classic speckled enamel.</p>",
            matrix={"Color": ["Cream", "Forest"]},
        ),
        p(
            "TC-MUG-02",
            "Insulated Travel Mug",
            32.0,
            0.3,
            ["Café & Crème/Mugs"],
            "Tissage Café",
            "<p>Keeps coffee hot for 6 hours.</p>",
        ),
        p(
            "TC-CAF-01",
            "Pour-Over Coffee Kit",
            45.0,
            0.5,
            ["Café & Crème"],
            "Tissage Café",
            "<p>Dripper, filters and a crème-colored canister.</p>",
            custom_fields=[("Origin", "Café blend")],
        ),
        p(
            "TC-CAF-02",
            "Crème Brûlée Coffee Beans",
            18.0,
            0.25,
            ["Café & Crème"],
            "Tissage Café",
            "<p>Medium roast, 250 g.</p>",
        ),
        p(
            "SG-LMP-01",
            "Headlamp 400",
            49.0,
            0.1,
            ["Outdoor/Camping", "Outdoor/Hiking"],
            "Summit Gear",
            "<p>400 lumens, USB-C.</p>",
        ),
    ]


def _staging_products() -> list[DemoProduct]:
    p = DemoProduct
    return [
        p(
            "EV-SHT-01",
            "Organic Linen Shirt",
            89.0,
            0.35,
            ["Apparel/Men/Shirts"],
            "Evergreen Threads",
            "<p>Breathable organic linen.</p>",
            matrix={"Size": SIZES, "Color": ["Sand", "Sage"]},
            custom_fields=[("Fabric", "Organic linen")],
        ),
        p(
            "SG-CLB-01",
            "Climbing Harness",
            79.0,
            0.4,
            ["Outdoor/Climbing"],
            "Summit Gear",
            "<p>All-round harness.</p>",
        ),
        p(
            "SG-CLB-02",
            "Chalk Bag",
            22.0,
            0.1,
            ["Outdoor/Climbing", "Accessories/Bags\\/Cases"],
            "Summit Gear",
            "<p>Chalk bag with brush holder.</p>",
        ),
    ]


# Staging's edits to products that exist in both stores.
STAGING_PRICE_CHANGES = {"NW-JKT-01": 199.0, "SG-TNT-01": 329.0, "AC-HAT-01": 32.0}
STAGING_DESCRIPTIONS = {
    "TH-PCK-01": "<p>Everyday hiking pack, now with a hip-belt pocket and rain cover.</p>"
}
STAGING_VARIANT_PRICES = {"NW-JKT-02": {"NW-JKT-02-XL-BLACK": 249.0}}


def split_path(path: str) -> list[str]:
    """``"Accessories/Bags\\/Cases"`` -> ``["Accessories", "Bags/Cases"]``."""
    parts = path.replace("\\/", "\0").split("/")
    return [part.replace("\0", "/") for part in parts]


def _variant_sku(product_sku: str, labels: list[str]) -> str:
    return "-".join([product_sku, *(label.upper().replace("/", "") for label in labels)])


def _product_body(
    product: DemoProduct, brands: dict[str, int], categories: dict[str, int]
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": product.name,
        "type": "physical",
        "sku": product.sku,
        "price": product.price,
        "sale_price": product.sale_price,
        "weight": product.weight,
        "description": product.description,
        "brand_id": brands[product.brand],
        "categories": [categories[path] for path in product.categories],
        "inventory_tracking": "variant" if product.matrix else "product",
        "inventory_level": 0 if product.matrix else 25,
        "is_visible": True,
        "search_keywords": ", ".join(product.name.lower().split()[:2]),
        "images": [
            {
                "image_url": f"{CDN}/{product.sku.lower()}-{n + 1}.jpg",
                "is_thumbnail": n == 0,
                "sort_order": n,
                "description": f"{product.name} view {n + 1}",
            }
            for n in range(product.images)
        ],
        "custom_fields": [{"name": n, "value": v} for n, v in product.custom_fields],
    }
    if product.matrix:
        combos: list[list[tuple[str, str]]] = [[]]
        for option, labels in product.matrix.items():
            combos = [combo + [(option, label)] for combo in combos for label in labels]
        variants = []
        for combo in combos:
            sku = _variant_sku(product.sku, [label for _, label in combo])
            variant: dict[str, Any] = {
                "sku": sku,
                "inventory_level": 10,
                "option_values": [{"option_display_name": o, "label": lab} for o, lab in combo],
            }
            if sku in product.variant_prices:
                variant["price"] = product.variant_prices[sku]
            variants.append(variant)
        body["variants"] = variants
    return body


def _fill(store: Store, *, staging: bool) -> None:
    brands: dict[str, int] = {}
    for name in BRANDS + (STAGING_BRANDS if staging else []):
        brands[name] = store.create_brand({"name": name, "page_title": f"{name} gear"})["id"]
    categories: dict[str, int] = {}
    paths = CATEGORIES + (STAGING_CATEGORIES if staging else [])
    for order, path in enumerate(paths):
        parts = split_path(path)
        parent_key = "/".join(path.replace("\\/", "\0").split("/")[:-1]).replace("\0", "\\/")
        body = {
            "name": parts[-1],
            "parent_id": categories[parent_key] if len(parts) > 1 else 0,
            "sort_order": order,
            "description": f"<p>{parts[-1]}</p>",
            "page_title": parts[-1],
        }
        categories[path] = store.create_category(body)["id"]
    products = _products() + (_staging_products() if staging else [])
    for product in products:
        if staging:
            product.price = STAGING_PRICE_CHANGES.get(product.sku, product.price)
            product.description = STAGING_DESCRIPTIONS.get(product.sku, product.description)
            product.variant_prices = STAGING_VARIANT_PRICES.get(product.sku, {})
        store.create_product(_product_body(product, brands, categories))


def seed_demo(production: Store, staging: Store) -> None:
    """Fill the two demo stores, their records dated in the past (``seed_dates``)."""
    from .seed_commerce import seed_commerce
    from .seed_dates import spread_dates

    _fill(production, staging=False)
    _fill(staging, staging=True)
    seed_commerce(production, staging=False)
    seed_commerce(staging, staging=True)
    for store in (production, staging):
        spread_dates(store, "demo")
