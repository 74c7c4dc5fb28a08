"""Every routed list declares its documented filters and sorts (``Listing``): each documented filter
narrows the list as documented, and a parameter or sort the list does not document answers 400
instead of an unfiltered list a client would take for a filtered one.

The lists are read from stores built through the API as a merchant's tools would (a catalogue
with commerce, promotions, a rich catalogue, storefront content); each filter is tried with a value
taken from a record the unfiltered list holds, and its answer compared with what the reference says
the filter keeps."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from stagesync.bigcommerce.client import BigCommerceClient
from stagesync.emulator import Emulator, areas  # noqa: F401  (every route registers on import)
from stagesync.emulator.routes import ROUTES, Listing, parse_instant, stored_instant
from stagesync.ports import StoreApi
from tests import commerce, promotions, rich_catalogue
from tests.test_content import build_content


async def extras(api: StoreApi) -> None:
    """What the other builds leave unset: metafields on brands, categories and channels, a
    product's MPN and UPC, a variant's UPC."""
    brands = [await api.post("/v3/catalog/brands", {"name": name}) for name in ("Acme", "Zenith")]
    trees = await api.get_all("/v3/catalog/trees")
    made = await api.post(
        "/v3/catalog/trees/categories",
        [{"name": n, "tree_id": trees[0]["id"], "parent_id": 0} for n in ("Tents", "Stoves")],
    )
    owners = [
        ("/v3/catalog/brands", [b["id"] for b in brands]),
        ("/v3/catalog/categories", [c["category_id"] for c in made]),
        ("/v3/channels", [1]),
    ]
    for base, ids in owners:
        for n, owner in enumerate(ids):
            for key in ("colour", "size"):
                body = {"namespace": f"ns{n}", "key": key, "value": key, "permission_set": "read"}
                await api.post(f"{base}/{owner}/metafields", body)
    for n in range(3):
        body = {
            "name": f"Lantern {n}",
            "type": "physical",
            "weight": 1 + n,
            "price": 10 + n,
            "sku": f"LAN-{n}",
            "mpn": f"MPN-{n}",
            "upc": f"00000000000{n}",
        }
        await api.post("/v3/catalog/products", body)
    for n, channel in enumerate((1, 1, 1)):
        script = {"name": f"Tag {n}", "src": f"https://cdn.example.com/{n}.js"}
        await api.post("/v3/content/scripts", {**script, "channel_id": channel})
    customers = await api.post(
        "/v3/customers",
        [
            {
                "email": f"c{n}@example.com",
                "first_name": "C",
                "last_name": str(n),
                "tax_exempt_category": f"T{n}",
            }
            for n in range(2)
        ],
    )
    await api.post(
        "/v3/customers/addresses",
        [
            {
                "customer_id": c["id"],
                "first_name": "C",
                "last_name": str(n),
                "company": f"Company {n}",
                "address1": f"{n} Main St",
                "city": "Austin",
                "state_or_province": "Texas",
                "postal_code": "78701",
                "country_code": "US",
            }
            for n, c in enumerate(customers)
        ],
    )
    price_list = await api.post("/v3/pricelists", {"name": "Retail", "active": True})
    records = [
        {
            "sku": f"LAN-{n}",
            "currency": "usd",
            "price": 9 + n,
            "retail_price": 12 + n,
            "map_price": 11 + n,
        }
        for n in range(3)
    ]
    await api.put(f"/v3/pricelists/{price_list['id']}/records", records)


TOKENS = {
    "shop": "shop-token",
    "promo": "promo-token",
    "rich": "rich-token",
    "site": "site-token",
    "extra": "extra-token",
}
BUILDS: dict[str, Callable[[StoreApi], Awaitable[Any]]] = {
    "shop": commerce.build,
    "promo": promotions.build,
    "rich": rich_catalogue.build,
    "site": build_content,
    "extra": extras,
}

LISTS = sorted(
    (route.template, endpoint.listing)
    for route in ROUTES
    for method, endpoint in route.methods.items()
    if method == "GET" and endpoint.listing is not None
)

# Where a filter reads a field its list renders under another name (or not at all).
RENDERED: dict[tuple[str, str], str | Callable[[dict[str, Any]], Any]] = {
    ("/v3/catalog/trees", "channel_id"): "channels",
    ("/v3/catalog/trees/categories", "category_id"): "category_id",
    ("/v3/catalog/products/channel-assignments", "channel_id"): "channel_id",
    ("/v3/content/widget-templates", "widget_template_kind"): "kind",
    ("/v3/storefront/custom-template-associations", "type"): "entity_type",
    ("/v3/themes/{theme_uuid}/configurations", "variation_uuid"): "variation_id",
    # Configurations name no channel: each belongs to the default storefront's site.
    ("/v3/themes/{theme_uuid}/configurations", "channel_id"): lambda item: 1,
}

# Lists that answer only when filtered: the filter every request of the test adds.
REQUIRED = {"/v3/themes/{theme_uuid}/configurations": {"channel_id:in": "1"}}


@pytest.fixture(scope="module")
def built() -> Emulator:
    emulator = Emulator(dict(TOKENS))

    async def run() -> None:
        for name, build in BUILDS.items():
            async with BigCommerceClient(
                name, TOKENS[name], api_url="http://emulator.test", transport=emulator.transport()
            ) as client:
                await build(client)

    asyncio.run(run())
    return emulator


def _get(emulator: Emulator, store: str, path: str, params: dict[str, str]) -> httpx.Response:
    template = re.sub(r"/[0-9a-f-]{6,}(?=/|$)", "/", path)
    for pattern, required in REQUIRED.items():
        if re.sub(r"\{\w+\}", "", pattern) == template:
            params = {**required, **params}

    async def run() -> httpx.Response:
        async with httpx.AsyncClient(
            transport=emulator.transport(), base_url=f"http://emulator.test/stores/{store}"
        ) as client:
            return await client.get(path, params=params, headers={"X-Auth-Token": TOKENS[store]})

    return asyncio.run(run())


def _items(answer: httpx.Response) -> list[dict[str, Any]]:
    if answer.status_code == 204:
        return []
    assert answer.status_code == 200, answer.text
    body = answer.json()
    data = body["data"] if isinstance(body, dict) else body
    return data if isinstance(data, list) else []


def _paths(emulator: Emulator, store: str, template: str) -> Iterator[str]:
    """Concrete paths for ``template``, each path parameter taken from the list above it."""
    match = re.search(r"\{(\w+)\}", template)
    if match is None:
        yield template
        return
    parent = template[: match.start()].rstrip("/")
    name = match.group(1)
    field = "uuid" if name.endswith("uuid") else "id"
    above = _get(emulator, store, parent, {"limit": "250"})
    for item in _items(above) if above.status_code == 200 else []:
        if field in item:
            rest = template[: match.start()] + str(item[field]) + template[match.end() :]
            yield from _paths(emulator, store, rest)


def _ident(item: dict[str, Any]) -> str:
    return repr(sorted(item.items()))


def _value(item: dict[str, Any], field: str | Callable[[dict[str, Any]], Any]) -> Any:
    return field(item) if callable(field) else item.get(field)


def _where(emulator: Emulator, template: str, field: Any) -> tuple[str, str, list[dict[str, Any]]]:
    """A store and concrete path whose unfiltered list holds a record with ``field`` set."""
    for store in TOKENS:
        for path in _paths(emulator, store, template):
            items = _items(_get(emulator, store, path, {"limit": "250"}))
            if any(_value(i, field) not in (None, "", []) for i in items):
                return store, path, items
    raise AssertionError(f"no store holds a record of {template} with {field} set")


def _norm(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "time":
        return stored_instant(value)
    if kind == "num":
        return float(value)
    if kind == "istr" and isinstance(value, str):
        return value.casefold()
    return value


def _probe(kind: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _keeps(kind: str, op: str, have: Any, wanted: Any) -> bool:
    values = [_norm(kind, v) for v in have] if isinstance(have, list) else [_norm(kind, have)]
    target = _norm(kind, wanted)
    if op in ("", "in"):
        return target in values
    if op == "not_in":
        return target not in values
    if op == "like":
        return any(str(wanted).casefold() in str(v).casefold() for v in values)
    value = values[0] if values else None
    if value is None:
        return False
    return bool(
        {
            "min": value >= target,
            "max": value <= target,
            "greater": value > target,
            "less": value < target,
        }[op]
    )


FILTERS = [
    pytest.param(template, key, listing, id=f"{template} {key}")
    for template, listing in LISTS
    for key in listing.params.split()
]


@pytest.mark.parametrize(("template", "key", "listing"), FILTERS)
def test_each_documented_filter_narrows_as_documented(
    built: Emulator, template: str, key: str, listing: Listing
) -> None:
    base, _, op = key.partition(":")
    kind = listing.spec[base][0]
    field = RENDERED.get((template, base), base)
    store, path, items = _where(built, template, field)
    holders = [i for i in items if _value(i, field) not in (None, "", [])]
    values = sorted({_first(_value(i, field)) for i in holders}, key=lambda v: _norm(kind, v))
    # "greater" keeps something only above the lowest value, "less" below the highest.
    wanted = {"greater": values[0], "less": values[-1]}.get(op, values[len(values) // 2])
    if op == "like" and isinstance(wanted, str):
        wanted = wanted[1:-1] or wanted
    raw = _probe(kind, wanted)
    if kind == "time":
        raw = parse_instant(str(wanted), key).isoformat()
    answer = _get(built, store, path, {key: raw, "limit": "250"})
    assert answer.status_code in (200, 204), answer.text
    expected = [_ident(i) for i in items if _keeps(kind, op, _value(i, field), wanted)]
    assert sorted(_ident(i) for i in _items(answer)) == sorted(expected), (path, key, raw)
    if op not in ("not_in", "greater", "less") or len(values) > 1:
        assert expected, (path, key, raw)


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) else value


@pytest.mark.parametrize(("template", "listing"), [pytest.param(t, s, id=t) for t, s in LISTS])
def test_an_undocumented_parameter_or_sort_answers_400(
    built: Emulator, template: str, listing: Listing
) -> None:
    store, path = next((store, path) for store in TOKENS for path in _paths(built, store, template))
    for params in ({"colour": "red"}, {"id:like": "1"} if "id:like" not in listing.params else {}):
        if not params:
            continue
        answer = _get(built, store, path, params)
        assert answer.status_code == 400, (path, params, answer.text)
        body = answer.json()
        text = body[0]["message"] if isinstance(body, list) else str(body)
        assert next(iter(params)) in text
    if listing.sorts:
        answer = _get(built, store, path, {"sort": "colour"})
        assert answer.status_code == 400, answer.text
        for name in listing.sorts:
            ordered = _get(built, store, path, {"sort": name, "limit": "250"})
            assert ordered.status_code in (200, 204), ordered.text


OWN = ("/v3/customers", "/v2/orders")
"""Lists that check their parameters in their own handlers (v3 customers, v2 orders and their
sub-resources)."""


def test_every_list_route_declares_its_parameters(built: Emulator) -> None:
    """Every GET route whose answer is a list of records declares a ``Listing``, except the lists
    of v3 customers and v2 orders, which check their parameters in their own handlers."""
    undeclared = []
    for route in ROUTES:
        endpoint = route.methods.get("GET")
        if endpoint is None or endpoint.listing is not None or route.template == OWN[0]:
            continue
        if route.template.startswith(OWN[1]):
            continue
        for store in TOKENS:
            path = next(_paths(built, store, route.template), None)
            if path is None:
                continue
            answer = _get(built, store, path, {})
            body = answer.json() if answer.status_code == 200 else None
            data = body.get("data") if isinstance(body, dict) else body
            if isinstance(data, list):
                undeclared.append(route.template)
            break
    assert undeclared == []


OPENAPI_DIR = Path(
    os.environ.get("STAGESYNC_OPENAPI_DIR")
    or Path(__file__).resolve().parent.parent.parent / "shared" / "bigcommerce-openapi"
)
BEYOND = {
    "/v3/catalog/variants": {"id:in"},  # stagesync reads promotions' variants by it
    **{
        f"{base}/metafields": {"resource_id:in"}  # the products file's MetafieldResourceParam
        for base in (
            "/v3/catalog/products",
            "/v3/catalog/variants",
            "/v3/catalog/categories",
            "/v3/catalog/brands",
            "/v3/channels",
        )
    },
}
"""Parameters a list takes beyond its OpenAPI file's, each for a stated reason."""


