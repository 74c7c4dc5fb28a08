"""Script Manager scripts (``/v3/content/scripts``), keyed by name: a script tag (``html``) or a
script loaded from a URL (``src``), where and on which pages it loads, its consent category, and
its channel by key.

The API lists only the scripts the API account that reads them created (scripts added in the
control panel or by apps are not listed, so not pulled or pushed). ``api_client_id`` names that
account on each store and is left out of the record."""

from __future__ import annotations

from collections.abc import Iterable

from stagesync.entities import channels
from stagesync.entities.base import EntityKind, Lookup, Raw
from stagesync.entities.common import unique_by_key, without
from stagesync.model import EntityKey, Record
from stagesync.ports import StoreApi

PATH = "/v3/content/scripts"
READ_ONLY = ("uuid", "date_created", "date_modified", "api_client_id", "channel_id")


async def fetch(api: StoreApi) -> list[Raw]:
    return await api.get_all(PATH)


def identify(raws: list[Raw]) -> dict[str, Raw]:
    return unique_by_key("scripts", raws, lambda raw: str(raw["name"]))


def normalise(key: str, raw: Raw, lookup: Lookup) -> Record:
    record = without(raw, READ_ONLY)
    record["channel"] = channels.key_of(lookup, raw.get("channel_id"))
    return record


def references(key: str, record: Record) -> Iterable[EntityKey]:
    return ()  # its channel is named in ``channel`` (``base.CHANNEL_FIELDS``)


async def payload(api: StoreApi, record: Record, lookup: Lookup) -> Record:
    body = without(record, ("channel",))
    body["channel_id"] = await channels.id_of(api, lookup, record.get("channel"))
    return body


async def create(api: StoreApi, key: str, record: Record, lookup: Lookup) -> str:
    created = await api.post(PATH, await payload(api, record, lookup), entity=f"script {key}")
    return str(created["uuid"])


async def update(api: StoreApi, key: str, record: Record, live: Raw, lookup: Lookup) -> None:
    body = await payload(api, record, lookup)
    await api.put(f"{PATH}/{live['uuid']}", body, entity=f"script {key}")


async def delete(api: StoreApi, key: str, live: Raw, lookup: Lookup) -> None:
    await api.delete(f"{PATH}/{live['uuid']}", entity=f"script {key}")


def warnings(key: str, after: Record, before: Record | None) -> list[str]:
    """``auto_uninstall`` removes a script when the API account that wrote it goes: on the
    destination, that is the account push uses (said when it is set, not again after)."""
    if not after.get("auto_uninstall") or (before or {}).get("auto_uninstall"):
        return []
    return [
        f"script {key} has auto_uninstall set: the platform deletes it when the API account "
        "push uses is deleted or its token revoked."
    ]


KIND = EntityKind(
    name="scripts",
    singular="script",
    display_name="Scripts",
    fetch=fetch,
    identify=identify,
    live_id=lambda raw: str(raw["uuid"]),
    normalise=normalise,
    references=references,
    create=create,
    update=update,
    delete=delete,
    warnings=warnings,
)
