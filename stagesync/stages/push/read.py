"""read: open the destination, confirm it is the configured store, read what it holds of the
plan."""

from __future__ import annotations

from stagesync.errors import StageSyncError
from stagesync.ports import tallying
from stagesync.push import read_destination
from stagesync.stages import need
from stagesync.stages.push.run import PushRun, Session
from stagesync.stages.store import open_store, store_name


async def read(run: PushRun) -> StageSyncError | None:
    """Reads the destination store (its B2B API too when the plan has B2B kinds) for the plan's
    kinds, through ``run.connection`` when ``lock`` opened it; sets ``run.session`` (held open
    until the run ends) and ``run.live``. Refuses when the store answers as another store than
    the configuration names."""
    target = need(run.target)
    env = target.env
    tally = run.tally or run.held.enter_context(tallying())  # from the store check on
    opened = run.connection or await open_store(run, env, target.kinds)
    if isinstance(opened, StageSyncError):
        return opened
    api, b2b_api = opened
    run.session = Session(api, b2b_api, tally)
    run.live = await read_destination(
        api,
        target.plan,
        store=store_name(env),
        progress=run.progress,
        channel_names=env.channels,
        settings=target.settings,
        whole_creates=run.previous is not None,
    )
    return None
