"""Requests pipelined after an upgrade offer the server does not take (``Upgrade: h2c``).

aiohttp's C parser stopped at the end of such a request and dropped the bytes after
it: the pipelined requests were never answered, and the connection hung until the
header timeout. RFC 9110 §7.8 lets a server ignore an upgrade offer (RFC 9113 §3.1
retired h2c): the offer is answered as HTTP/1.1, and the requests after it in turn.
"""

from __future__ import annotations

import asyncio

import pytest

from mockserver import MockServer

from .test_ms_hardening import exchange
from .test_ms_probe2_pipelining import statuses

H2C = (
    b"GET /a HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, HTTP2-Settings\r\n"
    b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n"
)
H2C_POST = (
    b"POST /a HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, HTTP2-Settings\r\n"
    b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nContent-Length: 11\r\n\r\n"
    b"hello\r\nGET "
)
GOOD = b"GET /a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
LAST = b"GET /a HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
STUBS = [{"request": {"path": "/a"}}]


@pytest.mark.parametrize(
    "first",
    [
        pytest.param([H2C], id="h2c"),
        pytest.param([H2C_POST], id="h2c-with-a-body"),
        pytest.param([GOOD, H2C, GOOD], id="between-others"),
        pytest.param([H2C.replace(b"Upgrade", b"UPGRADE")], id="upper-case"),
        pytest.param([H2C.replace(b"h2c", b"TLS/1.2")], id="tls"),
        pytest.param([H2C.replace(b"h2c", b"websocket")], id="websocket"),
        pytest.param([H2C] * 40, id="more-than-aiohttps-queue"),
    ],
)
async def test_the_requests_after_a_declined_upgrade_are_answered_in_order(
    first: list[bytes],
) -> None:
    async with MockServer(STUBS) as server:
        answer = await exchange(server.port, b"".join(first) + GOOD + LAST)
        assert statuses(answer) == [200] * (len(first) + 2)
        assert len(server.requests) == len(first) + 2
        assert b"101" not in answer.split(b"\r\n", 1)[0]


async def test_a_body_of_an_upgrade_offer_is_kept_whole() -> None:
    async with MockServer(STUBS) as server:
        await exchange(server.port, H2C_POST + GOOD + LAST)
        assert server.requests[0].body == b"hello\r\nGET "
        assert [entry.method for entry in server.requests] == ["POST", "GET", "GET"]


async def test_the_word_in_a_body_changes_nothing() -> None:
    body = b"Connection: Upgrade\r\nUpgrade: h2c\r\n\r\n" * 3
    post = b"POST /a HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n" % len(body)
    async with MockServer(STUBS) as server:
        answer = await exchange(server.port, post + body + GOOD + LAST)
        assert statuses(answer) == [200, 200, 200]
        assert server.requests[0].body == body


async def test_an_offer_split_between_reads_is_answered() -> None:
    async with MockServer(STUBS) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            cut = H2C.index(b"grade: h2c")
            writer.write(H2C[:cut])
            await writer.drain()
            await asyncio.sleep(0.05)  # a second read, most likely; either way it must pass
            writer.write(H2C[cut:] + GOOD + LAST)
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(), 30)
        finally:
            writer.close()
        assert statuses(answer) == [200, 200, 200]


@pytest.mark.parametrize(
    "offer",
    [
        pytest.param(H2C.replace(b"Upgrade", b"uPgRaDe"), id="a-spelling-not-looked-for"),
        pytest.param(
            H2C.replace(
                b"\r\n\r\n", b"\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
            ),
            id="chunked-body",
        ),
    ],
)
async def test_an_offer_whose_end_is_not_known_is_answered_and_the_connection_closed(
    offer: bytes,
) -> None:
    # The requests after it may have been lost in the parser: the client is told at once
    # (the connection closes after the answer) instead of waiting for the header timeout.
    async with MockServer(STUBS) as server:
        answer = await exchange(server.port, offer + GOOD + LAST)
        assert statuses(answer)[0] == 200
        assert b"Connection: close" in answer.split(b"\r\n\r\n", 1)[0]
        assert server.requests[0].path == "/a"
