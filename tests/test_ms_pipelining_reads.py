"""Requests answered in order however the bytes are cut into reads.

``mockserver/pipelining.py`` has aiohttp's parser stop after each request and
feeds it again until the read is used up. These properties cut a stream of
requests (bodies holding blank lines and request lines, chunked bodies, heads
split anywhere, a malformed request last) into reads at random and hand each
read to the server's own connection handler, as the event loop would: every
request is answered, in order, and journaled with its body, the malformed one
400. A feed too few leaves a request waiting in the parser, and the answers
stop short.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver import MockServer

from .strategies import fuzz_examples

HEAD = b"Host: 127.0.0.1\r\n"
BAD = b"GET /bad\x01 HTTP/1.1\r\n" + HEAD + b"\r\n"


class _Transport(asyncio.Transport):
    """Keeps what the server writes."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closed = False

    def write(self, data: Any) -> None:
        self.written += bytes(data)

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8080)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0


def _request(kind: str, body: bytes, index: int) -> bytes:
    target = f"/r{index}".encode()
    if kind == "get":
        return b"GET " + target + b" HTTP/1.1\r\n" + HEAD + b"\r\n"
    if kind == "post":
        length = b"Content-Length: %d\r\n" % len(body)
        return b"POST " + target + b" HTTP/1.1\r\n" + HEAD + length + b"\r\n" + body
    chunks = b"%x\r\n%s\r\n" % (len(body), body) if body else b""
    return (
        b"POST "
        + target
        + b" HTTP/1.1\r\n"
        + HEAD
        + b"Transfer-Encoding: chunked\r\n\r\n"
        + chunks
        + b"0\r\n\r\n"
    )


_BODIES = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"\r\n\r\n", b"GET /x HTTP/1.1\r\n\r\n", b"a\n\r\nb", b"\n\n"]),
)
_REQUESTS = st.lists(
    st.tuples(st.sampled_from(["get", "post", "chunked"]), _BODIES), min_size=1, max_size=6
)


async def _answers(raw: bytes, cuts: list[int], pauses: list[int], expected: int) -> Any:
    server = MockServer([{"name": "any", "request": {"path_regex": "/r[0-9]+"}}])
    transport = _Transport()
    protocol = server._make_server()()
    protocol.connection_made(transport)
    points = sorted({0, len(raw), *(cut % (len(raw) + 1) for cut in cuts)})
    for number, (start, stop) in enumerate(itertools.pairwise(points)):
        protocol.data_received(raw[start:stop])
        for _ in range(pauses[number % len(pauses)] if pauses else 0):
            await asyncio.sleep(0)
    for _ in range(2000):  # turns of the loop, not time: each answer takes a few
        if len(re.findall(rb"^HTTP/1\.[01] \d{3} ", transport.written, re.M)) >= expected:
            break
        await asyncio.sleep(0)
    protocol.connection_lost(None)
    return transport.written, server.requests


@settings(
    max_examples=fuzz_examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    requests=_REQUESTS,
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=8),
    pauses=st.lists(st.integers(min_value=0, max_value=3), max_size=4),
    malformed=st.booleans(),
)
def test_every_request_is_answered_in_order_however_the_reads_fall(
    requests: list[tuple[str, bytes]], cuts: list[int], pauses: list[int], malformed: bool
) -> None:
    raw = b"".join(_request(kind, body, i) for i, (kind, body) in enumerate(requests))
    expected = len(requests) + malformed
    written, entries = asyncio.run(
        _answers(raw + (BAD if malformed else b""), cuts, pauses, expected)
    )
    statuses = [int(code) for code in re.findall(rb"^HTTP/1\.[01] (\d{3}) ", written, re.M)]
    assert statuses == [200] * len(requests) + ([400] if malformed else [])
    answered = [(entry.path, entry.body) for entry in entries if not entry.refused]
    sent = [b"" if kind == "get" else body for kind, body in requests]
    assert answered == [(f"/r{i}", body) for i, body in enumerate(sent)]
