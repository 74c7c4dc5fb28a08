"""The platform's error answers, raised by the handlers and rendered by the app in the body shape
of the API the request went to:

- v2: a list ``[{"status", "message"}]``;
- promotions and their codes: ``{"errors": [{"status", "title", "type"}], "meta": {}}``;
- every other v3 API: ``{"status", "title", "type", "errors": {field: message}}`` (``detail``
  when there is one).

B2B Edition (``b2b``) has its own ``{code, data, meta}`` envelope.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STATUS_CODES_URL = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"


class ApiError(Exception):
    """An HTTP error answer with the v3 body ``{status, title, type, errors}``."""

    def __init__(
        self,
        status: int,
        title: str,
        errors: Mapping[str, str] | None = None,
        *,
        detail: str | None = None,
    ) -> None:
        super().__init__(f"{status} {title}")
        self.status = status
        self.title = title
        self.errors = dict(errors or {})
        self.detail = detail

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": self.status,
            "title": self.title,
            "type": STATUS_CODES_URL,
            "errors": self.errors,
        }
        if self.detail is not None:
            body["detail"] = self.detail
        return body

    def body_for(self, rest: str) -> Any:
        """The body for a request to ``rest``, the path after ``/stores/{store_hash}``."""
        if rest.startswith("/v2/"):
            return [{"status": self.status, "message": self.title}]
        if rest.startswith("/v3/promotions"):
            entries = [{"status": self.status, "title": self.title, "type": STATUS_CODES_URL}]
            entries += [
                {"status": self.status, "title": f"{field}: {message}", "type": STATUS_CODES_URL}
                for field, message in self.errors.items()
            ]
            return {"errors": entries, "meta": {}}
        return self.body()


def not_found(what: str = "The requested resource was not found.") -> ApiError:
    return ApiError(404, what)


def invalid(title: str, errors: Mapping[str, str] | None = None) -> ApiError:
    return ApiError(422, title, errors)


def conflict(title: str, errors: Mapping[str, str] | None = None) -> ApiError:
    return ApiError(409, title, errors)
