"""Redirects on a real socket, every status and method (the unit tests in
``tests/test_sender.py`` use respx): 307 and 308 resend the method, the body and its
``Content-Type``; 303, and 301/302 after a POST (JSON POST included), become a GET with
no body and no body headers; 301/302 keep PUT, PATCH and DELETE, as httpx, requests and
browsers (the Fetch standard) do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web

from tests.farside import Received
from webhook_core import HttpxSender, Method, WebhookAction, prepare_request


@asynccontextmanager
async def _redirecting(status: int) -> AsyncIterator[tuple[str, list[Received]]]:
    received: list[Received] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        received.append(
            Received(
                request.method,
                request.path,
                request.query_string,
                dict(request.headers),
                await request.read(),
                request.raw_headers,
            )
        )
        if request.path == "/a":
            return web.Response(status=status, headers={"Location": "/b"})
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/a", received
    finally:
        await runner.cleanup()


KEEPS = {307, 308}


def _after(status: int, method: Method) -> str:
    wire = method.http_method
    if status == 303 or (status in (301, 302) and wire == "POST"):
        return "GET"
    return wire


@pytest.mark.rule("C9")
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize(
    "method",
    [Method.POST, Method.JSON_POST, Method.PUT, Method.PATCH, Method.DELETE],
    ids=lambda method: method.name,
)
async def test_a_redirect_keeps_or_drops_the_method_and_body(status: int, method: Method) -> None:
    async with _redirecting(status) as (url, received):
        action = WebhookAction(url, method, params=[("name", "Анна")])
        prepared = prepare_request(action, {})
        async with HttpxSender(timeout=30) as sender:
            outcome = await sender.send_prepared(prepared)
    assert outcome.ok, outcome
    assert outcome.value == {"ok": True}
    first, second = received
    assert first.body == prepared.body
    assert second.path == "/b"
    assert second.method == _after(status, method)
    if second.method == first.method:
        assert second.body == first.body
        assert second.headers["Content-Type"] == first.headers["Content-Type"]
        assert second.headers["Content-Length"] == str(len(first.body))
    else:
        assert second.body == b""
        assert "Content-Type" not in second.headers
        assert second.headers.get("Content-Length", "0") == "0"
