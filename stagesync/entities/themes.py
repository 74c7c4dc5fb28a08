"""Custom themes (``/v3/themes``), keyed by name, stored unzipped so reviewers see per-file
changes.

The record holds the theme's ``name``, ``version`` and ``variations`` (from its ``config.json``),
``files_digest`` (a digest of the file tree), ``files`` (path -> content: text as a string,
anything else as ``{"base64": ...}``; the snapshot stores them as real files under
``themes/<name>/files/``) and ``configurations`` (each variation's live settings, which the
platform lets nobody write: read for review only).

Pull downloads each custom theme through the job flow (download -> poll the job -> fetch the
link), unless the previous snapshot already holds it unchanged (same theme, same ``updated_at``
and same file tree; see ``REUSE``). Push builds the bundle deterministically from the file tree
(``build_bundle``) and uploads it through the job flow, within the platform's limits (20 custom
themes, 50 MB per bundle).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import posixpath
import zipfile
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from typing import Any

import orjson

from stagesync.entities.base import EntityKind, Lookup, Raw
from stagesync.entities.common import unique_by_key
from stagesync.errors import StageSyncError
from stagesync.filetree import content_bytes, content_value
from stagesync.model import Action, EntityKey, Record, digest
from stagesync.ports import StoreApi

PATH = "/v3/themes"
JOBS = "/v3/themes/jobs"
MAX_CUSTOM_THEMES = 20
MAX_BUNDLE_BYTES = 50 * 1024 * 1024
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
POLL_DELAYS = (0.0, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0)
POLL_SECONDS = 600.0
FILES = "_files"
"""Set on each raw theme by ``fetch``: its file tree (path -> bytes)."""
CONFIGURATIONS = "_configurations"

Reusable = Mapping[str, tuple[str, str, Record]]
"""Theme name -> (uuid, updated_at, record) of a previous pull of the same store."""

REUSE: ContextVar[Reusable | None] = ContextVar("stagesync_theme_reuse", default=None)
"""Set by a pull from the previous snapshot, so unchanged bundles are not downloaded again."""


class ThemeError(StageSyncError):
    """A theme bundle that cannot be uploaded, or a theme job that failed."""


# --- file trees and bundles ---------------------------------------------------------------


def tree_digest(files: Mapping[str, bytes]) -> str:
    """The digest of a file tree: over each path and the sha256 of its bytes."""
    return digest({path: hashlib.sha256(files[path]).hexdigest() for path in sorted(files)})


def check_path(path: str) -> str:
    """A bundle member's path, refused if it could escape the theme folder."""
    clean = posixpath.normpath(path)
    if (
        not path
        or path.startswith("/")
        or "\\" in path
        or clean != path
        or clean.startswith("..")
        or "\x00" in path
    ):
        raise ThemeError(f"the theme bundle holds an unsafe file name {path!r}; refusing it.")
    return path


def unpack(bundle: bytes) -> dict[str, bytes]:
    """A theme bundle's files (directories dropped), by path."""
    try:
        with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
            return {
                check_path(info.filename): archive.read(info)
                for info in archive.infolist()
                if not info.is_dir()
            }
    except zipfile.BadZipFile:
        raise ThemeError("the store sent a theme download that is not a zip file.") from None


