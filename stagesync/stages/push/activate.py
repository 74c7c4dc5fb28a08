"""activate: with ``--activate``, make a theme active once every operation is done."""

from __future__ import annotations

from stagesync.entities import themes
from stagesync.errors import StageSyncError
from stagesync.stages import need
from stagesync.stages.push.run import PushRun


async def activate(run: PushRun) -> StageSyncError | None:
    """Reads ``run.applied``; activates the theme ``--activate`` names when every operation is
    done; sets ``run.activated``. Never refuses."""
    target = need(run.target)
    if not target.theme or not all(r.status == "done" for r in need(run.applied).results):
        return None
    chosen = await themes.activate(need(run.session).api, target.theme, target.variation)
    run.activated = f"{target.theme} ({chosen})"
    return None
