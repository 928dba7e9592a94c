"""Hostile bytes, slow and vanishing clients, and bounded memory: over raw sockets.

Timing: every timeout here is configured tiny and the test only asserts that the
connection is closed (or the entry appears) eventually, within a generous bound;
nothing asserts that anything was fast.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mockserver import MockServer, VerificationError

LIVENESS = 30.0  # seconds: how long "eventually" may take on a loaded machine


async def exchange(port: int, data: bytes, *, close_write: bool = False) -> bytes:
    """Send ``data`` on a fresh connection and read until the server closes it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        if close_write:
            writer.write_eof()
        return await asyncio.wait_for(reader.read(), LIVENESS)
    finally:
        writer.close()


async def _until(condition: Any) -> None:
    """Wait (polling) until ``condition()`` holds; fail after the liveness bound."""
    for _ in range(int(LIVENESS * 100)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the server never got there")


def request(
    target: str, *headers: bytes, body: bytes = b"", method: bytes = b"GET", host: bytes = b""
) -> bytes:
    lines = [method + b" " + target.encode("latin-1") + b" HTTP/1.1"]
    lines.append(b"Host: " + (host or b"127.0.0.1"))
    lines += list(headers)
    if body:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def body_of(answer: bytes) -> bytes:
    head, _, body = answer.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        out = b""
        while body:
            size_line, _, rest = body.partition(b"\r\n")
            size = int(size_line, 16)
            if size == 0:
                break
            out += rest[:size]
            body = rest[size + 2 :]
        return out
    return body


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer([{"name": "a", "request": {"path": "/a"}}]) as made:
        yield made


async def admin_views(server: MockServer) -> dict[str, Any]:
    """The three journal views, each of which must answer 200 with JSON."""
    views: dict[str, Any] = {}
    for name, raw in (
        ("requests", request("/__admin/requests")),
        ("near-misses", request("/__admin/near-misses")),
        (
            "find",
            request(
                "/__admin/requests/find",
                b"Content-Type: application/json",
                method=b"POST",
                body=b"{}",
            ),
        ),
    ):
        answer = await exchange(server.port, raw)
        assert status_of(answer) == 200, (name, answer[:400])
        views[name] = json.loads(body_of(answer))
    return views


# --- 1. any bytes ---------------------------------------------------------------------


async def test_a_non_utf8_header_byte_gets_the_near_miss_404_and_poisons_nothing(
    server: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    answer = await exchange(server.port, request("/x", b"X-Latin: caf\xe9 \xff"))
    assert status_of(answer) == 404
    report = body_of(answer).decode("utf-8")
    assert "Request was not matched" in report
    assert "X-Latin: caf\\xe9 \\xff" in report
    (entry,) = server.requests
    assert dict(entry.raw_headers)["X-Latin"] == "caf\\xe9 \\xff"
    assert entry.undecodable == ("header X-Latin",)
    assert entry.raw_header_bytes is not None
    assert dict(entry.raw_header_bytes)["X-Latin"] == b"caf\xe9 \xff"  # raw bytes kept
    views = await admin_views(server)
    (shown,) = views["requests"]["requests"]
    assert ["X-Latin", "caf\\xe9 \\xff"] in shown["headers"]
    assert shown["undecodable"] == ["header X-Latin"]
    raw = dict(map(tuple, shown["headers_base64"]))["X-Latin"]
    assert base64.b64decode(raw) == b"caf\xe9 \xff"
    assert views["find"]["count"] == 1
    (miss,) = views["near-misses"]["unmatched"]
    assert miss["near_misses"][0]["label"].startswith("stub 'a'")
    # The server keeps serving, and nothing went to the error log.
    assert status_of(await exchange(server.port, request("/a"))) == 200
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    ("target", "headers", "body", "where"),
    [
        pytest.param("/caf%E9", (), b"", "path", id="percent-encoded-path"),
        pytest.param("/x?q=%FF&r=\xe9", (), b"", None, id="query"),
        pytest.param(
            "/x",
            (b"Content-Type: application/x-www-form-urlencoded",),
            b"a=\xff\xfe&b=%ff",
            "body",
            id="form-body",
        ),
        pytest.param(
            "/x",
            (b"Content-Type: application/json",),
            b'{"a": "\\ud800"}',
            None,
            id="lone-surrogate",
        ),
        pytest.param("/x", (b"X-A: \x1b[31mred",), b"", None, id="ansi-escape-in-header"),
    ],
)
async def test_odd_bytes_anywhere_are_journaled_and_every_view_answers(
    server: MockServer, target: str, headers: tuple[bytes, ...], body: bytes, where: str | None
) -> None:
    answer = await exchange(server.port, request(target, *headers, method=b"POST", body=body))
    assert status_of(answer) in (400, 404), answer[:300]
    assert len(server.requests) == 1
    views = await admin_views(server)
    (shown,) = views["requests"]["requests"]
    if where is not None:
        assert where in shown["undecodable"]
    if where == "body":
        assert base64.b64decode(shown["body_base64"]) == body
        assert "\\xff\\xfe" in shown["body"]
    if where == "path":
        assert shown["path"] == "/caf\\xe9"


async def test_a_request_echoing_a_lone_surrogate_is_answered(server: MockServer) -> None:
    server.add(
        {
            "request": {"path": "/echo"},
            "response": {"json": {"echo": "{request.json.x}"}},
        }
    )
    server.add({"request": {"path": "/text"}, "response": {"text": "{request.headers.x-a}"}})
    body = b'{"x": "\\ud800"}'
    answer = await exchange(
        server.port, request("/echo", b"Content-Type: application/json", method=b"POST", body=body)
    )
    assert status_of(answer) == 200
    assert json.loads(body_of(answer)) == {"echo": "\ud800"}  # the same escape back
    answer = await exchange(server.port, request("/text", b"X-A: \xff"))
    assert (status_of(answer), body_of(answer)) == (200, b"\\xff")


# --- 3. slow, silent and vanishing clients --------------------------------------------


async def test_headers_that_never_finish_are_cut_off() -> None:
    async with MockServer(header_timeout=0.2) as server:
        # Partial headers, then silence: the server closes the connection.
        answer = await exchange(server.port, b"GET /a HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        assert answer == b""


async def test_a_body_that_never_arrives_is_408_and_journaled_incomplete() -> None:
    async with MockServer(body_timeout=0.2) as server:
        head = (
            b"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Length: 1000000\r\n\r\nfirst bytes"
        )
        answer = await exchange(server.port, head)
        assert status_of(answer) == 408
        (entry,) = server.requests
        assert entry.incomplete
        assert entry.body == b"first bytes"
        assert entry.note is not None
        assert "nothing came for 0.2 s after 11 of 1000000 bytes" in entry.note


async def test_expect_100_continue_is_answered_before_the_body() -> None:
    async with MockServer([{"request": {"path": "/up"}, "response": {"status": 201}}]) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            writer.write(
                b"POST /up HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n"
                b"Expect: 100-continue\r\n\r\n"
            )
            await writer.drain()
            interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), LIVENESS)
            assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
            writer.write(b"hello")
            await writer.drain()
            final = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), LIVENESS)
            assert final.startswith(b"HTTP/1.1 201 ")
        finally:
            writer.close()
        assert server.requests[0].body == b"hello"


