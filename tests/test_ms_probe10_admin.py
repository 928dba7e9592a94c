"""The tenth probe: the admin API under concurrency and at the ends of the server's life.

Every test runs the real server on a real socket. Nothing waits on the wall clock: a
stub's delay is held by the server's own ``pause`` (the one wait a delay, a hang and
``stop`` share), gated on an ``asyncio.Event``; a request is known journaled through
the server's ``log``; the stop that drains is ended by ``end_drain`` (the CLI's second
Ctrl-C).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web

import mockserver.admin
import mockserver.bulk
from mockserver import MockServer
from mockserver.bulk import PIECE

from .test_ms_hardening import LIVENESS, _until, exchange


async def _turns_until(condition: Any) -> None:
    """Let the event loop run until ``condition()`` holds (a change that needs no I/O)."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the server never got there")


class _Journaled:
    """The server's ``log``: an event per request journaled, no polling."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.event = asyncio.Event()

    def __call__(self, line: str) -> None:
        self.lines.append(line)
        self.event.set()

    async def next(self) -> str:
        await asyncio.wait_for(self.event.wait(), LIVENESS)
        self.event.clear()
        return self.lines[-1]


def _gate(server: MockServer) -> asyncio.Event:
    """Hold every deliberate wait of ``server`` (a delay, ``no_response``) until the
    returned event is set: the delay ends when the test says, not after some time."""
    gate = asyncio.Event()

    async def gated(seconds: float, request: web.BaseRequest | None = None) -> None:
        await gate.wait()

    server.pause = gated  # type: ignore[method-assign]
    return gate


@pytest.fixture
def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """What the server logged at ERROR or above (a traceback from aiohttp's handler)."""
    caplog.set_level(logging.ERROR)
    return caplog.records


def _registry_consistent(server: MockServer) -> None:
    """The stub list, the ids, the order stubs are tried in and the routing index agree."""
    registry = server.registry
    live = registry.entries()
    ids = [entry.stub.id for entry in live]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(registry._entries)
    assert all(registry._entries[entry.stub.id] is entry for entry in live)  # type: ignore[index]
    # Nothing staged and left behind, nothing retired and still filed.
    assert len(registry._ordered) == len(registry._index) == len(registry) == len(live)


# --- 1. admin calls while the server drains ---------------------------------------------


def _raw(method: bytes, target: bytes, port: int, body: bytes = b"") -> bytes:
    head = b"%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % (method, target, port)
    if body:
        head += b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
    return head + b"\r\n" + body


@pytest.mark.parametrize(
    ("method", "target", "body"),
    [
        pytest.param(b"GET", b"/__admin/requests", b"", id="list-requests"),
        pytest.param(b"POST", b"/__admin/stubs", b'{"request": {"path": "/n"}}', id="add-stub"),
        pytest.param(b"POST", b"/__admin/mappings", b"{}", id="unknown-endpoint"),
        pytest.param(b"POST", b"/__admin/reset", b"", id="reset"),
    ],
)
async def test_an_admin_call_while_the_server_drains_gets_a_503_problem_and_never_holds_it(
    method: bytes, target: bytes, body: bytes, tracebacks: list[logging.LogRecord]
) -> None:
    # It was a text/plain 503, where every other admin error is application/problem+json.
    journaled = _Journaled()
    stub = {"request": {"path": "/slow"}, "response": {"delay_ms": 600_000}}
    server = MockServer([stub], drain_timeout=LIVENESS, log=journaled)
    await server.start()
    port = server.port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)  # kept alive
    slow_reader, slow = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(_raw(b"GET", b"/__admin/health", port))
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200 ")
        await reader.readuntil(b"}")
        slow.write(_raw(b"GET", b"/slow", port))
        await journaled.next()
        stopping = asyncio.create_task(server.stop())
        await _turns_until(lambda: server.draining)
        writer.write(_raw(method, target, port, body))
        answer = await asyncio.wait_for(reader.read(), LIVENESS)
        head, _, text = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503 ")
        assert b"\r\nConnection: close" in head
        assert b"\r\nContent-Type: application/problem+json" in head
        problem = json.loads(text)
        assert (problem["status"], problem["title"]) == (503, "Server stopping")
        assert "shutting down" in problem["detail"]
        assert [entry.path for entry in server.requests] == ["/slow"]  # no reset, no stub
        assert [stub.request.path for stub in server.stubs] == ["/slow"]
        assert not stopping.done()  # the delayed request is still let finish
        server.end_drain()
        await asyncio.wait_for(stopping, LIVENESS)
        assert await asyncio.wait_for(slow_reader.read(), LIVENESS) == b""  # cut off
    finally:
        writer.close()
        slow.close()
        await server.stop()
    assert tracebacks == []