def build_bundle(files: Mapping[str, bytes]) -> bytes:
    """The zip of a file tree, the same bytes for the same tree: entries sorted by path, fixed
    timestamps and permissions, one compression level."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path in sorted(files):
            info = zipfile.ZipInfo(check_path(path), ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            archive.writestr(info, files[path])
    return buffer.getvalue()


def record_files(record: Record) -> dict[str, bytes]:
    try:
        return {path: content_bytes(v) for path, v in (record.get("files") or {}).items()}
    except ValueError as error:
        raise ThemeError(f'theme "{record.get("name")}": {error}.') from None


# --- the job flow -------------------------------------------------------------------------


async def wait_for_job(api: StoreApi, job_id: str, what: str) -> dict[str, Any]:
    """Poll ``GET /v3/themes/jobs/{id}`` until the job completes; its ``result``."""
    waited = 0.0
    attempt = 0
    while True:
        job = await api.get(f"{JOBS}/{job_id}")
        status = str(job.get("status"))
        if status == "COMPLETED":
            return dict(job.get("result") or {})
        if status == "FAILED":
            errors = "; ".join(
                str(e.get("message") or e.get("error")) for e in job.get("errors") or []
            )
            raise ThemeError(f"{what} failed on the store: {errors or 'no reason given'}.")
        delay = POLL_DELAYS[min(attempt, len(POLL_DELAYS) - 1)]
        if waited + delay > POLL_SECONDS:
            raise ThemeError(
                f"{what} did not finish within {POLL_SECONDS:.0f} s (job {job_id}, {status}). "
                "Try again later."
            )
        await asyncio.sleep(delay)
        waited += delay
        attempt += 1


async def download(api: StoreApi, theme: Raw) -> dict[str, bytes]:
    what = f"downloading theme {theme['name']}"
    job = await api.post(f"{PATH}/{theme['uuid']}/actions/download", {"which": "last_created"})
    result = await wait_for_job(api, str(job["job_id"]), what)
    return unpack(await api.download(str(result["download_url"])))


async def configurations(api: StoreApi, theme: Raw) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for variation in theme.get("variations") or []:
        found = await api.get_all(
            f"{PATH}/{theme['uuid']}/configurations", {"variation_uuid": variation["uuid"]}
        )
        out[str(variation["name"])] = found[0].get("settings") if found else None
    return out


# --- the kind -----------------------------------------------------------------------------


async def fetch(api: StoreApi) -> list[Raw]:
    themes = [t for t in await api.get(PATH) or [] if t.get("is_private")]
    reusable = REUSE.get() or {}

    async def complete(theme: Raw) -> Raw:
        previous = reusable.get(str(theme["name"]))
        if previous and previous[:2] == (theme.get("uuid"), theme.get("updated_at")):
            theme[FILES] = record_files(previous[2])
        else:
            theme[FILES] = await download(api, theme)
        theme[CONFIGURATIONS] = await configurations(api, theme)
        return theme

    return list(await asyncio.gather(*(complete(theme) for theme in themes)))


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key("themes", raws, lambda raw: str(raw["name"]))


def bundle_config(files: Mapping[str, bytes], name: str) -> dict[str, Any]:
    try:
        config = orjson.loads(files["config.json"])
    except (KeyError, orjson.JSONDecodeError):
        raise ThemeError(
            f'theme "{name}" has no readable config.json at the root of its file tree.'
        ) from None
    return config if isinstance(config, dict) else {}


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    files: dict[str, bytes] = raw[FILES]
    config = bundle_config(files, key)
    return {
        "name": raw["name"],
        "version": config.get("version"),
        "variations": [str(v["name"]) for v in raw.get("variations") or []],
        "files_digest": tree_digest(files),
        "files": {path: content_value(files[path]) for path in sorted(files)},
        "configurations": raw[CONFIGURATIONS],
    }


def references(key: str, record: Record) -> Iterable[EntityKey]:
    return ()


def warnings(key: str, after: Record, before: Record | None) -> list[str]:
    out = []
    if before is not None and before.get("configurations") != after.get("configurations"):
        out.append(
            f"theme {key}: its configurations (Page Builder settings) differ, and the platform "
            "has no API to write them, so pushing them is not possible. Make the same changes "
            "in Page Builder on the destination."
        )
    size = len(build_bundle(record_files(after)))
    if size > MAX_BUNDLE_BYTES:
        out.append(
            f"theme {key}: its bundle is {size / 1048576:.1f} MB, over the platform's "
            f"{MAX_BUNDLE_BYTES // 1048576} MB limit; pushing it will fail."
        )
    return out


async def upload(api: StoreApi, key: str, record: Record, *, new: bool) -> str:
    files = record_files(record)
    if tree_digest(files) != record.get("files_digest"):
        raise ThemeError(
            f'theme "{key}": its files do not match its files_digest; the plan or snapshot was '
            "edited. Pull and diff again."
        )
    bundle = build_bundle(files)
    if len(bundle) > MAX_BUNDLE_BYTES:
        raise ThemeError(
            f'theme "{key}" makes a {len(bundle) / 1048576:.1f} MB bundle; the platform accepts '
            f"at most {MAX_BUNDLE_BYTES // 1048576} MB. Remove large assets from the theme (serve "
            "them from a CDN), then pull, diff and push again."
        )
    if new:
        custom = [t for t in await api.get(PATH) or [] if t.get("is_private")]
        if len(custom) >= MAX_CUSTOM_THEMES:
            raise ThemeError(
                f'cannot upload theme "{key}": the destination already has {len(custom)} custom '
                f"themes, the platform's limit is {MAX_CUSTOM_THEMES}. Delete a custom theme "
                "there (or push with --prune to remove themes the source no longer has), then "
                "push again."
            )
    job = await api.upload(PATH, "file", f"{key}.zip", bundle, entity=f"theme {key}")
    result = await wait_for_job(api, str(job["job_id"]), f'uploading theme "{key}"')
    return str(result["theme_id"])


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> str:
    return await upload(api, key, record, new=True)


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    if tree_digest(live.get(FILES) or {}) != record.get("files_digest"):
        await upload(api, key, record, new=False)


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await api.delete(f"{PATH}/{live['uuid']}", entity=f"theme {key}")


async def activate(api: StoreApi, name: str, variation: str | None, channel: int = 1) -> str:
    """Make theme ``name`` (its ``variation``, default its first) the active theme; returns the
    variation activated."""
    themes = [t for t in await api.get(PATH) or [] if t.get("name") == name]
    if not themes:
        raise ThemeError(f'cannot activate theme "{name}": the destination has no such theme.')
    variations = themes[0].get("variations") or []
    chosen = next((v for v in variations if variation in (None, v.get("name"))), None)
    if chosen is None:
        names = ", ".join(str(v.get("name")) for v in variations)
        raise ThemeError(
            f'cannot activate theme "{name}": it has no variation "{variation}" (it has {names}).'
        )
    await api.post(
        f"{PATH}/actions/activate?channel_id={channel}",
        {"variation_id": chosen["uuid"], "which": "original"},
        entity=f"theme {name}",
    )
    return str(chosen["name"])


def estimate(action: Action, record: Record | None) -> int:
    """Upload, about three polls, and a listing for the limit check; delete: one request."""
    return 1 if action is Action.DELETE else 5


KIND = EntityKind(
    name="themes",
    singular="theme",
    display_name="Themes",
    fetch=fetch,
    identify=identify,
    live_id=lambda raw: str(raw["uuid"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    estimate_requests=estimate,
    warnings=warnings,
)
