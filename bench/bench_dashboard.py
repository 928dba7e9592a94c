"""What the dashboard costs the server, and how fast its journal opens, measured.

    python bench/bench_dashboard.py [--seconds 5] [--rounds 3] [--entries 100000]

1. The live feed under load: wrk (one thread, 32 connections, core 0) sends
   ``GET /ping`` to the mock server (its own process, core 1; journal on, cap
   10 000) with no page open, then with one headless Chromium (core 0, beside wrk)
   watching the journal live, alternating, ``--rounds`` times each. Prints each
   figure, the medians and their ratio (the goal: at least 0.95x). Without
   Chromium an SSE client in this process stands in for the browser (said so).
2. A journal of ``--entries`` requests: the server-side cost of the first page,
   a deep page, filters, and a request's detail (median of 20 calls each), and
   the time from navigation to the first page's rows in Chromium (the page's
   ``journal-drawn`` User Timing mark; median of 5 loads; the goal: under 1 s).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_mockserver import Server, free_port, wait_for, wrk  # noqa: E402

from tests.browser import executables  # noqa: E402


def serve(port: int, entries: int) -> None:
    """``--serve``: a mock server whose journal already holds ``entries`` requests."""
    import asyncio

    from mockserver import MockServer, RecordedRequest

    server = MockServer(port=port, journal_cap=None if entries else 10_000)
    server.stub({"method": "GET", "path": "/ping"}, {"json": {"pong": True}}, name="ping")
    server.stub({"method": "POST", "path": "/orders"}, {"status": 201}, name="orders")
    now = datetime.now(timezone.utc)
    for number in range(entries):
        journal = server.journal
        unmatched = number % 10 == 0
        record = RecordedRequest(
            seq=journal.next_seq(),
            method="POST" if number % 3 == 0 else "GET",
            path=f"/missing/{number}" if unmatched else "/orders" if number % 3 == 0 else "/ping",
            query_string=f"n={number}",
            raw_headers=(("Host", f"127.0.0.1:{port}"), ("Content-Type", "application/json")),
            body=json.dumps({"n": number, "text": "rare-needle" if number == 7 else "x"}).encode(),
            received_at=now,
            stub_id=None if unmatched else "ping",
            status=404 if unmatched else 200,
        )
        journal.add(record)

    async def main() -> None:
        await server.start()
        await asyncio.Event().wait()

    asyncio.run(main())


def dashboard_server(port: int, entries: int = 0) -> Server:
    command = [sys.executable, str(Path(__file__).resolve()), "--serve", str(port), str(entries)]
    return Server("mockserver", command, f"http://127.0.0.1:{port}", "/__admin/health")


class Watcher:
    """One page watching the journal live: Chromium, or an SSE client standing in."""

    def __init__(self) -> None:
        self.browser = None
        self.kind = "headless Chromium"
        if executables() is None:
            self.kind = "an SSE client (no Chromium here)"
            return
        from tests.browser import Browser

        # Chromium and its driver inherit this affinity: core 0, with wrk, off the server's core.
        if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
            os.sched_setaffinity(0, {0})
        self.browser = Browser(Path("/tmp"))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, base: str) -> None:
        if self.browser is not None:
            self.browser.open(f"{base}/__admin/ui/#/journal")
            self.browser.wait(
                lambda: (
                    self.browser.js("return document.getElementById('live').dataset.state")
                    == "live"
                ),
                "the live feed",
            )
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._sse, args=(base,), daemon=True)
        self._thread.start()

    def _sse(self, base: str) -> None:
        import httpx

        with httpx.stream("GET", f"{base}/__admin/ui/api/events", timeout=None) as stream:
            for _ in stream.iter_lines():
                if self._stop.is_set():
                    return

    def shown(self) -> str:
        if self.browser is None:
            return ""
        return str(self.browser.js("return document.getElementById('summary').textContent"))

    def leave(self) -> None:
        if self.browser is not None:
            self.browser.open("about:blank")
        else:
            self._stop.set()

    def close(self) -> None:
        if self.browser is not None:
            self.browser.close()


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measured(base: str, seconds: float, pid: int) -> tuple[float, float]:
    """Requests per second (wrk), and the server's CPU milliseconds per 1 000 requests."""
    before = cpu_seconds(pid)
    rate = wrk(base + "/ping", seconds, post=False)
    used = cpu_seconds(pid) - before
    return rate, used * 1000 / max(rate * round(seconds), 1) * 1000


