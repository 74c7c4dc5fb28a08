"""``stagesync probe ENV`` with B2B Edition connected: the B2B envelope, paging and field types
hold on the emulator, a missing field is reported, and the report names no B2B value."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from stagesync import api, cli
from stagesync.assumptions import REGISTRY
from stagesync.emulator import Emulator
from stagesync.emulator import b2b as emulated_b2b
from tests import commerce
from tests.conftest import STORES, connector_for, on_store
from tests.test_b2b import B2B_USERS, build_b2b, factory_for

B2B = [a.id for a in REGISTRY if a.id.startswith("ASSUMPTION_B2B_")]
runner = CliRunner()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """stagesync.toml: alpha with B2B Edition (store token mode), plain the same store without."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    monkeypatch.setenv("STAGESYNC_ALPHA_TOKEN", STORES["alpha"])
    folder = tmp_path / "project"
    folder.mkdir()
    table = 'store_hash = "alpha"\naccess_token_env = "STAGESYNC_ALPHA_TOKEN"\n'
    table += 'api_url = "http://emulator.test"\n'
    (folder / "stagesync.toml").write_text(
        f'[environments.alpha]\n{table}\n[environments.alpha.b2b]\nauth = "token"\n'
        f'api_url = "http://emulator.test"\n\n[environments.plain]\n{table}',
        encoding="utf-8",
    )
    return folder


@pytest.fixture
def connected(emulator: Emulator, project: Path) -> Emulator:
    for store, (email, password) in B2B_USERS.items():
        emulator.add_b2b_user(store, email, password)
    ids: dict[str, int] = on_store(emulator, "alpha", commerce.build)
    asyncio.run(build_b2b(emulator, ids))
    config = project / "stagesync.toml"
    api.connect_b2b("alpha", config_path=config, b2b_factory=factory_for(emulator))
    return emulator


def probe(
    monkeypatch: pytest.MonkeyPatch, emulator: Emulator, config: Path, environment: str
) -> Any:
    def patched(*args: Any, **kwargs: Any) -> Any:
        kwargs.update(connector=connector_for(emulator), b2b_factory=factory_for(emulator))
        return original(*args, **kwargs)

    original = api.probe
    monkeypatch.setattr(api, "probe", patched)
    return runner.invoke(
        cli.app, ["--config", str(config), "probe", environment, "--format", "json"]
    )


def b2b_statuses(result: Any) -> dict[str, Any]:
    body = json.loads(result.stdout)
    return {e["id"]: e for e in body["assumptions"] if e["id"] in B2B}


def test_the_b2b_checks_hold_when_b2b_is_connected(
    connected: Emulator, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connected.clear_requests()
    result = probe(monkeypatch, connected, project / "stagesync.toml", "alpha")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    found = b2b_statuses(result)
    assert list(found) == B2B
    assert {e["status"] for e in found.values()} == {"holds"}
    b2b_reads = [r for r in connected.requests if r["path"].startswith("/api/")]
    assert 0 < len(b2b_reads) <= sum(a.requests for a in REGISTRY if a.id in B2B)
    body = json.loads(result.stdout)
    assert body["requests"] <= body["budget"]
    for secret in (B2B_USERS["alpha"][0], B2B_USERS["alpha"][1], "Acme", "acme.test"):
        assert secret.casefold() not in result.stdout.casefold()


def test_a_b2b_field_of_another_type_differs(
    connected: Emulator, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for company in emulated_b2b.state(connected.stores["alpha"]).companies.values():
        company["customerGroupId"] = str(company["customerGroupId"])
    result = probe(monkeypatch, connected, project / "stagesync.toml", "alpha")
    assert result.exit_code == 3
    found = b2b_statuses(result)
    assert [k for k, e in found.items() if e["status"] != "holds"] == [
        "ASSUMPTION_B2B_COMPANY_FIELD_TYPES"
    ]
    company = found["ASSUMPTION_B2B_COMPANY_FIELD_TYPES"]
    assert company["seen"] == "customerGroupId: string"


def test_without_b2b_the_b2b_checks_are_not_checked(
    connected: Emulator, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = probe(monkeypatch, connected, project / "stagesync.toml", "plain")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    found = b2b_statuses(result)
    assert {e["status"] for e in found.values()} == {"not checked"}
    assert {e["why"] for e in found.values()} == {"B2B not connected"}
