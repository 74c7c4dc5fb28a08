"""The push lock, kept on the destination store itself so that it holds across machines.

A push claims the store with a metafield on the default storefront channel (channel 1): namespace
``stagesync``, key ``push-lock.<claim id>``, ``permission_set`` ``read`` (so a push made with
another API account sees it too), and as value a JSON object naming the holder: ``owner``
(``$STAGESYNC_LOCK_OWNER``, else the user name), ``host``, ``pid``, ``plan`` (the plan file),
``plan_digest``, ``claimed_at`` and ``expires_at``.

Acquiring (``acquire``) takes three requests and releasing one (``LOCK_REQUESTS`` in all; one
more when the answer to the claim is lost, to look the claim up by its key):

1. read the claims; a live claim of another push refuses (``PushLocked`` names its holder). An
   expired claim, or one whose process is gone from this host, is deleted; ``force`` deletes
   every claim (``--force-unlock``).
2. write this push's claim;
3. read the claims again: the oldest live claim (the store's ``date_created``, then its ``id``)
   wins. A push whose claim is not the oldest deletes it and refuses, naming the winner.

Two pushes racing can therefore not both win: each sees the other's claim on its second read,
and both agree which is older. What remains open: a claim that expires while its push still runs
(a push longer than the expiry), and a store whose list reads lag behind its writes; see
docs/push.md.
"""

from __future__ import annotations

import getpass
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from stagesync.errors import NotFoundError, StageSyncError, TransportError
from stagesync.ports import StoreApi

CHANNEL = 1
"""The default storefront channel: every store has it, and it cannot be deleted."""
NAMESPACE = "stagesync"
KEY_PREFIX = "push-lock."
CLAIMS = f"/v3/channels/{CHANNEL}/metafields"
LOCK_REQUESTS = 4
"""Read the claims, write one, read them again, delete it at the end."""
MIN_EXPIRY = timedelta(hours=1)
PACE = 150 / 30
"""Requests per second the expiry assumes (the Standard/Plus quota)."""


log = logging.getLogger(__name__)


class PushLocked(StageSyncError):
    """Another push to the same destination holds the lock."""


@dataclass(frozen=True)
class Claim:
    id: int
    key: str
    created: str
    holder: dict[str, Any]

    @property
    def order(self) -> tuple[str, int]:
        return self.created, self.id

    def expired(self, at: datetime) -> bool:
        expires = _parse(self.holder.get("expires_at"))
        return expires is not None and expires <= at

    def gone_from_this_host(self) -> bool:
        """The claim names a process of this host that is not running (it was killed)."""
        pid = self.holder.get("pid")
        return self.holder.get("host") == socket.gethostname() and (
            isinstance(pid, int) and not _alive(pid)
        )

    def describe(self) -> str:
        h = self.holder
        return (
            f"{h.get('owner', '?')} (pid {h.get('pid', '?')} on host {h.get('host', '?')}), "
            f"claimed {h.get('claimed_at', '?')}, expires {h.get('expires_at', '?')}, pushing "
            f"{h.get('plan', '?')} (plan digest {h.get('plan_digest', '?')})"
        )


class StoreLock:
    """The push lock of one store, held from ``acquire`` until ``release``."""

    def __init__(
        self,
        api: StoreApi,
        *,
        store: str,
        plan: Path,
        plan_digest: str,
        estimated_requests: int = 0,
        force: bool = False,
    ) -> None:
        self.api = api
        self.store = store
        self.force = force
        claimed = datetime.now(UTC).replace(microsecond=0)
        expiry = max(MIN_EXPIRY, timedelta(seconds=2 * estimated_requests / PACE))
        self.holder = {
            "owner": os.environ.get("STAGESYNC_LOCK_OWNER") or _user(),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "plan": str(plan),
            "plan_digest": plan_digest,
            "claimed_at": _stamp(claimed),
            "expires_at": _stamp(claimed + expiry),
        }
        self.key = KEY_PREFIX + uuid.uuid4().hex[:16]
        self.mine: int | None = None

    async def acquire(self) -> None:
        """Claim the store, or raise ``PushLocked`` naming the push that holds it."""
        others = await self._live_claims(force=self.force)
        if others:
            raise PushLocked(self._refusal(others[0]))
        claim = {
            "permission_set": "read",
            "namespace": NAMESPACE,
            "key": self.key,
            "value": orjson.dumps(self.holder).decode(),
            "description": "stagesync push lock: deleted when the push ends",
        }
        try:
            self.mine = int((await self.api.post(CLAIMS, claim, entity="the push lock"))["id"])
        except TransportError:
            # The answer was lost: the claim may be there. Its key is this push's own.
            self.mine = await self._find(self.key)
            if self.mine is None:
                self.mine = int((await self.api.post(CLAIMS, claim, entity="the push lock"))["id"])
        claims = await self._live_claims(force=False)
        if not claims or claims[0].id != self.mine:
            winner = next((c for c in claims if c.id != self.mine), None)
            await self.release()
            raise PushLocked(self._refusal(winner))

    async def release(self) -> None:
        """Delete this push's claim (once; a claim already gone is fine). When the store cannot
        be reached, the claim is left to expire: the push's own outcome matters more."""
        mine, self.mine = self.mine, None
        if mine is not None:
            try:
                await self._delete(mine)
            except TransportError:
                log.warning(
                    "could not delete the push lock (metafield %s on channel %s); it expires at "
                    "%s, or push with --force-unlock",
                    mine,
                    CHANNEL,
                    self.holder["expires_at"],
                )

    async def _live_claims(self, *, force: bool) -> list[Claim]:
        """The claims on the store, oldest first, after deleting the stale ones (expired, of a
        killed process of this host, or all of them with ``force``) other than this push's."""
        listed = await self.api.get_all(CLAIMS, {"namespace": NAMESPACE})
        at = datetime.now(UTC)
        live = []
        for claim in sorted(_claims(listed), key=lambda c: c.order):
            stale = force or claim.expired(at) or claim.gone_from_this_host()
            if stale and claim.id != self.mine:
                await self._delete(claim.id)
            else:
                live.append(claim)
        return live

    async def _find(self, key: str) -> int | None:
        listed = await self.api.get_all(CLAIMS, {"namespace": NAMESPACE, "key": key})
        return next((c.id for c in _claims(listed) if c.key == key), None)

    async def _delete(self, claim_id: int) -> None:
        try:
            await self.api.delete(f"{CLAIMS}/{claim_id}", entity="the push lock")
        except NotFoundError:
            pass  # already released or broken by another push

    def _refusal(self, holder: Claim | None) -> str:
        who = holder.describe() if holder is not None else "another push"
        return (
            f"another push to {self.store} holds its lock: {who}; nothing was written. Wait for "
            "it to finish; if it is no longer running, push again with --force-unlock (the lock "
            f"is the metafield {NAMESPACE}.{holder.key if holder else KEY_PREFIX + '*'} on "
            f"channel {CHANNEL})."
        )


def _claims(listed: list[Any]) -> list[Claim]:
    claims = []
    for item in listed:
        if not isinstance(item, dict) or not str(item.get("key", "")).startswith(KEY_PREFIX):
            continue
        try:
            holder = orjson.loads(item.get("value") or "{}")
        except orjson.JSONDecodeError:
            holder = {}
        claims.append(
            Claim(
                int(item["id"]),
                str(item["key"]),
                str(item.get("date_created", "")),
                holder if isinstance(holder, dict) else {},
            )
        )
    return claims


def _user() -> str:
    """The user name, or ``unknown`` where there is none (a container without one)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _parse(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
