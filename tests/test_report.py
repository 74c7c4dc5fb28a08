"""Text and HTML renderings of one Plan."""

from __future__ import annotations

import re
from dataclasses import replace
from html import unescape
from html.parser import HTMLParser
from typing import Any

from stagesync.model import Action, Endpoint, EntityKey, FieldChange, Operation, Plan
from stagesync.planfile import plan_digest
from stagesync.report.html import _script, render_html
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


class _Tags(HTMLParser):
    """Every start tag and its attributes, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "header",
    "h1",
    "h2",
    "h3",
    "dl",
    "dt",
    "dd",
    "code",
    "pre",
    "section",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "div",
    "span",
    "i",
    "ul",
    "li",
    "p",
    "form",
    "fieldset",
    "legend",
    "label",
    "input",
    "button",
    "details",
    "summary",
    "article",
    "script",
}


def assert_inert(html: str) -> None:
    """Nothing but the report's own script (allowed by its hash in the CSP) can run or load."""
    script, source = _script()
    own = f"<script>{script}</script>"
    if "No changes." not in html:
        assert html.count(own) == 1
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html)
    assert csp is not None
    assert unescape(csp.group(1)).startswith(
        f"default-src 'none'; style-src 'unsafe-inline'; script-src {source};"
    )
    parser = _Tags()
    parser.feed(html.replace(own, ""))
    for tag, attrs in parser.tags:
        assert tag in ALLOWED_TAGS and tag != "script", tag
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            assert name not in ("src", "href", "action", "srcset", "formaction"), (tag, name)
            if name == "style":
                assert re.fullmatch(r"width: [0-9.]+%", value or ""), value
    lowered = html.lower()
    assert "url(" not in lowered and "@import" not in lowered


def test_html_plan_has_header_summary_and_sections():
    html = render_html(sample_plan())
    assert html.startswith("<!doctype html>")
    for text in (
        "staging (abc123)",
        "production (def456)",
        "2024-05-01T12:00:00Z",
        plan_digest(sample_plan()),
        "<dt>Estimated requests</dt><dd>6</dd>",
        'Destructive operations (<span class="count">1</span>)',
        '<summary>brands (<span class="count">1</span>)</summary>',
        '<summary>products (<span class="count">2</span>)</summary>',
        "dependency of promotion SUMMER",
        "<code>variants[SKU-1-S].price</code>",
        "matched by name",
    ):
        assert text in html, text
    assert html.index("Destructive operations") < html.index("<summary>brands")
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
    assert '<span class="status ok">applied</span>' in html
    assert '<span class="status bad">failed</span>' in html
    assert "422 from PUT /v3/catalog/products/7: price is invalid" in html
    assert "a dependency failed" in html
    assert '<span class="status held">not run</span>' in html  # ops with no result
    assert_inert(html)


def test_html_of_an_empty_plan():
    html = render_html(empty_plan())
    assert "No changes." in html and "Summary" not in html
    assert_inert(html)
