"""Every error stagesync raises on purpose.

    StageSyncError                 root; the CLI turns it into "Error: ..." and exit code 1
    ├── UsageError                 an unknown kind or a malformed --only on the command line: exit 2
    ├── ConfigError                stagesync.toml, environments, missing token variables
    ├── SnapshotError              a snapshot folder or file that cannot be read or written (.path)
    ├── PlanError                  a plan file that is unreadable, edited or from a newer stagesync
    │   └── PlanRefused            push refused: wrong store, drifted entities (.drifted)
    │       └── PolicyRefused      push refused: error-level policy findings (.findings)
    ├── ApiError                   the store answered with an error (.status .method .path .detail)
    │   ├── AuthError              401 / 403
    │   ├── NotFoundError          404
    │   ├── ValidationError        409 / 413 / 422: the platform rejected the payload; never retried
    │   └── RateLimitError         429 that outlasted every retry
    └── TransportError             the store could not be reached (.url): DNS, refused, dropped

Messages say what happened, to what, and what to do next. Errors carry data, so callers never parse
messages. Secrets never appear in them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class StageSyncError(Exception):
    """Root of every error stagesync raises on purpose."""

    exit_code = 1
    hint: str | None = None
    """The advice at the end of ``message``, when the error carries it apart."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    @property
    def summary(self) -> str:
        """What happened: ``message`` without its ``hint``, never cut short."""
        if self.hint and self.message.endswith(f" {self.hint}"):
            return self.message[: -len(self.hint) - 1]
        return self.message


class UsageError(StageSyncError):
    """The command line itself is wrong (an unknown kind, a malformed pattern): exit 2."""

    exit_code = 2


class ConfigError(StageSyncError):
    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class SnapshotError(StageSyncError):
    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class PlanError(StageSyncError):
    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class PlanRefused(PlanError):
    """push changed nothing because the plan no longer fits its destination."""

    def __init__(self, message: str, *, drifted: list[str] | None = None) -> None:
        super().__init__(message)
        self.drifted = drifted or []


class PolicyRefused(PlanRefused):
    """push changed nothing because policy rules found something at error level that no
    ``--override`` accepts."""

    def __init__(self, message: str, *, findings: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.findings = list(findings)


class ApiError(StageSyncError):
    """The store answered a request with an error status."""

    def __init__(
        self,
        *,
        status: int,
        method: str,
        path: str,
        detail: str,
        entity: str | None = None,
        body: Any = None,
        hint: str | None = None,
    ) -> None:
        self.status = status
        self.method = method
        self.path = path
        self.detail = detail
        self.entity = entity
        self.body = body
        self.hint = hint
        super().__init__(self._compose())

    def _compose(self) -> str:
        about = f" ({self.entity})" if self.entity else ""
        text = f"{self.status} from {self.method} {self.path}{about}: {self.detail}"
        return f"{text} {self.hint}" if self.hint else text


class AuthError(ApiError):
    pass


class NotFoundError(ApiError):
    pass


class ValidationError(ApiError):
    pass


class RateLimitError(ApiError):
    pass


class TransportError(StageSyncError):
    def __init__(self, message: str, *, url: str, hint: str | None = None) -> None:
        self.hint = hint
        super().__init__(f"{message} {hint}" if hint else message)
        self.url = url
