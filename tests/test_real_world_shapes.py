"""Every kind's normaliser against the shapes real stores answer with, not only the emulator's:
whole numbers without a decimal part, ``null`` in fields the OpenAPI files describe as always set
(``base_variant_id`` of a complex product, ``option_set_id``, ``date_last_imported``...), fields
stagesync does not know, and optional fields left out.

The raw objects are the emulator's answers for stores built by the other tests' builders (every
kind of the registry, B2B Edition included), read through the real client; each is then changed
one field at a time, at every depth. A normaliser must not fail on any of them, must give the same
record for the same object, must carry an unknown field through unchanged, and must not tell a
whole number written ``189`` from ``189.0``.

Left alone, as the platform always sets them (the OpenAPI files list them as required): what makes
up an object's natural key (``identify`` refuses an object without one, with its own message), the
keys of the items inside it (``NESTED_KEYS``), the ids the normaliser turns into other entities'
keys, and what stagesync's own fetch attaches (fields named ``_...``)."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterator
from typing import Any

import pytest

from stagesync.bigcommerce import BigCommerceClient
from stagesync.bigcommerce.b2b import B2BClient
from stagesync.emulator import Emulator
from stagesync.entities import REGISTRY
from stagesync.entities.base import Raw
from stagesync.model import canonical_json
from stagesync.ports import using_b2b
from stagesync.pull import LiveState, read_live
from tests import commerce, promotions, rich_catalogue
from tests import test_catalogue_channels as catalogue_channels
from tests.test_b2b import build_b2b
from tests.test_content import build_content
from tests.test_scripts import build_scripts

BUILDERS = {
    "alpha": commerce.build,  # the store ``build_b2b`` adds B2B Edition data to
    "promotions": promotions.build,
    "rich": rich_catalogue.build,
    "content": build_content,
    "channels": catalogue_channels.build,
    "scripts": build_scripts,
}
NESTED_KEYS = frozenset(
    {"sku", "display_name", "option_display_name", "label", "name", "value", "namespace", "key"}
    | {"code", "video_id"}
)
"""Fields that key an item inside a record: variants by SKU, options by display name and their
values by label, custom fields by name and value, metafields by namespace and key, codes, videos."""
REFERENCED_CHILDREN = {"products": ("variants", "modifiers")}
"""Lists whose items other fields of the same object name by id (complex rules name variants and
modifier values): a store that lists the rules lists what they name."""
LINKS = {"channel_assignments", "price_list_assignments", "b2b_orders", "themes"}
"""Kinds whose record is a link between other entities or a chosen part of another object (a B2B
order mirrors the order; a theme is its files), not an object whose fields are carried through."""
RESOLVED_IDS = frozenset({"companyId", "widget_template_uuid"})
"""Ids the normalisers turn into other entities' keys beyond plain ``id``s: a B2B user's or order's
company, a widget's template (each required by its OpenAPI file)."""
EXTRA = "x_field_added_by_the_platform_later"
EXTRA_VALUE = {"enabled": True, "values": [1, None, "a"]}

FieldPath = tuple[str | int, ...]


@pytest.fixture(scope="module")
def live() -> dict[str, LiveState]:
    return read_stores()


def read_stores() -> dict[str, LiveState]:
    """Each builder's store read whole: its raw objects and lookup, by store."""
    emulator = Emulator({name: f"{name}-token" for name in BUILDERS})
    emulator.add_b2b_user("alpha", "b2b@alpha.test", "b2b-secret")

    async def read(name: str) -> LiveState:
        async with (
            BigCommerceClient(
                name,
                f"{name}-token",
                api_url="http://emulator.test",
                transport=emulator.transport(),
            ) as client,
            B2BClient(name, f"{name}-token", transport=emulator.transport()) as b2b,
        ):
            ids = await BUILDERS[name](client)
            if name == "alpha":
                await build_b2b(emulator, ids)
            with using_b2b(b2b):
                kinds = [k for k in REGISTRY if name == "alpha" or not k.startswith("b2b_")]
                return await read_live(client, kinds, store=name)

    return {name: asyncio.run(read(name)) for name in BUILDERS}


def raws_of(live: dict[str, LiveState], kind: str) -> list[tuple[LiveState, str, Raw]]:
    return [
        (state, key, raw)
        for state in live.values()
        for key, raw in sorted(state.raws.get(kind, {}).items())
    ]


def paths(value: Any, prefix: FieldPath = ()) -> Iterator[FieldPath]:
    """Every field of ``value`` at any depth (fields of objects, inside lists too)."""
    if isinstance(value, dict):
        for name in sorted(value):
            yield (*prefix, name)
            yield from paths(value[name], (*prefix, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))


