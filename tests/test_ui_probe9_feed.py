"""The dashboard's live feed (a ninth probe): it takes the admin API's door, its watchers
are bounded, and a watcher that does not read is dropped instead of buffered without end.

Real server, real sockets. A watcher that does not read is a socket that never calls
``recv``; the feed's clock is set to 0 (``dashboard.tick``), so each turn of the event
loop is one look at the journal, and the tests wait on conditions, never on time.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mockserver import MockServer
from mockserver.ui import UI_PREFIX
from mockserver.ui.feed import (
    FEED_MESSAGE_BYTES,
    FEED_PENDING_BYTES,
    FEED_PENDING_MESSAGES,
    MAX_WATCHERS,
)
from tests.journal_rows import arrive

EVENTS = UI_PREFIX + "api/events"


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer() as running:
        yield running


async def _first_event(stream: httpx.Response) -> str:
    async for line in stream.aiter_lines():
        if line.startswith("event: "):
            return line.removeprefix("event: ")
    return ""


# --- 1. the feed takes the admin API's door -----------------------------------------


FOREIGN = [
    pytest.param({"Origin": "http://evil.example"}, id="foreign-origin"),
    pytest.param({"Origin": "null"}, id="null-origin"),
    pytest.param({"Host": "evil.example"}, id="rebinding-host"),
    pytest.param({"Host": "evil.example:{port}"}, id="rebinding-host-with-port"),
    pytest.param({"Sec-Fetch-Site": "cross-site"}, id="sec-fetch-site-cross-site"),
    pytest.param({"Sec-Fetch-Site": "same-site"}, id="sec-fetch-site-same-site"),
    pytest.param({"Referer": "http://evil.example/page"}, id="foreign-referer"),
    pytest.param({"Origin": "http://127.0.0.1:1"}, id="another-local-port"),
]


@pytest.mark.parametrize("headers", FOREIGN)
async def test_a_cross_origin_watcher_is_refused(
    server: MockServer, headers: dict[str, str]
) -> None:
    sent = {name: value.format(port=server.port) for name, value in headers.items()}
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        answer = await client.get(EVENTS, headers=sent | {"Accept": "text/event-stream"})
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "refused" in answer.json()["title"]
    assert server.dashboard.watchers == 0


async def test_a_same_origin_watcher_is_fed(server: MockServer) -> None:
    headers = {
        "Origin": server.url,
        "Referer": server.url + UI_PREFIX,
        "Sec-Fetch-Site": "same-origin",
        "Accept": "text/event-stream",
    }
    async with (
        asyncio.timeout(60),
        httpx.AsyncClient(base_url=server.url, timeout=30) as client,
        client.stream("GET", EVENTS, headers=headers) as stream,
    ):
        assert stream.status_code == 200
        assert await _first_event(stream) == "hello"


async def test_with_a_token_the_feed_needs_it_from_anywhere(server: MockServer) -> None:
    server.admin_token = "s3cret"
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        assert (await client.get(EVENTS)).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert (await client.get(EVENTS, headers=wrong)).status_code == 401
        remote = {"Authorization": "Bearer s3cret", "Host": "mock.ci.internal"}
        async with asyncio.timeout(60), client.stream("GET", EVENTS, headers=remote) as stream:
            assert stream.status_code == 200
            assert await _first_event(stream) == "hello"


# --- 2. how many watchers, and what each may leave waiting ------------------------


async def test_one_watcher_past_the_bound_is_refused_503_and_the_open_ones_stay(
    server: MockServer,
) -> None:
    limits = httpx.Limits(max_connections=MAX_WATCHERS + 2)
    async with (
        asyncio.timeout(60),
        httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as client,
    ):
        streams = []
        try:
            for _ in range(MAX_WATCHERS):
                stream = await client.send(client.build_request("GET", EVENTS), stream=True)
                streams.append(stream)
                assert await _first_event(stream) == "hello"
            assert server.dashboard.watchers == MAX_WATCHERS
            refused = await client.get(EVENTS)
            assert refused.status_code == 503
            assert refused.headers["retry-after"] == "1"
            assert f"at most {MAX_WATCHERS} live feeds" in refused.json()["detail"]
            assert server.dashboard.watchers == MAX_WATCHERS  # none of them was pushed out
            await streams.pop().aclose()  # a tab closed: its place is free at the next look
            while server.dashboard.watchers == MAX_WATCHERS:
                await asyncio.sleep(0.01)
            stream = await client.send(client.build_request("GET", EVENTS), stream=True)
            streams.append(stream)
            assert stream.status_code == 200
            assert await _first_event(stream) == "hello"
        finally:
            for stream in streams:
                await stream.aclose()


async def _silent_watcher(server: MockServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A watcher that asks for the feed and never reads (a small receive window, so the
    machine's buffers fill soon)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port))
    reader, writer = await asyncio.open_connection(sock=sock)
    writer.write(f"GET {EVENTS} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode())
    await writer.drain()
    while server.dashboard.watchers == 0:
        await asyncio.sleep(0)
    return reader, writer


async def _until_dropped(server: MockServer, path: str, per_look: int) -> int:
    """Journal ``per_look`` requests before each look of the feed until it drops its
    watcher; how many looks that took (a bounded loop: it fails rather than spins)."""
    for looks in range(50_000):
        if server.dashboard.dropped:
            return looks
        arrive(server, path, per_look)
        await asyncio.sleep(0)  # one turn of the loop: the feed looks once
    raise AssertionError("the silent watcher was never dropped")


async def _closed(reader: asyncio.StreamReader) -> bool:
    """Read what the server had sent until the connection ends (it was cut)."""
    try:
        while await reader.read(65536):
            pass
    except ConnectionResetError:
        pass
    return True


async def test_a_watcher_that_does_not_read_is_dropped_past_the_byte_bound(
    server: MockServer,
) -> None:
    server.dashboard.tick = 0
    reader, writer = await _silent_watcher(server)
    try:
        # Rows of 2000 four-byte characters: every message is as big as one may be.
        await _until_dropped(server, "/" + "\N{GRINNING FACE}" * 1999, per_look=100)
        assert server.dashboard.dropped == 1
        assert server.dashboard.last_dropped == f"more than {FEED_PENDING_BYTES} bytes waiting"
        assert server.dashboard.watchers == 0
        async with asyncio.timeout(60):
            assert await _closed(reader)
        assert server.errors == []  # a drop is no error of the system under test
    finally:
        writer.close()
    # Its place is free: a page that reads is fed as before, and the overview says so.
    async with (
        asyncio.timeout(60),
        httpx.AsyncClient(base_url=server.url, timeout=30) as client,
    ):
        async with client.stream("GET", EVENTS) as stream:
            assert await _first_event(stream) == "hello"
        overview = (await client.get(UI_PREFIX + "api/overview")).json()
    assert overview["feeds"]["max"] == MAX_WATCHERS
    assert overview["feeds"]["dropped"] == 1


async def test_a_watcher_that_does_not_read_is_dropped_past_the_message_bound(
    server: MockServer,
) -> None:
    server.dashboard.tick = 0
    reader, writer = await _silent_watcher(server)
    try:
        # Small messages: the machine's buffers take hundreds, then the queue fills by count.
        await _until_dropped(server, "/small", per_look=1)
        why = server.dashboard.last_dropped
        assert why == f"more than {FEED_PENDING_MESSAGES} messages waiting"
        assert server.dashboard.watchers == 0
        async with asyncio.timeout(60):
            assert await _closed(reader)
    finally:
        writer.close()
    assert server.dashboard.dropped == 1


async def test_a_message_carries_the_newest_rows_that_fit_its_byte_bound(
    server: MockServer,
) -> None:
    got: dict[str, Any] = {}
    size = 0
    async with (
        asyncio.timeout(60),
        httpx.AsyncClient(base_url=server.url, timeout=30) as client,
        client.stream("GET", EVENTS) as stream,
    ):
        name = ""
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            if not line.startswith("data: "):
                continue
            if name == "hello":
                for number in range(100):  # 8 000 bytes of URL each: 800 kB in all
                    arrive(server, f"/{number:03}/" + "\N{GRINNING FACE}" * 1995)
            elif name == "rows":
                size = len(f"event: rows\n{line}\n\n".encode())
                got = json.loads(line.removeprefix("data: "))
                break
    assert size <= FEED_MESSAGE_BYTES
    shown = [row["seq"] for row in got["rows"]]
    assert 0 < len(shown) < 100
    assert shown == list(range(100, 100 - len(shown), -1))  # the newest, newest first
    assert got["skipped"] == 100 - len(shown)
    assert got["total"] == 100
