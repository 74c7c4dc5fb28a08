"""The progress renderer: plain lines at most every interval when not on a terminal, rich bars on
one, and cheap enough to be called once per record."""

from __future__ import annotations

import io

from stagesync.ports import Progress
from stagesync.progress import ProgressRenderer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_it_is_a_progress() -> None:
    renderer: Progress = ProgressRenderer(io.StringIO(), live=False)
    assert renderer is not None


def test_plain_lines_are_throttled_and_the_last_one_is_always_printed() -> None:
    out, clock = io.StringIO(), Clock()
    progress = ProgressRenderer(out, live=False, interval=2.0, clock=clock)

    progress.start("pull products", 250)
    for _ in range(100):
        progress.advance("pull products")
    clock.now += 2.5
    for _ in range(20):
        progress.advance("pull products")
    clock.now += 1.0
    progress.advance("pull products", 100)
    progress.finish("pull products")
    progress.finish("pull products")

    assert out.getvalue().splitlines() == [
        "pull products: 101/250, ETA 4s",
        "pull products: 220/250",
    ]


def test_an_unknown_total_prints_the_count_and_may_become_known() -> None:
    out, clock = io.StringIO(), Clock()
    progress = ProgressRenderer(out, live=False, clock=clock)

    progress.start("pull brands", None)
    progress.advance("pull brands", 5)
    clock.now += 3
    progress.advance("pull brands", 5)
    progress.advance("pull brands", 5, total=40)
    progress.finish("pull brands")

    assert out.getvalue().splitlines() == ["pull brands: 10", "pull brands: 15/40"]


def test_advance_without_start_starts_the_task() -> None:
    out = io.StringIO()
    progress = ProgressRenderer(out, live=False)

    progress.advance("push", 3, total=3)
    progress.finish("push")
    progress.finish("never started")

    assert out.getvalue() == "push: 3/3\n"


def test_not_a_terminal_means_plain_lines() -> None:
    assert ProgressRenderer(io.StringIO()).live is False


def test_a_hundred_thousand_advances_print_one_line() -> None:
    out = io.StringIO()
    with ProgressRenderer(out, live=False, clock=Clock()) as progress:
        progress.start("pull products", 100_000)
        for _ in range(100_000):
            progress.advance("pull products")
        progress.finish("pull products")

    assert out.getvalue() == "pull products: 100000/100000\n"


def test_rich_bars_end_complete() -> None:
    out = io.StringIO()
    with ProgressRenderer(out, live=True) as progress:
        progress.start("pull products", None)
        for _ in range(1000):
            progress.advance("pull products")
        progress.start("push", 3)
        progress.advance("push", 3)
        progress.finish("pull products")
        progress.finish("push")

    text = out.getvalue()
    assert "pull products" in text
    assert "1000/1000" in text
    assert "3/3" in text


def test_push_lines_show_requests_retries_with_causes_and_eta() -> None:
    out = io.StringIO()
    now = [0.0]
    with ProgressRenderer(out, live=False, interval=1.0, clock=lambda: now[0]) as progress:
        progress.start("push products", 100)
        progress.start("push brands", 10)
        now[0] = 10.0
        retries = {"429": 1, "5xx": 2, "connection": 1}
        progress.stats("push products", requests=60, throttled=1, retries=retries)
        progress.stats("push brands", requests=10, throttled=0)
        progress.advance("push products", 20)
        progress.advance("push brands", 10)
        progress.finish("push products")
        progress.finish("push brands")
    causes = "4 retries (1 after 429 (rate limit), 2 after 5xx, 1 after dropped connection)"
    assert out.getvalue().splitlines() == [
        f"push products: 20/100, 60 requests, {causes}, ETA 40s",
        "push brands: 10/10, 10 requests",
        f"push products: 20/100, 60 requests, {causes}",
        "push brands: 10/10, 10 requests",
    ]
