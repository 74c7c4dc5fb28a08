"""The HTML report in a real browser (headless Chromium): store data carrying XSS payloads stays
inert, the report's own script runs under its CSP, the filters work, and a screenshot is produced
(kept under pytest's tmp dir as an artefact, never in git).

Chromium comes from Debian's ``chromium`` package (``.ci/run`` installs it); without it the tests
skip, saying so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from stagesync.model import Action, EntityKey, FieldChange, Operation, Plan
from stagesync.report.html import render_html
from tests.test_report import sample_plan

CHROMIUM = next(
    (found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)",
)

PAYLOADS = (
    "<script>document.title='PWNED';window.__xss=1</script>",
    "<img src=x onerror=\"document.title='PWNED'\">",
    "<a href=\"javascript:document.title='PWNED'\">click</a>",
    '"><svg onload="document.title=\'PWNED\'">',
    "</pre></td></tr></table><script>document.title='PWNED'</script>",
    "</script><script>document.title='PWNED'</script>",
)


def hostile_plan() -> Plan:
    base = sample_plan()
    nasty = " ".join(PAYLOADS)
    ops = list(base.operations)
    for i, payload in enumerate(PAYLOADS):
        ops.append(
            Operation(
                id=f"products:{payload}",
                action=Action.CREATE,
                key=EntityKey("products", f"XSS-{i} {payload}"),
                after={"sku": f"XSS-{i}", "description": payload, "name": payload},
                precondition=None,
                reason=payload,
            )
        )
    ops.append(
        Operation(
            id="products:XSS-update",
            action=Action.UPDATE,
            key=EntityKey("products", "XSS-update"),
            after={"description": nasty * 3},
            precondition="sha256:" + "e" * 64,
            fields=(FieldChange("description", "<p>old</p>" * 40, nasty * 3),),
        )
    )
    return replace(
        base,
        operations=tuple(ops),
        warnings=(*base.warnings, nasty),
        kinds=(*base.kinds,),
    )


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def dump_dom(tmp_path: Path, page: Path, fragment: str = "") -> str:
    done = chromium(
        tmp_path / "profile",
        "--virtual-time-budget=3000",
        "--dump-dom",
        page.as_uri() + fragment,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "<html" in done.stdout, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    page = tmp_path_factory.mktemp("report") / "hostile.html"
    page.write_text(render_html(hostile_plan()), encoding="utf-8")
    return page


def visible_ops(dom: str) -> list[str]:
    """``data-key`` of every operation the filters left visible."""
    found = re.findall(r"<article ([^>]*)>", dom)
    return [
        re.search(r'data-key="([^"]*)"', attrs).group(1)  # type: ignore[union-attr]
        for attrs in found
        if not re.search(r"\shidden(=|\s|$)", attrs)
    ]


def test_payloads_stay_inert_and_the_reports_script_runs(tmp_path: Path, report: Path) -> None:
    dom = dump_dom(tmp_path, report)
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    assert title is not None and "PWNED" not in title.group(1)
    assert title.group(1).startswith("stagesync plan: staging (abc123) to production")
    # The report's own script ran (CSP hash matches) and marked the page ready.
    assert re.search(r'<html lang="en" data-ready="\d+"', dom), dom[:300]
    assert "__xss" not in re.sub(r"&lt;script&gt;[^<]*", "", dom)  # only as escaped text
    # No element the payloads tried to create exists in the live DOM.
    assert "<svg" not in dom and "<img" not in dom and "<a " not in dom
    assert dom.count("<script") == 1
    assert "&lt;script&gt;document.title='PWNED';window.__xss=1&lt;/script&gt;" in dom
    assert len(visible_ops(dom)) == len(hostile_plan().operations)


def test_filters_by_kind_action_and_key_search(tmp_path: Path, report: Path) -> None:
    by_kind = visible_ops(dump_dom(tmp_path, report, "#kind=brands"))
    assert sorted(by_kind) == ["Acme", "Old"]

    by_action = visible_ops(dump_dom(tmp_path, report, "#action=update,delete"))
    assert sorted(by_action) == ["Old", "SKU-1", "XSS-update"]

    dom = dump_dom(tmp_path, report, "#q=sku-")
    assert sorted(visible_ops(dom)) == ["SKU-1", "SKU-2"]
    assert f"2 of {len(hostile_plan().operations)} operations shown" in dom
    # A search opens the sections holding matches; the others stay collapsed or hidden.
    products = re.search(r'<details class="group kind" id="kind-3"([^>]*)>', dom)
    assert products is not None and "open" in products.group(1)
    brands = re.search(r'<details class="group kind" id="kind-1"([^>]*)>', dom)
    assert brands is not None and "hidden" in brands.group(1)

    combined = visible_ops(dump_dom(tmp_path, report, "#kind=products&action=create&q=xss-1"))
    assert len(combined) == 1 and combined[0].startswith("XSS-1 ")


def test_sections_start_collapsed(tmp_path: Path, report: Path) -> None:
    dom = dump_dom(tmp_path, report)
    kinds = re.findall(r'<details class="group kind"([^>]*)>', dom)
    assert kinds and not any("open" in attrs for attrs in kinds)
    assert re.search(r'<details class="group destructive" id="destructive" open', dom)


def test_screenshot(tmp_path: Path, report: Path) -> None:
    shot = tmp_path / "report.png"
    done = chromium(
        tmp_path / "profile",
        "--hide-scrollbars",
        "--window-size=1280,1600",
        "--virtual-time-budget=3000",
        f"--screenshot={shot}",
        report.as_uri() + "#q=xss",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 10_000
    print(f"screenshot: {shot}")
