"""Themes (``/v3/themes``): bundles, the job flow, downloads, activation, configurations.

- Upload (``POST /v3/themes``, multipart ``file``) checks the 50 MB bundle limit (413) and the
  limit of 20 custom themes at once (409, "You have reached your upload limit", the platform's
  answer), then answers ``201 {"job_id"}``. The bundle is unpacked and checked
  (a zip with ``config.json`` naming the theme, its version and variations, and ``templates/``)
  while the job runs: each ``GET /v3/themes/jobs/{job_id}`` moves it one step, QUEUED ->
  WORKING -> COMPLETED (result ``theme_id``) or FAILED (``errors``), so clients must poll.
- A bundle whose ``config.json`` names an existing custom theme replaces that theme's files
  (same uuid, new ``updated_at``); any other bundle is a new custom theme.
- Download (``POST /v3/themes/{uuid}/actions/download``) answers a job whose result is a
  ``download_url`` the emulator serves itself, at ``/__emulator/downloads/...``, without
  authentication and for 60 seconds, like the platform's signed links.
- Activation (``POST /v3/themes/actions/activate?channel_id=``, default channel 1) is per channel:
  each channel has its own active theme, variation, version and configuration, served by
  ``GET /v3/channels/{channel_id}/active-theme``. Activating applies the theme's latest upload;
  ``which`` names the configuration to use (original, last_activated, last_created: each
  variation has one configuration here, so all three give it) and anything else answers 422. A
  theme's ``is_active`` is true while it is active on any channel; such a theme cannot be
  deleted.
- Download serves the version ``which`` names (original: the first upload; last_created: the
  latest; last_activated: the one last activated, or the latest if none was); a missing or
  unknown ``which`` means ``last_activated``, as the reference says.
- Configurations (Page Builder settings) are readable (``GET .../configurations``, at least one
  filter) and never writable through the API, as on the platform. ``edit_configuration`` plays
  a merchant editing one in Page Builder.
- Every store starts with Cornerstone, a marketplace (not custom) theme, active on channel 1.
"""

from __future__ import annotations

import io
import re
import secrets
import time
import weakref
import zipfile
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from .content import new_uuid
from .errors import ApiError, conflict, invalid, not_found
from .routes import (
    PAGED,
    Call,
    Endpoint,
    Listing,
    Reply,
    Table,
    listed,
    page_of,
    register,
    single,
)
from .store import Record, Store

MAX_CUSTOM_THEMES = 20
MAX_BUNDLE_BYTES = 50 * 1024 * 1024
DOWNLOAD_SECONDS = 60
DOWNLOAD_PREFIX = "/__emulator/downloads/"
JOB_STEPS = ("QUEUED", "WORKING")
WHICH = ("original", "last_activated", "last_created")


@dataclass
class Job:
    id: str
    action: str
    """``upload`` or ``download``."""
    payload: Any
    status: str = "QUEUED"
    steps: int = 0
    result: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)

    def body(self) -> Record:
        done = self.status in ("COMPLETED", "FAILED")
        return {
            "id": self.id,
            "status": self.status,
            "percent_complete": 100 if done else 50 * self.steps,
            "result": self.result,
            "errors": self.errors,
            "warnings": [],
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


@dataclass(frozen=True)
class Version:
    """One uploaded bundle of a theme."""

    uuid: str
    bundle: bytes


@dataclass(frozen=True)
class Active:
    """What one channel shows."""

    theme_uuid: str
    variation_uuid: str
    version_uuid: str
    configuration_uuid: str


@dataclass
class ThemeState:
    themes: dict[str, Record] = field(default_factory=dict)
    versions: dict[str, list[Version]] = field(default_factory=dict)
    """Theme uuid -> its bundles, oldest first."""
    last_activated: dict[str, str] = field(default_factory=dict)
    """Theme uuid -> the version uuid most recently activated on any channel."""
    active: dict[int, Active] = field(default_factory=dict)
    """Channel id -> its active theme."""
    configurations: dict[str, Record] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)


