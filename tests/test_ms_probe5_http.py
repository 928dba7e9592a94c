"""HTTP edges on a real socket (the sixth probe): framing, connections, codings."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mockserver import MockServer

from .test_ms_hardening import LIVENESS, _until, body_of, exchange, status_of

_CHUNKED_HELLO = b"5\r\nhello\r\n0\r\n\r\n"


async def test_transfer_encoding_in_an_http_1_0_request_is_refused_not_read_chunked() -> None:
    # RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing; a
    # proxy in front may have read its body otherwise. aiohttp read it chunked (200).
    async with MockServer([{"request": {"path": "/a"}}]) as server:
        head = b"POST /a HTTP/1.0\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        answer = await exchange(server.port, head + _CHUNKED_HELLO)
        assert status_of(answer) == 400
        assert b"HTTP/1.0" in body_of(answer)
        (entry,) = server.requests
        assert (entry.status, entry.stub_id) == (400, None)
        assert entry.note is not None
        assert "RFC 9112" in entry.note


@pytest.mark.parametrize(
    "coding",
    [
        pytest.param(b"gzip, chunked", id="gzip-then-chunked"),
        pytest.param(b"deflate,chunked", id="no-space"),
        pytest.param(b"identity, chunked", id="identity"),
    ],
)
async def test_a_transfer_coding_other_than_chunked_is_501_not_ignored(coding: bytes) -> None:
    # aiohttp took any list ending in chunked as chunked and dropped the rest: the stub
    # answered 200 and matched on bytes still coded.
    async with MockServer([{"request": {"path": "/a"}}]) as server:
        head = b"POST /a HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: " + coding
        answer = await exchange(server.port, head + b"\r\n\r\n" + _CHUNKED_HELLO)
        assert status_of(answer) == 501
        (entry,) = server.requests
        assert (entry.status, entry.stub_id) == (501, None)
        assert entry.note is not None
        assert "chunked alone" in entry.note


async def test_plain_chunked_with_extensions_and_trailers_is_still_answered() -> None:
    async with MockServer([{"request": {"path": "/a", "body": "hello"}}]) as server:
        head = b"POST /a HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
        body = b'5;ext=1;q="x"\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n'
        answer = await exchange(server.port, head + b"Connection: close\r\n\r\n" + body)
        assert status_of(answer) == 200
        assert server.requests[0].body == b"hello"


_HEALTH = b"GET /__admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def _handlers(server: MockServer) -> list[Any]:
    """The server's connections that are still open."""
    runner = server._runner
    assert runner is not None
    assert runner.server is not None
    return [h for h in runner.server.connections if h.transport is not None]


async def test_idle_connections_past_the_bound_make_room_and_health_still_answers() -> None:
    # aiohttp took connections until the process ran out of file descriptors; then
    # health went unanswered and asyncio logged a traceback on every accept retried.
    async with MockServer(max_connections=4) as server:
        idle = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(4)]
        # Each handler has started waiting for its first request.
        await _until(
            lambda: (
                len(_handlers(server)) == 4
                and all(h._waiter is not None for h in _handlers(server))
            )
        )
        answer = await exchange(server.port, _HEALTH)
        assert status_of(answer) == 200
        # The one that waited longest was closed to let it in; the others are open.
        assert await asyncio.wait_for(idle[0][0].read(), LIVENESS) == b""
        assert len(_handlers(server)) == 3
        for _, writer in idle:
            writer.close()


async def test_past_the_bound_with_every_connection_busy_the_new_one_is_closed() -> None:
    stub = {"request": {"path": "/hold"}, "response": {"delay_ms": 86_400_000}}
    async with MockServer([stub], max_connections=2) as server:
        held = []
        for _ in range(2):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"GET /hold HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            held.append((reader, writer))
        await _until(lambda: server.in_flight == 2)
        answer = await exchange(
            server.port, b"GET /hold HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        assert answer == b""
        assert server.in_flight == 2
        assert len(server.requests) == 2
        for _, writer in held:
            writer.close()


def test_a_connection_bound_that_cannot_work_is_refused() -> None:
    with pytest.raises(ValueError, match="max_connections"):
        MockServer(max_connections=0)