def live_feed(seconds: float, rounds: int) -> None:
    port = free_port()
    watcher = Watcher()
    try:
        with dashboard_server(port) as server:
            assert server.process is not None
            pid = server.process.pid
            base = f"http://127.0.0.1:{port}"
            wrk(base + "/ping", 2, post=False)  # warm-up
            alone: list[tuple[float, float]] = []
            watched: list[tuple[float, float]] = []
            for number in range(rounds):
                alone.append(_measured(base, seconds, pid))
                watcher.watch(base)
                watched.append(_measured(base, seconds, pid))
                shown = watcher.shown()
                watcher.leave()
                print(
                    f"  round {number + 1}: alone {alone[-1][0]:,.0f}/s "
                    f"({alone[-1][1]:.1f} ms CPU per 1 000), watched {watched[-1][0]:,.0f}/s "
                    f"({watched[-1][1]:.1f} ms CPU per 1 000)"
                    + (f"; the page said: {shown}" if shown else "")
                )
            a = statistics.median(rate for rate, _ in alone)
            w = statistics.median(rate for rate, _ in watched)
            ca = statistics.median(cpu for _, cpu in alone)
            cw = statistics.median(cpu for _, cpu in watched)
            print(f"GET /ping, journal on, watched by {watcher.kind} (medians of {rounds}):")
            print(f"  alone   {a:,.0f}/s, server CPU {ca:.1f} ms per 1 000 requests")
            print(f"  watched {w:,.0f}/s, server CPU {cw:.1f} ms per 1 000 requests")
            print(f"  throughput ratio {w / a:.3f}x; server CPU per request {cw / ca:.3f}x")
            print("  (goal: the feed costs the server at most 5%: ratio >= 0.95x)")
    finally:
        watcher.close()


def _median_ms(url: str, calls: int = 20) -> tuple[float, int]:
    times = []
    size = 0
    for _ in range(calls):
        start = time.perf_counter()
        with urllib.request.urlopen(url, timeout=60) as response:
            size = len(response.read())
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), size


def big_journal(entries: int) -> None:
    port = free_port()
    with dashboard_server(port, entries):
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/__admin/ui/api/overview", 300)
        api = base + "/__admin/ui/api/"
        print(f"A journal of {entries:,} requests (server side, median of 20 calls):")
        for label, query in (
            ("first page (100 rows)", "requests?limit=100"),
            ("a deep page (before #50 000)", "requests?limit=100&before=50000"),
            ("filter: unmatched (1 in 10)", "requests?limit=100&matched=unmatched"),
            ("filter: text in 1 request (walks all)", "requests?limit=100&q=rare-needle"),
            ("a request's detail (newest)", f"requests/{entries}"),
            ("a request's detail (oldest)", "requests/1"),
        ):
            ms, size = _median_ms(api + query)
            print(f"  {label:<40} {ms:8.1f} ms  {size:>8,} bytes")
        if executables() is None:
            print("  (no Chromium here: the page's own timing is not measured)")
            return
        from tests.browser import Browser

        browser = Browser(Path("/tmp"))
        try:
            loads = []
            for _ in range(5):
                browser.open("about:blank")
                browser.open(f"{base}/__admin/ui/#/journal")
                browser.wait(
                    lambda: browser.js(
                        "return performance.getEntriesByName('journal-drawn').length"
                    ),
                    "the first page",
                )
                rows = browser.js("return document.querySelectorAll('#journal-body tr').length")
                assert rows == 100, rows
                loads.append(
                    browser.js("return performance.getEntriesByName('journal-drawn')[0].startTime")
                )
            print(
                f"  in Chromium, navigation to 100 rows drawn: {statistics.median(loads):.0f} ms "
                f"(median of 5; each: {', '.join(f'{v:.0f}' for v in loads)}) (goal: < 1000 ms)"
            )
        finally:
            browser.close()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--only", choices=["feed", "journal"], help="run one of the two parts")
    args = parser.parse_args()
    if args.only != "journal":
        live_feed(args.seconds, args.rounds)
    if args.only != "feed":
        big_journal(args.entries)


if __name__ == "__main__":
    main()
