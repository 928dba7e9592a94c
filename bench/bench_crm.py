"""The fake Bitrix24's ``crm.lead.add`` against a bare aiohttp handler doing the same SQLite
insert with the same durability, and one account's latency while another runs batches.

    python bench/bench_crm.py [--seconds 5]

1. Throughput (wrk, one thread, 32 connections, pinned to core 0; the server pinned to
   core 1): ``POST /rest/1/s/crm.lead.add.json`` with a JSON lead (title, a phone).
   - bare aiohttp: parse the JSON, INSERT the record, COMMIT (WAL, ``synchronous=FULL``:
     fsynced before the answer), answer ``{"result": id}``;
   - the mock server (as ``--crm bitrix24 --crm amocrm --data DIR`` builds it, plan
     unlimited): the same request
     through the fake portal, durable before the answer too (group commit on its worker
     thread).
2. Fairness: the same mock server also runs a fake amoCRM account (its own rate limit
   lifted, so the probe measures waiting, not 429s); the p99 latency of
   sequential ``GET /amocrm/example/api/v4/leads`` calls is measured idle, then while one
   client sends Bitrix24 ``batch`` calls of 50 ``crm.lead.add`` back to back, each one
   written durably.

Prints each figure and its ratio to the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench_mockserver import HERE, Server, free_port, pinned

LEAD = json.dumps({"fields": {"TITLE": "bench", "PHONE": [{"VALUE": "+79990001122"}]}})
BATCH = json.dumps(
    {"cmd": {f"c{n}": f"crm.lead.add?fields[TITLE]=batch+{n}" for n in range(50)}, "halt": 0}
)


def serve_bare(port: int, folder: str) -> None:
    """The baseline: one handler, one INSERT and COMMIT per request, on the event loop."""
    from aiohttp import web

    db = sqlite3.connect(Path(folder) / "bare.sqlite", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE IF NOT EXISTS records (entity TEXT, id INTEGER, body TEXT)")
    counter = [0]

    async def add(request: web.Request) -> web.Response:
        data = await request.json()
        counter[0] += 1
        record = {"ID": str(counter[0]), **data["fields"]}
        db.execute("BEGIN")
        db.execute("INSERT INTO records VALUES (?, ?, ?)", ("lead", counter[0], json.dumps(record)))
        db.execute("COMMIT")
        return web.json_response({"result": counter[0], "time": {}})

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/rest/1/s/crm.lead.add.json", add)
    app.router.add_get("/__admin/health", health)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def serve_fake(port: int, folder: str) -> None:
    """The mock server as the CLI builds it, with an amoCRM account whose own rate limit
    is lifted (so the probe measures waiting, not 429s)."""
    import asyncio

    from mockserver import MockServer
    from mockserver.crm import AmoCRM, Bitrix24

    async def run() -> None:
        async with MockServer(port=port) as server:
            server.mount(Bitrix24(secret="s", plan="unlimited", data=Path(folder) / "fake"))
            amo = server.mount(
                AmoCRM(per_integration=10**9, per_account=10**9, data=Path(folder) / "fake")
            )
            (Path(folder) / "token").write_text(amo.issue_token("bench"))
            await asyncio.Event().wait()

    asyncio.run(run())


def wrk_post(url: str, body: str, seconds: float, connections: int = 32) -> tuple[float, int]:
    script = Path(tempfile.mkdtemp()) / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(body)}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
    )
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", str(script)]
    output = subprocess.run(
        pinned([*command, url], 0), capture_output=True, text=True, check=True
    ).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    assert rate, output
    return float(rate.group(1)), int(bad.group(1)) if bad else 0


def latencies(port: int, path: str, headers: dict[str, str], count: int) -> list[float]:
    """Sequential GETs on one keep-alive connection; seconds each."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    out = []
    for _ in range(count):
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        out.append(time.perf_counter() - started)
        assert response.status in (200, 204), response.status
    connection.close()
    return out


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def batch_load(port: int, stop: threading.Event, done: list[int]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while not stop.is_set():
        connection.request(
            "POST", "/rest/1/s/batch.json", body=BATCH, headers={"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
        done[0] += 1
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        bare = Server(
            "bare aiohttp + sqlite",
            [sys.executable, __file__, "--serve-bare", str(port), folder],
            f"http://127.0.0.1:{port}",
            "/__admin/health",
        )
        with bare:
            wrk_post(bare.base + "/rest/1/s/crm.lead.add.json", LEAD, 1)
            base_rate, base_bad = wrk_post(
                bare.base + "/rest/1/s/crm.lead.add.json", LEAD, args.seconds
            )
        port = free_port()
        fake = Server(
            "mockserver: fake Bitrix24 + amoCRM",
            [sys.executable, __file__, "--serve-fake", str(port), folder],
            f"http://127.0.0.1:{port}",
            "/__admin/health",
            cwd=HERE.parent,
        )
        with fake:
            wrk_post(fake.base + "/rest/1/s/crm.lead.add.json", LEAD, 1)
            rate, bad = wrk_post(fake.base + "/rest/1/s/crm.lead.add.json", LEAD, args.seconds)
            print("crm.lead.add, durable (fsync before the answer), 32 connections:")
            print(f"  bare aiohttp + sqlite   {base_rate:9.0f}/s  1.00x  ({base_bad} non-2xx)")
            print(
                f"  fake Bitrix24           {rate:9.0f}/s  {rate / base_rate:.2f}x  ({bad} non-2xx)"
            )
            token = (Path(folder) / "token").read_text()
            headers = {"Authorization": f"Bearer {token}"}
            path = "/amocrm/example/api/v4/leads"
            count = max(200, int(args.seconds * 100))
            latencies(port, path, headers, 50)
            idle = p99(latencies(port, path, headers, count))
            stop, done = threading.Event(), [0]
            loader = threading.Thread(target=batch_load, args=(port, stop, done))
            loader.start()
            time.sleep(0.5)
            loaded = p99(latencies(port, path, headers, count))
            stop.set()
            loader.join(60)
            print(f"amoCRM GET /leads p99, {count} sequential calls:")
            print(f"  idle                    {idle * 1000:9.2f} ms  1.00x")
            print(
                f"  during Bitrix24 batches {loaded * 1000:9.2f} ms  {loaded / idle:.2f}x"
                f"  ({done[0]} batches of 50 adds meanwhile)"
            )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve-bare":
        serve_bare(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "--serve-fake":
        serve_fake(int(sys.argv[2]), sys.argv[3])
    else:
        os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "")
        main()
