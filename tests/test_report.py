"""Text and HTML renderings of one Plan."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from stagesync.model import Action, Endpoint, EntityKey, FieldChange, Operation, Plan
from stagesync.planfile import plan_digest
from stagesync.report.html import render_html
from stagesync.report.text import render_text

NASTY = (
    '<script>alert(1)</script><img src=x onerror="alert(2)"><a href="https://evil.example/">x</a>'
)


def op(
    action: Action, kind: str, key: str, after: dict[str, Any] | None = None, **kw: Any
) -> Operation:
    return Operation(
        id=f"{kind}:{key}",
        action=action,
        key=EntityKey(kind, key),
        after=after,
        precondition=None if action is Action.CREATE else "sha256:" + "a" * 64,
        **kw,
    )


def sample_plan() -> Plan:
    return Plan(
        source=Endpoint("staging", "abc123", "sha256:" + "1" * 64),
        destination=Endpoint("production", "def456", "sha256:" + "2" * 64),
        operations=(
            op(Action.CREATE, "brands", "Acme", {"name": "Acme"}),
            op(Action.CREATE, "categories", "Shoes/Running", {"name": "Running"}),
            op(
                Action.UPDATE,
                "products",
                "SKU-1",
                {"sku": "SKU-1", "price": 12, "variants": [{"sku": "SKU-1-S", "price": 12}]},
                fields=(
                    FieldChange("price", 10, 12),
                    FieldChange("variants[SKU-1-S].price", 10, 12),
                ),
                depends_on=("brands:Acme",),
            ),
            op(
                Action.CREATE,
                "products",
                "SKU-2",
                {"sku": "SKU-2"},
                reason="dependency of promotion SUMMER",
            ),
            op(Action.DELETE, "brands", "Old"),
        ),
        created_at="2024-05-01T12:00:00Z",
        warnings=("product name:Gift card has no SKU, so it is matched by name.",),
        estimated_requests=6,
        kinds=("brands", "categories", "products"),
    )


def empty_plan() -> Plan:
    return replace(sample_plan(), operations=(), warnings=(), estimated_requests=0)


# --- text -----------------------------------------------------------------------------------------


def test_text(snapshot: Any) -> None:
    assert render_text(sample_plan()) == snapshot


def test_text_puts_summary_then_destructive_then_the_rest():
    text = render_text(sample_plan())
    assert text.index("kind ") < text.index("about 6 API requests") < text.index("- brands Old")
    assert text.index("- brands Old") < text.index("+ brands Acme")
    assert "+ products SKU-2  [dependency of promotion SUMMER]" in text
    assert "~ products SKU-1 (price, variants)\n" in text


def test_text_of_an_empty_plan():
    assert render_text(empty_plan()) == "No changes.\n"


# --- html -----------------------------------------------------------------------------------------

EXTERNAL = re.compile(
    r"""(?:src|href|action|srcset|poster|data)\s*=\s*["']?\s*(?:[a-z]+:)?//""", re.I
)


def assert_inert(html: str) -> None:
    lowered = html.lower()
    assert "<script" not in lowered
    assert "<img" not in lowered
    assert "<a " not in lowered
    assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", lowered)  # no event handler in a tag
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    assert "url(" not in lowered and "@import" not in lowered
    assert "<link" not in lowered and "<iframe" not in lowered


def test_html_plan_has_header_summary_and_sections():
    html = render_html(sample_plan())
    assert html.startswith("<!doctype html>")
    for text in (
        "staging (abc123)",
        "production (def456)",
        "2024-05-01T12:00:00Z",
        plan_digest(sample_plan()),
        "<dt>Estimated requests</dt><dd>6</dd>",
        "Destructive operations (1)",
        "<h2>brands (1)</h2>",
        "<h2>products (2)</h2>",
        "dependency of promotion SUMMER",
        "<code>variants[SKU-1-S].price</code>",
        "matched by name",
    ):
        assert text in html, text
    assert html.index("Destructive operations") < html.index("<h2>brands (1)</h2>")
    for badge in ('"badge create"', '"badge update"', '"badge delete"'):
        assert badge in html
    assert_inert(html)


def test_html_escapes_everything_from_the_store():
    description = {"sku": "X", "description": NASTY}
    plan = replace(
        sample_plan(),
        source=Endpoint(NASTY, NASTY, "sha256:0"),
        operations=(
            op(Action.CREATE, "products", NASTY, description, reason=NASTY),
            op(
                Action.UPDATE,
                "products",
                "X",
                description,
                fields=(FieldChange(NASTY, NASTY, {"description": NASTY}),),
                depends_on=(NASTY,),
            ),
        ),
        warnings=(NASTY,),
        kinds=(NASTY,),
    )
    html = render_html(plan, {f"products:{NASTY}": ("failed", NASTY), "products:X": (NASTY, None)})
    assert_inert(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_html_result_report_shows_status_and_error():
    results = {
        "brands:Acme": ("applied", None),
        "products:SKU-1": ("failed", "422 from PUT /v3/catalog/products/7: price is invalid"),
        "products:SKU-2": ("skipped", "a dependency failed"),
    }
    html = render_html(sample_plan(), results)
    assert "push result" in html
    assert '<span class="status applied">applied</span>' in html
    assert '<span class="status failed">failed</span>' in html
    assert "422 from PUT /v3/catalog/products/7: price is invalid" in html
    assert "a dependency failed" in html
    assert '<span class="status other">not run</span>' in html  # ops with no result
    assert_inert(html)


def test_html_of_an_empty_plan():
    html = render_html(empty_plan())
    assert "No changes." in html and "Summary" not in html
    assert_inert(html)
