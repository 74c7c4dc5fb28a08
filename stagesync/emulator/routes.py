"""How the emulator routes a request: path templates, per-route request schemas, and the helpers
every API area's handlers share (envelopes, paging, filters).

A handler takes the store and a ``Call`` (path parameters, query, parsed JSON body) and returns a
``Reply`` (status and JSON body, or no body). It raises ``ApiError`` for the platform's error
answers. Handlers never sleep or await: each request's mutation is atomic.

Each API area (``catalogue``, ``customers``, ``orders``, ``pricing``, ``promotions``, ``shipping``,
``content``, ``themes``...) declares its routes once with ``register``: a path template and, per
method, the handler or an ``Endpoint`` naming the JSON Schema its request body must meet. The
router checks that schema before the handler runs (``dispatch``), so a body of the wrong shape is
answered with the platform's 400/422 without a line of handler code, and nothing is written.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from .errors import ApiError, invalid, not_found
from .schema import Schema, check

if TYPE_CHECKING:
    from .store import Store

Record = dict[str, Any]

DEFAULT_LIMIT = 50
MAX_LIMIT = 250


@dataclass
class Call:
    params: dict[str, Any]
    """Path parameters: ints, except ``*uuid`` and ``job_id`` ones (strings)."""
    query: Mapping[str, str]
    body: Any
    base_url: str = ""
    """The URL the request came in on, up to the host (for links the store hands out)."""
    listing: Listing | None = None
    """The route's documented list parameters (set by ``dispatch`` on a list route)."""


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    """A non-JSON body (a file), sent as it is instead of ``body``."""


Handler = Callable[["Store", Call], Reply]


# ---- envelopes, paging, filters ---------------------------------------------------------------


def single(data: Any, status: int = 200) -> Reply:
    return Reply(status, {"data": data, "meta": {}})


