"""``stagesync.toml``: the environments stagesync can pull from and push to.

The file names stores and the environment variables holding their secrets; it never holds a secret
itself. It is found via ``--config PATH``, else ``$STAGESYNC_CONFIG``, else ``./stagesync.toml``::

    [environments.staging]
    store_hash = "abc123"
    access_token_env = "STAGESYNC_STAGING_TOKEN"

Every problem with the file is a ``ConfigError`` that names the file and says how to fix it.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stagesync.errors import ConfigError

if TYPE_CHECKING:
    from stagesync.policy.settings import PolicySettings

CONFIG_ENV_VAR = "STAGESYNC_CONFIG"
DEFAULT_CONFIG_NAME = "stagesync.toml"
DEFAULT_API_URL = "https://api.bigcommerce.com"
DEFAULT_B2B_API_URL = "https://api-b2b.bigcommerce.com"

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_STORE_HASH_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_ENV_VAR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_ENVIRONMENT_KEYS = (
    "store_hash",
    "access_token_env",
    "api_url",
    "quota",
    "window_ms",
    "b2b",
    "channels",
    "stock",
    "role",
    "policy",
)
ROLES = ("production", "staging", "sandbox")
"""``role`` values, strictest first: the one place that says how careful stagesync must be."""
_B2B_KEYS = ("auth", "email", "password_env", "api_url")
_B2B_AUTH = ("password", "token")
# Keys that would put a secret into the file, and the key to use instead.
_SECRET_KEYS = {
    "access_token": "access_token_env",
    "token": "access_token_env",
    "auth_token": "access_token_env",
    "client_secret": "access_token_env",
    "secret": "access_token_env",
    "password": "password_env",
}


@dataclass(frozen=True)
class B2BConfig:
    """An environment's B2B Edition credentials (``[environments.NAME.b2b]``)."""

    auth: str
    """``"password"`` (email + password login) or ``"token"`` (the store token with B2B scope)."""
    email: str | None = None
    password_env: str | None = None
    api_url: str = DEFAULT_B2B_API_URL

    def password(self, environment: str) -> str:
        """The B2B password from ``password_env``; ``ConfigError`` when it is not set."""
        if self.password_env is None:
            raise ConfigError(
                f"environment '{environment}' has no b2b.password_env: B2B password login "
                "needs the name of the environment variable holding the password."
            )
        return _read_secret(
            self.password_env, f"environment '{environment}' reads its B2B password"
        )


@dataclass(frozen=True)
class Environment:
    """One store stagesync can pull from or push to (``[environments.NAME]``)."""

    name: str
    store_hash: str
    access_token_env: str
    api_url: str = DEFAULT_API_URL
    quota: int = 150
    """Requests per ``window_ms`` the store's plan allows (150 per 30 s on Standard and Plus)."""
    window_ms: int = 30000
    b2b: B2BConfig | None = None
    channels: Mapping[str, str] = field(default_factory=dict)
    """``[environments.NAME.channels]``: channel key (as snapshots and plans name it) -> the name
    of that channel on this store. Channels not listed are keyed by their own name (channel 1:
    ``default``)."""
    stock: bool = False
    """Whether pulls record inventory levels (and so diffs compare and pushes write them)."""
    role: str = "production"
    """How careful stagesync must be with this store: ``production`` (the default, strictest
    checks), ``staging`` or ``sandbox``. Policy rules, the redaction guard and the write probe read
    it; no other key repeats it."""
    source: str = field(default=DEFAULT_CONFIG_NAME, compare=False)
    """The configuration file it was read from (for messages that say where to fix it)."""
    policy: PolicySettings | None = None
    """``[environments.NAME.policy]``: policy settings for plans whose destination this is, on
    top of ``[policy]`` (``stagesync.policy.settings``)."""

    def token(self) -> str:
        """The access token from ``access_token_env``; ``ConfigError`` when it is unset or empty."""
        return _read_secret(
            self.access_token_env, f"environment '{self.name}' reads its access token"
        )


@dataclass(frozen=True)
class Config:
    """The parsed configuration file. ``path`` is None for a configuration built in code."""

    path: Path | None
    environments: Mapping[str, Environment] = field(default_factory=dict)
    policy: PolicySettings | None = None
    """``[policy]``: every rule's severity, thresholds and exceptions (docs/policy.md)."""

    def environment(self, name: str) -> Environment:
        """The environment called ``name``; ``ConfigError`` listing the configured ones if none."""
        found = self.environments.get(name)
        if found is not None:
            return found
        where = str(self.path) if self.path else "the configuration"
        add = (
            f"Add it to {where} as [environments.{name}] with store_hash and access_token_env."
            if _NAME_RE.match(name)
            else "Environment names use letters, digits, '-' and '_'."
        )
        if self.environments:
            known = ", ".join(sorted(self.environments))
            message = f"Unknown environment '{name}'. Configured in {where}: {known}. {add}"
        else:
            message = f"Unknown environment '{name}': {where} configures no environments. {add}"
        raise ConfigError(message, path=str(self.path) if self.path else None)

    def find_environment_by_store(self, store_hash: str) -> Environment | None:
        """The first environment configured for ``store_hash``, or None."""
        for environment in self.environments.values():
            if environment.store_hash == store_hash:
                return environment
        return None