async def test_admin_reads_answer_100_continue_too(server: MockServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    body = json.dumps({"request": {"path": "/new"}}).encode()
    try:
        writer.write(
            b"POST /__admin/stubs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\nExpect: 100-continue\r\n\r\n"
        )
        await writer.drain()
        interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), LIVENESS)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(body)
        final = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), LIVENESS)
        assert final.startswith(b"HTTP/1.1 201 ")
    finally:
        writer.close()


async def test_a_client_that_closes_mid_body_leaves_an_incomplete_entry_and_no_traceback(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    async with MockServer([{"request": {"path": "/a"}}]) as server:
        _, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            b"POST /a HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n0123456789"
        )
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        await _until(lambda: server.requests)
        (entry,) = server.requests
        assert entry.incomplete
        assert entry.body == b"0123456789"
        assert entry.status is None
        assert entry.note is not None
        assert entry.note.startswith("body incomplete: got 10 of 100 bytes")
        # Still serving.
        assert status_of(await exchange(server.port, request("/a"))) == 200
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert "Traceback" not in capfd.readouterr().err


async def test_a_body_over_the_size_limit_by_its_content_length_is_refused_at_once() -> None:
    async with MockServer(body_timeout=0.2) as server:
        head = b"POST /a HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999999\r\n\r\n"
        answer = await exchange(server.port, head)
        assert status_of(answer) == 413
        assert server.requests[0].note == (
            "body not kept: Content-Length 99999999999 is over 67108864 bytes"
        )