_STATES: weakref.WeakKeyDictionary[Store, ThemeState] = weakref.WeakKeyDictionary()
_DOWNLOADS: dict[str, tuple[bytes, float]] = {}
"""Download links of every store: token -> (bundle, expiry on the monotonic clock)."""


def themes_of(store: Store) -> ThemeState:
    state = _STATES.get(store)
    if state is None:
        state = _STATES[store] = ThemeState()
        theme_uuid = _install(store, state, cornerstone_bundle(), private=False)
        _activate(state, 1, state.themes[theme_uuid]["variations"][0]["uuid"])
    return state


def cornerstone_bundle() -> bytes:
    config = {
        "name": "Cornerstone",
        "version": "6.0.0",
        "settings": {"color": "#333333"},
        "variations": [
            {"name": "Light", "id": "light", "settings": {}},
            {"name": "Bold", "id": "bold", "settings": {"color": "#000000"}},
        ],
    }
    files = {
        "config.json": orjson.dumps(config, option=orjson.OPT_INDENT_2),
        "templates/layout/base.html": b"<html><body>{{{body}}}</body></html>\n",
        "templates/pages/home.html": b"{{#partial 'page'}}Welcome{{/partial}}\n",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name in sorted(files):
            bundle.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), files[name])
    return buffer.getvalue()