async def test_an_admin_call_in_flight_when_the_drain_begins_is_served(
    tracebacks: list[logging.LogRecord],
) -> None:
    server = MockServer(drain_timeout=LIVENESS)
    await server.start()
    port = server.port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = json.dumps([{"id": "late", "request": {"path": "/late"}}]).encode()
    try:
        writer.write(_raw(b"POST", b"/__admin/stubs", port, body)[:-5])
        await _until(lambda: server.in_flight == 1)
        stopping = asyncio.create_task(server.stop())
        await _turns_until(lambda: server.draining)
        writer.write(body[-5:])
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), LIVENESS)
        assert head.startswith(b"HTTP/1.1 201 ")
        await asyncio.wait_for(stopping, LIVENESS)  # nothing left in flight: it ends
    finally:
        writer.close()
    assert [stub.id for stub in server.stubs] == ["late"]
    assert tracebacks == []


async def test_a_second_stop_returns_when_the_server_has_stopped() -> None:
    # It returned at once while the first still drained: a caller's "after stop()" was
    # still a serving server with requests in flight.
    journaled = _Journaled()
    stub = {"request": {"path": "/slow"}, "response": {"delay_ms": 600_000}}
    server = MockServer([stub], drain_timeout=LIVENESS, log=journaled)
    await server.start()
    async with httpx.AsyncClient(base_url=server.url, timeout=LIVENESS) as client:
        slow = asyncio.create_task(client.get("/slow"))
        await journaled.next()
        first = asyncio.create_task(server.stop())
        await _turns_until(lambda: server.draining)
        second = asyncio.create_task(server.stop())
        for _ in range(100):
            await asyncio.sleep(0)
        assert not second.done()  # the drain goes on: the second waits for it
        server.end_drain()
        await asyncio.wait_for(second, LIVENESS)
        assert first.done()
        assert not server.draining
        assert server.in_flight == 0
        with pytest.raises(httpx.HTTPError):
            await slow


async def test_a_start_while_the_last_stop_drains_waits_for_it_then_serves() -> None:
    # It started a second runner beside the draining one, which answered every request
    # 503 "shutting down" until the old drain ended.
    journaled = _Journaled()
    stubs = [
        {"request": {"path": "/slow"}, "response": {"delay_ms": 600_000}},
        {"request": {"path": "/a"}, "response": {"status": 201}},
    ]
    server = MockServer(stubs, drain_timeout=LIVENESS, log=journaled)
    await server.start()
    async with httpx.AsyncClient(timeout=LIVENESS) as client:
        slow = asyncio.create_task(client.get(server.url + "/slow"))
        await journaled.next()
        stopping = asyncio.create_task(server.stop())
        await _turns_until(lambda: server.draining)
        starting = asyncio.create_task(server.start())
        for _ in range(100):
            await asyncio.sleep(0)
        assert not starting.done()
        server.end_drain()
        await asyncio.wait_for(starting, LIVENESS)
        assert stopping.done()
        assert server.running
        assert not server.draining
        assert (await client.get(server.url + "/a")).status_code == 201
        with pytest.raises(httpx.HTTPError):
            await slow
    await server.stop()