async def test_stop_lets_requests_in_flight_finish_within_the_drain_timeout() -> None:
    # The request in flight is one whose body is still coming: nothing depends on timing.
    server = MockServer([{"request": {"path": "/up"}, "response": {"status": 201}}])
    server.drain_timeout = LIVENESS
    await server.start()
    port = server.port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"POST /up HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n01234")
        await writer.drain()
        await _until(lambda: server._in_flight == 1)
        stopping = asyncio.create_task(server.stop())
        await _until(lambda: server._draining)
        with pytest.raises(ConnectionRefusedError):  # no new connections
            await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"56789")
        answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), LIVENESS)
        assert answer.startswith(b"HTTP/1.1 201 ")
        await asyncio.wait_for(stopping, LIVENESS)
    finally:
        writer.close()
    assert server.requests[0].body == b"0123456789"


async def test_while_draining_a_new_request_on_an_open_connection_is_turned_away() -> None:
    server = MockServer([{"request": {"path": "/a"}}], drain_timeout=LIVENESS)
    await server.start()
    idle_reader, idle = await asyncio.open_connection("127.0.0.1", server.port)
    _, busy = await asyncio.open_connection("127.0.0.1", server.port)
    kept_alive = b"GET /a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    try:
        idle.write(kept_alive)
        first = await asyncio.wait_for(idle_reader.readuntil(b"\r\n\r\n"), LIVENESS)
        assert first.startswith(b"HTTP/1.1 200 ")
        busy.write(b"POST /a HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n1")
        await busy.drain()
        await _until(lambda: server._in_flight == 1)
        stopping = asyncio.create_task(server.stop())
        await _until(lambda: server._draining)
        idle.write(kept_alive)
        turned = await asyncio.wait_for(idle_reader.read(), LIVENESS)
        assert turned.startswith(b"HTTP/1.1 503 ")
        assert b"Connection: close" in turned
        busy.write(b"2")
        await asyncio.wait_for(stopping, LIVENESS)
    finally:
        idle.close()
        busy.close()


async def test_stop_cuts_off_what_outlasts_the_drain_timeout() -> None:
    server = MockServer(
        [{"request": {"path": "/hang"}, "response": {"fault": {"type": "no_response"}}}],
        drain_timeout=0.2,
    )
    await server.start()
    async with httpx.AsyncClient(base_url=server.url, timeout=LIVENESS) as client:
        hung = asyncio.create_task(client.get("/hang"))
        await _until(lambda: server.requests)
        await asyncio.wait_for(server.stop(), LIVENESS)
        with pytest.raises(httpx.HTTPError):
            await hung


# --- 5. the journal in bytes ----------------------------------------------------------


async def test_the_journal_keeps_the_start_of_a_big_body_while_matching_sees_it_all() -> None:
    stub = {
        "request": {"path": "/up", "body": {"contains": "THE-END"}},
        "response": {"status": 201},
    }
    async with MockServer([stub], journal_body_cap=100) as server:
        body = b"x" * 5000 + b"THE-END"
        async with httpx.AsyncClient(base_url=server.url) as client:
            response = await client.post("/up", content=body)
            assert response.status_code == 201  # matched on bytes beyond the cap
            (entry,) = server.requests
            assert entry.body == body[:100]
            assert (entry.body_length, entry.truncated) == (len(body), True)
            assert entry.body_sha256 == hashlib.sha256(body).hexdigest()
            (shown,) = (await client.get("/__admin/requests")).json()["requests"]
            assert shown["body_length"] == len(body)
            assert shown["body_truncated"] is True
            assert shown["body_sha256"] == hashlib.sha256(body).hexdigest()
            # Verification reads the journal: a pattern on the cut-off part finds nothing.
            assert server.find({"body": {"contains": "THE-END"}}) == []
            assert len(server.find({"body": {"contains": "xxx"}})) == 1


