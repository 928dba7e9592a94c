"""Pipelined requests (HTTP/1.1, several in one TCP write) when one of them is malformed.

RFC 9112 §9.3.2: a server answers pipelined requests in the order they came. A
malformed request is answered 400 and the connection closed; the valid requests
before it in the same write are still answered and journaled, in order.
"""

from __future__ import annotations

import re

import pytest

from mockserver import MockServer

from .test_ms_hardening import exchange

GOOD = b"GET /a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
POST = b"POST /a HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello"
CHUNKED = (
    b"POST /a HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"3\r\nabc\r\n0\r\n\r\n"
)
BAD = b"GET /bad\x01 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def statuses(answer: bytes) -> list[int]:
    return [int(code) for code in re.findall(rb"^HTTP/1\.[01] (\d{3}) ", answer, re.MULTILINE)]


@pytest.mark.parametrize(
    "valid",
    [
        pytest.param([GOOD], id="one"),
        pytest.param([GOOD, GOOD, GOOD], id="three"),
        pytest.param([POST, GOOD], id="with-a-body"),
        pytest.param([CHUNKED, POST], id="chunked"),
        pytest.param([GOOD] * 40, id="more-than-aiohttps-queue"),
        pytest.param([GOOD] * 1000, id="over-many-reads"),
    ],
)
async def test_the_valid_requests_before_a_malformed_one_are_answered_in_order(
    valid: list[bytes],
) -> None:
    async with MockServer([{"name": "a", "request": {"path": "/a"}}]) as server:
        answer = await exchange(server.port, b"".join(valid) + BAD + GOOD)
        assert statuses(answer) == [200] * len(valid) + [400]
        entries = server.requests
        assert [entry.path for entry in entries] == ["/a"] * len(valid) + ["-"]
        assert entries[-1].refused
        assert entries[-1].status == 400
        bodies = [entry.body for entry in entries[:-1]]
        expected = [b"hello" if r is POST else b"abc" if r is CHUNKED else b"" for r in valid]
        assert bodies == expected


async def test_a_malformed_request_alone_is_still_400_and_closed() -> None:
    async with MockServer() as server:
        answer = await exchange(server.port, BAD)
        assert statuses(answer) == [400]
        (entry,) = server.requests
        assert entry.refused


async def test_valid_pipelined_requests_are_all_answered() -> None:
    async with MockServer([{"name": "a", "request": {"path": "/a"}}]) as server:
        close = b"GET /a HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        answer = await exchange(server.port, GOOD * 50 + POST + close)
        assert statuses(answer) == [200] * 52
        assert len(server.requests) == 52


async def test_a_request_split_across_writes_after_pipelined_ones_is_answered() -> None:
    import asyncio

    async with MockServer([{"name": "a", "request": {"path": "/a"}}]) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            writer.write(GOOD + GOOD + b"GET /a HT")
            await writer.drain()
            await asyncio.sleep(0.05)  # not a timing assert: the split is the point
            writer.write(b"TP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            answer = await asyncio.wait_for(reader.read(), 30)
        finally:
            writer.close()
        assert statuses(answer) == [200, 200, 200]