async def test_a_stop_cancelled_while_it_drains_still_stops_the_server() -> None:
    # A cancelled stop() (a test's own timeout around it) left the server draining for
    # good: every later request on an open connection a 503 (a restarted server's too),
    # its runner never cleaned up, the delayed request held.
    journaled = _Journaled()
    stubs = [
        {"request": {"path": "/slow"}, "response": {"delay_ms": 600_000}},
        {"request": {"path": "/a"}, "response": {"status": 201}},
    ]
    server = MockServer(stubs, drain_timeout=LIVENESS, log=journaled)
    await server.start()
    async with httpx.AsyncClient(timeout=LIVENESS) as client:
        slow = asyncio.create_task(client.get(server.url + "/slow"))
        await journaled.next()
        stopping = asyncio.create_task(server.stop())
        await _turns_until(lambda: server.draining)
        stopping.cancel()
        with pytest.raises(asyncio.CancelledError):
            await stopping
        assert not server.draining
        assert not server.running
        with pytest.raises(httpx.HTTPError):
            await slow  # cut off with the rest
        await server.start()
        assert (await client.get(server.url + "/a")).status_code == 201
    await server.stop()


# --- 2. a reset while a delay or a hang is under way ------------------------------------


@pytest.fixture
async def delayed() -> AsyncIterator[tuple[MockServer, httpx.AsyncClient, _Journaled]]:
    journaled = _Journaled()
    stubs = [
        {
            "id": "slow",
            "request": {"path": "/slow"},
            "response": {"status": 201, "text": "late", "delay_ms": 60_000},
        },
        {
            "id": "hang",
            "request": {"path": "/hang"},
            "response": {"fault": {"type": "no_response"}},
        },
        {"id": "now", "request": {"path": "/now"}, "response": {"status": 200}},
    ]
    async with (
        MockServer(stubs, log=journaled) as server,
        httpx.AsyncClient(base_url=server.url, timeout=LIVENESS) as client,
    ):
        yield server, client, journaled


_FORGOT_REQUESTS = [(1, "/now", "now")]
_KEPT_REQUESTS = [(1, "/slow", "slow"), (2, "/now", "now")]


@pytest.mark.parametrize(
    ("method", "target", "now_status", "entries"),
    [
        pytest.param("POST", "/__admin/reset", 200, _FORGOT_REQUESTS, id="reset"),
        pytest.param("DELETE", "/__admin/requests", 200, _FORGOT_REQUESTS, id="reset-requests"),
        pytest.param("DELETE", "/__admin/stubs/slow", 200, _KEPT_REQUESTS, id="delete-its-stub"),
        pytest.param(
            "DELETE", "/__admin/stubs", 404, [(1, "/slow", "slow"), (2, "/now", None)], id="all"
        ),
    ],
)
async def test_a_delayed_answer_outlives_a_reset_and_stays_out_of_the_new_journal(
    delayed: tuple[MockServer, httpx.AsyncClient, _Journaled],
    method: str,
    target: str,
    now_status: int,
    entries: list[tuple[int, str, str | None]],
    tracebacks: list[logging.LogRecord],
) -> None:
    server, client, journaled = delayed
    gate = _gate(server)
    late = asyncio.create_task(client.get("/slow"))
    assert await journaled.next() == "#1 GET /slow -> 201 (stub slow)"
    assert (await client.request(method, target)).status_code == 204
    if target == "/__admin/reset":
        await client.post("/__admin/stubs", json={"id": "now", "request": {"path": "/now"}})
    assert (await client.get("/now")).status_code == now_status
    gate.set()
    answer = await late
    # Answered by the stub it matched, whatever became of that stub since.
    assert (answer.status_code, answer.text) == (201, "late")
    # A request from before a reset is not journaled again after it, under its number.
    assert [(entry.seq, entry.path, entry.stub_id) for entry in server.requests] == entries
    assert tracebacks == []


