"""Request-body schemas: JSON Schema from a few small constructors, checked by ``jsonschema``.

Each route declares the schema its body must meet (``routes.Endpoint``); the router checks it
before the handler runs, so a wrong JSON type, an unknown enum value, a number out of range or an
over-long string is refused with the platform's answer and nothing is written:

- a body that is not the JSON type the endpoint takes: 400 ``Input is invalid``;
- any field that breaks its schema: 422 ``JSON data is missing or invalid`` with one message per
  field, keyed by its path (``items.0.name``); on v2 paths a 400 whose message names the field.

The app renders that ``ApiError`` in the body shape of the API the path belongs to (v2, v3,
promotions). Unknown fields are allowed unless a schema says otherwise, as the platform ignores
them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .errors import ApiError

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

Schema = Mapping[str, Any]

BOOL: Schema = {"type": "boolean"}
ANY_OBJECT: Schema = {"type": "object"}


def string(
    max_length: int | None = None,
    *,
    min_length: int | None = None,
    enum: Iterable[str] | None = None,
    nullable: bool = False,
) -> Schema:
    schema: dict[str, Any] = {"type": ["string", "null"] if nullable else "string"}
    if max_length is not None:
        schema["maxLength"] = max_length
    if min_length is not None:
        schema["minLength"] = min_length
    if enum is not None:
        schema["enum"] = [*enum, None] if nullable else list(enum)
    return schema


def _numeric(
    kind: str, minimum: float | None, maximum: float | None, nullable: bool
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": [kind, "null"] if nullable else kind}
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    return schema


def integer(
    minimum: int | None = None, maximum: int | None = None, *, nullable: bool = False
) -> Schema:
    return _numeric("integer", minimum, maximum, nullable)


def number(
    minimum: float | None = None, maximum: float | None = None, *, nullable: bool = False
) -> Schema:
    return _numeric("number", minimum, maximum, nullable)


INT32 = integer(-(2**31), 2**31 - 1)
ID = integer(0, 2**31 - 1)
"""An object id: the platform's ids are non-negative 32-bit integers."""
MONEY = number(0, 1e12)


def enum(*values: Any) -> Schema:
    return {"enum": list(values)}


def array(
    items: Schema | None = None, *, max_items: int | None = None, min_items: int | None = None
) -> Schema:
    schema: dict[str, Any] = {"type": "array"}
    if items is not None:
        schema["items"] = items
    if max_items is not None:
        schema["maxItems"] = max_items
    if min_items is not None:
        schema["minItems"] = min_items
    return schema


def obj(
    properties: Mapping[str, Schema] | None = None,
    *,
    required: Iterable[str] = (),
    nullable: bool = False,
    closed: bool = False,
) -> Schema:
    """An object whose named fields (when present) meet their schemas; ``closed`` refuses others."""
    schema: dict[str, Any] = {"type": ["object", "null"] if nullable else "object"}
    if properties:
        schema["properties"] = dict(properties)
    names = list(required)
    if names:
        schema["required"] = names
    if closed:
        schema["additionalProperties"] = False
    return schema


def one_or_many(item: Schema, *, max_items: int | None = None) -> Schema:
    """One object, or an array of them (endpoints that take both)."""
    return {"anyOf": [item, array(item, max_items=max_items)]}


_VALIDATORS: dict[int, tuple[Schema, Validator]] = {}


def _validator(schema: Schema) -> Validator:
    cached = _VALIDATORS.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    from jsonschema import Draft202012Validator  # imported on first use: keeps startup light

    validator = Draft202012Validator(schema)
    _VALIDATORS[id(schema)] = (schema, validator)
    return validator


def _where(path: Iterable[Any]) -> str:
    return ".".join(str(part) for part in path)


def check(schema: Schema, body: Any, *, v2: bool = False) -> None:
    """Raise the platform's ``ApiError`` when ``body`` does not meet ``schema``. v2 answers a
    bad field with a 400 whose message names it (its error body has no per-field part)."""
    errors = list(_validator(schema).iter_errors(body))
    if not errors:
        return
    root = [e for e in errors if not e.absolute_path and e.validator in ("type", "anyOf")]
    if root:
        kinds = schema.get("type", "object")
        wanted = "an array" if kinds == "array" else "a JSON object"
        if "anyOf" in schema:
            wanted = "a JSON object or an array of them"
        raise ApiError(400, "Input is invalid", detail=f"The request body must be {wanted}.")
    messages: dict[str, str] = {}
    for error in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path]):
        where = _where(error.absolute_path) or "body"
        messages.setdefault(where, _message(where, error.message, error.validator))
    if v2:
        raise ApiError(400, next(iter(messages.values())), messages)
    raise ApiError(422, "JSON data is missing or invalid", messages)


def _message(where: str, detail: str, rule: Any) -> str:
    if rule == "required":
        return f"{detail}."
    if len(detail) > 200:  # jsonschema quotes the value; a huge value makes a huge message
        detail = detail[:200] + "..."
    return f"The field '{where}' is invalid: {detail}."
