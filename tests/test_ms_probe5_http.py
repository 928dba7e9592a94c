"""HTTP edges on a real socket (the sixth probe): framing, connections, codings."""

from __future__ import annotations

import pytest

from mockserver import MockServer

from .test_ms_hardening import body_of, exchange, status_of

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
