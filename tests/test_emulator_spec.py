"""The emulator's responses carry every property BigCommerce's OpenAPI files declare.

PyYAML is not a dependency, so this module carries a small reader for the block-style YAML subset
those files use (mappings, sequences, quoted/plain/block scalars, simple flow collections). It
reads the copies under ``../shared/bigcommerce-openapi`` (see DESIGN.md) and skips when they are
absent.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

try:
    from stagesync.emulator import Emulator
except ImportError:
    pass

ALL_INCLUDES = {
    "bulk_pricing_rules",
    "custom_fields",
    "images",
    "modifiers",
    "options",
    "parent_relations",
    "primary_image",
    "variants",
    "videos",
}
SPEC_ROOT = Path(
    os.environ.get(
        "STAGESYNC_OPENAPI_DIR",
        str(Path(__file__).resolve().parents[2] / "shared" / "bigcommerce-openapi"),
    )
)
CATALOG = SPEC_ROOT / "reference" / "catalog"


# --- a small YAML reader -------------------------------------------------------------------------


class _Lines:
    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.pos = 0

    def skip_blank(self) -> None:
        while self.pos < len(self.lines):
            stripped = self.lines[self.pos].strip()
            if stripped and not stripped.startswith("#"):
                return
            self.pos += 1

    def peek(self) -> tuple[int, str] | None:
        self.skip_blank()
        if self.pos >= len(self.lines):
            return None
        line = self.lines[self.pos]
        return len(line) - len(line.lstrip(" ")), line.strip()


_KEY_RE = re.compile(
    r"""^(?P<key>'(?:[^']|'')*'|"(?:[^"\\]|\\.)*"|[^'"\s][^:]*?|[^:]+?):(?:\s+(?P<rest>.*)|$)"""
)


def _unquote_key(key: str) -> str:
    if key.startswith("'") and key.endswith("'"):
        return key[1:-1].replace("''", "'")
    if key.startswith('"') and key.endswith('"'):
        return str(json.loads(key))
    return key


def _split_flow(body: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    quote = ""
    current = ""
    for ch in body:
        if quote:
            current += ch
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        current += ch
    if current.strip():
        parts.append(current.strip())
    return parts


def _scalar(text: str) -> Any:
    text = text.strip()
    if text.startswith("'") and text.endswith("'") and len(text) >= 2:
        return text[1:-1].replace("''", "'")
    if text.startswith('"') and text.endswith('"') and len(text) >= 2:
        return json.loads(text)
    if text.startswith("[") and text.endswith("]"):
        return [_scalar(part) for part in _split_flow(text[1:-1])]
    if text.startswith("{") and text.endswith("}"):
        out: dict[str, Any] = {}
        for part in _split_flow(text[1:-1]):
            key, _, value = part.partition(":")
            out[_unquote_key(key.strip())] = _scalar(value)
        return out
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "~", ""):
        return None
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d*(e[-+]?\d+)?", lowered):
        return float(text)
    return text


def _block_scalar(src: _Lines, parent_indent: int, style: str) -> str:
    collected: list[str] = []
    block_indent: int | None = None
    while src.pos < len(src.lines):
        line = src.lines[src.pos]
        if line.strip() == "":
            collected.append("")
            src.pos += 1
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent <= parent_indent:
            break
        if block_indent is None:
            block_indent = indent
        collected.append(line[block_indent:])
        src.pos += 1
    text = "\n".join(collected).rstrip("\n")
    if style.startswith(">"):
        text = re.sub(r"(?<!\n)\n(?!\n)", " ", text)
    return text if style.endswith("-") else text + "\n"


def _value(src: _Lines, rest: str, indent: int) -> Any:
    rest = rest.strip()
    if rest in ("|", "|-", ">", ">-", "|+", ">+"):
        return _block_scalar(src, indent, rest)
    if rest.startswith(("'", '"', "[", "{")):
        # A quoted or flow value may continue on deeper lines.
        closing = {"'": "'", '"': '"', "[": "]", "{": "}"}[rest[0]]
        while not rest.endswith(closing) or rest == rest[0]:
            nxt = src.peek()
            if nxt is None or nxt[0] <= indent:
                break
            rest += " " + nxt[1]
            src.pos += 1
        return _scalar(rest)
    # Plain scalars may be folded over deeper lines.
    while True:
        nxt = src.peek()
        if nxt is None or nxt[0] <= indent:
            break
        rest += " " + nxt[1]
        src.pos += 1
    return _scalar(rest)


def _starts_node(text: str) -> bool:
    return text == "-" or text.startswith("- ") or _KEY_RE.match(text) is not None


def _node(src: _Lines, indent: int) -> Any:
    head = src.peek()
    if head is None:
        return None
    if head[1].startswith("- ") or head[1] == "-":
        return _sequence(src, head[0])
    return _mapping(src, head[0])


