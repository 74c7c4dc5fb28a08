"""push is a pipeline of named stages: every way it refuses is a ``Refusal`` naming the stage
that refused, with nothing written to the store, and ``api.push`` (so the CLI) raises the same
error it always did."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson
import pytest

from stagesync import api
from stagesync.config import Environment
from stagesync.emulator import Emulator
from stagesync.errors import ConfigError, PlanError, PlanRefused, PolicyRefused, StageSyncError
from stagesync.journal import journal_path
from stagesync.model import digest
from stagesync.planfile import plan_digest
from stagesync.ports import StoreApi
from stagesync.stages import Refusal
from stagesync.stages.push.run import PushOptions, PushRun
from stagesync.storelock import PushLocked
from tests.conftest import (
    Connector,
    hold_lock,
    is_lock_request,
    is_write,
    lock_claims,
    on_store,
)


@dataclass
class Case:
    """A refusal: what to do to the plan file and the world, the options, who refuses, how."""

    stage: str
    error: type[StageSyncError]
    message: str
    options: PushOptions = PushOptions()
    prepare: Callable[[Path, Emulator], None] = lambda plan_path, emulator: None
    connector: Callable[[Connector], Connector] = lambda connector: connector


async def brands(client: StoreApi) -> None:
    await client.post("/v3/catalog/brands", {"name": "Acme"})
    await client.post("/v3/catalog/brands", {"name": "Zed"})


def make_plan(tmp: Path, config: Path, connector: Connector) -> Path:
    api.pull("alpha", config_path=config, out=tmp / "alpha", connector=connector)
    api.pull("beta", config_path=config, out=tmp / "beta", connector=connector)
    path = tmp / "plan.json"
    api.save_plan(api.diff(tmp / "alpha", tmp / "beta", config_path=config), path)
    return path


def edit(change: Callable[[dict[str, Any]], None]) -> Callable[[Path, Emulator], None]:
    """Change the plan file, and sign it again (a plan made that way, not an edited one)."""

    def prepare(plan_path: Path, _: Emulator) -> None:
        document = json.loads(plan_path.read_text())
        change(document)
        del document["digest"]
        document["digest"] = digest(document)
        plan_path.write_text(json.dumps(document))

    return prepare


def tamper(plan_path: Path, _: Emulator) -> None:
    document = json.loads(plan_path.read_text())
    document["operations"][0]["after"]["name"] = "Evil"
    plan_path.write_text(json.dumps(document))


def unnamed_destination(document: dict[str, Any]) -> None:
    document["destination"]["environment"] = None


def no_store_hash(document: dict[str, Any]) -> None:
    document["destination"]["store_hash"] = None


def b2b_operation(document: dict[str, Any]) -> None:
    document["operations"][0]["kind"] = "b2b_companies"


def pseudonymous_customer(document: dict[str, Any]) -> None:
    """A plan edited to create a pseudonymised customer in beta, whose role is production (the
    default): the redaction guard of ``diff`` would have left it out."""
    email = "customer-0123456789abcdef@example.com"
    after = {"email": email, "first_name": "Name 01234567", "last_name": "Name 89abcdef"}
    document["kinds"].append("customers")
    document["operations"].append(
        {
            "id": f"customers:{email}",
            "action": "create",
            "kind": "customers",
            "key": email,
            "after": after,
            "fields": [],
            "depends_on": [],
            "reason": "selected",
            "note": None,
            "precondition": None,
        }
    )


def unresolved_conflict(document: dict[str, Any]) -> None:
    """A three-way plan whose brand Zed changed on both sides since the base."""
    document["base"] = dict(document["destination"])
    zed = {"path": "page_title", "base": "Zed", "source": "Zed A", "destination": "Zed B"}
    conflict = {"kind": "brands", "key": "Zed", "fields": [zed], "resolution": None}
    document["merge"] = {"conflicts": [conflict], "kept": [], "resolutions": []}


def lock_held(_: Path, emulator: Emulator) -> None:
    # The parent process (pytest's runner) is alive on this host: the claim is not stale.
    hold_lock(emulator, "beta", owner="ci", pid=os.getppid(), host=os.uname().nodename)


def journal_of(plan_digest: str, *, finished: bool) -> Callable[[Path, Emulator], None]:
    def prepare(plan_path: Path, _: Emulator) -> None:
        lines = [{"event": "begin", "plan_digest": plan_digest}]
        lines += [{"event": "done", "op": "brands:Acme", "created": {}}]
        lines += [{"event": "end"}] if finished else []
        journal_path(plan_path).write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))

    return prepare


def pushed_before(plan_path: Path, emulator: Emulator) -> None:
    journal_of(plan_digest(api.load_plan(plan_path)), finished=True)(plan_path, emulator)


def drifted(_: Path, emulator: Emulator) -> None:
    async def create(client: StoreApi) -> None:
        await client.post("/v3/catalog/brands", {"name": "Zed"})

    on_store(emulator, "beta", create)


def answers_as_alpha(connector: Connector) -> Connector:
    """A connector that reaches store alpha whatever the environment says (a wrong token)."""

    def connect(env: Environment) -> Any:
        return connector(replace(env, store_hash="alpha", access_token_env="STAGESYNC_ALPHA_TOKEN"))

    return connect


CASES = {
    "bad order status": Case(
        "bind", StageSyncError, "--order-status must be one of", PushOptions(order_status="x")
    ),
    "edited plan (bad digest)": Case("bind", PlanError, "edited after it was made", prepare=tamper),
    "no destination environment": Case(
        "bind", PlanRefused, "does not name its destination", prepare=edit(unnamed_destination)
    ),
    "unknown environment": Case("bind", ConfigError, "nope", PushOptions(to="nope")),
    "missing store hash": Case(
        "bind", PlanRefused, "does not record its destination store", prepare=edit(no_store_hash)
    ),
    "wrong store": Case("bind", PlanRefused, "was made for store beta", PushOptions(to="alpha")),
    "concurrency below 1": Case(
        "bind", StageSyncError, "--concurrency must be at least 1", PushOptions(concurrency=0)
    ),
    "B2B without a connection": Case(
        "bind", StageSyncError, "need B2B Edition", prepare=edit(b2b_operation)
    ),
    "activate without a theme": Case(
        "bind", StageSyncError, "--activate needs a theme name", PushOptions(activate=":light")
    ),
    "lock held": Case(
        "lock",
        PushLocked,
        "another push to beta (store beta) holds its lock: ci",
        prepare=lock_held,
    ),
    "journal of another, unfinished plan": Case(
        "lock",
        PlanRefused,
        "belongs to an unfinished push of another plan",
        prepare=journal_of("sha256:other", finished=False),
    ),
    "pushed before, no --resume": Case(
        "lock", PlanRefused, "was pushed before", prepare=pushed_before
    ),
    "the store answers as another": Case(
        "lock", StageSyncError, "answered as store alpha", connector=answers_as_alpha
    ),
    "the store answers as another, dry run": Case(
        "read",
        StageSyncError,
        "answered as store alpha",
        PushOptions(dry_run=True),
        connector=answers_as_alpha,
    ),
    "pseudonymised people into production": Case(
        "check",
        PlanRefused,
        "writes 1 pseudonymised record(s) of people",
        prepare=edit(pseudonymous_customer),
    ),
    "unresolved conflict": Case(
        "check", PlanRefused, "1 unresolved conflict", prepare=edit(unresolved_conflict)
    ),
    "drift": Case("check", PlanRefused, "changed after the plan was made", prepare=drifted),
    "drift, dry run": Case(
        "check", PlanRefused, "changed after the plan was made", PushOptions(dry_run=True), drifted
    ),
    "override of an unknown rule": Case(
        "bind",
        StageSyncError,
        "--override price-drop: no policy rule has that id",
        PushOptions(overrides=(("price-drop", "x"),)),
    ),
    "an error-level policy finding": Case(
        "check", PolicyRefused, "theme-activation  themes Shop", PushOptions(activate="Shop")
    ),
    "an error-level policy finding, dry run": Case(
        "check",
        PolicyRefused,
        "the policy stops this push",
        PushOptions(activate="Shop", dry_run=True),
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_every_refusal_names_its_stage_and_writes_nothing(
    case: Case, emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    on_store(emulator, "alpha", brands)
    plan_path = make_plan(tmp_path, config_path, connector)
    case.prepare(plan_path, emulator)
    journal = journal_path(plan_path)
    journal_before = journal.read_bytes() if journal.exists() else None
    emulator.clear_requests()
    reach = case.connector(connector)

    refusal = api.run_push(
        PushRun(plan_path, case.options, config_path=config_path, connector=reach)
    )

    assert isinstance(refusal, Refusal), refusal
    assert refusal.stage == case.stage
    assert isinstance(refusal.error, case.error)
    assert case.message in str(refusal)
    # Only the push lock's own claim was written, and it is gone again (the holder's is kept).
    assert [r for r in emulator.requests if is_write(r) and not is_lock_request(r)] == []
    if case.options.dry_run:  # a dry run takes no lock
        assert not [r for r in emulator.requests if is_lock_request(r)]
    held = len(lock_claims(emulator, "beta"))
    assert held == (1 if case.prepare is lock_held else 0)
    if case.stage in ("bind", "lock"):  # refused before the journal is opened: left as it was
        assert (journal.read_bytes() if journal.exists() else None) == journal_before
    # The library call (and so the CLI) raises the refusing stage's error, message unchanged.
    with pytest.raises(case.error) as raised:
        api.push(plan_path, config_path=config_path, connector=reach, **vars(case.options))
    assert str(raised.value) == str(refusal)


def test_a_refused_run_does_not_count_as_a_run(
    emulator: Emulator, tmp_path: Path, config_path: Path, connector: Connector
) -> None:
    """Refused after the journal was opened (by drift): the next push of the plan is a first
    push, not a resume."""
    on_store(emulator, "alpha", brands)
    plan_path = make_plan(tmp_path, config_path, connector)
    drifted(plan_path, emulator)
    refused = api.run_push(PushRun(plan_path, config_path=config_path, connector=connector))
    assert isinstance(refused, Refusal) and refused.stage == "check"
    lines = [orjson.loads(line) for line in journal_path(plan_path).read_bytes().splitlines()]
    assert [(line["event"], line.get("refused")) for line in lines] == [
        ("begin", None),
        ("end", True),
    ]

    result = api.push(plan_path, config_path=config_path, connector=connector, allow_drift=True)
    assert result.ok and lock_claims(emulator, "beta") == []