def config_path(path: Path | None = None) -> tuple[Path, str]:
    """Which file to read, and how it was chosen (for messages): option, variable or default."""
    if path is not None:
        return path, "given with --config"
    from_env = os.environ.get(CONFIG_ENV_VAR)
    if from_env:
        return Path(from_env), f"named by ${CONFIG_ENV_VAR}"
    return Path(DEFAULT_CONFIG_NAME), "the default, in the current folder"


def load_config(path: Path | None = None) -> Config:
    """Read and check ``path``, else ``$STAGESYNC_CONFIG``, else ``./stagesync.toml``."""
    chosen, how = config_path(path)
    shown = str(chosen)
    if not chosen.exists():
        hint = (
            "Run `stagesync init` to write one, or pass --config PATH."
            if how.startswith("the default")
            else f"Check the path, or run `stagesync init --path {shown}` to write one there."
        )
        raise ConfigError(f"No configuration file at {shown} ({how}). {hint}", path=shown)
    if not chosen.is_file():
        raise ConfigError(
            f"{shown} ({how}) is not a file. Point --config at a stagesync.toml.", path=shown
        )
    try:
        text = chosen.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{shown} is not valid TOML: {exc}.", path=shown) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{shown} is not UTF-8 text; save it as UTF-8.", path=shown) from None
    except OSError as exc:
        raise ConfigError(f"Cannot read {shown}: {exc.strerror or exc}.", path=shown) from None
    return parse_config(data, path=chosen, text=text)


def parse_config(
    data: Mapping[str, Any], *, path: Path | None = None, text: str | None = None
) -> Config:
    """Validate already-parsed TOML data (``load_config`` without the file); ``text``, the
    file's text, lets policy errors name their line."""
    where = str(path) if path else "the configuration"
    _check_keys(data, ("environments", "policy"), where, "at the top level", path)
    tables = data.get("environments", {})
    if not isinstance(tables, dict):
        raise _error(where, "'environments' must be a table: [environments.NAME]", path)
    environments: dict[str, Environment] = {}
    for name, table in tables.items():
        environments[name] = _parse_environment(name, table, where, path, text)
    policy = _policy(data.get("policy"), ("policy",), where, text)
    return Config(path=path, environments=environments, policy=policy)


def _policy(table: Any, at: tuple[str, ...], where: str, text: str | None) -> PolicySettings | None:
    if table is None:
        return None
    from stagesync.policy.settings import parse_policy

    return parse_policy(table, at=at, where=where, text=text)


CONFIG_TEMPLATE = """\
# stagesync configuration: the stores stagesync pulls from and pushes to.
# Docs: docs/configuration.md. Found via --config PATH, $STAGESYNC_CONFIG, or ./stagesync.toml.
#
# Secrets never go in this file. Each environment names the environment variable holding its
# access token (a store-level API account token), e.g.:
#     export STAGESYNC_STAGING_TOKEN=...
#
# To try stagesync against the local emulator instead of a real store:
#     stagesync emulator serve --seed demo
# and set api_url = "http://127.0.0.1:8765" with store_hash "staging" / "production" and tokens
# "staging-token" / "production-token".

[environments.staging]
store_hash = "abc123"                            # from https://store-abc123.mybigcommerce.com
access_token_env = "STAGESYNC_STAGING_TOKEN"     # the variable's name, not the token
# api_url = "https://api.bigcommerce.com"        # default; the emulator's URL for local runs
# quota = 150                                    # requests per window your store's plan allows
# window_ms = 30000
role = "staging"                                 # production (default: strictest), staging, sandbox

# B2B Edition credentials are separate from the store token. Uncomment to use them.
# [environments.staging.b2b]
# auth = "password"                              # or "token": the store token with B2B scope
# email = "b2b@yourdomain.com"
# password_env = "STAGESYNC_STAGING_B2B_PASSWORD"
# api_url = "https://api-b2b.bigcommerce.com"

[environments.production]
store_hash = "def456"
access_token_env = "STAGESYNC_PRODUCTION_TOKEN"
# role = "production"                            # the default

# Policy rules that stop a dangerous plan (docs/policy.md): severities, thresholds, exceptions.
# [policy.price-change]
# max_decrease_percent = 50
# exceptions = ["products:CLEARANCE-*"]
"""