async def test_the_journal_byte_budget_drops_the_oldest_and_says_so() -> None:
    async with (
        MockServer(journal_bytes=20_000, journal_body_cap=None) as server,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        for number in range(20):
            await client.post(f"/n{number}", content=b"z" * 4000)
        journal = server.journal
        assert journal.bytes <= 20_000
        kept = [entry.path for entry in server.requests]
        assert kept == [f"/n{n}" for n in range(20 - len(kept), 20)]  # the newest
        assert journal.dropped == 20 - len(kept) > 0
        listed = (await client.get("/__admin/requests")).json()
        assert (listed["dropped"], listed["max_bytes"]) == (journal.dropped, 20_000)
        note = journal.overflow_note()
        assert note is not None
        assert "at most 10000 requests and 20000 bytes" in note


async def test_one_entry_bigger_than_the_budget_is_still_kept_alone() -> None:
    async with MockServer(journal_bytes=1_000, journal_body_cap=None) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            await client.post("/a", content=b"1")
            await client.post("/b", content=b"2" * 5000)
        assert [entry.path for entry in server.requests] == ["/b"]
        assert server.journal.dropped == 1


async def test_the_journal_is_streamed_not_built_whole(server: MockServer) -> None:
    for number in range(5):
        await exchange(server.port, request(f"/p{number}"))
    answer = await exchange(server.port, request("/__admin/requests"))
    head = answer.partition(b"\r\n\r\n")[0].lower()
    assert b"transfer-encoding: chunked" in head
    listed = json.loads(body_of(answer))
    assert [entry["path"] for entry in listed["requests"]] == [f"/p{n}" for n in range(5)]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"journal_bytes": -1}, "journal_bytes: expected a number of bytes, 0 or more"),
        ({"journal_body_cap": -5}, "journal_body_cap: expected a number of bytes"),
        ({"header_timeout": -1}, "header_timeout: expected a number of seconds"),
        ({"body_timeout": float("nan")}, "body_timeout: expected a number of seconds"),
        ({"header_timeout": 0}, "expected more than 0 seconds"),
    ],
)
def test_limits_that_cannot_work_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MockServer(**options)


# --- 4. numbers and lines that cannot be used -----------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        pytest.param(
            '{"request": {"path": "/a"}, "response": {"json": {"n": ' + "7" * 5000 + "}}}",
            "response.json.n",
            "an integer of 5000 digits (at most 4000)",
            id="5000-digits",
        ),
        pytest.param(
            '{"request": {"path": "/a"}, "response": {"json": [1, NaN]}}',
            "response.json[1]",
            "NaN, which is not JSON (JSON has no NaN or Infinity)",
            id="nan",
        ),
        pytest.param(
            '{"request": {"path": "/a"}, "priority": -Infinity}',
            "priority",
            "-Infinity, which is not JSON (JSON has no NaN or Infinity)",
            id="infinity",
        ),
        pytest.param(
            '{"response": {"delay_ms": 1e999}}',
            "response.delay_ms",
            "'1e999', a number too large for a float",
            id="1e999",
        ),
    ],
)
async def test_an_admin_number_that_cannot_be_used_is_400_naming_the_field(
    server: MockServer, body: str, field: str, message: str
) -> None:
    answer = await exchange(
        server.port,
        request(
            "/__admin/stubs",
            b"Content-Type: application/json",
            method=b"POST",
            body=body.encode(),
        ),
    )
    assert status_of(answer) == 400, answer[:300]
    problem = json.loads(body_of(answer))
    assert problem["errors"] == [{"field": field, "message": message}]
    assert [stub.name for stub in server.stubs] == ["a"]


