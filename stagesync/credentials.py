"""The per-user credentials file: B2B Edition connections made by ``stagesync connect b2b ENV``.

It lives in the user's configuration folder, never in a project folder (which may be a git
repository): ``$XDG_CONFIG_HOME/stagesync/credentials.json``, else
``~/.config/stagesync/credentials.json``. The file is written atomically with mode 0600 (its folder
0700). It holds, per store and B2B API URL, how the connection was verified and, for password
login, the token B2B Edition issued (the password itself is never stored).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from stagesync.config import Environment
from stagesync.errors import StageSyncError

FILE_NAME = "credentials.json"
FORMAT = "stagesync-credentials"


class CredentialsError(StageSyncError):
    pass


@dataclass(frozen=True)
class B2BConnection:
    """A verified B2B Edition connection of one environment."""

    environment: str
    store_hash: str
    api_url: str
    auth: str
    email: str | None
    connected_at: str
    token: str | None = None
    """The token obtained by password login (None in token mode: the store token is used)."""

    def __repr__(self) -> str:  # never show the token
        return (
            f"B2BConnection(environment={self.environment!r}, store_hash={self.store_hash!r}, "
            f"auth={self.auth!r})"
        )


def credentials_path() -> Path:
    """Where the credentials file is (it may not exist yet)."""
    base = os.environ.get("XDG_CONFIG_HOME", "").strip()
    root = Path(base) if base else Path.home() / ".config"
    return root / "stagesync" / FILE_NAME


def _entry_key(environment: Environment) -> str:
    assert environment.b2b is not None
    return f"{environment.store_hash}@{environment.b2b.api_url}"


def _read(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"format": FORMAT, "b2b": {}}
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise CredentialsError(
            f"Cannot read the credentials file {path} ({exc}). Delete it and run "
            "`stagesync connect b2b ENV` again."
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("b2b"), dict):
        raise CredentialsError(
            f"{path} is not a stagesync credentials file. Delete it and run "
            "`stagesync connect b2b ENV` again."
        )
    return data


def b2b_connection(environment: Environment) -> B2BConnection | None:
    """The stored connection of ``environment``, if one was made with its current B2B settings."""
    b2b = environment.b2b
    if b2b is None:
        return None
    entry = _read(credentials_path())["b2b"].get(_entry_key(environment))
    if not isinstance(entry, Mapping):
        return None
    changed_email = b2b.auth == "password" and entry.get("email") != b2b.email
    if entry.get("auth") != b2b.auth or changed_email:
        return None  # the configuration changed since: connect again
    token = entry.get("token")
    if b2b.auth == "password" and not isinstance(token, str):
        return None
    return B2BConnection(
        environment=environment.name,
        store_hash=environment.store_hash,
        api_url=b2b.api_url,
        auth=b2b.auth,
        email=b2b.email,
        connected_at=str(entry.get("connected_at", "")),
        token=token if isinstance(token, str) else None,
    )


def save_b2b_connection(
    environment: Environment,
    *,
    token: str | None,
    connected_at: str,
    project: Path | None = None,
) -> Path:
    """Record a verified connection; returns the credentials file's path.

    Refuses when the credentials file would land inside ``project`` (the folder holding
    stagesync.toml), so a token can never be committed with the snapshots."""
    b2b = environment.b2b
    if b2b is None:
        raise CredentialsError(f"environment '{environment.name}' has no B2B settings.")
    path = credentials_path()
    if project is not None:
        resolved, folder = path.resolve(), project.resolve()
        if resolved == folder or folder in resolved.parents:
            raise CredentialsError(
                f"The credentials file {path} would be inside the project folder {folder}, "
                "where it could be committed. Point XDG_CONFIG_HOME at a folder outside it."
            )
    data = _read(path)
    entry: dict[str, Any] = {
        "environment": environment.name,
        "auth": b2b.auth,
        "email": b2b.email,
        "connected_at": connected_at,
    }
    if token is not None:
        entry["token"] = token
    data["format"] = FORMAT
    data["b2b"][_entry_key(environment)] = entry
    _write_private(path, orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    return path


def _write_private(path: Path, content: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".credentials-", suffix=".tmp")
    except OSError as exc:
        raise CredentialsError(
            f"Cannot write the credentials file {path}: {exc.strerror or exc}."
        ) from None
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise CredentialsError(
            f"Cannot write the credentials file {path}: {exc.strerror or exc}."
        ) from None
