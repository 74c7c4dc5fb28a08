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

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from stagesync.config import Config, Environment, config_path, load_config
from stagesync.errors import ConfigError, SnapshotError
from stagesync.model import Finding, Plan, Snapshot, digest
from stagesync.planfile import read_plan
from stagesync.policy.engine import RuleInForce, evaluate, has_errors, needed_kinds, rules_in_force
from stagesync.policy.rules import RULES, Rule
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


@dataclass(frozen=True)
class DestinationPolicy:
    """The policy that applies to a plan's destination: its environment, role and layers."""

    environment: str | None
    role: str
    layers: tuple[PolicySettings, ...]

    @property
    def origin(self) -> tuple[str, ...]:
        """The files the layers came from."""
        return tuple(dict.fromkeys(p.origin for p in self.layers if p.origin))

    def evaluate(
        self,
        plan: Plan,
        destination: Snapshot,
        registry: Mapping[str, EntityKind] | None = None,
        *,
        activate: str | None = None,
        rules: Iterable[Rule] = RULES,
    ) -> tuple[Finding, ...]:
        if registry is None:
            from stagesync.entities import REGISTRY

            registry = REGISTRY
        return evaluate(
            plan,
            destination,
            registry,
            role=self.role,
            layers=self.layers,
            activate=activate,
            rules=rules,
        )


def destination_policy(
    config: Config | None,
    plan: Plan,
    *,
    policy_file: Path | None = None,
    env: Environment | None = None,
) -> DestinationPolicy:
    """The policy for ``plan``'s destination (``env`` when given, as push binds it): the role of
    its environment in ``config`` (``production`` when none is configured), and ``config``'s
    ``[policy]`` and ``[environments.NAME.policy]``, or ``policy_file``'s tables instead."""
    env = env or _environment(config, plan)
    name = env.name if env is not None else plan.destination.environment
    role = env.role if env is not None else "production"
    if policy_file is not None:
        layers = load_policy_file(policy_file, name)
    else:
        found = (config.policy if config else None, env.policy if env else None)
        layers = [p for p in found if p is not None]
    return DestinationPolicy(name, role, tuple(layers))


def check_plan(
    plan_path: Path,
    *,
    policy_file: Path | None = None,
    destination: Path | None = None,
    config_path: Path | None = None,
) -> CheckResult:
    """Evaluate the policy over the plan file ``plan_path``."""
    plan = read_plan(plan_path)
    policy = destination_policy(optional_config(config_path), plan, policy_file=policy_file)
    folder = _destination_folder(plan, plan_path, destination)
    snapshot = read_snapshot(folder, needed_kinds(plan))
    _check_made_from(plan, plan_path, snapshot, folder)
    return CheckResult(
        plan_path=plan_path,
        plan=plan,
        destination=folder,
        environment=policy.environment,
        role=policy.role,
        rules=rules_in_force(policy.role, policy.layers),
        findings=policy.evaluate(plan, snapshot),
        policy=policy.origin,
    )


def plan_findings(
    plan: Plan, destination: Snapshot, folder: Path, config_path: Path | None
) -> tuple[Finding, ...]:
    """What ``diff`` records in the plan it made against ``destination`` (read from ``folder``):
    the findings of the policy in ``config_path`` (or ./stagesync.toml, if any). Kinds the rules
    need that ``destination`` lacks (those that may reference a deleted entity) are read too."""
    policy = destination_policy(optional_config(config_path), plan)
    missing = needed_kinds(plan) - set(destination.kinds)
    if missing:
        extra = read_snapshot(folder, missing)
        destination = replace(destination, kinds={**destination.kinds, **extra.kinds})
    return policy.evaluate(plan, destination)


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


def optional_config(path: Path | None) -> Config | None:
    """The configuration found as every command finds it, or None when there is no such file
    (``diff`` and ``check`` work on files and need none: the role is then ``production``)."""
    chosen, _ = config_path(path)
    return load_config(chosen) if chosen.is_file() else None


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