def _documented() -> dict[str, set[str]]:
    """Each list path's documented query parameters, from the OpenAPI files."""
    import yaml

    found: dict[str, set[str]] = {}
    for spec_path in sorted(OPENAPI_DIR.glob("reference/**/*.yml")):
        spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
        server = (spec.get("servers") or [{}])[0].get("url", "") or spec.get("basePath", "")
        version = re.search(r"/(v[23])", server)
        if version is None:
            continue

        def resolve(node: dict[str, Any], spec: dict[str, Any] = spec) -> dict[str, Any]:
            while "$ref" in node:
                target: Any = spec
                for part in node["$ref"][2:].split("/"):
                    target = target[part]
                node = target
            return node

        for path, item in spec.get("paths", {}).items():
            if "get" not in item:
                continue
            params = [
                resolve(p) for p in item.get("parameters", []) + item["get"].get("parameters", [])
            ]
            key = re.sub(r"\{\w+\}", "{}", f"/{version.group(1)}{path}").rstrip("/")
            found[key] = {p["name"] for p in params if p.get("in") == "query"}
    return found


def test_each_list_declares_exactly_its_documented_parameters() -> None:
    """Every parameter the reference documents for a list is declared (working) or named as
    missing (answering 400); none is declared beyond it but paging and the stated ``BEYOND``."""
    if not OPENAPI_DIR.is_dir():
        pytest.skip(f"the OpenAPI files are not at {OPENAPI_DIR}")
    documented = _documented()
    compared = 0
    for template, listing in LISTS:
        doc = documented.get(re.sub(r"\{\w+\}", "{}", template))
        if doc is None:
            continue
        compared += 1
        declared = set(listing.params.split()) | set(listing.others)
        declared |= {"sort", "direction"} if listing.sorts else set()
        missing = set(listing.missing.split())
        assert doc - declared - missing == set(), template
        assert missing <= doc, template
        extra = declared - doc - {"page", "limit", "direction"} - BEYOND.get(template, set())
        assert extra == set(), template
    assert compared > 40