async def test_admin_find_refuses_a_5000_digit_number_too(server: MockServer) -> None:
    body = ('{"json": {"n": ' + "1" * 5000 + "}}").encode()
    answer = await exchange(
        server.port,
        request(
            "/__admin/requests/find", b"Content-Type: application/json", method=b"POST", body=body
        ),
    )
    assert status_of(answer) == 400
    assert json.loads(body_of(answer))["errors"][0]["field"] == "json.n"


@pytest.mark.parametrize(
    ("stub", "problem"),
    [
        pytest.param(
            {"response": {"json": {"a": [0, float("nan")]}}},
            "response.json: nan at a[1] is not a JSON number (JSON has no NaN or Infinity)",
            id="response-json",
        ),
        pytest.param(
            {"request": {"json": {"t": float("inf")}}},
            "request.json: inf at t is not a JSON number (JSON has no NaN or Infinity)",
            id="request-json",
        ),
        pytest.param(
            {"request": {"json_paths": {"t": float("-inf")}}},
            "request.json_paths.t.equal: -inf is not a JSON number (JSON has no NaN or Infinity)",
            id="matcher",
        ),
        pytest.param(
            {"response": {"delay_ms": 10**12}},
            "response.delay_ms: a number of at most 86400000; got 1000000000000",
            id="endless-delay",
        ),
    ],
)
def test_a_stub_that_cannot_be_served_as_json_is_refused_naming_the_field(
    stub: dict[str, Any], problem: str
) -> None:
    from mockserver import StubError

    with pytest.raises(StubError) as caught:
        MockServer().add(stub)
    assert [str(p) for p in caught.value.problems] == [problem]


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        (
            # ``%23``: a ``#`` sent as it is starts the fragment, which is cut off.
            "/a%0a%2399 GET /forged -> 200 (stub x)",
            "#1 GET /a\\x0a#99 GET /forged -> 200 (stub x) -> 404 (NO MATCH)",
        ),
        ("/a%0d%0a%2399 forged", "#1 GET /a\\x0d\\x0a#99 forged -> 404 (NO MATCH)"),
        ("/a%1b[2J%1b[31mred", "#1 GET /a\\x1b[2J\\x1b[31mred -> 404 (NO MATCH)"),
        ("/a%e2%80%a8sep", "#1 GET /a\\u2028sep -> 404 (NO MATCH)"),
        ("/a%ff", "#1 GET /a\\xff -> 404 (NO MATCH)"),
    ],
)
async def test_nothing_in_a_request_forges_a_line_of_the_log(target: str, logged: str) -> None:
    lines: list[str] = []
    async with MockServer(log=lines.append) as server:
        await exchange(server.port, request(target.replace(" ", "%20")))
    assert lines == [logged]


