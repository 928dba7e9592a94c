"""End-to-end deliveries per second of ``webhook_core`` against a raw aiohttp client loop.

Both sides send the same JSON POST (five parameters, two of them nested, one
header) to the same bare aiohttp server, sequentially, in the same run. By
default the server runs in the client's own event loop, as the peers' figures
in ``perf-anchors.md`` were measured; ``--server process`` runs it in a process
of its own (pinned to the other core where ``taskset`` exists), which shows the
client's own cost more starkly. The
webhook side does the whole job each time: render, nest, encode, send, read,
parse the JSON answer and save it into a variable (through ``FlowRuntime``).

    python bench/bench_sender.py [--seconds 3] [--rounds 3] [--server same-loop|process]

Prints requests per second of each and the ratio (issue 2 asks for >= 0.7x).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import httpx
from _echo_server import answer
from aiohttp import web

from webhook_core import Flow, FlowRuntime, HttpxSender, Subscriber, Webhook, WebhookAction

HERE = Path(__file__).parent
PARAMS = [
    ("user.name", "{first_name}"),
    ("user.last_name", "{last_name}"),
    ("phone", "{phone}"),
    ("note", "Hello {first_name}, order {order}"),
    ("tags.0", "vip"),
]
SUBSCRIBER = Subscriber(user_id="42", first_name="Анна", last_name="Lee", phone="+7 900 000-00-00")


async def start_in_loop() -> tuple[web.AppRunner, int]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, runner.addresses[0][1]


def start_server() -> tuple[subprocess.Popen[bytes], int]:
    portfile = Path(tempfile.mkdtemp()) / "port"
    command = [sys.executable, str(HERE / "_echo_server.py"), str(portfile)]
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        command = ["taskset", "-c", "1", *command]
    process = subprocess.Popen(command)
    for _ in range(200):
        if portfile.exists() and portfile.read_text():
            return process, int(portfile.read_text())
        time.sleep(0.02)
    process.kill()
    raise SystemExit("the benchmark server did not start")


async def raw_loop(url: str, seconds: float) -> float:
    """The baseline: a hand-written aiohttp client loop sending the same request.

    It encodes the same payload each time (the bytes are identical to the
    webhook's), posts it, and parses the JSON answer: the least a client does.
    """
    payload = {
        "user": {"name": "Анна", "last_name": "Lee"},
        "phone": "+7 900 000-00-00",
        "note": "Hello Анна, order 17",
        "tags": ["vip"],
    }
    headers = {"Content-Type": "application/json", "X-Token": "secret-42"}
    async with aiohttp.ClientSession() as session:
        count = 0
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
            async with session.post(url, data=body, headers=headers) as response:
                saved = json.loads(await response.read())
                assert saved["promo"]["code"] == "ABC"
            count += 1
        return count / seconds


async def webhook_loop(url: str, seconds: float, client: httpx.AsyncClient | None) -> float:
    action = WebhookAction(
        url,
        "JSON POST",
        headers=[("X-Token", "secret-{user_id}")],
        params=PARAMS,
        save_to="result",
    )
    flow = Flow([Webhook(action)])
    async with HttpxSender(client) as sender:
        runtime = FlowRuntime(sender)
        count = 0
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            run = await runtime.start(flow, SUBSCRIBER, {"order": 17})
            assert run.variables["result"]["promo"]["code"] == "ABC", run
            count += 1
        return count / seconds


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--server", choices=("same-loop", "process"), default="same-loop")
    args = parser.parse_args()
    if args.server == "process":
        process, port = start_server()
        stop = process.terminate
    else:
        runner, port = await start_in_loop()
    url = f"http://127.0.0.1:{port}/hook"
    print(f"server: {args.server}; {args.rounds} rounds of {args.seconds:g} s each, sequential")
    try:
        await raw_loop(url, 0.5)  # warm-up
        results: dict[str, list[float]] = {"raw": [], "webhook": [], "webhook+httpx": []}
        for _ in range(args.rounds):
            results["raw"].append(await raw_loop(url, args.seconds))
            results["webhook"].append(await webhook_loop(url, args.seconds, None))
            results["webhook+httpx"].append(
                await webhook_loop(url, args.seconds, httpx.AsyncClient())
            )
        best = {name: max(values) for name, values in results.items()}
        print(f"{'client':<34}{'req/s (best of ' + str(args.rounds) + ')':>22}{'ratio':>8}")
        labels = {
            "raw": "raw aiohttp client loop (baseline)",
            "webhook": "webhook_core (aiohttp transport)",
            "webhook+httpx": "webhook_core (httpx transport)",
        }
        for name, value in best.items():
            print(f"{labels[name]:<34}{value:>22.0f}{value / best['raw']:>8.2f}x")
    finally:
        if args.server == "process":
            stop()
        else:
            await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
