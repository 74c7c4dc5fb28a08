"""A product's images and custom fields: rules, rendering and routes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stagesync.emulator.errors import ApiError, conflict, invalid
from stagesync.emulator.fields import (
    CUSTOM_FIELD_FIELDS,
    IMAGE_FIELDS,
    defaults,
    read_fields,
)
from stagesync.emulator.routes import (
    SUBLIST,
    Call,
    Endpoint,
    Reply,
    Table,
    page_of,
    register,
    select_fields,
    single,
)

from .categories import Categories
from .common import (
    MAX_CUSTOM_FIELDS,
    Record,
    _missing,
    _owned,
    _require_object,
    now_rfc3339,
    slugify,
)


class ProductMedia(Categories):
    """A product's images and custom fields: their rules and rendering."""

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


# ---- images and custom fields ------------------------------------------------------------------


def list_images(store: ProductMedia, call: Call) -> Reply:
    product = store.get_product(call.params["product_id"])
    rendered = [store.render_image(store.images[i]) for i in product["image_ids"]]
    return page_of([select_fields(i, call.query) for i in rendered], call.query)


def create_image(store: ProductMedia, call: Call) -> Reply:
    return single(store.render_image(store.create_image(call.params["product_id"], call.body)))


def get_image(store: ProductMedia, call: Call) -> Reply:
    store.get_product(call.params["product_id"])
    return single(
        store.render_image(store.get_image(call.params["product_id"], call.params["image_id"]))
    )


def update_image(store: ProductMedia, call: Call) -> Reply:
    image = store.update_image(call.params["product_id"], call.params["image_id"], call.body)
    return single(store.render_image(image))


def delete_image(store: ProductMedia, call: Call) -> Reply:
    store.delete_image(call.params["product_id"], call.params["image_id"])
    return Reply(204)


def list_custom_fields(store: ProductMedia, call: Call) -> Reply:
    product = store.get_product(call.params["product_id"])
    rendered = [
        store.render_custom_field(store.custom_fields[c]) for c in product["custom_field_ids"]
    ]
    return page_of([select_fields(c, call.query) for c in rendered], call.query)


def create_custom_field(store: ProductMedia, call: Call) -> Reply:
    record = store.create_custom_field(call.params["product_id"], call.body)
    return single(store.render_custom_field(record))


def get_custom_field(store: ProductMedia, call: Call) -> Reply:
    store.get_product(call.params["product_id"])
    record = store.get_custom_field(call.params["product_id"], call.params["custom_field_id"])
    return single(store.render_custom_field(record))


def update_custom_field(store: ProductMedia, call: Call) -> Reply:
    p = call.params
    record = store.update_custom_field(p["product_id"], p["custom_field_id"], call.body)
    return single(store.render_custom_field(record))


def delete_custom_field(store: ProductMedia, call: Call) -> Reply:
    store.delete_custom_field(call.params["product_id"], call.params["custom_field_id"])
    return Reply(204)


MEDIA_ROUTES: Table = [
    (
        "/v3/catalog/products/{product_id}/images",
        {"GET": Endpoint(list_images, listing=SUBLIST), "POST": create_image},
    ),
    (
        "/v3/catalog/products/{product_id}/images/{image_id}",
        {"GET": get_image, "PUT": update_image, "DELETE": delete_image},
    ),
    (
        "/v3/catalog/products/{product_id}/custom-fields",
        {"GET": Endpoint(list_custom_fields, listing=SUBLIST), "POST": create_custom_field},
    ),
    (
        "/v3/catalog/products/{product_id}/custom-fields/{custom_field_id}",
        {"GET": get_custom_field, "PUT": update_custom_field, "DELETE": delete_custom_field},
    ),
]
register(MEDIA_ROUTES)
