"""``stagesync check plan.json``: read the plan, its destination snapshot and the policy, then
evaluate.

The destination snapshot is the folder ``--destination`` names, else ``snapshots/<destination
environment>`` (where ``pull`` puts it); it must be the one the plan was made from: every planned
entity must be there exactly as the plan's preconditions say. The policy is ``--policy FILE``
when given, else ``stagesync.toml``'s ``[policy]`` and the destination's
``[environments.NAME.policy]``; the destination's ``role`` comes from ``stagesync.toml`` (no
configuration file: ``production``, the strictest).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from stagesync.config import CONFIG_ENV_VAR, Config, Environment, config_path, load_config
from stagesync.errors import ConfigError, SnapshotError
from stagesync.model import Finding, Plan, Snapshot, digest
from stagesync.planfile import read_plan
from stagesync.policy.engine import (
    RuleInForce,
    evaluate,
    has_errors,
    needed_kinds,
    rules_in_force,
)
from stagesync.policy.settings import PolicySettings, parse_policy
from stagesync.snapshot import read_snapshot

if TYPE_CHECKING:
    from stagesync.entities.base import EntityKind


@dataclass(frozen=True)
class CheckResult:
    plan_path: Path
    plan: Plan
    destination: Path
    """The destination snapshot the rules read."""
    environment: str | None
    role: str
    rules: tuple[RuleInForce, ...]
    findings: tuple[Finding, ...]
    policy: tuple[str, ...]
    """Where the settings came from (files), empty for the defaults."""

    @property
    def failed(self) -> bool:
        """Some finding is at ``error`` level (``check`` exits 5)."""
        return has_errors(self.findings)


def check_plan(
    plan_path: Path,
    *,
    policy_file: Path | None = None,
    destination: Path | None = None,
    config_path: Path | None = None,
    registry: Mapping[str, EntityKind] | None = None,
) -> CheckResult:
    """Evaluate the policy over the plan file ``plan_path``."""
    if registry is None:
        from stagesync.entities import REGISTRY

        registry = REGISTRY
    plan = read_plan(plan_path)
    config = _optional_config(config_path)
    env = _environment(config, plan)
    name = env.name if env is not None else plan.destination.environment
    role = env.role if env is not None else "production"
    if policy_file is not None:
        layers = load_policy_file(policy_file, name)
    else:
        found = (config.policy if config else None, env.policy if env else None)
        layers = [p for p in found if p is not None]
    folder = _destination_folder(plan, plan_path, destination)
    snapshot = read_snapshot(folder, needed_kinds(plan))
    _check_made_from(plan, plan_path, snapshot, folder)
    findings = evaluate(plan, snapshot, registry, role=role, layers=layers)
    return CheckResult(
        plan_path=plan_path,
        plan=plan,
        destination=folder,
        environment=name,
        role=role,
        rules=rules_in_force(role, layers),
        findings=findings,
        policy=tuple(dict.fromkeys(p.origin for p in layers if p.origin)),
    )


def load_policy_file(path: Path, environment: str | None) -> list[PolicySettings]:
    """The layers of a ``--policy`` file: its ``[policy]``, then ``[environments.NAME.policy]``
    for ``environment``. The file holds nothing else."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError:
        raise ConfigError(f"No policy file at {where}; check --policy.", path=where) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}.", path=where) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read policy file {where}: {exc}.", path=where) from None
    unknown = sorted(set(data) - {"policy", "environments"})
    if unknown:
        raise ConfigError(
            f"{where}: a policy file holds [policy] and [environments.NAME.policy] tables only, "
            f"not {', '.join(unknown)}.",
            path=where,
        )
    layers = [parse_policy(data.get("policy", {}), at=("policy",), where=where, text=text)]
    for env_name, table in (data.get("environments") or {}).items():
        extra = sorted(set(table) - {"policy"}) if isinstance(table, dict) else ["(not a table)"]
        if extra:
            raise ConfigError(
                f"{where}: [environments.{env_name}] in a policy file holds only a policy "
                f"table, not {', '.join(extra)}; environments are configured in stagesync.toml.",
                path=where,
            )
        at = ("environments", env_name, "policy")
        settings = parse_policy(table.get("policy", {}), at=at, where=where, text=text)
        if env_name == environment:
            layers.append(settings)
    return layers


def _optional_config(path: Path | None) -> Config | None:
    """The configuration, or None when none was asked for and there is no ./stagesync.toml."""
    chosen, _ = config_path(path)
    if path is None and not os.environ.get(CONFIG_ENV_VAR) and not chosen.exists():
        return None
    return load_config(path)


def _environment(config: Config | None, plan: Plan) -> Environment | None:
    if config is None:
        return None
    name = plan.destination.environment
    if name is not None and name in config.environments:
        return config.environments[name]
    if plan.destination.store_hash is not None:
        return config.find_environment_by_store(plan.destination.store_hash)
    return None


def _destination_folder(plan: Plan, plan_path: Path, given: Path | None) -> Path:
    if given is not None:
        return given
    name = plan.destination.environment
    if name is None:
        raise SnapshotError(
            f"{plan_path} does not name its destination environment, so stagesync cannot "
            "find its destination snapshot: pass it with --destination DIR.",
            path=str(plan_path),
        )
    return Path("snapshots") / name


def _check_made_from(plan: Plan, plan_path: Path, snapshot: Snapshot, folder: Path) -> None:
    """Refuse a destination snapshot that is not the one the plan was made from: every planned
    entity must be as the plan's precondition says (absent for a create)."""
    differ = []
    for op in plan.operations:
        if op.is_link:
            continue
        record = snapshot.get(op.key)
        found = None if record is None else digest(record)
        if found != op.precondition or op.kind not in snapshot.kinds:
            differ.append(f"{op.kind} {op.key.key}")
    if differ:
        shown = ", ".join(differ[:3]) + (f" and {len(differ) - 3} more" if len(differ) > 3 else "")
        raise SnapshotError(
            f"{folder} is not the destination snapshot {plan_path} was made from: "
            f"{len(differ)} planned entit{'y' if len(differ) == 1 else 'ies'} differ ({shown}). "
            "Pass the snapshot the plan was made from with --destination, or pull again and "
            "re-run stagesync diff.",
            path=str(folder),
        )
