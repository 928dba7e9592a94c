"""The fake amoCRM's cost per call, as ratios against its cheapest call in the same run.

    python bench/bench_amocrm.py [--leads 1000,10000] [--seconds 2]

One client, sequential requests over real HTTP (httpx, keep-alive) to an
in-process mock server on 127.0.0.1. For each account size: ``GET /leads/1``
(the baseline: auth, rate limit, routing, one record), a 50-lead page, a page
filtered by a price range, the same ordered by ``updated_at`` descending, a
``query`` search, one ``POST /leads`` of one lead, and a refresh at
``/oauth2/access_token``. Lists read every lead of the account (filter, then
sort), so their cost grows with it; the baseline does not.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx

from mockserver import MockServer
from mockserver.crm import AmoCRM


async def rate(call: Callable[[], Awaitable[httpx.Response]], seconds: float) -> float:
    for _ in range(20):
        await call()
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        answer = await call()
        assert answer.status_code in (200, 204), answer.text
        done += 1
    return done / (time.perf_counter() - start)


async def main(sizes: list[int], seconds: float) -> None:
    print(f"{'leads':>7} {'call':<34} {'req/s':>9} {'vs GET one':>10}")
    for size in sizes:
        await one_size(size, seconds)


async def one_size(size: int, seconds: float) -> None:
    async with MockServer() as server:
        amo = server.mount(AmoCRM(per_integration=10**9, per_account=10**9))
        app = amo.add_integration("bench", redirect_uri="https://b.example/")
        base = f"{server.url}/amocrm/example"
        async with httpx.AsyncClient(base_url=base) as client:
            body = {
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "redirect_uri": app.redirect_uri,
                "grant_type": "authorization_code",
                "code": amo.authorization_code(app.client_id),
            }
            tokens = (await client.post("/oauth2/access_token", json=body)).json()
            client.headers["Authorization"] = f"Bearer {tokens['access_token']}"
            for start in range(0, size, 250):
                chunk = [
                    {"name": f"lead {n}", "price": n} for n in range(start, min(size, start + 250))
                ]
                await client.post("/api/v4/leads", json=chunk)
            refresh = dict(body, grant_type="refresh_token")
            del refresh["code"]
            state = {"refresh": tokens["refresh_token"]}

            async def refreshed() -> httpx.Response:
                answer = await client.post(
                    "/oauth2/access_token", json={**refresh, "refresh_token": state["refresh"]}
                )
                state["refresh"] = answer.json()["refresh_token"]
                return answer

            calls: list[tuple[str, Callable[[], Awaitable[httpx.Response]]]] = [
                ("GET /leads/1", lambda: client.get("/api/v4/leads/1")),
                (
                    "GET /leads?limit=50",
                    lambda: client.get("/api/v4/leads", params={"limit": 50}),
                ),
                (
                    "GET /leads?filter[price][from,to]",
                    lambda: client.get(
                        "/api/v4/leads",
                        params={"filter[price][from]": size // 2, "filter[price][to]": size},
                    ),
                ),
                (
                    "GET /leads?order[updated_at]=desc",
                    lambda: client.get("/api/v4/leads", params={"order[updated_at]": "desc"}),
                ),
                (
                    "GET /leads?query=lead 7",
                    lambda: client.get("/api/v4/leads", params={"query": "lead 7"}),
                ),
                (
                    "POST /leads (1 lead)",
                    lambda: client.post("/api/v4/leads", json=[{"name": "x"}]),
                ),
                ("POST /oauth2/access_token", refreshed),
            ]
            baseline = None
            for name, call in calls:
                per_second = await rate(call, seconds)
                baseline = baseline or per_second
                print(f"{size:>7} {name:<34} {per_second:>9.0f} {per_second / baseline:>9.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", default="1000,10000")
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    asyncio.run(main([int(n) for n in args.leads.split(",")], args.seconds))
