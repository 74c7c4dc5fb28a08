"""The CLI flags for the commercial kinds: ``pull --redact``, ``push --order-status`` and the
push's advice about transactional emails."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from stagesync import api, cli
from stagesync.emulator import Emulator
from stagesync.emulator import orders as emulated_orders
from tests import commerce
from tests.conftest import Connector, on_store

runner = CliRunner()


@pytest.fixture
def wired(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, connector: Connector, emulator: Emulator
) -> Emulator:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STAGESYNC_CONFIG", raising=False)
    for name in ("pull", "push"):
        monkeypatch.setattr(api, name, functools.partial(getattr(api, name), connector=connector))
    on_store(emulator, "alpha", commerce.build)
    return emulator


def ok(result: Any, code: int = 0) -> Any:
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return result


def run(config: Path, *args: str) -> Any:
    return runner.invoke(cli.app, ["--config", str(config), *args])


def test_pull_redact_writes_no_personal_data(wired: Emulator, config_path: Path) -> None:
    ok(run(config_path, "pull", "alpha", "--redact", "--kinds", "customers,orders", "--out", "r"))

    text = "\n".join(
        str(p) + p.read_text(encoding="utf-8") for p in Path("r").rglob("*") if p.is_file()
    ).casefold()
    for original in commerce.PII:
        assert original.casefold() not in text, original
    assert "@example.com" in text


def test_push_order_status_keep_and_the_email_advice(wired: Emulator, config_path: Path) -> None:
    ok(run(config_path, "pull", "alpha", "--out", "a"))
    ok(run(config_path, "pull", "beta", "--out", "b"))
    ok(run(config_path, "diff", "a", "b", "--out", "plan.json"))

    pushed = ok(run(config_path, "push", "--plan", "plan.json", "--yes", "--order-status", "keep"))

    assert "disabling transactional emails" in pushed.stderr
    statuses = sorted(
        o["status_id"] for o in emulated_orders.state(wired.stores["beta"]).orders.values()
    )
    assert statuses == [1, 2]


def test_push_rejects_an_unknown_order_status(wired: Emulator, config_path: Path) -> None:
    result = ok(run(config_path, "push", "--plan", "plan.json", "--order-status", "shipped"), 2)
    assert "--order-status" in result.stderr