def _sequence(src: _Lines, indent: int) -> list[Any]:
    items: list[Any] = []
    while True:
        head = src.peek()
        if head is None or head[0] != indent or not (head[1].startswith("- ") or head[1] == "-"):
            return items
        line = src.lines[src.pos]
        body = head[1][1:].lstrip(" ")
        if not body:
            src.pos += 1
            items.append(_node(src, indent + 1))
            continue
        inner_indent = indent + (len(head[1]) - len(body))
        if (
            _KEY_RE.match(body)
            and not body.startswith(("'", '"', "[", "{"))
            or (body.startswith(("'", '"')) and _KEY_RE.match(body))
        ):
            # An inline mapping starts on the dash line: rewrite it as its own line.
            src.lines[src.pos] = " " * inner_indent + body
            items.append(_mapping(src, inner_indent))
        else:
            del line
            src.pos += 1
            items.append(_value(src, body, indent))


def _mapping(src: _Lines, indent: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    while True:
        head = src.peek()
        if head is None or head[0] != indent or head[1].startswith("- "):
            return out
        match = _KEY_RE.match(head[1])
        if match is None:
            raise ValueError(f"cannot read line {src.pos + 1}: {head[1]!r}")
        key = _unquote_key(match.group("key").strip())
        rest = match.group("rest")
        src.pos += 1
        if rest is None or rest.strip() == "":
            nxt = src.peek()
            if nxt is not None and nxt[0] > indent and not _starts_node(nxt[1]):
                out[key] = _value(src, "", indent)
            elif nxt is not None and (
                nxt[0] > indent or (nxt[0] == indent and nxt[1].startswith("- "))
            ):
                out[key] = _node(src, nxt[0])
            else:
                out[key] = None
        else:
            out[key] = _value(src, rest, indent)


def load_yaml(path: Path) -> Any:
    return _node(_Lines(path.read_text(encoding="utf-8")), 0)


# --- schema walking -----------------------------------------------------------------------------


def schema_properties(doc: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    """Every property name a schema declares, following ``$ref`` and ``allOf``."""
    if "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/"), ref
        target: Any = doc
        for part in ref[2:].split("/"):
            target = target[part]
        return schema_properties(doc, target)
    names = set((schema.get("properties") or {}).keys())
    for sub in schema.get("allOf") or []:
        names |= schema_properties(doc, sub)
    return names


def _spec(name: str) -> dict[str, Any]:
    if not CATALOG.is_dir():
        pytest.skip(f"BigCommerce OpenAPI copies not found at {CATALOG}")
    return load_yaml(CATALOG / name)  # type: ignore[no-any-return]


def test_mini_yaml_reader_handles_the_subset() -> None:
    text = (
        "a: 1\n"
        "b:\n"
        "  - x\n"
        "  - k: v\n"
        "    n: 2\n"
        "c: |\n"
        "  line one\n"
        "  line two\n"
        "d: 'it''s'\n"
        "e: [1, 'two']\n"
        "f:\n"
        "- 3\n"
    )
    src = _Lines(text)
    assert _node(src, 0) == {
        "a": 1,
        "b": ["x", {"k": "v", "n": 2}],
        "c": "line one\nline two\n",
        "d": "it's",
        "e": [1, "two"],
        "f": [3],
    }


async def _get(emu: Emulator, path: str) -> Any:
    async with httpx.AsyncClient(
        transport=emu.transport(),
        base_url="http://emulator",
        headers={"X-Auth-Token": "staging-token"},
    ) as client:
        response = await client.get(f"/stores/staging{path}")
        assert response.status_code == 200, response.text
        return response.json()["data"]


@pytest.mark.parametrize(
    ("spec_file", "schema", "path"),
    [
        (
            "products_catalog.v3.yml",
            "product_Full",
            "/v3/catalog/products?limit=1&include=" + ",".join(sorted(ALL_INCLUDES)),
        ),
        ("brands_catalog.v3.yml", "brand_Full", "/v3/catalog/brands?limit=1"),
        ("categories_catalog.v3.yml", "category_Full", "/v3/catalog/categories?limit=1"),
        ("product-variants_catalog.v3.yml", "productVariant_Full", "/v3/catalog/variants?limit=1"),
    ],
)
def test_responses_carry_every_spec_property(spec_file: str, schema: str, path: str) -> None:
    doc = _spec(spec_file)
    declared = schema_properties(doc, doc["components"]["schemas"][schema])
    assert declared, f"{schema} declares no properties?"
    emu = Emulator(seed="demo")
    data = asyncio.run(_get(emu, path))
    item = data[0]
    missing = declared - set(item)
    assert not missing, f"{schema} properties missing from {path}: {sorted(missing)}"
