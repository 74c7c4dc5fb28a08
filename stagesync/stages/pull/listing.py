"""list: which kinds a pull reads, from where, and what an earlier snapshot already holds."""

from __future__ import annotations

from pathlib import Path

from stagesync import b2b, order_cache, product_cache, theme_cache
from stagesync.config import Environment, load_config
from stagesync.entities import REGISTRY, resolve_kinds
from stagesync.entities.products import Reusable
from stagesync.errors import StageSyncError
from stagesync.stages.pull.run import Listing, PullRun


async def list_kinds(run: PullRun) -> StageSyncError | None:
    """Reads the configuration, the options and the snapshot already at the output folder; sets
    ``run.listing``. Without ``--kinds``, B2B kinds are pulled when the environment has B2B
    credentials. What the earlier snapshot read of the store's orders is reused unless ``--full``
    or ``--redact`` (which writes no cache); its products too, where every assumption that rests
    on is promised or found holding by the last probe of the store (else a note says which).
    Refuses an unknown environment or kind."""
    try:
        config = load_config(run.config_path)
        env = config.environment(run.environment)
        kinds = resolve_kinds(run.options.kinds) if run.options.kinds else default_kinds(env)
    except StageSyncError as refused:
        return refused
    directory = run.options.out or Path("snapshots") / run.environment
    stock = env.stock if run.options.stock is None else run.options.stock
    reusable = theme_cache.previous(directory, env.store_hash) if "themes" in kinds else {}
    incremental = "orders" in kinds and not (run.options.full or run.options.redact)
    earlier = order_cache.previous(directory, env.store_hash) if incremental else None
    products: Reusable | None = None
    notes: tuple[str, ...] = ()
    if "products" in kinds and not (run.options.full or run.options.redact):
        config_dir = config.path.parent if config.path is not None else None
        missing = product_cache.unsupported(
            product_cache.rests_on(stock), config_dir, run.environment, env.store_hash
        )
        fresh = product_cache.fresh_groups(missing)
        if fresh is not None:
            products = product_cache.previous(directory, env.store_hash, fresh)
        elif product_cache.earlier(directory, env.store_hash):
            notes = (_note(run.environment, missing, "every product is read in full"),)
        if products is not None and missing:
            notes = (_note(run.environment, missing, _parts(fresh or frozenset())),)
    run.listing = Listing(env, kinds, directory, stock, reusable, earlier, products, notes)
    return None


def _parts(fresh: frozenset[str]) -> str:
    from stagesync.entities.products import FRESH_PARTS

    parts = [part.replace("_", " ") for group in sorted(fresh) for part in FRESH_PARTS[group]]
    return "these parts of every product are read again: " + ", ".join(parts)


def _note(environment: str, missing: list[str], what: str) -> str:
    return (
        f"Incremental pull of products: {what}. Reusing them relies on {', '.join(missing)}, "
        "which the platform's reference does not promise and no probe of this store found "
        f"holding. `stagesync probe {environment} --write` on a sandbox store can check them."
    )


def default_kinds(env: Environment) -> list[str]:
    """Every kind; B2B kinds only when the environment has B2B credentials configured."""
    return [kind for kind in REGISTRY if env.b2b is not None or not b2b.is_b2b(kind)]