async def test_a_large_bodys_parsed_views_are_not_kept_in_the_journal() -> None:
    stub = {"request": {"path": "/big", "json_paths": {"items.0": 0}}, "response": {"status": 201}}
    async with (
        MockServer([stub]) as server,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        big = {"items": list(range(40_000))}  # about 230 KB of JSON: many objects parsed
        assert (await client.post("/big", json=big)).status_code == 201
        small = {"items": [0]}
        assert (await client.post("/big", json=small)).status_code == 201
        large_entry, small_entry = server.requests
        assert "json" not in large_entry.__dict__  # matched on it, then let go
        assert large_entry.json == big  # and read again on demand
        assert len(server.find({"json_paths": {"items.1": 1}})) == 1
        (await client.get("/__admin/requests")).raise_for_status()
        (await client.get("/__admin/near-misses")).raise_for_status()
        with pytest.raises(VerificationError):
            server.verify({"json_paths": {"items.0": 7}})
        assert not {"json", "text", "form"} & set(large_entry.__dict__)
        assert "json" in small_entry.__dict__  # a small body keeps its parsed view


async def test_nothing_in_a_request_forges_a_line_of_a_report(server: MockServer) -> None:
    await exchange(server.port, request("/a%0a1.%20stub%20forged%1b[31m%07"))
    stories = []
    for check in (
        lambda: server.verify({"path": "/x"}),
        lambda: server.verify_order([{"path": "/x"}]),
        server.check,
    ):
        with pytest.raises(VerificationError) as caught:
            check()
        stories.append(str(caught.value))
    (response,) = [server.unmatched_report(server.requests[0])]
    for story in [*stories, response]:
        assert "\x1b" not in story
        assert "\x07" not in story
        assert not [line for line in story.splitlines() if line.startswith("1. stub forged")]
        assert "/a\\x0a1. stub forged\\x1b[31m\\x07" in story


async def test_an_admin_body_that_stalls_or_is_too_large_is_refused_without_a_500() -> None:
    async with MockServer(body_timeout=0.2) as server:
        head = (
            b"POST /__admin/stubs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
        )
        stalled = await exchange(server.port, head % 100 + b'{"request": ')
        assert status_of(stalled) == 408
        assert json.loads(body_of(stalled))["detail"].startswith("body incomplete: nothing came")
        huge = await exchange(server.port, head % (65 * 1024 * 1024))
        assert status_of(huge) == 413
        assert "is over 67108864 bytes" in json.loads(body_of(huge))["detail"]
        assert server.stubs == []
        assert server.requests == []  # admin calls are never journaled


async def test_a_refused_admin_body_naming_a_lone_surrogate_key_is_still_400(
    server: MockServer,
) -> None:
    body = b'{"response": {"json": {"\\ud800": NaN}}}'
    answer = await exchange(
        server.port,
        request("/__admin/stubs", b"Content-Type: application/json", method=b"POST", body=body),
    )
    assert status_of(answer) == 400
    assert json.loads(body_of(answer))["errors"][0]["field"] == "response.json.\ud800"


async def test_the_header_timeout_does_not_cut_a_slow_answer_or_body() -> None:
    stubs = [{"request": {"path": "/slow"}, "response": {"delay_ms": 600, "status": 202}}]
    async with MockServer(stubs, header_timeout=0.1, body_timeout=LIVENESS) as server:
        answer = await exchange(server.port, request("/slow"))
        assert status_of(answer) == 202  # headers came in time; the answer may take longer
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            writer.write(b"POST /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n1")
            await writer.drain()
            await _until(lambda: server._in_flight == 1)
            await asyncio.sleep(0.3)  # past the header timeout, within the body timeout
            writer.write(b"2")
            final = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), LIVENESS)
            assert final.startswith(b"HTTP/1.1 202 ")
        finally:
            writer.close()


async def test_many_slowloris_connections_are_all_closed() -> None:
    async with MockServer(header_timeout=0.2) as server:
        answers = await asyncio.gather(
            *(exchange(server.port, b"GET / HTTP/1.1\r\nHost: x\r\nX-") for _ in range(50))
        )
        assert answers == [b""] * 50
        assert status_of(await exchange(server.port, request("/alive"))) == 404  # still serving


@pytest.mark.parametrize(
    ("head", "sent"),
    [
        pytest.param(b"Transfer-Encoding: chunked", b"5\r\nhello\r\n40\r\nonly-some", id="chunked"),
        pytest.param(b"Content-Length: 50", b"hello", id="content-length"),
    ],
)
async def test_a_body_cut_off_by_a_closing_client_is_journaled_incomplete(
    server: MockServer, head: bytes, sent: bytes
) -> None:
    _, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"POST /a HTTP/1.1\r\nHost: 127.0.0.1\r\n" + head + b"\r\n\r\n" + sent)
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    await _until(lambda: server.requests)
    (entry,) = server.requests
    assert entry.incomplete
    assert entry.body.startswith(b"hello")
    assert entry.note is not None
    assert entry.note.startswith("body incomplete: got ")


async def test_what_quotes_a_request_is_never_sniffed_into_markup(server: MockServer) -> None:
    await exchange(server.port, request("/<script>alert(1)</script>".replace(" ", "")))
    for target in ("/%3Cb%3Ex", "/__admin/requests", "/__admin/near-misses", "/__admin/nope"):
        answer = await exchange(server.port, request(target))
        head = answer.partition(b"\r\n\r\n")[0].lower()
        assert b"x-content-type-options: nosniff" in head, target
        assert b"content-type: text/html" not in head