async def test_a_hang_cut_after_a_reset_is_not_journaled_again(
    delayed: tuple[MockServer, httpx.AsyncClient, _Journaled],
    tracebacks: list[logging.LogRecord],
) -> None:
    server, client, journaled = delayed
    gate = _gate(server)
    hung = asyncio.create_task(client.get("/hang"))
    await journaled.next()
    assert (await client.post("/__admin/reset")).status_code == 204
    gate.set()  # the hang's time is up: the connection is closed without an answer
    with pytest.raises(httpx.HTTPError):
        await hung
    assert server.requests == []
    assert (await client.get("/hang")).status_code == 404
    assert [(entry.seq, entry.path) for entry in server.requests] == [(1, "/hang")]
    assert tracebacks == []


# --- 3. concurrent admin writes ------------------------------------------------------------


async def test_a_reset_while_a_bulk_add_is_filed_in_pieces_leaves_none_of_it() -> None:
    # The pieces filed after the reset were made live: 201 for 300 stubs, and 236 of
    # them served, half of an all-or-none change.
    async with MockServer() as server:
        stage = server.registry.stage
        calls = 0

        def stage_then_reset(entries: Any, *rest: Any) -> None:
            nonlocal calls
            stage(entries, *rest)
            calls += 1
            if calls == 1:  # after the first piece: what POST /__admin/reset does
                server.reset()

        server.registry.stage = stage_then_reset  # type: ignore[method-assign]
        stubs = [{"request": {"path": f"/p{n}"}} for n in range(5 * PIECE)]
        async with httpx.AsyncClient(base_url=server.url) as client:
            assert (await client.post("/__admin/stubs", json=stubs)).status_code == 201
            assert calls > 1  # it was filed in pieces, around the reset
            assert (await client.get("/__admin/stubs")).json()["stubs"] == []
            assert (await client.get(f"/p{5 * PIECE - 1}")).status_code == 404
        _registry_consistent(server)


async def test_delete_all_stubs_while_a_bulk_add_is_filed_leaves_none_of_it() -> None:
    async with MockServer([{"id": "old", "request": {"path": "/old"}}]) as server:
        stage = server.registry.stage
        calls = 0

        def stage_then_clear(entries: Any, *rest: Any) -> None:
            nonlocal calls
            stage(entries, *rest)
            calls += 1
            if calls == 2:
                server.registry.clear(states=False)  # what DELETE /__admin/stubs does

        server.registry.stage = stage_then_clear  # type: ignore[method-assign]
        stubs = [{"request": {"path": f"/p{n}"}} for n in range(3 * PIECE)]
        async with httpx.AsyncClient(base_url=server.url) as client:
            assert (await client.post("/__admin/stubs", json=stubs)).status_code == 201
        assert server.stubs == []
        _registry_consistent(server)


async def test_a_bulk_add_after_a_reset_is_kept_whole() -> None:
    # The other order: a reset that came before the change began forgets nothing of it.
    async with MockServer([{"request": {"path": "/x"}}]) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            await client.post("/__admin/reset")
            stubs = [{"request": {"path": f"/p{n}"}} for n in range(3 * PIECE)]
            assert (await client.post("/__admin/stubs", json=stubs)).status_code == 201
            assert len((await client.get("/__admin/stubs")).json()["stubs"]) == 3 * PIECE
        _registry_consistent(server)


