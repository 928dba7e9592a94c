"""HTTP edges on a real socket (the seventh probe): chunked trailers, bodiless answers."""

from __future__ import annotations

import asyncio
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver import MockServer

from .strategies import fuzz_examples
from .test_ms_hardening import LIVENESS, exchange
from .test_ms_pipelining_reads import _answers

_HEAD = b"POST /a HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
_NEXT = b"GET /b HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
_STUBS = [{"request": {"path": "/a"}}, {"request": {"path": "/b"}}]


def _statuses(answer: bytes) -> list[int]:
    return [int(code) for code in re.findall(rb"^HTTP/1\.[01] (\d{3}) ", answer, re.M)]


async def _in_reads(port: int, reads: list[bytes]) -> bytes:
    """Send each of ``reads`` once the server has answered what came before it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        answer = b""
        for number, data in enumerate(reads):
            writer.write(data)
            await writer.drain()
            if number == 0:
                # The first read ends the chunked request: wait for its answer.
                answer += await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), LIVENESS)
        return answer + await asyncio.wait_for(reader.read(), LIVENESS)
    finally:
        writer.close()


@pytest.mark.parametrize(
    "trailer",
    [
        pytest.param(b"X-Trailer: t\r\n", id="one"),
        pytest.param(b"X-First: 1\r\nAuthorization: Bearer smuggled\r\n", id="two"),
        pytest.param(b"Content-Type: text/html\r\n", id="a-header-the-next-may-have"),
    ],
)
@pytest.mark.parametrize("apart", [False, True], ids=["one-read", "next-read-later"])
async def test_a_trailer_never_becomes_a_header_of_the_next_request(
    trailer: bytes, apart: bool
) -> None:
    # aiohttp's C parser kept the last trailer field pending and added it to the next
    # request's headers: that request was journaled (and matched) with a header it
    # never sent.
    async with MockServer(_STUBS) as server:
        first = _HEAD + b"5\r\nhello\r\n0\r\n" + trailer + b"\r\n"
        if apart:
            answer = await _in_reads(server.port, [first, _NEXT])
        else:
            answer = await exchange(server.port, first + _NEXT)
        entries = server.requests
        assert entries[0].body == b"hello"
        assert entries[0].status == 200
        names = {name.lower() for entry in entries for name, _ in entry.raw_headers}
        assert not names & {"x-trailer", "x-first", "authorization"}
        assert [dict(entry.raw_headers) for entry in entries[1:]] == [
            {"Host": "127.0.0.1", "Connection": "close"}
        ]
        assert _statuses(answer) == [200, 200]


async def test_a_trailer_the_next_request_cannot_have_twice_closes_instead_of_refusing_it() -> None:
    # A trailer ``Host`` made the next request a 400 "Duplicate 'Host' header".
    async with MockServer(_STUBS) as server:
        first = _HEAD + b"5\r\nhello\r\n0\r\nHost: elsewhere\r\n\r\n"
        answer = await _in_reads(server.port, [first, _NEXT])
        assert _statuses(answer) == [200]  # and then the connection closed
        (entry,) = server.requests
        assert (entry.path, entry.body, entry.status) == ("/a", b"hello", 200)


async def test_a_chunked_request_without_trailers_keeps_its_connection() -> None:
    async with MockServer(_STUBS) as server:
        reads = [_HEAD + b"5\r\nhello\r\n", b"0\r\n\r\n", _NEXT]
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            for data in reads:
                writer.write(data)
                await writer.drain()
            answer = await asyncio.wait_for(reader.read(), LIVENESS)
        finally:
            writer.close()
        assert _statuses(answer) == [200, 200]
        assert answer.count(b"Connection: close") == 1  # the last one's, asked for
        assert [entry.path for entry in server.requests] == ["/a", "/b"]


def _chunked(index: int, body: bytes, trailer: bytes) -> bytes:
    chunks = b"%x\r\n%s\r\n" % (len(body), body) if body else b""
    return (
        b"POST /r%d HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n" % index
        + chunks
        + b"0\r\n"
        + trailer
        + b"\r\n"
    )


def _get(index: int) -> bytes:
    return b"GET /r%d HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Own: %d\r\n\r\n" % (index, index)


@settings(
    max_examples=fuzz_examples(100), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    requests=st.lists(
        st.tuples(
            st.booleans(),
            st.binary(max_size=20),
            st.sampled_from([b"", b"X-Trailer: t\r\n", b"X-Own: 99\r\nX-Trailer: t\r\n"]),
        ),
        min_size=1,
        max_size=5,
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=8),
)
def test_trailers_however_the_reads_fall_never_reach_another_request(
    requests: list[tuple[bool, bytes, bytes]], cuts: list[int]
) -> None:
    raw = b"".join(
        _chunked(i, body, trailer) if chunked else _get(i)
        for i, (chunked, body, trailer) in enumerate(requests)
    )
    written, entries = asyncio.run(_answers(raw, cuts, [1], len(requests)))
    # Each request is answered in order; the connection may close after a chunked one
    # (when what follows it cannot be told apart from its trailer), never mid-way.
    assert _statuses(written) == [200] * len(entries)
    assert [entry.path for entry in entries] == [f"/r{i}" for i in range(len(entries))]
    for entry in entries:
        index = int(entry.path[2:])
        chunked, body, _ = requests[index]
        headers = [name.lower() for name, _ in entry.raw_headers]
        assert "x-trailer" not in headers
        if chunked:
            assert entry.body == body
            assert "x-own" not in headers
        else:
            assert dict(entry.raw_headers)["X-Own"] == str(index)
            assert headers.count("x-own") == 1