def changed(raw: Raw, path: FieldPath, value: Any = ..., *, drop: bool = False) -> Raw:
    out = copy.deepcopy(raw)
    parent: Any = out
    for step in path[:-1]:
        parent = parent[step]
    if drop:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return out


def whole_numbers_as_ints(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {name: whole_numbers_as_ints(item) for name, item in value.items()}
    if isinstance(value, list):
        return [whole_numbers_as_ints(item) for item in value]
    return value


def left_alone(kind: str, path: FieldPath) -> bool:
    """Whether the platform always sets the field at ``path`` (see the module's docstring)."""
    last = str(path[-1])
    return (
        any(str(step).startswith("_") for step in path)
        or last == "id"
        or last in RESOLVED_IDS
        or (len(path) > 1 and last in NESTED_KEYS)
        or path[0] in REFERENCED_CHILDREN.get(kind, ())
    )


def key_of(kind: str, state: LiveState, raw: Raw) -> str | None:
    """The natural key ``raw`` has on its store, or None when it has none any more."""
    entity = REGISTRY[kind]
    try:
        if entity.identify_with is not None:
            found = entity.identify_with([raw], state.lookup)
        else:
            found = entity.identify([raw])
    except Exception:
        return None
    return next(iter(found), None)


def normalised(kind: str, state: LiveState, key: str, raw: Raw) -> bytes:
    """The record ``raw`` normalises to, twice over copies: it must be the same both times."""
    entity = REGISTRY[kind]
    first = canonical_json(entity.normalise(key, copy.deepcopy(raw), state.lookup))
    second = canonical_json(entity.normalise(key, copy.deepcopy(raw), state.lookup))
    assert first == second, f"{kind} {key}: normalising twice gave different records"
    return first


def test_every_kind_has_real_objects_to_try(live: dict[str, LiveState]) -> None:
    assert [kind for kind in REGISTRY if not raws_of(live, kind)] == []
    with_whole_floats = {
        kind
        for kind in REGISTRY
        for _, _, raw in raws_of(live, kind)
        if repr(whole_numbers_as_ints(raw)) != repr(raw)
    }
    assert {"products", "price_list_records"} <= with_whole_floats


@pytest.mark.parametrize("kind", [kind for kind in REGISTRY if kind not in LINKS])
def test_unknown_fields_are_carried_through_unchanged(
    live: dict[str, LiveState], kind: str
) -> None:
    for state, key, raw in raws_of(live, kind):
        record = REGISTRY[kind].normalise(key, {**raw, EXTRA: EXTRA_VALUE}, state.lookup)
        assert record.get(EXTRA) == EXTRA_VALUE, f"{kind} {key} dropped a field it does not know"


@pytest.mark.parametrize("kind", list(REGISTRY))
def test_whole_numbers_compare_by_value(live: dict[str, LiveState], kind: str) -> None:
    for state, key, raw in raws_of(live, kind):
        as_ints = normalised(kind, state, key, whole_numbers_as_ints(raw))
        assert as_ints == normalised(kind, state, key, raw), f"{kind} {key}: 189 is not 189.0"


@pytest.mark.parametrize("kind", list(REGISTRY))
def test_null_or_absent_fields_at_any_depth(live: dict[str, LiveState], kind: str) -> None:
    failures: list[str] = []
    for state, key, raw in raws_of(live, kind):
        for path in paths(raw):
            if left_alone(kind, path):
                continue
            for how, mutated in (
                ("null", changed(raw, path, None)),
                ("absent", changed(raw, path, drop=True)),
            ):
                if key_of(kind, state, mutated) != key:
                    continue  # part of the natural key: identify refuses it
                try:
                    normalised(kind, state, key, mutated)
                except Exception as error:  # any failure is the finding
                    failures.append(f"{key} {how} {'.'.join(map(str, path))}: {error!r}")
    assert failures == []


def test_a_complex_product_as_real_stores_answer_it(live: dict[str, LiveState]) -> None:
    """The nulls real stores answer for a complex product where the OpenAPI files say integer or
    date, and whole numbers without a decimal part."""
    state = live["rich"]
    for key, raw in sorted(state.raws["products"].items()):
        nulls = {"base_variant_id": None, "option_set_id": None, "date_last_imported": None}
        real = whole_numbers_as_ints({**raw, **nulls, "categories": None})
        assert normalised("products", state, key, real) == normalised(
            "products", state, key, {**raw, "categories": []}
        )
