"""Pull and push benchmarks against the emulator served over HTTP (not part of the test suite).

    .venv/bin/python bench/bench_sync.py                 # 1,000 and 10,000 products
    .venv/bin/python bench/bench_sync.py --sizes 1000,10000,100000
    .venv/bin/python bench/bench_sync.py --skip size,quota,latency   # only the 1% update

Each scenario starts ``bench/serve_bulk.py`` (``staging`` seeded with N products, each with 3
variants, 2 images and 2 custom fields; ``production`` empty), then runs the real CLI in a child
process: ``pull staging``, ``pull production``, ``diff``, ``push``. For every run it reports the
requests (from the emulator's request log), the cost model's minimum for that data, wall time,
429s and the child's peak RSS. Printed as Markdown tables for docs/performance.md.

Scenarios:
- **size**: N = each of ``--sizes``, no quota, no latency: requests, time per entity, memory.
- **quota**: N = ``--quota-products`` at a scaled quota (150 requests per 3 s): wall time against
  the bound requests / quota x window, and 429s.
- **update**: N = each of ``--update-sizes``, both stores holding the same N products; staging
  changes the price of C = each of ``--update-changes`` products and their variants: the push's
  requests against the minimum (``update_minimum``) and the plan's estimate.
- **repull**: N = each of ``--sizes``: a first pull, 10 products changed through the API, then
  an incremental re-pull and a ``--full`` one side by side, against issue 14's bound.
- **latency**: N = ``--latency-products`` at 50 ms latency, no quota: push with --concurrency 4
  against --concurrency 1 of the same plan, side by side.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson

from stagesync.entities import REGISTRY

ROOT = Path(__file__).resolve().parent.parent
STAGESYNC = [sys.executable, "-m", "stagesync"]
PRODUCTS_PER_PAGE = 10
"""Products per page when options are included (the platform's limit)."""
CATEGORY_BATCH = 50
BRANDS, CATEGORIES = 5, 10


@dataclass
class Run:
    label: str
    requests: int
    minimum: int
    seconds: float
    throttled: int
    peak_mb: float
    exit_code: int
    emulator_mb: float = 0.0
    """The emulator process's peak RSS so far (it serves in its own process)."""
    products: int = 1
    cpu: float = 0.0
    """CPU seconds (user + system) of the stagesync process."""
    estimate: int = 0
    """The plan's estimated requests (push runs)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    def __init__(self, products: int, *, mirror: bool = False, aged: bool = False) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "serve_bulk.py"), "--port", str(self.port)]
            + ["--products", str(products)]
            + (["--mirror"] if mirror else [])
            + (["--aged"] if aged else []),
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/__emulator/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the emulator did not start")

    def faults(self, **settings: float) -> None:
        httpx.post(f"{self.url}/__emulator/faults", json=settings).raise_for_status()

    def clear(self) -> None:
        httpx.delete(f"{self.url}/__emulator/requests").raise_for_status()

    def log_counts(self) -> tuple[int, int]:
        """(requests, 429s) since the last clear."""
        log = orjson.loads(httpx.get(f"{self.url}/__emulator/requests", timeout=120).content)
        entries = log["requests"]
        return len(entries), sum(1 for r in entries if r["status"] == 429)

    def peak_mb(self) -> float:
        """The emulator process's peak RSS (Linux ``VmHWM``), 0 where unknown."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return 0.0
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def run_cli(work: Path, *args: str) -> tuple[float, float, int, str]:
    """(seconds, peak RSS in MB, exit code, stderr) of one CLI run in a child process; its CPU
    seconds go to ``LAST_CPU``."""
    env = {**os.environ, "STAGESYNC_CONFIG": str(work / "stagesync.toml")}
    env.update({"TOKEN_STAGING": "staging-token", "TOKEN_PRODUCTION": "production-token"})
    err = work / "stderr.txt"
    started = time.monotonic()
    with err.open("w") as stderr:
        process = subprocess.Popen(
            [*STAGESYNC, *args], cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=stderr
        )
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    LAST_CPU[0] = usage.ru_utime + usage.ru_stime
    code = os.waitstatus_to_exitcode(status)
    process.returncode = code
    return seconds, usage.ru_maxrss / 1024, code, err.read_text()


LAST_CPU = [0.0]
"""CPU seconds of the last ``run_cli`` child."""


def configure(work: Path, url: str) -> None:
    (work / "stagesync.toml").write_text(
        "".join(
            f'[environments.{name}]\nstore_hash = "{name}"\n'
            f'access_token_env = "TOKEN_{name.upper()}"\napi_url = "{url}"\n\n'
            for name in ("staging", "production")
        )
    )


PULL_COUNTED = {
    "products",
    "product_reviews",
    "bulk_pricing_rules",
    "channel_assignments",
    "categories",
    "category_metafields",
    "brands",
    "price_list_records",
    "shipping_methods",
}
"""Kinds whose reads ``pull_minimum`` counts itself; every other kind costs one listing."""


def pull_minimum(products: int) -> int:
    """Cost model of pulling the whole generated store: the store check and its clock; the
    product list at 250 a page carrying every sub-resource ``include=`` can (variants, images,
    custom fields, videos, reviews, bulk pricing rules, channels), options and modifiers at ten
    a page (the platform's limit when they are included) and the two store-wide metafield
    lists; the tree, its categories, each category's product sort order (no store-wide list
    exists) and the category metafields; brands and their metafields; one listing for every
    other kind (empty here; price-list records and shipping methods cost nothing more without
    lists or zones), plus the customer attribute definitions."""
    listing = math.ceil(products / 250)
    catalogue = listing + math.ceil(products / PRODUCTS_PER_PAGE) + 2
    categories = 2 + CATEGORIES + 1
    brands = 2
    others = [k for k in REGISTRY if not k.startswith("b2b_") and k not in PULL_COUNTED]
    clock = 1  # GET /v2/time, recorded in snapshot.json
    return 1 + clock + catalogue + categories + brands + len(others) + 1


def push_minimum(products: int) -> int:
    """Cost model of pushing it into an empty store: the store check and the destination read
    (empty: one request per kind and the tree), one request per brand, one category batch, per
    product the create carrying variants, images and custom fields inline, and per ten products
    one read of what the platform derived (the options it made from the variants, whose display
    settings cannot be sent inline, and the channels it put them on: their assignments need no
    write)."""
    read = 1 + 1 + 2 + 1
    derived = math.ceil(products / PRODUCTS_PER_PAGE)
    return read + BRANDS + math.ceil(CATEGORIES / CATEGORY_BATCH) + products + derived


def scenario(
    products: int,
    *,
    label: str,
    settings: dict[str, float],
    concurrencies: tuple[int, ...] = (4,),
    pull: bool = True,
) -> list[Run]:
    server = Server(products)
    work = Path(tempfile.mkdtemp(prefix="stagesync-bench-"))
    runs: list[Run] = []
    try:
        configure(work, server.url)
        server.faults(**settings)
        server.clear()
        seconds, peak, code, err = run_cli(work, "pull", "staging")
        requests, throttled = server.log_counts()
        if pull:
            runs.append(
                Run(
                    f"{label} pull",
                    requests,
                    pull_minimum(products),
                    seconds,
                    throttled,
                    peak,
                    code,
                    server.peak_mb(),
                    products,
                    LAST_CPU[0],
                )
            )
        assert code == 0, err
        for concurrency in concurrencies:
            target = work / f"production-{concurrency}"
            seconds, _, code, err = run_cli(
                work, "pull", "production", "--out", str(target.relative_to(work))
            )
            assert code == 0, err
            plan = work / f"plan-{concurrency}.json"
            _, _, code, err = run_cli(
                work,
                "diff",
                "snapshots/staging",
                str(target.relative_to(work)),
                "--out",
                str(plan),
            )
            assert code == 0, err
            server.clear()
            seconds, peak, code, err = run_cli(
                work, "push", "--plan", str(plan), "--yes", "--concurrency", str(concurrency)
            )
            requests, throttled = server.log_counts()
            runs.append(
                Run(
                    f"{label} push (concurrency {concurrency})",
                    requests,
                    push_minimum(products),
                    seconds,
                    throttled,
                    peak,
                    code,
                    server.peak_mb(),
                    products,
                    LAST_CPU[0],
                    int(orjson.loads(plan.read_bytes())["summary"]["estimated_requests"]),
                )
            )
            assert code == 0, err[-2000:]
            if concurrency != concurrencies[-1]:
                # Empty the destination again for the next run of the same plan.
                server.stop()
                server = Server(products)
                configure(work, server.url)
                server.faults(**settings)
        return runs
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


PRODUCT_BATCH, VARIANT_BATCH, IDS_PER_REQUEST = 10, 50, 150
VARIANTS = 3


def update_minimum(changed: int) -> int:
    """Cost model of pushing a price change of ``changed`` products and all their variants into
    a store that holds them: the writes at the batch limits (ten products, fifty variants a
    request) and the narrowest reads the platform offers: the store check; the products by
    ``sku:in`` with every sub-resource included (ten a page, the platform's limit with options);
    their metafields and their variants' by ``resource_id:in``; the brands they name by
    ``id:in``; the categories (no filter gives a category's path: the trees and their categories,
    a page each) and the channels their trees belong to."""
    writes = math.ceil(changed / PRODUCT_BATCH) + math.ceil(changed * VARIANTS / VARIANT_BATCH)
    products = math.ceil(changed / PRODUCTS_PER_PAGE)
    metafields = math.ceil(changed / IDS_PER_REQUEST) + math.ceil(
        changed * VARIANTS / IDS_PER_REQUEST
    )
    return writes + 1 + products + metafields + 1 + 2 + 1


def change_prices(url: str, products: int, changed: int) -> None:
    """Raise the price of ``changed`` products of ``staging`` (spread evenly over its
    ``products``) and of their variants, through the API."""
    headers = {"X-Auth-Token": "staging-token", "Accept": "application/json"}
    base = f"{url}/stores/staging/v3/catalog"
    skus = [f"P-{i:06d}" for i in range(0, products, products // changed)][:changed]
    with httpx.Client(headers=headers, timeout=120) as client:
        for start in range(0, len(skus), PRODUCT_BATCH):
            group = skus[start : start + PRODUCT_BATCH]
            found = client.get(
                f"{base}/products", params={"sku:in": ",".join(group), "include": "variants"}
            ).json()["data"]
            client.put(
                f"{base}/products", json=[{"id": p["id"], "price": p["price"] + 1} for p in found]
            ).raise_for_status()
            variants = [
                {"id": v["id"], "price": (v["price"] or 0) + 1}
                for p in found
                for v in p["variants"]
            ]
            client.put(f"{base}/variants", json=variants).raise_for_status()


@dataclass
class Update:
    label: str
    store: int
    changed: int
    requests: int
    estimated: int
    minimum: int
    seconds: float
    exit_code: int


def update_scenario(products: int, changed: int) -> Update:
    """Push of an update: both stores hold the same ``products``; staging changes the price of
    ``changed`` of them and of their variants; pull both, diff, push, counting the push's
    requests."""
    server = Server(products, mirror=True)
    work = Path(tempfile.mkdtemp(prefix="stagesync-bench-"))
    try:
        configure(work, server.url)
        change_prices(server.url, products, changed)
        for env in ("staging", "production"):
            _, _, code, err = run_cli(work, "pull", env)
            assert code == 0, err
        plan = work / "plan.json"
        _, _, code, err = run_cli(
            work, "diff", "snapshots/staging", "snapshots/production", "--out", str(plan)
        )
        assert code == 0, err
        estimated = int(orjson.loads(plan.read_bytes())["summary"]["estimated_requests"])
        server.clear()
        seconds, _, code, err = run_cli(work, "push", "--plan", str(plan), "--yes")
        requests, _ = server.log_counts()
        assert code == 0, err[-2000:]
        return Update(
            f"{changed} of {products:,} products",
            products,
            changed,
            requests,
            estimated,
            update_minimum(changed),
            seconds,
            code,
        )
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def update_table(runs: list[Update]) -> str:
    lines = [
        "| push of an update | requests | minimum | ratio | estimated | estimated / requests "
        "| wall s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        lines.append(
            f"| {run.label} | {run.requests} | {run.minimum} | {run.requests / run.minimum:.2f} "
            f"| {run.estimated} | {run.estimated / run.requests:.2f} | {run.seconds:.1f} |"
        )
    return "\n".join(lines)


LISTED_BY_ID = ("products", "category product sort orders")
"""Listings that grow with the product count (250 a page), what an incremental pull cannot
avoid: the products' ids and dates (to find changes and deletions; every product's channels
ride on it, ``include=channels``), and the categories' product sort orders (one list per
category, together naming every product placed in a category: one category each here)."""
CHANGED = 10


def repull_bound(products: int) -> int:
    """Issue 14's bound for re-pulling a store where ``CHANGED`` products changed:
    ceil(N/250) x (kinds listed by ID) + 40."""
    return math.ceil(products / 250) * len(LISTED_BY_ID) + 40


def change_products(url: str, products: int) -> None:
    """Change ``CHANGED`` products of ``staging`` through the API, spread over the store and
    over what a product holds: its price, a variant's price, a new image, a new custom field, a
    new metafield, a new modifier (which moves the product's ``date_modified``)."""
    headers = {"X-Auth-Token": "staging-token"}
    base = f"{url}/stores/staging/v3/catalog/products"
    step = max(1, products // CHANGED)
    with httpx.Client(headers=headers, timeout=120) as client:
        for n, index in enumerate(range(0, step * CHANGED, step)):
            sku = f"P-{index:06d}"
            found = client.get(base, params={"sku": sku, "include": "variants"}).json()["data"]
            product = found[0]
            path = f"{base}/{product['id']}"
            kind = n % 6
            if kind == 0:
                answer = client.put(path, json={"price": float(product["price"]) + 1})
            elif kind == 1:
                variant = product["variants"][0]
                body = {"price": float(variant["price"] or 0) + 1}
                answer = client.put(f"{path}/variants/{variant['id']}", json=body)
            elif kind == 2:
                body = {"image_url": f"https://cdn.example.com/changed-{n}.jpg"}
                answer = client.post(f"{path}/images", json=body)
            elif kind == 3:
                body = {"name": "Changed", "value": "1"}
                answer = client.post(f"{path}/custom-fields", json=body)
            elif kind == 4:
                body = {"permission_set": "app_only", "namespace": "b", "key": "k", "value": "v"}
                answer = client.post(f"{path}/metafields", json=body)
            else:
                body = {"display_name": "Engraving", "type": "text", "required": False}
                answer = client.post(f"{path}/modifiers", json=body)
            answer.raise_for_status()


SIX_PARTS = ("variant", "option", "modifier", "image", "custom_field", "metafield")
"""The product parts the probe's write checks covered before videos, reviews, bulk pricing
rules and complex rules."""


def six_parts_probe(work: Path) -> None:
    """Keep a probe result of staging where the read-only and write assumptions hold but, of
    the product parts, only ``SIX_PARTS`` (the others ``not checked``, as before they had a
    write check)."""
    from stagesync import assumptions, probe
    from stagesync.probe_checks import Finding

    parts = {assumptions.product_part(p) for p in assumptions.PRODUCT_PARTS}
    kept = {assumptions.product_part(p) for p in SIX_PARTS}

    def found(assumption: assumptions.Assumption) -> Finding:
        if assumption.id not in parts or assumption.id in kept:
            return Finding("holds")
        return Finding("not checked", why="no write check")

    results = tuple(probe.Result(a, found(a)) for a in assumptions.REGISTRY)
    probe.save(probe.ProbeReport("staging", 0, 0, results, "staging"), work, "staging")


def write_probe(work: Path) -> tuple[int, dict[str, int]]:
    """Run ``stagesync probe staging --write`` against the benchmark store (staging made a
    sandbox for it), which keeps its result beside the configuration as on a real store: (the
    requests it sent, how many assumptions it found holding / differing / not checked)."""
    from stagesync import probe

    config = work / "stagesync.toml"
    text = config.read_text()
    config.write_text(
        text.replace("[environments.staging]\n", '[environments.staging]\nrole = "sandbox"\n')
    )
    _, _, code, err = run_cli(work, "probe", "staging", "--write")
    assert code in (0, 3), err[-2000:]
    found = probe.last_results(work, "staging", "staging") or {}
    counts = {s: sum(1 for v in found.values() if v == s) for s in ("holds", "differs")}
    counts["not checked"] = len(found) - counts["holds"] - counts["differs"]
    return code, counts


def repull(products: int) -> list[tuple[str, int, float, int]]:
    """(run, requests, seconds, exit code) of a first pull, then, after ``CHANGED`` products
    changed through the API (``change_products``), side by side from copies of the same first
    snapshot: a re-pull with no probe result kept, one with a kept result where only
    ``SIX_PARTS`` of the product parts hold, one after ``stagesync probe staging --write``
    ran against the same store (its kept result), and a ``--full`` pull; and whether they wrote
    the same records."""
    server = Server(products, aged=True)
    work = Path(tempfile.mkdtemp(prefix="stagesync-bench-"))
    out: list[tuple[str, int, float, int]] = []
    try:
        configure(work, server.url)
        server.faults(quota=0)

        def pull(label: str, *args: str) -> None:
            server.clear()
            seconds, _, code, err = run_cli(work, "pull", "staging", *args)
            assert code == 0, err[-2000:]
            out.append((label, server.log_counts()[0], seconds, code))

        first = work / "snapshots" / "staging"
        pull("first pull", "--out", str(first))
        shutil.copytree(first, work / "probed")
        shutil.copytree(first, work / "six")
        change_products(server.url, products)
        pull(f"re-pull, {CHANGED} changed, no probe result", "--out", str(first))
        six_parts_probe(work)
        pull(f"re-pull, {CHANGED} changed, 6 parts hold", "--out", str(work / "six"))
        server.clear()
        code, counts = write_probe(work)
        found = ", ".join(f"{n} {s}" for s, n in counts.items())
        out.append((f"probe --write (exit {code}: {found})", server.log_counts()[0], 0.0, code))
        pull(f"re-pull, {CHANGED} changed, after probe --write", "--out", str(work / "probed"))
        pull(f"re-pull, {CHANGED} changed (--full)", "--full", "--out", str(work / "full"))
        same = all(
            path.read_bytes() == (work / folder / path.relative_to(first)).read_bytes()
            for path in first.rglob("*.json")
            if path.name != "snapshot.json" and not path.name.startswith(".")
            for folder in ("full", "probed", "six")
        ) and sorted(p.relative_to(first) for p in first.rglob("*.json")) == sorted(
            p.relative_to(work / "full") for p in (work / "full").rglob("*.json")
        )
        out.append(("records identical", int(same), 0.0, 0))
        return out
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def repull_table(products: int, runs: list[tuple[str, int, float, int]]) -> str:
    bound = repull_bound(products)
    lines = [
        f"{products:,} products (bound {bound} = ceil(N/250) x {len(LISTED_BY_ID)} + 40)",
        "",
        "| run | requests | wall s | requests / bound |",
        "|---|---:|---:|---:|",
    ]
    for label, requests, seconds, _ in runs:
        if label == "records identical":
            lines.append(f"| records identical | {'yes' if requests else 'NO'} | | |")
        else:
            lines.append(f"| {label} | {requests} | {seconds:.1f} | {requests / bound:.2f} |")
    return "\n".join(lines)


def table(runs: list[Run], quota: tuple[int, float] | None = None) -> str:
    head = (
        "| run | requests | minimum | ratio | estimate | wall s | CPU s | s per 1k | 429s "
        "| peak MB | emulator MB |"
    )
    rule = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    if quota:
        head += " quota bound s | wall / bound |"
        rule += "---:|---:|"
    lines = [head, rule]
    for run in runs:
        line = (
            f"| {run.label} | {run.requests} | {run.minimum} | {run.requests / run.minimum:.2f} "
            f"| {run.estimate or ''} | {run.seconds:.1f} | {run.cpu:.1f} "
            f"| {run.seconds / run.products * 1000:.2f} | {run.throttled} "
            f"| {run.peak_mb:.0f} | {run.emulator_mb:.0f} |"
        )
        if quota:
            per_window, window = quota
            bound = run.requests / per_window * window
            line += f" {bound:.1f} | {run.seconds / bound:.2f} |"
        lines.append(line)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--quota-products", type=int, default=1000)
    parser.add_argument("--latency-products", type=int, default=200)
    parser.add_argument("--update-sizes", default="1000,10000")
    parser.add_argument("--update-changes", default="10,100")
    parser.add_argument(
        "--skip", default="", help="comma-separated: size,quota,latency,update,repull"
    )
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    if "update" not in skip:
        updates: list[Update] = []
        for changed in [int(c) for c in args.update_changes.split(",")]:
            for size in [int(s) for s in args.update_sizes.split(",")]:
                updates.append(update_scenario(size, changed))
                print(update_table(updates[-1:]), flush=True)
        print("\n### Push of an update (each plan against each store size, side by side)\n")
        print(update_table(updates))

    if "size" not in skip:
        runs: list[Run] = []
        for size in [int(s) for s in args.sizes.split(",")]:
            runs += scenario(size, label=f"{size:,} products", settings={"quota": 0})
            print(table(runs[-2:]), flush=True)
        print("\n### Size (no quota, no latency)\n")
        print(table(runs))
        print("\n| run | seconds per 1,000 products |\n|---|---:|")
        for run in runs:
            size = int(run.label.split()[0].replace(",", ""))
            print(f"| {run.label} | {run.seconds / size * 1000:.2f} |")

    if "repull" not in skip:
        print("\n### Re-pull with 10 changed products: incremental against --full\n")
        for size in [int(s) for s in args.sizes.split(",")]:
            print(repull_table(size, repull(size)) + "\n", flush=True)

    if "quota" not in skip:
        n = args.quota_products
        runs = scenario(n, label=f"{n:,} products", settings={"quota": 150, "window_ms": 3000})
        print("\n### Quota 150 requests per 3 s\n")
        print(table(runs, quota=(150, 3.0)))

    if "latency" not in skip:
        n = args.latency_products
        runs = scenario(
            n,
            label=f"{n:,} products",
            settings={"quota": 0, "latency_ms": 50},
            concurrencies=(4, 1),
            pull=False,
        )
        print("\n### 50 ms latency, no quota: concurrency 4 against 1\n")
        print(table(runs))
        print(f"\nthroughput ratio: {runs[1].seconds / runs[0].seconds:.2f}x")


if __name__ == "__main__":
    main()