async def test_two_bulk_adds_at_once_cannot_both_take_the_last_room(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each add checked the bound against the stubs already live, then filed its own in
    # pieces: a second add checked while the first was being filed found room too, and
    # the server held 6 pieces' worth of stubs under a bound of 4.
    monkeypatch.setattr(mockserver.admin, "MAX_STUBS", 4 * PIECE)
    gate, held = asyncio.Event(), asyncio.Event()
    breathe = mockserver.bulk.breathe

    async def first_add_waits(index: int) -> None:
        if not held.is_set():  # the first add, past its check, waits here
            held.set()
            await gate.wait()
        await breathe(index)

    monkeypatch.setattr(mockserver.bulk, "breathe", first_add_waits)
    async with MockServer() as server, httpx.AsyncClient(base_url=server.url) as client:
        # {"stubs": [...]}, not a bare list: decoded whole, so the first turn the add
        # gives the event loop in mockserver.bulk is after its check.
        first = asyncio.create_task(
            client.post("/__admin/stubs", json={"stubs": [{"request": {"path": "/a"}}] * 3 * PIECE})
        )
        await asyncio.wait_for(held.wait(), LIVENESS)
        second = await client.post(
            "/__admin/stubs", json={"stubs": [{"request": {"path": "/b"}}] * 3 * PIECE}
        )
        assert second.status_code == 413
        assert second.json()["detail"] == (
            f"at most {4 * PIECE} stubs on one server; this adds {3 * PIECE}; the server "
            f"holds 0 and is adding {3 * PIECE}"
        )
        gate.set()
        assert (await first).status_code == 201
        assert len(server.registry) == 3 * PIECE
        # Once the first is in, what is left of the room is as ever.
        more = await client.post(
            "/__admin/stubs", json={"stubs": [{"request": {"path": "/c"}}] * PIECE}
        )
        assert more.status_code == 201
        assert len(server.registry) == 4 * PIECE
        _registry_consistent(server)


async def test_many_clients_writing_at_once_leave_a_registry_that_agrees_with_itself() -> None:
    """A seeded interleaving of adds (single and bulk, with and without ids), edits,
    deletes, removals, resets and listings, all in flight at once; then every stub the
    API lists is matched by a request to its path and can be deleted."""
    rng = random.Random(10)
    paths = iter(range(1_000_000))

    def stub(stub_id: str | None) -> dict[str, Any]:
        made: dict[str, Any] = {"request": {"path": f"/u{next(paths)}"}, "response": {}}
        if stub_id is not None:
            made["id"] = stub_id
        return made

    def some_id() -> str:
        return f"s{rng.randrange(30)}"

    def call() -> tuple[str, str, Any, tuple[int, ...]]:
        kind = rng.random()
        if kind < 0.25:
            size = rng.choice([2, PIECE + 3, 2 * PIECE])
            body = [stub(some_id() if rng.random() < 0.5 else None) for _ in range(size)]
            return "POST", "/__admin/stubs", body, (201,)
        if kind < 0.45:
            return "POST", "/__admin/stubs", stub(some_id()), (201,)  # add or edit
        if kind < 0.6:
            return "DELETE", f"/__admin/stubs/{some_id()}", None, (204, 404)
        if kind < 0.7:
            ids = [some_id() for _ in range(3)]
            return "POST", "/__admin/stubs/remove", {"ids": ids}, (200, 404)
        if kind < 0.76:
            return "POST", "/__admin/reset", None, (204,)
        if kind < 0.8:
            return "DELETE", "/__admin/stubs", None, (204,)
        return "GET", "/__admin/stubs", None, (200,)

    async with MockServer() as server:
        limits = httpx.Limits(max_connections=40)
        async with httpx.AsyncClient(base_url=server.url, limits=limits) as client:

            async def send(method: str, target: str, body: Any, ok: tuple[int, ...]) -> None:
                response = await client.request(method, target, json=body)
                assert response.status_code in ok, response.text
                if method == "GET":
                    listed = [item["id"] for item in response.json()["stubs"]]
                    assert len(listed) == len(set(listed))

            await asyncio.gather(*(send(*call()) for _ in range(120)))
            _registry_consistent(server)
            listed = (await client.get("/__admin/stubs")).json()["stubs"]
            assert len(listed) == len(server.registry)
            for item in listed:
                server.reset_requests()
                assert (await client.get(item["request"]["path"])).status_code == 200
                assert server.requests[0].stub_id == item["id"]
            deleted = await asyncio.gather(
                *(client.delete(f"/__admin/stubs/{item['id']}") for item in listed)
            )
            assert {response.status_code for response in deleted} <= {204}
            _registry_consistent(server)
            assert len(server.registry) == 0


# --- 4. the HTTP leftovers of the ninth probe --------------------------------------------


@pytest.mark.parametrize("line", [b"GET /a\r\n", b"GET /a\n", b"GET /__admin/health\r\n"])
async def test_an_http_0_9_request_line_alone_is_answered_505_at_once(line: bytes) -> None:
    # aiohttp's parser waited for a blank line that an HTTP/0.9 client never sends: the
    # connection stayed open until the header timeout. The connection is left open
    # here (no close_write): the answer comes without it, and the header timeout is
    # far away.
    async with MockServer([{"request": {"path": "/a"}}], header_timeout=600) as server:
        answer = await exchange(server.port, line)
        assert answer.startswith(b"HTTP/1.1 505 HTTP Version Not Supported\r\n")
        (entry,) = server.requests
        assert (entry.method, entry.path, entry.status) == ("GET", line.split()[1].decode(), 505)
        assert entry.note is not None
        assert entry.note.startswith("HTTP/0.9: ")


@pytest.mark.parametrize("pieces", [[b"GET", b" /a", b"\r\n"], [b"GET /a\r", b"\n"]])
async def test_an_http_0_9_line_that_comes_in_pieces_is_answered_when_it_ends(
    pieces: list[bytes],
) -> None:
    async with MockServer([{"request": {"path": "/a"}}], header_timeout=600) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            for piece in pieces:
                writer.write(piece)
                await writer.drain()
            answer = await asyncio.wait_for(reader.read(), LIVENESS)
        finally:
            writer.close()
        assert answer.startswith(b"HTTP/1.1 505 ")


async def test_a_request_line_followed_by_headers_is_still_read_as_ever() -> None:
    async with MockServer([{"request": {"path": "/a"}}], header_timeout=600) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            writer.write(b"GET /a HTTP/1.1\r\n")  # the line alone first, with a version
            await writer.drain()
            writer.write(b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n")
            answer = await asyncio.wait_for(reader.read(), LIVENESS)
        finally:
            writer.close()
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n")


@pytest.mark.parametrize(
    "preface",
    [
        pytest.param(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", id="whole"),
        pytest.param(b"PRI * HTTP/2.0\r\n\r\n", id="its-first-half"),
        pytest.param(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04\x00", id="with-a-frame"),
    ],
)
async def test_the_http_2_preface_is_a_505_that_names_it(preface: bytes) -> None:
    # It was "HTTP/1.0 400 Bad Request" with aiohttp's "Pause on PRI/Upgrade", and the
    # preface's first half alone waited for the header timeout.
    lines: list[str] = []
    async with MockServer(header_timeout=600, log=lines.append) as server:
        answer = await exchange(server.port, preface)
        head, _, text = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 505 HTTP Version Not Supported\r\n")
        assert b"\r\nConnection: close" in head
        assert b"HTTP/2" in text
        assert b"prior knowledge" in text
        (entry,) = server.requests
        assert (entry.refused, entry.status) == (True, 505)
        assert entry.note is not None
        assert "HTTP/2 connection preface" in entry.note
        assert lines == [f"#1 refused by the HTTP parser -> 505: {entry.note}"]


async def test_the_http_2_preface_after_a_request_is_a_505_that_names_it_too() -> None:
    # There the C parser refuses it itself ("Pause on PRI/Upgrade"): a 400 before.
    async with MockServer([{"request": {"path": "/a"}}]) as server:
        first = b"GET /a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        answer = await exchange(server.port, first + b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        assert re.findall(rb"^HTTP/1\.1 (\d{3}) ", answer, re.M) == [b"200", b"505"]
        assert b"prior knowledge" in answer
        assert [entry.status for entry in server.requests] == [200, 505]
        note = server.requests[1].note
        assert note is not None
        assert note.startswith("the HTTP/2 connection preface")