def int_param(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(
            f"The '{name}' parameter is invalid.", {name: f"'{raw}' is not an integer."}
        ) from None
    if value < 1:
        raise invalid(f"The '{name}' parameter is invalid.", {name: "Must be at least 1."})
    return value


def page_of(
    items: list[Any], query: Mapping[str, str], *, max_per_page: int | None = None
) -> Reply:
    """A v3 list envelope for one page of ``items`` (``page``/``limit``, default 50, max 250)."""
    page = int_param(query, "page", 1)
    limit = int_param(query, "limit", DEFAULT_LIMIT)
    if limit > MAX_LIMIT:
        raise ApiError(
            413,
            f"The limit parameter exceeded the maximum of {MAX_LIMIT}.",
            {"limit": f"Use a limit of at most {MAX_LIMIT}."},
        )
    if max_per_page is not None:
        limit = min(limit, max_per_page)
    total = len(items)
    total_pages = (total + limit - 1) // limit
    chunk = items[(page - 1) * limit : page * limit]
    links: dict[str, str] = {"current": f"?page={page}&limit={limit}"}
    if page > 1:
        links["previous"] = f"?page={page - 1}&limit={limit}"
    if page < total_pages:
        links["next"] = f"?page={page + 1}&limit={limit}"
    pagination = {
        "total": total,
        "count": len(chunk),
        "per_page": limit,
        "current_page": page,
        "total_pages": total_pages,
        "links": links,
    }
    return Reply(200, {"data": chunk, "meta": {"pagination": pagination}})


def _cursor(item_id: int) -> str:
    return base64.urlsafe_b64encode(f'{{"id":"{item_id}"}}'.encode()).decode().rstrip("=")


def _uncursor(raw: str) -> int:
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        return int(re.sub(r"\D", "", text))
    except (ValueError, UnicodeDecodeError):
        raise invalid("The cursor is invalid.", {"cursor": f"'{raw}' is not a cursor."}) from None


def cursor_page_of(
    items: list[Record], query: Mapping[str, str], render: Callable[[Record], Any]
) -> Reply:
    """A v3 list that pages by cursor (``after``/``before``, ``meta.cursor_pagination``) or by
    ``page`` (``meta.pagination``); without either, both metas, as the reference says of the
    first page. The cursors name an item's ``id``: the page starts after (ends before) that item
    in ``items``' order (sorted lists too), or, when it is gone, after (before) that id."""
    before, after = query.get("before"), query.get("after")
    if before and after:
        raise invalid("Use 'before' or 'after', not both.")
    if (before or after) and query.get("page"):
        raise invalid("Cursors cannot be used with the 'page' parameter.")
    if not (before or after):
        reply = page_of([render(item) for item in items], query)
        if int_param(query, "page", 1) > 1:  # "only pagination ... when page is greater than 1"
            return reply
        per_page = int(reply.body["meta"]["pagination"]["per_page"])
        reply.body["meta"]["cursor_pagination"] = _cursor_meta(
            items[:per_page], per_page, bool(items[per_page:]), False
        )
        return reply
    reply = page_of([], {"limit": query.get("limit", str(DEFAULT_LIMIT))})
    per_page = int(reply.body["meta"]["pagination"]["per_page"])
    ids = [item["id"] for item in items]
    if after:
        start = _uncursor(after)
        at = ids.index(start) if start in ids else None
        rest = items[at + 1 :] if at is not None else [i for i in items if i["id"] > start]
        chunk = rest[:per_page]
        more_after, more_before = len(rest) > per_page, len(rest) < len(items)
    else:
        end = _uncursor(str(before))
        at = ids.index(end) if end in ids else None
        rest = items[:at] if at is not None else [i for i in items if i["id"] < end]
        chunk = rest[-per_page:]
        more_after, more_before = len(rest) < len(items), len(rest) > per_page
    meta = {"cursor_pagination": _cursor_meta(chunk, per_page, more_after, more_before)}
    return Reply(200, {"data": [render(item) for item in chunk], "meta": meta})


def _cursor_meta(chunk: list[Record], per_page: int, more_after: bool, more_before: bool) -> Record:
    meta: Record = {"count": len(chunk), "per_page": per_page, "links": {}}
    if chunk:
        meta["start_cursor"] = _cursor(chunk[0]["id"])
        meta["end_cursor"] = _cursor(chunk[-1]["id"])
        if more_after:
            meta["links"]["next"] = f"?limit={per_page}&after={meta['end_cursor']}"
        if more_before:
            meta["links"]["previous"] = f"?limit={per_page}&before={meta['start_cursor']}"
    return meta


FilterSpec = dict[str, tuple[str, Callable[[Record], Any]]]


def parse_instant(raw: str, name: str) -> datetime:
    """The instant a time filter names, in every form the reference allows: a Unix timestamp,
    ISO 8601 with any offset (without one: UTC), RFC 2822 (v2), or a date alone, to which "the
    API automatically adds the current time of the request" (products ``date_modified:min``)."""
    text = raw.strip()
    try:
        if re.fullmatch(r"-?\d+", text):
            return datetime.fromtimestamp(int(text), UTC)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            now = datetime.now(UTC)
            return datetime.combine(date.fromisoformat(text), now.timetz())
        if re.match(r"\d{4}-\d{2}-\d{2}T", text):
            # An unencoded "+" in a query string arrives as a space: "...T16:50:00 02:00".
            text = re.sub(r" (\d{2}:?\d{2})$", r"+\1", text)
            found = datetime.fromisoformat(text.replace("Z", "+00:00"))
        else:
            found = parsedate_to_datetime(text)
    except (ValueError, TypeError, OverflowError, OSError):
        raise invalid(
            f"The filter(s): {name} are not valid.",
            {name: f"'{raw}' is not a date: use ISO 8601, RFC 2822 or a Unix timestamp."},
        ) from None
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def stored_instant(value: Any) -> datetime | None:
    """A record's own time field (ISO 8601 or RFC 2822) as an instant; None when unset."""
    if isinstance(value, datetime) or not value:
        return value or None
    return parse_instant(str(value), "date")


NUMBERS: dict[str, tuple[Callable[[str], Any], str]] = {
    "int": (int, "an integer"),
    "num": (float, "a number"),
}


def _parse(kind: str, raw: str, name: str) -> Any:
    if kind == "time":
        return parse_instant(raw, name)
    if kind in NUMBERS:
        convert, what = NUMBERS[kind]
        try:
            return convert(raw)
        except ValueError:
            raise invalid(
                f"The filter(s): {name} are not valid.", {name: f"'{raw}' is not {what}."}
            ) from None
    if kind == "bool":
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise invalid(f"The filter(s): {name} are not valid.", {name: "Use true or false."})
    return raw


def apply_filters(
    items: Iterable[Record], query: Mapping[str, str], spec: FilterSpec
) -> list[Record]:
    """Filter by ``name``, ``name:in``, ``name:not_in``, ``:min``/``:max``/``:greater``/``:less``,
    ``:like`` for each field in ``spec`` (kind ``int``, ``str``, ``istr`` case-insensitive,
    ``bool``, ``ints`` for list membership)."""
    result = list(items)
    for key, raw in query.items():
        base, _, op = key.partition(":")
        if base not in spec:
            continue
        kind, getter = spec[base]
        scalar_kind = "int" if kind == "ints" else (kind if kind in SCALARS else "str")
        if op in ("in", "not_in"):
            wanted = [_parse(scalar_kind, part, key) for part in raw.split(",") if part != ""]
        else:
            wanted = [_parse(scalar_kind, raw, key)]

        def norm(value: Any, kind: str = kind) -> Any:
            if kind == "time":
                return stored_instant(value)
            if kind == "num":
                return float(value) if value is not None else None
            return value.casefold() if kind == "istr" and isinstance(value, str) else value

        wanted_set = {norm(w) for w in wanted}

        def keep(
            item: Record,
            op: str = op,
            getter: Any = getter,
            kind: str = kind,
            wanted: list[Any] = wanted,
            wanted_set: set[Any] = wanted_set,
        ) -> bool:
            value = getter(item)
            values = set(value) if kind == "ints" else {norm(value)}
            if op in ("", "in"):
                return bool(values & wanted_set)
            if op == "not_in":
                return not values & wanted_set
            if op == "like":
                return any(str(wanted[0]).casefold() in str(v).casefold() for v in values)
            first = wanted[0]
            if op in ("min", "max", "greater", "less"):
                value = norm(value)
                try:
                    return bool(
                        {
                            "min": value >= first,
                            "max": value <= first,
                            "greater": value > first,
                            "less": value < first,
                        }[op]
                    )
                except TypeError:
                    return False
            return True

        result = [item for item in result if keep(item)]
    return result


SCALARS = ("int", "bool", "time", "num")
"""Filter kinds whose query values are parsed (the others compare as strings)."""

FILTER_OPS = ("", "in", "not_in", "min", "max", "greater", "less", "like")


def refuse_unknown(
    query: Mapping[str, str], spec: FilterSpec, others: Collection[str], what: str
) -> None:
    """400 for a query parameter the list does not implement, so a client never mistakes an
    unfiltered list for a filtered one: filters are ``spec``'s fields with an operator of
    ``FILTER_OPS``; ``others`` are the list's other parameters (paging, ``include``, sort)."""
    for key in query:
        base, _, op = key.partition(":")
        if key in others or (base in spec and op in FILTER_OPS):
            continue
        raise ApiError(
            400,
            f"The filter(s): {key} are not valid.",
            {key: f"The emulator's {what} list does not implement this parameter."},
        )


PAGING = ("page", "limit")
"""The paging parameters every list takes."""
FIELDS = ("include_fields", "exclude_fields")
CURSORS = ("before", "after")


@dataclass(frozen=True)
class Listing:
    """One list route's documented query parameters, so that every one of them either works as
    documented or answers 400, never an unfiltered list mistaken for a filtered one.

    ``params`` names each documented filter as a query key (``"id id:in id:min name:like"``),
    each answered by ``spec`` (the field's kind and getter, see ``apply_filters``); ``sorts`` the
    fields ``sort`` may name (``sort=name&direction=desc`` or ``sort=name:desc``); ``others`` the
    list's other parameters (paging, ``include``...), which its handler reads itself. The router
    refuses anything else before the handler runs (``dispatch``); the handler narrows and orders
    its records with ``select`` (``listed``)."""

    spec: FilterSpec = field(default_factory=dict)
    params: str = ""
    sorts: Collection[str] = ()
    others: Collection[str] = PAGING
    sort_key: Callable[[Record, str], Any] | None = None
    """How to read a sort field of a record (default: the field of that name)."""
    missing: str = ""
    """Parameters the reference documents for the list that the emulator does not implement:
    they answer 400 like any other (named here so the docs and tests know them)."""

    def __post_init__(self) -> None:
        for key in self.params.split():
            base, _, op = key.partition(":")
            if base not in self.spec or op not in FILTER_OPS:
                raise ValueError(f"documented filter {key!r} has no implementation")

    @property
    def accepted(self) -> set[str]:
        extra = {"sort", "direction"} if self.sorts else set()
        return set(self.params.split()) | set(self.others) | extra

    def refuse(self, query: Mapping[str, str]) -> None:
        """400 (the API's error body) for a parameter or sort the list does not document."""
        accepted = self.accepted
        for key in query:
            if key not in accepted:
                raise ApiError(
                    400,
                    f"The filter(s): {key} are not valid.",
                    {key: "This list does not take this parameter."},
                )
        if "sort" in query and self.sorts:
            name, direction = self._sort(query)
            if name not in self.sorts or direction not in ("asc", "desc"):
                raise ApiError(
                    400,
                    f"The sort parameter '{query['sort']}' is not valid.",
                    {"sort": f"Sort by one of: {', '.join(sorted(self.sorts))}."},
                )

    @staticmethod
    def _sort(query: Mapping[str, str]) -> tuple[str, str]:
        name, _, direction = query["sort"].partition(":")
        return name, (direction or query.get("direction") or "asc").lower()

    def select(self, items: Iterable[Record], query: Mapping[str, str]) -> list[Record]:
        """``items`` narrowed by the query's filters and ordered by its ``sort``."""
        found = apply_filters(items, query, self.spec)
        if query.get("sort") and self.sorts:
            name, direction = self._sort(query)
            read = self.sort_key or (lambda item, name: item.get(name))

            def key(item: Record) -> tuple[bool, Any]:
                value = read(item, name)
                if value is None:
                    return (True, "")
                return (False, value.casefold() if isinstance(value, str) else value)

            found.sort(key=key, reverse=direction == "desc")
        elif query.get("direction", "asc").lower() == "desc" and "direction" in self.accepted:
            found.reverse()
        return found


PAGED = Listing()
"""A list documented with paging only."""
SUBLIST = Listing(others=(*PAGING, *FIELDS))
"""A list documented with paging and ``include_fields``/``exclude_fields`` only."""

IDS = "id id:in id:not_in id:min id:max id:greater id:less"
"""The id filters most v3 lists document."""


def _field(name: str) -> Callable[[Record], Any]:
    return lambda record: record.get(name)


METAFIELD_FILTERS: FilterSpec = {
    "id": ("int", _field("id")),
    "key": ("str", _field("key")),
    "namespace": ("str", _field("namespace")),
    "resource_id": ("int", _field("resource_id")),
    "date_created": ("time", _field("date_created")),
    "date_modified": ("time", _field("date_modified")),
}
_KEYS = "key key:in namespace namespace:in"
_SINCE = "date_created:min date_created:max date_modified:min date_modified:max"
_MORE = (*PAGING, "include_fields", *CURSORS, "direction")
ALL_METAFIELDS = Listing(METAFIELD_FILTERS, f"{_KEYS} {_SINCE} resource_id:in", others=_MORE)
"""A store-wide metafield list (``/v3/catalog/products/metafields``...). ``resource_id:in`` is
the products file's ``MetafieldResourceParam``; stagesync reads metafields by it."""
OWN_METAFIELDS = {
    "category": Listing(
        METAFIELD_FILTERS, f"{IDS} {_KEYS} {_SINCE}", others=(*_MORE, "exclude_fields")
    ),
    "brand": Listing(
        METAFIELD_FILTERS, f"{IDS} key namespace", others=(*PAGING, *FIELDS, *CURSORS)
    ),
    "channel": Listing(
        METAFIELD_FILTERS, f"{_KEYS} {_SINCE} date_created date_modified", others=_MORE
    ),
    "product": Listing(
        METAFIELD_FILTERS, f"{_KEYS} {_SINCE} resource_id:in", others=(*_MORE, "exclude_fields")
    ),
    "variant": Listing(METAFIELD_FILTERS, f"{_KEYS} {_SINCE}", others=_MORE),
}
"""One resource's metafields (``/v3/catalog/products/{product_id}/metafields``...), as each
resource's OpenAPI file documents them (they differ)."""


def page_by(call: Call, items: Iterable[Record], render: Callable[[Record], Any]) -> Reply:
    """A page of ``items`` (ordered by ``id``) narrowed by the list's filters: by
    ``before``/``after`` cursor when the query names one (for lists that declare them), else by
    ``page``; each rendered with ``include_fields``/``exclude_fields`` applied."""
    found = listed(call, items)
    if call.query.get("before") or call.query.get("after"):
        return cursor_page_of(found, call.query, lambda m: select_fields(render(m), call.query))
    return page_of([select_fields(render(m), call.query) for m in found], call.query)


def listed(call: Call, items: Iterable[Record]) -> list[Record]:
    """``items`` narrowed and ordered by the list's documented parameters (``Listing.select``)."""
    if call.listing is None:
        return list(items)
    return call.listing.select(items, call.query)


def has_filter(query: Mapping[str, str], spec: FilterSpec) -> bool:
    return any(key.partition(":")[0] in spec for key in query)


def body_list(body: Any, limit: int | None, what: str) -> list[Any]:
    if not isinstance(body, list):
        raise ApiError(
            400, "Input is invalid", detail=f"The request body must be an array of {what}."
        )
    if limit is not None and len(body) > limit:
        raise ApiError(
            413,
            f"The request payload is too large. The maximum items allowed in the array is {limit}.",
        )
    return body


def select_fields(record: Record, query: Mapping[str, str], keep: Iterable[str] = ()) -> Record:
    include_fields = query.get("include_fields")
    exclude_fields = query.get("exclude_fields")
    if include_fields:
        wanted = {f.strip() for f in include_fields.split(",")} | {"id"} | set(keep)
        record = {k: v for k, v in record.items() if k in wanted}
    if exclude_fields:
        unwanted = {f.strip() for f in exclude_fields.split(",")} - {"id"}
        record = {k: v for k, v in record.items() if k not in unwanted}
    return record


def keyword_filter(
    items: list[Record], query: Mapping[str, str], fields: Iterable[str]
) -> list[Record]:
    """The ``keyword`` query parameter: items whose ``fields`` contain it (case-insensitive)."""
    keyword = query.get("keyword")
    if not keyword:
        return items
    needle = keyword.casefold()
    names = list(fields)
    return [i for i in items if any(needle in str(i.get(n, "")).casefold() for n in names)]


def batch_meta(total: int, success: int) -> dict[str, int]:
    return {"total": total, "success": success, "failed": total - success}


# ---- the route table ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """One method on one path: its handler and the JSON Schema its request body must meet."""

    handler: Handler
    body: Schema | None = None
    listing: Listing | None = None
    """A list's documented filters and sorts; any other query parameter answers 400."""


Table = Iterable[tuple[str, Mapping[str, "Handler | Endpoint"]]]


@dataclass(frozen=True)
class Route:
    template: str
    """The path template as registered (``/v3/catalog/products/{product_id}``)."""
    pattern: re.Pattern[str]
    methods: dict[str, Endpoint]


def text_param(name: str) -> bool:
    """Path parameters kept as strings (``*uuid``, ``job_id``); all others are integers."""
    return name.endswith("uuid") or name == "job_id"


def compile_template(template: str) -> re.Pattern[str]:
    def group(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"(?P<{name}>[A-Za-z0-9_-]+)" if text_param(name) else f"(?P<{name}>[0-9]+)"

    regex = re.sub(r"\{(\w+)\}", group, template)
    return re.compile(f"^{regex}/?$")


ROUTES: list[Route] = []


def register(table: Table) -> None:
    """Add an API area's routes; each area module registers itself on import (``areas``)."""
    for template, methods in table:
        endpoints = {
            method: spec if isinstance(spec, Endpoint) else Endpoint(spec)
            for method, spec in methods.items()
        }
        ROUTES.append(Route(template, compile_template(template), endpoints))


def resolve(method: str, path: str) -> tuple[Endpoint, dict[str, Any]]:
    """The endpoint for ``method`` on ``path`` (relative to ``/stores/{hash}``), or 404/405."""
    matched = False
    for route in ROUTES:
        match = route.pattern.match(path)
        if match is None:
            continue
        endpoint = route.methods.get(method)
        if endpoint is None:
            matched = True  # another area may add this method to the same path
            continue
        params = {k: v if text_param(k) else int(v) for k, v in match.groupdict().items()}
        return endpoint, params
    if matched:
        raise ApiError(405, "Method Not Allowed", {"method": f"{method} is not supported here."})
    raise not_found("The requested resource was not found.")


def dispatch(store: Store, method: str, path: str, call: Call) -> Reply:
    """Route one request: find its endpoint, check the body against the endpoint's schema, and
    only then run the handler."""
    endpoint, params = resolve(method, path)
    call.params = params
    if endpoint.body is not None:
        check(endpoint.body, call.body, v2=path.startswith("/v2/"))
    if endpoint.listing is not None:
        endpoint.listing.refuse(call.query)
        call.listing = endpoint.listing
    return endpoint.handler(store, call)
