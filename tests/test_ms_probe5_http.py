"""HTTP edges on a real socket (the sixth probe): framing, connections, codings."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from typing import Any

import pytest
from aiohttp import compression_utils

from mockserver import MockServer

from .test_ms_hardening import LIVENESS, _until, body_of, exchange, request, status_of

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


def _zeros_gzip(mib: int) -> tuple[bytes, bytes, int]:
    """A gzip stream of ``mib`` MiB of zeros, as a head and a block to repeat: each
    fully flushed MiB compresses to the same bytes, so a bomb of any size is cheap to
    build. Returns (head, one MiB, how many times to send it)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    head = compressor.compress(b"")
    head += compressor.compress(bytes(1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(bytes(1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return head, block, mib - 1


async def test_the_rest_of_a_decompression_bomb_is_read_as_sent_not_inflated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # After the 413, aiohttp's lingering close read the rest and inflated it too, in a
    # loop that held the event loop for seconds (a health check waited 5 s); 256 GiB
    # cannot be inflated within its 10 s, so the client was reset mid-send. Read as it
    # came, 256 MB are drained at once and the client reads its 413 and a clean end.
    import mockserver.answering

    monkeypatch.setattr(mockserver.answering, "MAX_BODY", 1 << 20)
    head, block, times = _zeros_gzip(256 * 1024)
    repeat = block * 1024  # 1 GiB inflated, about a megabyte sent
    length = len(head) + len(block) * times
    async with MockServer([{"request": {"path": "/a"}}], body_timeout=LIVENESS) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            b"POST /a HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Encoding: gzip\r\n"
            # Chunked (one chunk): no Content-Length over the limit to refuse it at once.
            + f"Transfer-Encoding: chunked\r\n\r\n{length:x}\r\n".encode()
            + head
        )
        sent = 0
        while sent < times:
            count = min(1024, times - sent)
            writer.write(repeat if count == 1024 else block * count)
            await writer.drain()
            sent += count
        writer.write(b"\r\n0\r\n\r\n")
        answer = await asyncio.wait_for(reader.read(), LIVENESS)
        writer.close()
        assert status_of(answer) == 413
        (entry,) = server.requests
        assert entry.status == 413
        assert entry.body == b""
        assert entry.note is not None
        assert "once decoded (Content-Encoding gzip" in entry.note


@pytest.mark.parametrize(
    ("coding", "installed"),
    [
        pytest.param("br", compression_utils.HAS_BROTLI, id="br"),
        pytest.param("zstd", compression_utils.HAS_ZSTD, id="zstd"),
    ],
)
async def test_a_coding_without_its_library_is_415_journaled_as_sent(
    coding: str, installed: bool
) -> None:
    # aiohttp refused the request as malformed: a 400 journaled with method and path
    # "-", and the request pipelined after it was never read.
    if installed:
        pytest.skip(f"the library for {coding} is installed: aiohttp's decoder reads it")
    async with MockServer([{"request": {"path": "/b"}}]) as server:
        first = (
            b"POST /a HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Encoding: "
            + coding.encode()
            + b"\r\nContent-Length: 5\r\n\r\nhello"
        )
        answer = await exchange(server.port, first + request("/b"))
        assert status_of(answer) == 415
        assert answer.count(b"HTTP/1.1 ") == 2
        first_entry, second_entry = server.requests
        assert (first_entry.method, first_entry.path, first_entry.status) == ("POST", "/a", 415)
        assert first_entry.body == b"hello"
        assert first_entry.note is not None
        assert "cannot decode it here" in first_entry.note
        assert second_entry.status == 200


async def test_x_gzip_is_gzip() -> None:
    # RFC 9110 §8.4.1.3: x-gzip is gzip; aiohttp kept it coded.
    async with MockServer([{"request": {"path": "/a", "body": "hello"}}]) as server:
        body = gzip.compress(b"hello")
        answer = await exchange(
            server.port, request("/a", b"Content-Encoding: x-gzip", method=b"POST", body=body)
        )
        assert status_of(answer) == 200
        assert server.requests[0].body == b"hello"


@pytest.mark.parametrize(
    "response",
    [
        pytest.param({"delay_ms": 86_400_000}, id="delay"),
        pytest.param({"fault": {"type": "no_response", "seconds": 86_400}}, id="no-response"),
    ],
)
async def test_a_client_that_leaves_a_long_wait_frees_it(response: dict[str, Any]) -> None:
    # The wait ran to its end after the client left: a day's delay held the request,
    # its answer and its body for a day, once per retry of a sender that gave up.
    async with MockServer([{"request": {"path": "/a"}, "response": response}]) as server:
        _, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        await _until(lambda: server.in_flight == 1)
        writer.close()
        await _until(lambda: server.in_flight == 0)
        (entry,) = server.requests
        assert entry.stub_id is not None


@pytest.mark.parametrize(
    ("head", "status"),
    [
        pytest.param(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n", 414, id="long-target"),
        pytest.param(b"GET /a HTTP/1.1\r\nX-Big: " + b"v" * 9000 + b"\r\n", 431, id="long-value"),
        pytest.param(b"GET /a HTTP/1.1\r\nX-" + b"n" * 9000 + b": v\r\n", 431, id="long-name"),
        pytest.param(
            b"GET /a HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(200)),
            431,
            id="many-headers",
        ),
        pytest.param(b"GET /a HTTP/1.1\r\nBad Header: v\r\n", 400, id="malformed"),
    ],
)
async def test_a_request_over_the_parser_limits_says_which_limit(head: bytes, status: int) -> None:
    # aiohttp answered 400 to all; RFC 9112 §3 has a server answer 414 to a target
    # too long, RFC 6585 431 to header fields too large.
    lines: list[str] = []
    async with MockServer(log=lines.append) as server:
        answer = await exchange(server.port, head + b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert status_of(answer) == status
        (entry,) = server.requests
        assert (entry.refused, entry.status) == (True, status)
        assert lines == [f"#1 refused by the HTTP parser -> {status}: {entry.note}"]


def test_under_a_small_open_file_limit_a_flood_of_connections_leaves_stderr_empty() -> None:
    # macOS gives a process 256 descriptors. The bound leaves room for a burst of
    # accepts and for the descriptors of connections closed to make room: past the
    # limit, asyncio logged "socket.accept() out of system resource" and a traceback
    # for every accept it retried, and health went unanswered.
    import resource
    import socket
    import subprocess
    import sys

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "--port", "0", "--quiet", "--drain-timeout", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=limit,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        port = int(banner.split("http://127.0.0.1:")[1].split()[0].rstrip("/;,"))
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(300)]
        with socket.create_connection(("127.0.0.1", port), timeout=LIVENESS) as health:
            health.sendall(_HEALTH)
            answer = b""
            while chunk := health.recv(65536):
                answer += chunk
        assert status_of(answer) == 200
        for sock in held:
            sock.close()
    finally:
        process.terminate()
        _, err = process.communicate(timeout=LIVENESS)
    assert "out of system resource" not in err
    assert "Traceback" not in err
