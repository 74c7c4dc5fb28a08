"""The platform's error answers, raised by the catalogue logic and rendered by the app."""

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


def not_found(what: str = "The requested resource was not found.") -> ApiError:
    return ApiError(404, what)


def invalid(title: str, errors: Mapping[str, str] | None = None) -> ApiError:
    return ApiError(422, title, errors)


def conflict(title: str, errors: Mapping[str, str] | None = None) -> ApiError:
    return ApiError(409, title, errors)