def init_config(path: Path, *, force: bool = False) -> Path:
    """Write ``CONFIG_TEMPLATE`` to ``path``; refuses to overwrite a file unless ``force``."""
    if path.is_dir():
        raise ConfigError(
            f"{path} is a folder; give the path of the file to write.", path=str(path)
        )
    if path.exists() and not force:
        raise ConfigError(
            f"{path} already exists; stagesync init leaves it as it is. "
            "Pass --force to overwrite it.",
            path=str(path),
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w" if force else "x", encoding="utf-8") as out:
            out.write(CONFIG_TEMPLATE)
    except FileExistsError:
        raise ConfigError(
            f"{path} already exists; pass --force to overwrite it.", path=str(path)
        ) from None
    except OSError as exc:
        raise ConfigError(f"Cannot write {path}: {exc.strerror or exc}.", path=str(path)) from None
    return path


# --- helpers ---------------------------------------------------------------------------------


def _read_secret(variable: str, purpose: str) -> str:
    value = os.environ.get(variable, "")
    if value.strip():
        return value.strip()
    state = "is empty" if variable in os.environ else "is not set"
    raise ConfigError(f"{variable} {state}: {purpose} from it. Export it, e.g. export {variable}=…")


def _error(where: str, message: str, path: Path | None) -> ConfigError:
    return ConfigError(f"{where}: {message}.", path=str(path) if path else None)


def _check_keys(
    table: Mapping[str, Any], allowed: tuple[str, ...], where: str, what: str, path: Path | None
) -> None:
    for key in table:
        if key in _SECRET_KEYS and key not in allowed:
            instead = _SECRET_KEYS[key] if _SECRET_KEYS[key] in allowed else "access_token_env"
            example = (
                "STAGESYNC_STAGING_B2B_PASSWORD"
                if instead == "password_env"
                else ("STAGESYNC_STAGING_TOKEN")
            )
            raise _error(
                where,
                f"'{key}' {what} would put a secret in the file. Secrets live in environment "
                f'variables: name the variable instead ({instead} = "{example}") and export '
                "the value there",
                path,
            )
    unknown = [key for key in table if key not in allowed]
    if unknown:
        names = ", ".join(f"'{key}'" for key in unknown)
        suggestions = [s for key in unknown if (s := _closest(key, allowed))]
        did_you_mean = f" Did you mean {', '.join(suggestions)}?" if suggestions else ""
        raise _error(
            where,
            f"unknown key{'s' if len(unknown) > 1 else ''} {names} {what}.{did_you_mean} "
            f"Allowed: {', '.join(allowed)}",
            path,
        )


def _closest(key: str, allowed: tuple[str, ...]) -> str | None:
    match = difflib.get_close_matches(key, allowed, n=1, cutoff=0.7)
    return f"'{match[0]}'" if match else None


def _parse_environment(
    name: str, table: Any, where: str, path: Path | None, text: str | None = None
) -> Environment:
    what = f"[environments.{name}]"
    if not isinstance(table, dict):
        raise _error(where, f"environments.{name} must be a table: {what}", path)
    if not _NAME_RE.match(name):
        raise _error(
            where,
            f"environment name '{name}' may only use letters, digits, '-' and '_' "
            "(it names the snapshot folder)",
            path,
        )
    _check_keys(table, _ENVIRONMENT_KEYS, where, f"in {what}", path)
    for required in ("store_hash", "access_token_env"):
        if required not in table:
            example = (
                'store_hash = "abc123"'
                if required == "store_hash"
                else f'access_token_env = "STAGESYNC_{name.upper().replace("-", "_")}_TOKEN"'
            )
            raise _error(where, f"{what} is missing {required}; add e.g. {example}", path)
    store_hash = _string(table, "store_hash", what, where, path)
    if not _STORE_HASH_RE.match(store_hash):
        raise _error(
            where,
            f"{what} store_hash '{store_hash}' is not a store hash: use the letters and digits "
            "from store-<hash>.mybigcommerce.com",
            path,
        )
    token_env = _string(table, "access_token_env", what, where, path)
    if not _ENV_VAR_RE.match(token_env):
        raise _error(
            where,
            f"{what} access_token_env must be the name of an environment variable "
            "(e.g. STAGESYNC_STAGING_TOKEN), not the token itself",
            path,
        )
    quota = _integer(table, "quota", 150, what, where, path)
    window_ms = _integer(table, "window_ms", 30000, what, where, path)
    stock = table.get("stock", False)
    if not isinstance(stock, bool):
        raise _error(where, f"{what} stock must be true or false, not {_describe(stock)}", path)
    role = _string(table, "role", what, where, path) if "role" in table else "production"
    if role not in ROLES:
        raise _error(
            where,
            f'{what} role must be one of {", ".join(repr(r) for r in ROLES)}, got "{role}"',
            path,
        )
    b2b_table = table.get("b2b")
    return Environment(
        name=name,
        store_hash=store_hash,
        access_token_env=token_env,
        api_url=_url(table, DEFAULT_API_URL, what, where, path),
        quota=quota,
        window_ms=window_ms,
        b2b=None if b2b_table is None else _parse_b2b(name, b2b_table, where, path),
        channels=_parse_channels(name, table.get("channels", {}), where, path),
        stock=stock,
        role=role,
        source=str(path) if path is not None else DEFAULT_CONFIG_NAME,
        policy=_policy(table.get("policy"), ("environments", name, "policy"), where, text),
    )


def _parse_channels(name: str, table: Any, where: str, path: Path | None) -> dict[str, str]:
    """``[environments.NAME.channels]``: ``key = "channel name on this store"``; each name once."""
    what = f"[environments.{name}.channels]"
    if not isinstance(table, dict):
        raise _error(
            where, f'environments.{name}.channels must be a table: {what} uk = "uk-store"', path
        )
    out: dict[str, str] = {}
    for key, value in table.items():
        if not isinstance(value, str) or not value.strip():
            raise _error(
                where,
                f"{what} {key} must be the name of a channel on this store, as a string "
                f'(e.g. {key} = "{key}-store")',
                path,
            )
        if key == "default":
            raise _error(
                where,
                f"{what} cannot map 'default': it is always channel 1, the default storefront",
                path,
            )
        out[str(key)] = value
    names = sorted(out.values())
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise _error(
            where,
            f"{what} maps several keys to the channel {', '.join(twice)}; map each once",
            path,
        )
    return out


def _parse_b2b(name: str, table: Any, where: str, path: Path | None) -> B2BConfig:
    what = f"[environments.{name}.b2b]"
    if not isinstance(table, dict):
        raise _error(where, f"environments.{name}.b2b must be a table: {what}", path)
    _check_keys(table, _B2B_KEYS, where, f"in {what}", path)
    auth = _string(table, "auth", what, where, path) if "auth" in table else "password"
    if auth not in _B2B_AUTH:
        raise _error(where, f'{what} auth must be "password" or "token", got "{auth}"', path)
    email = _string(table, "email", what, where, path) if "email" in table else None
    password_env = (
        _string(table, "password_env", what, where, path) if "password_env" in table else None
    )
    if auth == "password":
        if email is None or password_env is None:
            raise _error(
                where,
                f'{what} auth = "password" needs email and password_env (the name of the '
                "environment variable holding the password)",
                path,
            )
        if not _ENV_VAR_RE.match(password_env):
            raise _error(
                where,
                f"{what} password_env must be the name of an environment variable "
                "(e.g. STAGESYNC_STAGING_B2B_PASSWORD), not the password itself",
                path,
            )
    return B2BConfig(
        auth=auth,
        email=email,
        password_env=password_env,
        api_url=_url(table, DEFAULT_B2B_API_URL, what, where, path),
    )


def _string(table: Mapping[str, Any], key: str, what: str, where: str, path: Path | None) -> str:
    value = table[key]
    if not isinstance(value, str):
        raise _error(where, f"{what} {key} must be a string, got {_describe(value)}", path)
    if not value.strip():
        raise _error(where, f"{what} {key} is empty", path)
    return value.strip()


def _integer(
    table: Mapping[str, Any], key: str, default: int, what: str, where: str, path: Path | None
) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _error(where, f"{what} {key} must be an integer, got {_describe(value)}", path)
    if value <= 0:
        raise _error(where, f"{what} {key} must be greater than 0, got {value}", path)
    return value


def _url(table: Mapping[str, Any], default: str, what: str, where: str, path: Path | None) -> str:
    if "api_url" not in table:
        return default
    url = _string(table, "api_url", what, where, path)
    if not url.startswith(("http://", "https://")) or len(url.split("://", 1)[1]) == 0:
        raise _error(
            where, f'{what} api_url must start with http:// or https://, got "{url}"', path
        )
    return url.rstrip("/")


def _describe(value: Any) -> str:
    kinds = {str: "a string", bool: "a boolean", int: "an integer", float: "a number"}
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    label = kinds.get(type(value), type(value).__name__)
    return f"{label} ({value!r})" if not isinstance(value, str) else f'{label} ("{value}")'
