"""How the mock server's costs grow with the number of stubs (issue 10), in one run.

    python bench/bench_scale.py [--stubs 10000] [--repeat 2000]

1. Bulk changes through the admin API, against a server in its own process
   (pinned to core 1, the client on core 0): N stubs added in one
   ``POST /__admin/stubs``, removed in one ``POST /__admin/stubs/remove``, and
   the same for N/10, while a second connection asks ``GET /__admin/health``
   back to back; the slowest health answer during each is printed. Also the
   start from a file of N stubs against an empty one (process start until the
   first health answer).
2. Matching cost, in this process (``StubRegistry.answer`` on a recorded
   request, no HTTP in the way): p50 and p90 for exact, template and regex
   paths, at 10, 100, 1 000 and 10 000 other stubs, with the ratio to 10.
3. The unmatched report (``MockServer.unmatched_report``: near misses scored and
   the text written) at the same sizes, p50 and max.
4. Over HTTP, for scale: p50 of a matched GET at 10 and N template stubs, and of
   an unmatched one (its 404 carries the report).

Figures are wall-clock on whatever machine runs it; the ratios within one run
are what to compare. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from _yardstick import yardstick

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench_mockserver import Server, free_port  # noqa: E402

from mockserver import MockServer  # noqa: E402
from mockserver.journal import RecordedRequest  # noqa: E402
from mockserver.stubs import StubRegistry  # noqa: E402

SIZES = (10, 100, 1_000, 10_000)
AT = datetime(2026, 1, 1, tzinfo=timezone.utc)


def kinds() -> dict[str, tuple[Callable[[int], dict[str, Any]], str]]:
    """Each kind of path: the N other stubs, and the path of the request asked."""
    return {
        "exact": (lambda n: {"path": f"/other/{n}"}, "/other/{target}"),
        "template": (lambda n: {"path": f"/other/{n}/items/{{id}}"}, "/other/{target}/items/42"),
        "regex": (lambda n: {"path_regex": f"/other/{n}/[a-z]+/\\d+"}, "/other/{target}/abc/42"),
    }


def stubs_of(kind: str, count: int) -> list[dict[str, Any]]:
    make, _ = kinds()[kind]
    return [
        {"request": {"method": "GET", **make(n)}, "response": {"json": {"n": n}}}
        for n in range(count)
    ]


def request(path: str, method: str = "GET") -> RecordedRequest:
    return RecordedRequest(1, method, path, "", (("Host", "bench"),), b"", AT)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(call: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter_ns()
        call()
        out.append((time.perf_counter_ns() - start) / 1000)
    return out


# --- 1. bulk changes through the admin API ------------------------------------------


class HealthWatch(threading.Thread):
    """Asks /__admin/health back to back on its own connection; keeps each latency."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.latencies: list[float] = []
        self.marks: list[tuple[float, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self.stop.is_set():
            start = time.perf_counter()
            connection.request("GET", "/__admin/health")
            connection.getresponse().read()
            end = time.perf_counter()
            self.marks.append((start, end))
            time.sleep(0.002)

    def worst_between(self, start: float, end: float) -> tuple[float, int]:
        inside = [(b - a) * 1000 for a, b in self.marks if b >= start and a <= end]
        return (max(inside) if inside else float("nan")), len(inside)


def post(port: int, path: str, body: Any) -> tuple[int, bytes, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    data = json.dumps(body).encode()
    start = time.perf_counter()
    connection.request("POST", path, data, {"Content-Type": "application/json"})
    response = connection.getresponse()
    payload = response.read()
    return response.status, payload, time.perf_counter() - start


def mockserver_process(port: int, stubs: Path | None = None) -> Server:
    command = [sys.executable, "-m", "mockserver", "--port", str(port), "--quiet"]
    if stubs is not None:
        command += ["--stubs", str(stubs)]
    return Server("mockserver", command, f"http://127.0.0.1:{port}", "/__admin/health")


def bulk(count: int) -> None:
    print(f"1. bulk changes through the admin API (server in its own process), {count} stubs")
    print(f"{'stubs':>8}{'add':>10}{'health max':>12}{'remove':>10}{'health max':>12}{'asked':>7}")
    for size in (count // 10, count):
        port = free_port()
        with mockserver_process(port):
            watch = HealthWatch(port)
            watch.start()
            time.sleep(0.2)
            start = time.perf_counter()
            status, payload, took_add = post(port, "/__admin/stubs", stubs_of("template", size))
            assert status == 201, payload[:300]
            ids = [stub["id"] for stub in json.loads(payload)["stubs"]]
            worst_add, asked_add = watch.worst_between(start, time.perf_counter())
            time.sleep(0.2)
            start = time.perf_counter()
            status, payload, took_remove = post(port, "/__admin/stubs/remove", {"ids": ids})
            assert status == 200, payload[:300]
            worst_remove, asked_remove = watch.worst_between(start, time.perf_counter())
            watch.stop.set()
            watch.join()
        print(
            f"{size:>8}{took_add * 1000:>8.0f}ms{worst_add:>10.1f}ms"
            f"{took_remove * 1000:>8.0f}ms{worst_remove:>10.1f}ms{asked_add + asked_remove:>7}"
        )
    directory = Path(tempfile.mkdtemp())
    empty, full = directory / "empty.json", directory / "full.json"
    empty.write_text("[]")
    full.write_text(json.dumps(stubs_of("template", count)))
    starts = {}
    for name, path in (("empty file", empty), (f"{count} stubs", full)):
        port = free_port()
        start = time.perf_counter()
        with mockserver_process(port, path):
            starts[name] = time.perf_counter() - start
    line = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in starts.items())
    print(f"  start until the first health answer: {line}")
    print()


# --- 2. and 3. matching and the unmatched report, in process ----------------------


def matching(repeat: int) -> None:
    print("2. matching p50/p90 (StubRegistry.answer, in process), microseconds")
    print(f"{'stubs':>8}" + "".join(f"{kind + ' p50':>14}{'p90':>7}" for kind in kinds()))
    base: dict[str, float] = {}
    ratios: dict[str, list[float]] = {kind: [] for kind in kinds()}
    for size in SIZES:
        row = f"{size:>8}"
        for kind, (_, path) in kinds().items():
            registry = StubRegistry()
            registry.add_many(stubs_of(kind, size))
            asked = request(path.format(target=size // 2))
            assert registry.answer(asked) is not None
            samples = timed(lambda r=registry, q=asked: r.answer(q), repeat)
            p50 = statistics.median(samples)
            base.setdefault(kind, p50)
            ratios[kind].append(p50 / base[kind])
            row += f"{p50:>14.1f}{percentile(samples, 0.9):>7.1f}"
        print(row)
    print(
        "  p50 at 10 000 over p50 at 10: "
        + ", ".join(f"{kind} {values[-1]:.2f}x" for kind, values in ratios.items())
    )
    print()


def report(repeat: int) -> None:
    print("3. the unmatched report (near misses scored and written, in process), ms")
    print(f"{'stubs':>8}" + "".join(f"{kind + ' p50':>14}{'max':>7}" for kind in kinds()))
    for size in SIZES:
        row = f"{size:>8}"
        for kind, (_, path) in kinds().items():
            server = MockServer(stubs_of(kind, size))
            # A near miss: the right path with the wrong method, and a typo'd one.
            asked = [request(path.format(target=size // 2), "POST"), request("/othr/1/x")]
            samples = [
                s / 1000
                for q in asked
                for s in timed(lambda q=q, m=server: m.unmatched_report(q), max(repeat // 20, 20))
            ]
            row += f"{statistics.median(samples):>14.2f}{max(samples):>7.2f}"
        print(row)
    print()


# --- 4. over HTTP ------------------------------------------------------------------


def http_p50(port: int, path: str, repeat: int) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter_ns()
        connection.request("GET", path)
        connection.getresponse().read()
        samples.append((time.perf_counter_ns() - start) / 1000)
    return statistics.median(samples)


def over_http(count: int, repeat: int) -> None:
    print("4. over HTTP (server in its own process, one keep-alive connection), p50 in µs")
    print(f"{'stubs':>8}{'matched GET':>14}{'unmatched GET':>16}")
    directory = Path(tempfile.mkdtemp())
    for size in (10, count):
        path = directory / f"t{size}.json"
        path.write_text(json.dumps(stubs_of("template", size)))
        port = free_port()
        with mockserver_process(port, path):
            matched = http_p50(port, f"/other/{size // 2}/items/1", repeat)
            unmatched = http_p50(port, f"/othr/{size // 2}/items/1", max(repeat // 10, 50))
        print(f"{size:>8}{matched:>14.0f}{unmatched:>16.0f}")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stubs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2_000)
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()
    print(yardstick(), flush=True)
    matching(args.repeat)
    report(args.repeat)
    if not args.skip_http:
        bulk(args.stubs)
        over_http(args.stubs, args.repeat)


if __name__ == "__main__":
    main()