def read_bundle(data: bytes) -> tuple[Record, list[str]]:
    """The bundle's ``config.json`` and file names; raises ValueError saying what is wrong."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as bundle:
            names = [info.filename for info in bundle.infolist() if not info.is_dir()]
            if "config.json" not in names:
                raise ValueError("the bundle has no config.json at its root")
            config = orjson.loads(bundle.read("config.json"))
    except zipfile.BadZipFile:
        raise ValueError("the file is not a zip archive") from None
    except orjson.JSONDecodeError as error:
        raise ValueError(f"config.json is not valid JSON ({error})") from None
    if not isinstance(config, dict):
        raise ValueError("config.json must be an object")
    if not isinstance(config.get("name"), str) or not config["name"].strip():
        raise ValueError('config.json needs a "name"')
    if not isinstance(config.get("version"), str) or not re.fullmatch(
        r"\d+\.\d+\.\d+.*", config["version"]
    ):
        raise ValueError('config.json needs a "version" like 1.2.3')
    variations = config.get("variations")
    if (
        not isinstance(variations, list)
        or not variations
        or not all(isinstance(v, dict) and isinstance(v.get("name"), str) for v in variations)
    ):
        raise ValueError('config.json needs "variations", each with a "name"')
    if not any(name.startswith("templates/") for name in names):
        raise ValueError("the bundle has no templates/ folder")
    return config, names


def _updated_at(previous: str | None) -> str:
    """Now, but always later than ``previous``: each upload gets a new ``updated_at``."""
    now = datetime.now(UTC).replace(microsecond=0)
    if previous:
        before = datetime.strptime(previous, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        now = max(now, before + timedelta(seconds=1))
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def _install(store: Store, state: ThemeState, data: bytes, *, private: bool = True) -> str:
    config, _ = read_bundle(data)
    existing = next(
        (t for t in state.themes.values() if t["name"] == config["name"] and t["is_private"]),
        None,
    )
    if existing is None:
        theme: Record = {
            "uuid": new_uuid(store),
            "name": config["name"],
            "variations": [],
            "is_private": private,
            "is_active": False,
            "updated_at": None,
        }
        state.themes[theme["uuid"]] = theme
    else:
        theme = existing
        for config_uuid in [
            c["uuid"] for c in state.configurations.values() if c["theme_uuid"] == theme["uuid"]
        ]:
            del state.configurations[config_uuid]
    old = {v["name"]: v["uuid"] for v in theme["variations"]}
    theme["variations"] = []
    for variation in config["variations"]:
        variation_uuid = old.get(variation["name"]) or new_uuid(store)
        theme["variations"].append(
            {
                "uuid": variation_uuid,
                "name": variation["name"],
                "description": str(variation.get("description") or ""),
                "external_id": str(variation.get("id") or ""),
            }
        )
        settings = {**(config.get("settings") or {}), **(variation.get("settings") or {})}
        configuration = {
            "uuid": new_uuid(store),
            "theme_uuid": theme["uuid"],
            "variation_id": variation_uuid,
            "settings": settings,
            "date_created": _updated_at(None),
            "site_id": 0,  # the original configuration of a theme, as the reference says
        }
        state.configurations[configuration["uuid"]] = configuration
    theme["updated_at"] = _updated_at(theme["updated_at"])
    state.versions.setdefault(theme["uuid"], []).append(Version(new_uuid(store), data))
    for channel, shown in list(state.active.items()):  # a channel keeps its version until
        if shown.theme_uuid == theme["uuid"]:  # activated again; its configuration is the new one
            current = _configuration(state, shown.variation_uuid)
            if current is None:
                del state.active[channel]
            else:
                state.active[channel] = replace(shown, configuration_uuid=current)
    return str(theme["uuid"])


def _configuration(state: ThemeState, variation_uuid: str) -> str | None:
    return next(
        (c["uuid"] for c in state.configurations.values() if c["variation_id"] == variation_uuid),
        None,
    )


def _activate(state: ThemeState, channel: int, variation_uuid: str) -> None:
    """Make ``variation_uuid`` (its theme's latest upload) active on ``channel``."""
    theme = next(
        t
        for t in state.themes.values()
        if any(v["uuid"] == variation_uuid for v in t["variations"])
    )
    version = state.versions[theme["uuid"]][-1]
    configuration = _configuration(state, variation_uuid) or ""
    state.active[channel] = Active(theme["uuid"], variation_uuid, version.uuid, configuration)
    state.last_activated[theme["uuid"]] = version.uuid
    shown = {a.theme_uuid for a in state.active.values()}
    for each in state.themes.values():
        each["is_active"] = each["uuid"] in shown


def _version(state: ThemeState, theme_uuid: str, which: str) -> Version:
    versions = state.versions[theme_uuid]
    if which == "original":
        return versions[0]
    if which == "last_activated":
        activated = state.last_activated.get(theme_uuid)
        return next((v for v in versions if v.uuid == activated), versions[-1])
    return versions[-1]


def edit_configuration(store: Store, theme_name: str, variation: str, settings: Record) -> None:
    """What a merchant's Page Builder edit does: new settings for one variation's configuration
    (test helper; the platform has no API for it)."""
    state = themes_of(store)
    theme = next(t for t in state.themes.values() if t["name"] == theme_name)
    variation_uuid = next(v["uuid"] for v in theme["variations"] if v["name"] == variation)
    for configuration in state.configurations.values():
        if configuration["variation_id"] == variation_uuid:
            configuration["settings"] = {**configuration["settings"], **settings}


def custom_theme_count(store: Store) -> int:
    return sum(1 for t in themes_of(store).themes.values() if t["is_private"])


# ---- handlers ----------------------------------------------------------------------------------


def list_themes(store: Store, call: Call) -> Reply:
    themes = [dict(t) for t in themes_of(store).themes.values()]
    return Reply(200, {"data": themes, "meta": {}})


def upload_theme(store: Store, call: Call) -> Reply:
    body = call.body if isinstance(call.body, dict) else {}
    data = body.get("file")
    if not isinstance(data, bytes):
        raise invalid(
            "Input is invalid", {"file": "Send the theme bundle as the multipart field 'file'."}
        )
    if len(data) > MAX_BUNDLE_BYTES:
        raise ApiError(
            413,
            f"The theme bundle is {len(data) / 1048576:.1f} MB; the limit is "
            f"{MAX_BUNDLE_BYTES // 1048576} MB.",
            {"file": "Remove large assets from the bundle (serve them from a CDN)."},
        )
    state = themes_of(store)
    try:
        name = read_bundle(data)[0]["name"]
    except ValueError:
        name = None
    replaces = any(t["name"] == name and t["is_private"] for t in state.themes.values())
    if not replaces and custom_theme_count(store) >= MAX_CUSTOM_THEMES:
        # The platform's answer, which its theme tool matches ("You have reached your upload
        # limit" in a 409's title) to offer deleting the oldest custom theme and upload again.
        raise conflict(
            f"You have reached your upload limit of {MAX_CUSTOM_THEMES} custom themes. "
            "Delete a theme before uploading a new one.",
            {"file": "Delete a custom theme before uploading a new one."},
        )
    job = Job(id=f"job{secrets.token_hex(14)}", action="upload", payload=data)
    state.jobs[job.id] = job
    return Reply(201, {"job_id": job.id})


def get_job(store: Store, call: Call) -> Reply:
    state = themes_of(store)
    job = state.jobs.get(call.params["job_id"])
    if job is None:
        raise not_found("Job not found.")
    if job.status in JOB_STEPS:
        job.steps += 1
        if job.steps < len(JOB_STEPS):
            job.status = JOB_STEPS[job.steps]
        else:
            _finish(store, state, job, call.base_url)
    return single(job.body())


def _finish(store: Store, state: ThemeState, job: Job, base_url: str) -> None:
    if job.action == "upload":
        try:
            theme_uuid = _install(store, state, job.payload)
        except ValueError as error:
            job.status = "FAILED"
            job.errors = [{"error": "invalid_theme", "message": f"Invalid theme bundle: {error}."}]
            return
        job.result = {"theme_id": theme_uuid}
    else:
        token = secrets.token_urlsafe(16)
        _DOWNLOADS[token] = (job.payload["bundle"], time.monotonic() + DOWNLOAD_SECONDS)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", job.payload["name"])
        job.result = {"download_url": f"{base_url}{DOWNLOAD_PREFIX}{token}/{name}.zip"}
    job.status = "COMPLETED"


def serve_download(path: str) -> bytes | None:
    """The bundle behind a download link, or None if it is unknown or expired."""
    token = path[len(DOWNLOAD_PREFIX) :].split("/", 1)[0]
    found = _DOWNLOADS.get(token)
    if found is None or found[1] < time.monotonic():
        _DOWNLOADS.pop(token, None)
        return None
    return found[0]


def _theme(store: Store, call: Call) -> Record:
    theme = themes_of(store).themes.get(call.params["theme_uuid"])
    if theme is None:
        raise not_found("Theme not found.")
    return theme


def get_theme(store: Store, call: Call) -> Reply:
    return single(dict(_theme(store, call)))


def delete_theme(store: Store, call: Call) -> Reply:
    theme = _theme(store, call)
    if theme["is_active"]:
        raise invalid(
            "The active theme cannot be deleted.", {"uuid": "Activate another theme first."}
        )
    state = themes_of(store)
    del state.themes[theme["uuid"]]
    state.versions.pop(theme["uuid"], None)
    state.last_activated.pop(theme["uuid"], None)
    for config_uuid in [
        c["uuid"] for c in state.configurations.values() if c["theme_uuid"] == theme["uuid"]
    ]:
        del state.configurations[config_uuid]
    return Reply(204)


def download_theme(store: Store, call: Call) -> Reply:
    theme = _theme(store, call)
    which = call.body.get("which") if isinstance(call.body, dict) else None
    if which not in WHICH:  # "missing or invalid ... will default to last_activated"
        which = "last_activated"
    state = themes_of(store)
    payload = {"bundle": _version(state, theme["uuid"], which).bundle, "name": theme["name"]}
    job = Job(id=f"job{secrets.token_hex(14)}", action="download", payload=payload)
    state.jobs[job.id] = job
    return Reply(200, {"job_id": job.id})


def activate_theme(store: Store, call: Call) -> Reply:
    body = call.body if isinstance(call.body, dict) else {}
    variation_id = body.get("variation_id")
    state = themes_of(store)
    target = next(
        (
            t
            for t in state.themes.values()
            if any(v["uuid"] == variation_id for v in t["variations"])
        ),
        None,
    )
    if target is None:
        raise invalid("Input is invalid", {"variation_id": "No theme has this variation."})
    which = body.get("which", "original")
    if which not in WHICH:
        raise invalid("Input is invalid", {"which": f"Use one of {', '.join(WHICH)}."})
    channel = call.query.get("channel_id", "1")
    if not channel.isdigit() or int(channel) not in store.channels:
        raise invalid("Input is invalid", {"channel_id": f"Channel {channel} does not exist."})
    _activate(state, int(channel), str(variation_id))
    return Reply(204)


def channel_active_theme(store: Store, call: Call) -> Reply:
    channel = call.params["channel_id"]
    if channel not in store.channels:
        raise not_found(f"Channel {channel} not found.")
    active = themes_of(store).active.get(channel)
    if active is None:
        raise not_found(f"No active theme found with channel_id: {channel}")
    return single(
        {
            "active_theme_uuid": active.theme_uuid,
            "active_theme_configuration_uuid": active.configuration_uuid,
            "active_theme_version_uuid": active.version_uuid,
            "saved_theme_configuration_uuid": active.configuration_uuid,
        }
    )


CONFIGURATIONS = Listing(
    {
        "uuid": ("str", lambda c: c["uuid"]),
        "variation_uuid": ("str", lambda c: c["variation_id"]),
        "channel_id": ("int", lambda c: 1),
    },
    "uuid:in variation_uuid channel_id:in",
)


def list_configurations(store: Store, call: Call) -> Reply:
    theme = _theme(store, call)
    spec = CONFIGURATIONS.spec
    if not any(key.partition(":")[0] in spec for key in call.query):
        raise ApiError(
            400,
            "At least one filter must be provided.",
            {"filter": "Use uuid:in, variation_uuid or channel_id:in."},
        )
    configurations = themes_of(store).configurations.values()
    items = [c for c in configurations if c["theme_uuid"] == theme["uuid"]]
    return page_of(listed(call, items), call.query)


TABLE: Table = [
    ("/v3/themes", {"GET": Endpoint(list_themes, listing=PAGED), "POST": upload_theme}),
    ("/v3/themes/actions/activate", {"POST": activate_theme}),
    ("/v3/themes/jobs/{job_id}", {"GET": get_job}),
    ("/v3/themes/{theme_uuid}", {"GET": get_theme, "DELETE": delete_theme}),
    ("/v3/themes/{theme_uuid}/actions/download", {"POST": download_theme}),
    (
        "/v3/themes/{theme_uuid}/configurations",
        {"GET": Endpoint(list_configurations, listing=CONFIGURATIONS)},
    ),
    ("/v3/channels/{channel_id}/active-theme", {"GET": channel_active_theme}),
]


def parse_multipart(raw: bytes, content_type: str) -> dict[str, Any] | None:
    """The fields of a ``multipart/form-data`` body (file parts as bytes), or None if it is not
    one. Enough for theme uploads; the app logs a summary instead of the bytes."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.startswith("multipart/form-data") or match is None:
        return None
    delimiter = b"--" + match.group(1).encode()
    fields: dict[str, Any] = {}
    for part in raw.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        head, _, data = part.partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]*)"', head)
        if name is None:
            continue
        fields[name.group(1).decode()] = data[:-2] if data.endswith(b"\r\n") else data
    return fields


def summary(fields: dict[str, Any]) -> dict[str, Any]:
    """A multipart body as the request log shows it: file parts by size."""
    return {
        name: {"bytes": len(value)} if isinstance(value, bytes) else value
        for name, value in fields.items()
    }


register(TABLE)
