"""Switches that make the emulator break chosen platform assumptions (``/__emulator/quirks``).

stagesync's probe (docs/probe.md) checks on a real store what stagesync assumes about the
platform. These switches let the test suite make the emulator behave as a store that breaks some
of those assumptions, and check that the probe reports exactly those. All are off by default: the
emulator then behaves as the reference says the platform does.

- ``rate_limit_headers`` (default true): false drops the ``X-Rate-Limit-*`` headers from every
  store API response (``X-Retry-After`` on a 429 stays).
- ``ignored_filters``: query parameters (``"sku:in"``, ``"date_modified:min"``...) every ``GET``
  ignores, as a store that does not know them would. Writes still honour them.
- ``clock_offset_s``: seconds added to what ``GET /v2/time`` answers.
- ``date_modified_frozen_by``: product sub-resources (``variant``, ``option``, ``modifier``,
  ``image``, ``video``, ``custom_field``, ``complex_rule``, ``metafield``, ``review``,
  ``bulk_pricing_rule``, ``channel_assignment``) whose writes do not move their product's
  ``date_modified``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PARTS = {
    "variants": "variant",
    "options": "option",
    "modifiers": "modifier",
    "images": "image",
    "videos": "video",
    "custom-fields": "custom_field",
    "complex-rules": "complex_rule",
    "metafields": "metafield",
    "reviews": "review",
    "bulk-pricing-rules": "bulk_pricing_rule",
    "channel-assignments": "channel_assignment",
}
"""Path segment under ``/v3/catalog/products/{id}/`` (channel assignments: under
``/v3/catalog/products/``) -> the sub-resource's name."""


@dataclass
class Quirks:
    rate_limit_headers: bool = True
    ignored_filters: list[str] = field(default_factory=list)
    clock_offset_s: int = 0
    date_modified_frozen_by: list[str] = field(default_factory=list)

    def update(self, body: Mapping[str, Any]) -> None:
        """Set the switches ``body`` names; ValueError (nothing changed) on an invalid one."""
        unknown = sorted(set(body) - set(self.__dataclass_fields__))
        if unknown:
            raise ValueError(f"unknown quirk {', '.join(unknown)}")
        changes: dict[str, Any] = {}
        if "rate_limit_headers" in body:
            if not isinstance(body["rate_limit_headers"], bool):
                raise ValueError("rate_limit_headers must be true or false")
            changes["rate_limit_headers"] = body["rate_limit_headers"]
        if "clock_offset_s" in body:
            value = body["clock_offset_s"]
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError("clock_offset_s must be an integer")
            changes["clock_offset_s"] = value
        for name in ("ignored_filters", "date_modified_frozen_by"):
            if name in body:
                value = body[name]
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ValueError(f"{name} must be a list of strings")
                changes[name] = list(value)
        bad = sorted(set(changes.get("date_modified_frozen_by", [])) - set(PARTS.values()))
        if bad:
            raise ValueError(
                f"date_modified_frozen_by: unknown sub-resource {', '.join(bad)} "
                f"(known: {', '.join(sorted(PARTS.values()))})"
            )
        for name, value in changes.items():
            setattr(self, name, value)

    def query(self, method: str, query: dict[str, str]) -> dict[str, str]:
        """The query a handler sees: without the ignored filters on a read."""
        if method != "GET" or not self.ignored_filters:
            return query
        return {k: v for k, v in query.items() if k not in self.ignored_filters}

    def freezes(self, method: str, rest: str) -> bool:
        """Whether this request writes a product sub-resource whose writes leave the product's
        ``date_modified`` alone."""
        if method == "GET" or not self.date_modified_frozen_by:
            return False
        parts = rest.strip("/").split("/")
        if parts[:3] == ["v3", "catalog", "variants"]:
            return "variant" in self.date_modified_frozen_by
        if parts[:3] != ["v3", "catalog", "products"] or len(parts) < 4:
            return False
        if parts[3] == "channel-assignments":
            return "channel_assignment" in self.date_modified_frozen_by
        if len(parts) < 5:
            return False
        return PARTS.get(parts[4]) in self.date_modified_frozen_by

    def headers(self, headers: dict[str, str]) -> dict[str, str]:
        if self.rate_limit_headers:
            return headers
        return {k: v for k, v in headers.items() if not k.startswith("X-Rate-Limit-")}
