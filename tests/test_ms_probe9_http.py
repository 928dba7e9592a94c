"""HTTP edges on a real socket (the ninth probe): bodiless answers to body faults, the
fragment, versions other than HTTP/1.x, CRM requests in the journal, stub headers."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from aiohttp import web

from mockserver import MockServer, RecordedRequest, StubError
from mockserver.crm import CrmProfile

from .test_ms_hardening import LIVENESS, exchange

_THEN_B = b"GET /b HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def _heads(answer: bytes) -> list[dict[str, str]]:
    """The status and headers of each answer in ``answer``, read as a client reads them:
    an answer's body is its ``Content-Length`` bytes (none for a HEAD's, the first)."""
    heads: list[dict[str, str]] = []
    while answer:
        head, _, answer = answer.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        fields = dict(line.split(": ", 1) for line in lines)
        heads.append({"status": status_line, **fields})
        if len(heads) > 1:
            answer = answer[int(fields.get("Content-Length", "0")) :]
    return heads


_BODY_FAULTS = [
    pytest.param({"type": "slow_body", "chunk_size": 3, "chunk_delay_ms": 0}, id="slow_body"),
    pytest.param({"type": "large_body", "size": 100_000}, id="large_body"),
    pytest.param("cut_body", id="cut_body"),
]


@pytest.mark.parametrize("fault", _BODY_FAULTS)
async def test_a_head_to_a_body_fault_gets_the_headers_alone_and_the_next_answer_is_clean(
    fault: Any,
) -> None:
    # aiohttp's StreamResponse.write does not look at the method: the body came after
    # the HEAD's headers, and the next answer on the connection began with "xxxx".
    stubs = [
        {"request": {"path": "/a", "method": "ANY"}, "response": {"fault": fault}},
        {"request": {"path": "/b"}, "response": {"text": "b"}},
    ]
    async with MockServer(stubs) as server:
        got = await exchange(server.port, _THEN_B.replace(b"/b", b"/a"))
        head_a = b"HEAD /a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        answer = await exchange(server.port, head_a + _THEN_B)
        head, following = _heads(answer)
        assert head["status"] == "HTTP/1.1 200 OK"
        (length,) = re.findall(rb"Content-Length: (\d+)", got)
        assert head["Content-Length"] == length.decode()  # as the GET's
        assert following["status"] == "HTTP/1.1 200 OK"
        assert answer.endswith(b"\r\n\r\nb")
        assert [(entry.method, entry.status) for entry in server.requests] == [
            ("GET", 200),
            ("HEAD", 200),
            ("GET", 200),
        ]


@pytest.mark.parametrize("status", [204, 304])
@pytest.mark.parametrize(
    "fault",
    [*_BODY_FAULTS, pytest.param("invalid_json", id="invalid_json"), pytest.param("non_utf8")],
)
def test_a_body_fault_on_an_answer_without_a_body_is_refused_at_the_response(
    fault: Any, status: int
) -> None:
    # A 204 or 304 has no Content-Length: the dribbled, huge or cut bytes were read as the
    # next answer; a broken JSON or text body was dropped without a word.
    kind = fault if isinstance(fault, str) else fault["type"]
    with pytest.raises(StubError) as caught:
        MockServer([{"request": {"path": "/a"}, "response": {"status": status, "fault": fault}}])
    assert str(caught.value).splitlines()[1:] == [
        f"  stubs[0].response: fault: a {status} answer has no body (RFC 9110), and the "
        f"fault {kind} sends one: drop the fault, or answer 200"
    ]


def test_a_connection_fault_on_a_204_is_still_taken() -> None:
    response = {"status": 204, "fault": "empty_response"}
    MockServer([{"request": {"path": "/a"}, "response": response}])


def _get(target: bytes) -> bytes:
    return b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


@pytest.mark.parametrize(
    ("target", "query"),
    [
        pytest.param(b"/a#frag", "", id="path"),
        pytest.param(b"/a?q=1#frag", "q=1", id="query"),
        pytest.param(b"/a#frag?q=2", "", id="a-query-inside-the-fragment"),
        pytest.param(b"/a#", "", id="empty"),
        pytest.param(b"http://127.0.0.1/a?q=1#frag", "q=1", id="absolute-form"),
    ],
)
async def test_a_fragment_in_the_target_is_cut_off_before_matching_and_journaling(
    target: bytes, query: str
) -> None:
    # "/a#frag" was journaled as the path "/a#frag" and missed a "/a" stub, while in
    # "?q=1#frag" the fragment was dropped from the query.
    async with MockServer([{"request": {"path": "/a"}, "response": {"text": "a"}}]) as server:
        answer = await exchange(server.port, _get(target))
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
        (entry,) = server.requests
        assert (entry.path, entry.query_string, entry.stub_id) == ("/a", query, server.stubs[0].id)
        assert entry.url == ("/a?" + query if query else "/a")


async def test_an_escaped_hash_is_part_of_the_path() -> None:
    async with MockServer([{"request": {"path_regex": "/a#b"}}]) as server:
        answer = await exchange(server.port, _get(b"/a%23b"))
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
        assert server.requests[0].path == "/a#b"


async def test_a_fragment_after_an_admin_stub_id_is_not_part_of_the_id() -> None:
    async with MockServer([{"id": "s1", "request": {"path": "/a"}}]) as server:
        delete = b"DELETE /__admin/stubs/s1#frag HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % server.port
        answer = await exchange(server.port, delete + b"Connection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 204 ")
        assert server.stubs == []


@pytest.mark.parametrize(
    ("line", "parsed"),
    [
        pytest.param(b"GET /a HTTP/2.0", True, id="2.0-in-text"),
        pytest.param(b"GET /a HTTP/0.9", True, id="0.9"),
        pytest.param(b"GET /a", True, id="no-version"),
        pytest.param(b"GET /a HTTP/1.2", False, id="1.2"),
        pytest.param(b"GET /a HTTP/3.0", False, id="3.0"),
        pytest.param(b"GET /__admin/health HTTP/2.0", True, id="admin-2.0"),
    ],
)
async def test_a_version_other_than_http_1_0_and_1_1_is_505_in_http_1_1_and_closes(
    line: bytes, parsed: bool
) -> None:
    # "GET /a HTTP/2.0" was answered "HTTP/2.0 200 OK" (HTTP/1 framing under a 2.0
    # status line) and its connection kept; "GET /a" (HTTP/0.9) got a status line and
    # headers, which an HTTP/0.9 client never reads; 1.2 and 3.0 were a 400.
    lines: list[str] = []
    async with MockServer([{"request": {"path": "/a"}}], log=lines.append) as server:
        head = line + b"\r\nHost: 127.0.0.1:%d\r\n\r\n" % server.port
        answer = await exchange(server.port, head + _THEN_B)
        assert answer.startswith(b"HTTP/1.1 505 HTTP Version Not Supported\r\n")
        # What came after it was not read.
        assert len(re.findall(rb"^HTTP/1\.1 \d{3} ", answer, re.M)) == 1
        assert b"\r\nConnection: close\r\n" in answer.partition(b"\r\n\r\n")[0] + b"\r\n"
        (entry,) = server.requests
        assert entry.status == 505
        assert entry.refused is not parsed
        if parsed:
            version = line.partition(b"HTTP/")[2].decode() or "0.9"
            assert (entry.method, entry.path) == ("GET", line.split()[1].decode())
            assert entry.note is not None
            assert entry.note.startswith(f"HTTP/{version}: the mock server speaks HTTP/1.1")
            assert lines == [f"#1 GET {entry.path} -> 505 (NO MATCH)"]
        else:
            assert lines == [f"#1 refused by the HTTP parser -> 505: {entry.note}"]


@pytest.mark.parametrize("version", [b"1.0", b"1.1"])
async def test_http_1_0_and_1_1_are_answered_as_ever(version: bytes) -> None:
    async with MockServer([{"request": {"path": "/a"}}]) as server:
        head = b"GET /a HTTP/" + version + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        answer = await exchange(server.port, head)
        assert answer.startswith(b"HTTP/" + version + b" 200 OK\r\n")


_NEVER_MATCHING_HEADERS = [
    pytest.param(
        {"Content-Type": "a", "content-type": "b"},
        "'Content-Type' and 'content-type' name the same header (header names are "
        "case-insensitive); give it once",
        id="names-differing-in-case",
    ),
    pytest.param(
        {"X-A": ["a", "b"]},
        "X-A: a header's value is text, never a list; a header sent twice arrives as its "
        "values joined with ', ' (write 'a, b', or use contains:)",
        id="list",
    ),
    pytest.param(
        {"X-A": None},
        "X-A: a header's value is text, never null; for a header that must not be sent, "
        "write {absent: true}",
        id="null",
    ),
    pytest.param(
        {"X-A": {"regx": "^a"}},
        "X-A: a header's value is text, never a mapping; a matcher is one of "
        "{equal|regex|contains|present|absent: ...}",
        id="mapping",
    ),
]


@pytest.mark.parametrize(("headers", "message"), _NEVER_MATCHING_HEADERS)
async def test_stub_headers_that_can_never_match_are_refused_naming_the_field(
    headers: dict[str, Any], message: str
) -> None:
    # Each was taken, and the stub then matched no request: a header has one text per
    # name, whatever its case. Scenario files refused these in expect.requests already.
    with pytest.raises(StubError) as caught:
        MockServer([{"request": {"path": "/a", "headers": headers}}])
    assert [str(problem) for problem in caught.value.problems] == [
        f"stubs[0].request.headers: {message}"
    ]
    async with MockServer() as server:
        body = json.dumps({"request": {"path": "/a", "headers": headers}}).encode()
        head = (
            b"POST /__admin/stubs HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: "
            b"application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
            % (server.port, len(body))
        )
        answer = await exchange(server.port, head + body)
        assert answer.startswith(b"HTTP/1.1 400 ")
        problem = json.loads(answer.partition(b"\r\n\r\n")[2])
        assert problem["errors"] == [{"field": "request.headers", "message": message}]
        assert server.stubs == []


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"X-A": ""}, id="empty-text"),
        pytest.param({"X-A": 5}, id="number"),
        pytest.param({"X-A": {"absent": True}, "X-B": {"contains": "b"}}, id="matchers"),
    ],
)
def test_stub_headers_that_can_match_are_taken(headers: dict[str, Any]) -> None:
    MockServer([{"request": {"path": "/a", "headers": headers}}])


class _Waiting(CrmProfile):
    """A fake CRM whose answer waits for the test: ``arrived`` is set when a request is
    with it, and it answers once ``go`` is set."""

    name = "waiting"

    def __init__(self) -> None:
        super().__init__()
        self.arrived = asyncio.Event()
        self.go = asyncio.Event()

    def claims(self, record: RecordedRequest) -> bool:
        return record.path == "/crm"

    async def answer(self, record: RecordedRequest, request: web.BaseRequest) -> web.Response:
        self.arrived.set()
        await self.go.wait()
        return web.json_response({"ok": True})


_TO_CRM = (
    b"POST /crm HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
)


async def _sent(port: int, data: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection with ``data`` sent on it: its answer is read later (the writer kept:
    dropped, it closes the connection)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    return reader, writer


def _journal(server: MockServer) -> list[tuple[int, str, int | None]]:
    return [(entry.seq, entry.path, entry.status) for entry in server.requests]


async def test_a_crm_request_is_journaled_in_turn_while_the_crm_works() -> None:
    # The CRM's request took its number when it came and went into the journal when
    # answered: the journal read #2 before #1, which the dashboard took for a reset.
    async with MockServer([{"request": {"path": "/b"}}]) as server:
        crm = server.mount(_Waiting())
        waiting, writer = await _sent(server.port, _TO_CRM)
        await asyncio.wait_for(crm.arrived.wait(), LIVENESS)
        assert (await exchange(server.port, _THEN_B)).startswith(b"HTTP/1.1 200 ")
        assert _journal(server) == [(1, "/crm", None), (2, "/b", 200)]  # the CRM still works
        crm.go.set()
        answer = await asyncio.wait_for(waiting.read(), LIVENESS)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 200 ")
        assert _journal(server) == [(1, "/crm", 200), (2, "/b", 200)]
        assert server.requests[0].stub_id == "crm:waiting"


async def test_a_reset_while_a_crm_works_forgets_its_request_and_numbers_the_next_anew() -> None:
    # A reset while the CRM worked put its request into the new journal under its old
    # number (#3 among the new #1, #2...; or a second #1).
    async with MockServer([{"request": {"path": "/b"}}]) as server:
        await exchange(server.port, _THEN_B)
        crm = server.mount(_Waiting())
        waiting, writer = await _sent(server.port, _TO_CRM)
        await asyncio.wait_for(crm.arrived.wait(), LIVENESS)
        reset = b"POST /__admin/reset HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % server.port
        answer = await exchange(
            server.port, reset + b"Content-Length: 0\r\nConnection: close\r\n\r\n"
        )
        assert answer.startswith(b"HTTP/1.1 20")
        assert (await exchange(server.port, _THEN_B)).startswith(b"HTTP/1.1 404 ")
        crm.go.set()
        answer = await asyncio.wait_for(waiting.read(), LIVENESS)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 200 ")
        # The CRM's request came before the reset, and is forgotten with what came before
        # it; the one journaled after the reset keeps its new number, and so does the next.
        assert _journal(server) == [(1, "/b", 404)]
        await exchange(server.port, _THEN_B)
        assert _journal(server) == [(1, "/b", 404), (2, "/b", 404)]
