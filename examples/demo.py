"""A real webhook, end to end: a bot flow sends a subscriber's data to a local server.

The server fails twice (503, then a dropped connection) and then answers with a
promo code. The flow waits on the documented schedule, on a frozen clock, so
the retries at 5 s and 35 s take no real time; then it saves the answer and
uses ``{result.promo.code}`` in a message. Everything printed is what happened.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone

from aiohttp import web
from freezegun import freeze_time

from webhook_core import (
    Flow,
    FlowRuntime,
    HttpxSender,
    Message,
    Subscriber,
    Webhook,
    WebhookAction,
)

START = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)


async def far_side(request: web.Request) -> web.StreamResponse:
    calls = request.app["calls"]
    calls.append((request.method, request.path_qs, await request.text()))
    if len(calls) == 1:
        return web.Response(status=503, text="busy")
    if len(calls) == 2:
        assert request.transport is not None
        request.transport.close()  # a dropped connection
        return web.Response()
    return web.json_response({"promo": {"code": "ABC", "percent": 15}})


async def main() -> None:
    app = web.Application()
    app["calls"] = []
    app.router.add_post("/crm/lead", far_side)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/crm/lead"

    flow = Flow(
        [
            Webhook(
                WebhookAction(
                    url,
                    "POST",
                    headers=[("X-Bot", "{bot_id}")],
                    params=[("user.name", "{first_name}"), ("user.phone", "{phone}")],
                    save_to="result",
                )
            ),
            Message("{first_name}, your code is {result.promo.code} (-{result.promo.percent}%)"),
        ],
        bot_id="demo-bot",
    )
    subscriber = Subscriber(user_id="1", first_name="Анна", phone="+7 900 000-00-00")
    began = time.perf_counter()
    async with HttpxSender() as sender:
        runtime = FlowRuntime(sender)
        with freeze_time(START, real_asyncio=True) as clock:
            run = await runtime.start(flow, subscriber)
            while (due := runtime.next_due()) is not None:
                clock.move_to(due)
                await runtime.run_due()
    await runner.cleanup()

    print(f"POST {url}")
    for attempt in run.attempts:
        offset = attempt.started_at - START
        outcome = attempt.outcome
        result = f"{outcome.status}" if outcome.ok else f"failed: {outcome.error}"
        print(f"  attempt {attempt.number} at +{offset}  {result}")
    print(f"far side received: {app['calls'][-1][2]}")
    print(f"saved result: {run.variables['result']}")
    for message in run.messages:
        print(f"message: {message.text}")
    print(f"flow: {run.state.value}; real time {1000 * (time.perf_counter() - began):.0f} ms")


if __name__ == "__main__":
    asyncio.run(main())
