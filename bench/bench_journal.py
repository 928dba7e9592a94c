"""What each journal operation costs, against the bare Python it is built on, in one run.

    python bench/bench_journal.py [--entries 100000]

- recording a request (``RecordedRequest.received``) against building the same
  dataclass directly;
- ``Journal.add`` with the count cap reached against ``deque(maxlen=...).append``;
- ``entries()`` of 10 000 entries against ``list(deque)``;
- one entry's admin JSON (``to_json``);
- ``add`` of a 50 MiB body (cut to the per-entry cap, hashed) against ``hashlib.sha256``;
- memory kept after six 50 MiB bodies;
- ``GET /__admin/requests`` of a full 128 MiB journal over a real socket: time and the
  peak of Python allocations while it streams.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import time
import tracemalloc
from collections import deque
from collections.abc import Callable
from datetime import datetime, timezone

from mockserver import MockServer
from mockserver.journal import Journal, RecordedRequest

HEADERS = [("Host", "127.0.0.1:8080"), ("Content-Type", "application/json"), ("User-Agent", "x")]
NOW = datetime.now(timezone.utc)


def record(seq: int, body: bytes = b'{"a":1}') -> RecordedRequest:
    return RecordedRequest.received(seq, "POST", "/crm/lead", "a=1", HEADERS, body, NOW)


def per_call(func: Callable[[], object], count: int) -> float:
    """Microseconds per call, best of three runs."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(count):
            func()
        best = min(best, time.perf_counter() - start)
    return best / count * 1e6


def line(what: str, ours: float, base: float, unit: str = "us") -> None:
    print(f"{what:<58} {ours:>10.2f} {unit}  {base:>10.2f} {unit}  {ours / base:>6.2f}x")


async def read_full_journal() -> None:
    async with MockServer() as server:
        import httpx

        async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
            for _ in range(200):
                await client.post("/mid", content=b"z" * (1024 * 1024))
            held = server.journal.bytes / 2**20
            tracemalloc.start()
            start = time.perf_counter()
            sent = 0
            async with client.stream("GET", "/__admin/requests") as response:
                async for chunk in response.aiter_bytes():
                    sent += len(chunk)
            took = time.perf_counter() - start
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    print(
        f"GET /__admin/requests of {held:.0f} MiB held ({len(server.journal)} entries): "
        f"{sent / 2**20:.0f} MiB in {took:.2f} s, peak {peak / 2**20:.1f} MiB allocated"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    count = parser.parse_args().entries
    print(f"{'operation':<58} {'journal':>13}  {'baseline':>13}  ratio")

    def direct() -> RecordedRequest:
        return RecordedRequest(1, "POST", "/crm/lead", "a=1", tuple(HEADERS), b'{"a":1}', NOW)

    line(
        "record a request (received / the dataclass)",
        per_call(lambda: record(1), count),
        per_call(direct, count),
    )

    made = [record(seq) for seq in range(count)]
    journal = Journal(10_000)
    for entry in made[:10_000]:
        journal.add(entry)
    pending = iter(made * 3)
    plain: deque[RecordedRequest] = deque(made[:10_000], maxlen=10_000)
    plain_pending = iter(made * 3)
    line(
        "Journal.add, cap reached (/ deque.append)",
        per_call(lambda: journal.add(next(pending)), count),
        per_call(lambda: plain.append(next(plain_pending)), count),
    )
    line(
        "entries() of 10 000 (/ list(deque))",
        per_call(journal.entries, 200),
        per_call(lambda: list(plain), 200),
    )
    sample = journal.entries()[0]
    line(
        "to_json of one entry (/ a dict of its fields)",
        per_call(sample.to_json, 20_000),
        per_call(lambda: dict(sample.__dict__), 20_000),
    )

    big = b"x" * (50 * 1024 * 1024)
    line(
        "add a 50 MiB body: cut and hashed (/ sha256 alone)",
        per_call(lambda: Journal().add(record(1, big)), 3) / 1000,
        per_call(lambda: hashlib.sha256(big).hexdigest(), 3) / 1000,
        "ms",
    )

    tracemalloc.start()
    kept = Journal()
    for seq in range(6):
        kept.add(record(seq, bytes(50 * 1024 * 1024)))
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"six 50 MiB bodies: the journal holds {kept.bytes / 2**20:.1f} MiB "
        f"({current / 2**20:.1f} MiB allocated after)"
    )
    asyncio.run(read_full_journal())


if __name__ == "__main__":
    main()
