"""The mock server end to end, over real sockets, with a real httpx client."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from freezegun import freeze_time

from mockserver import MockServer, StubError, VerificationError


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer() as made:
        yield made


@pytest.fixture
async def client(server: MockServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url) as made:
        yield made


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"port": 70000}, "port: expected 0 (a free port) to 65535, got 70000"),
        ({"host": ""}, "host: expected an address such as '127.0.0.1', got ''"),
        ({"journal_cap": 0}, "journal_cap: expected a count of at least 1 (None: no limit)"),
    ],
)
def test_settings_that_cannot_work_are_refused_at_once(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        MockServer(**options)


def test_stubs_that_cannot_be_used_raise_stub_error_with_every_problem() -> None:
    with pytest.raises(StubError) as caught:
        MockServer([{"request": {"path": "/a"}}, {"response": {"staus": 200}}, 7])
    assert [str(problem) for problem in caught.value.problems] == [
        "stubs[1].response.staus: unknown field; did you mean 'status'?",
        "stubs[2]: a mapping with the fields id, name, priority, request, response, responses, "
        "when_exhausted, state, ...; got 7",
    ]
    server = MockServer()
    with pytest.raises(StubError, match=r"request\.path: a path starting with '/'; got 'x'"):
        server.add({"request": {"path": "x"}})
    assert server.stubs == []  # nothing half-added


async def test_binds_loopback_on_a_free_port(server: MockServer) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    assert server.port > 0


async def test_stub_answers_with_status_headers_and_json(
    server: MockServer, client: httpx.AsyncClient
) -> None:
    server.add(
        {
            "request": {"method": "GET", "path": "/ping"},
            "response": {"status": 201, "headers": {"X-A": "1"}, "json": {"pong": True}},
        }
    )
    response = await client.get("/ping")
    assert response.status_code == 201
    assert response.headers["x-a"] == "1"
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"pong": True}


async def test_text_and_bytes_bodies(server: MockServer, client: httpx.AsyncClient) -> None:
    server.add({"request": {"path": "/t"}, "response": {"text": "hello"}})
    server.add({"request": {"path": "/b"}, "response": {"base64": "AAEC"}})
    assert (await client.get("/t")).text == "hello"
    assert (await client.get("/b")).content == b"\x00\x01\x02"


async def test_a_header_echoing_the_request_cannot_be_split_in_two(
    server: MockServer, client: httpx.AsyncClient
) -> None:
    server.add(
        {"request": {"path": "/echo"}, "response": {"headers": {"X-Echo": "{request.json.v}"}}}
    )
    response = await client.post("/echo", json={"v": "a\r\nSet-Cookie: stolen=1"})
    assert response.status_code == 200
    assert response.headers["x-echo"] == "a  Set-Cookie: stolen=1"
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    ("headers", "says"),
    [
        pytest.param({"": "x"}, "a header name of letters, digits", id="empty-name"),
        pytest.param({"Bad Name": "x"}, "got 'Bad Name'", id="space-in-name"),
        pytest.param({"X-A": "1\r\nX-B: 2"}, "header X-A: a value without control", id="crlf"),
    ],
)
def test_response_headers_that_cannot_be_sent_are_refused(
    headers: dict[str, str], says: str
) -> None:
    with pytest.raises(StubError, match=says):
        MockServer().add({"response": {"headers": headers}})


async def test_templates_from_the_request(server: MockServer, client: httpx.AsyncClient) -> None:
    server.add(
        {
            "request": {"method": "POST", "path": "/users/{id}"},
            "response": {
                "headers": {"X-Echo": "{request.headers.x-token}"},
                "json": {
                    "id": "{request.path.id}",
                    "name": "{request.json.user.name}",
                    "q": "{request.query.q}",
                    "user": "{request.json.user}",
                    "literal": "{not_a_context}",
                    "mixed": "n={request.json.user.age}",
                },
            },
        }
    )
    response = await client.post(
        "/users/7?q=x", json={"user": {"name": "Anna", "age": 30}}, headers={"X-Token": "t1"}
    )
    assert response.headers["x-echo"] == "t1"
    assert response.json() == {
        "id": "7",
        "name": "Anna",
        "q": "x",
        "user": {"name": "Anna", "age": 30},
        "literal": "{not_a_context}",
        "mixed": "n=30",
    }


async def test_path_parameters_whole(server: MockServer, client: httpx.AsyncClient) -> None:
    server.add({"request": {"path": "/plain"}, "response": {"json": {"p": "{request.path}"}}})
    server.add({"request": {"path": "/u/{id}"}, "response": {"text": "{request.path}"}})
    assert (await client.get("/plain")).json() == {"p": {}}
    assert (await client.get("/u/7")).text == '{"id":"7"}'
    assert [dict(r.path_params) for r in server.requests] == [{}, {"id": "7"}]


async def test_form_values_in_templates(server: MockServer, client: httpx.AsyncClient) -> None:
    server.add({"request": {"path": "/f"}, "response": {"text": "hi {request.form.user.name}"}})
    response = await client.post(
        "/f",
        content=b"user%5Bname%5D=Anna",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.text == "hi Anna"


async def test_template_false_serves_braces_as_written(
    server: MockServer, client: httpx.AsyncClient
) -> None:
    server.add(
        {"request": {"path": "/raw"}, "response": {"text": "{request.path}", "template": False}}
    )
    assert (await client.get("/raw")).text == "{request.path}"


@pytest.mark.parametrize(
    ("rule", "statuses"),
    [
        ("repeat_last", [500, 503, 200, 200, 200]),
        ("cycle", [500, 503, 200, 500, 503]),
        ("fail", [500, 503, 200, 500, 500]),
    ],
)
async def test_sequences_and_exhaustion(
    server: MockServer, client: httpx.AsyncClient, rule: str, statuses: list[int]
) -> None:
    server.add(
        {
            "request": {"path": "/seq"},
            "when_exhausted": rule,
            "responses": [{"status": 500}, {"status": 503}, {"status": 200}],
        }
    )
    assert [(await client.get("/seq")).status_code for _ in statuses] == statuses
    if rule == "fail":
        assert len(server.errors) == 2
        with pytest.raises(VerificationError, match="when_exhausted: fail"):
            server.check()


async def test_lowest_priority_wins_then_newest(
    server: MockServer, client: httpx.AsyncClient
) -> None:
    server.add({"request": {"path_regex": "/a.*"}, "response": {"text": "general"}})
    server.add({"request": {"path": "/abc"}, "priority": 9, "response": {"text": "low"}})
    assert (await client.get("/abc")).text == "general"
    server.add({"request": {"path": "/abc"}, "priority": 1, "response": {"text": "high"}})
    assert (await client.get("/abc")).text == "high"
    server.add({"request": {"path": "/abc"}, "priority": 1, "response": {"text": "newest"}})
    assert (await client.get("/abc")).text == "newest"


async def test_scenario_state_machine(server: MockServer, client: httpx.AsyncClient) -> None:
    server.add(
        {
            "request": {"method": "GET", "path": "/order"},
            "state": {"scenario": "order", "required": "Started"},
            "response": {"json": {"status": "new"}},
        }
    )
    server.add(
        {
            "request": {"method": "POST", "path": "/order/pay"},
            "state": {"scenario": "order", "set": "paid"},
            "response": {"status": 204},
        }
    )
    server.add(
        {
            "request": {"method": "GET", "path": "/order"},
            "state": {"scenario": "order", "required": "paid"},
            "response": {"json": {"status": "paid"}},
        }
    )
    assert (await client.get("/order")).json() == {"status": "new"}
    await client.post("/order/pay")
    assert (await client.get("/order")).json() == {"status": "paid"}
    assert server.state("order") == "paid"
    server.set_state("order", "Started")
    assert (await client.get("/order")).json() == {"status": "new"}


async def test_state_per_key(server: MockServer, client: httpx.AsyncClient) -> None:
    key = "{request.json.order_id}"
    server.add(
        {
            "request": {"path": "/pay"},
            "state": {"scenario": "pay", "key": key, "required": "Started", "set": "paid"},
            "response": {"json": {"first": True}},
        }
    )
    server.add(
        {
            "request": {"path": "/pay"},
            "state": {"scenario": "pay", "key": key, "required": "paid"},
            "response": {"status": 409, "json": {"duplicate": True}},
        }
    )
    assert (await client.post("/pay", json={"order_id": 1})).status_code == 200
    assert (await client.post("/pay", json={"order_id": 2})).status_code == 200
    assert (await client.post("/pay", json={"order_id": 1})).status_code == 409
    assert server.state("pay", key="1") == "paid"
    assert server.state("pay", key="3") == "Started"


async def test_unmatched_request_gets_404_with_near_misses(
    server: MockServer, client: httpx.AsyncClient
) -> None:
    server.add(
        {
            "name": "lead",
            "request": {"method": "POST", "path": "/crm/lead", "form": {"user.name": "Anna"}},
        }
    )
    response = await client.post("/crm/lead", data={"user[name]": "Ann"})
    assert response.status_code == 404
    assert "Request was not matched" in response.text
    assert "form.user.name" in response.text
    assert "'Ann'" in response.text
    (entry,) = server.journal.unmatched()
    (miss,) = server.near_misses(entry)
    assert [m.field for m in miss.mismatches] == ["form.user.name"]
    with pytest.raises(VerificationError, match="matched no stub"):
        server.check()


async def test_a_body_too_deep_to_read_is_matched_as_not_json(
    server: MockServer, client: httpx.AsyncClient
) -> None:
    server.add({"request": {"path": "/j", "json": {"a": 1}}, "response": {"status": 201}})
    deep = b"[" * 100_000 + b"]" * 100_000
    response = await client.post("/j", content=deep, headers={"Content-Type": "application/json"})
    assert response.status_code == 404  # not a 500: the body is simply not the JSON wanted
    assert "Closest stubs (1 of 1)" in response.text
    assert (await client.post("/j", json={"a": 1})).status_code == 201


async def test_requests_alike_share_one_unmatched_report(
    server: MockServer, client: httpx.AsyncClient
) -> None:
    server.add({"name": "lead", "request": {"method": "POST", "path": "/crm/lead"}})
    for body in (b"a=1", b"a=2", b"a=1", b"a=1"):  # a sender retrying, and one other body
        await client.put("/crm/lead", content=body)
    with pytest.raises(VerificationError) as caught:
        server.verify_no_unmatched()
    report = caught.value.report
    assert report.startswith("4 request(s) matched no stub\n")
    title = "3 requests alike were not matched (#1, #3, #4)"
    assert f"{title}\n{'=' * len(title)}\n\nPUT /crm/lead\n" in report
    assert report.count("Request was not matched") == 1  # the other body, #2, on its own
    assert report.count("PUT /crm/lead") == 2
    assert report.count("Closest stubs") == 2


async def test_journal_records_everything(server: MockServer, client: httpx.AsyncClient) -> None:
    stub = server.add({"request": {"path": "/j"}, "response": {"status": 202}})
    with freeze_time("2026-05-01 12:00:00", real_asyncio=True):
        await client.put(
            "/j?a=1&a=2",
            content=b'{"x": [1]}',
            headers={"Content-Type": "application/json", "X-Dup": "1"},
        )
        await client.get("/other")
    matched, unmatched = server.requests
    assert (matched.method, matched.path, matched.query_string) == ("PUT", "/j", "a=1&a=2")
    assert matched.headers["x-dup"] == "1"
    assert matched.body == b'{"x": [1]}'
    assert matched.json == {"x": [1]}
    assert matched.received_at == datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
    assert (matched.stub_id, matched.status) == (stub.id, 202)
    assert unmatched.stub_id is None
    assert unmatched.status == 404


async def test_journal_cap_is_reported_never_silent(client: httpx.AsyncClient) -> None:
    async with MockServer(journal_cap=3) as small, httpx.AsyncClient(base_url=small.url) as c:
        for number in range(5):
            await c.get(f"/n{number}")
        assert [entry.path for entry in small.requests] == ["/n2", "/n3", "/n4"]
        assert small.journal.dropped == 2
        with pytest.raises(VerificationError, match="2 earlier request"):
            small.verify({"path": "/n0"})


async def test_verify_counts_and_explains(server: MockServer, client: httpx.AsyncClient) -> None:
    server.add({"request": {"path": "/v"}})
    await client.post("/v", json={"n": 1})
    await client.post("/v", json={"n": 2})
    assert len(server.verify({"path": "/v"}, count=2)) == 2
    server.verify({"path": "/v", "json_paths": {"n": 1}}, count=1)
    server.verify({"path": "/nothing"}, count=0)
    server.verify({"path": "/v"}, at_least=1, at_most=2)
    with pytest.raises(VerificationError) as caught:
        server.verify({"method": "POST", "path": "/v", "json_paths": {"n": 3}}, count=1)
    report = caught.value.report
    assert "Expected exactly 1 request(s) matching POST /v, got 0" in report
    assert "json_paths.n" in report
    assert "request #1" in report


async def _raw(server: MockServer, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(data)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    return answer


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(
            b"GET /x HTTP/1.1\r\nHost: a\r\nBad Header: 1\r\n\r\n",
            "Invalid header token: b'Bad Header: 1'",
            id="bad-header-name",
        ),
        pytest.param(b"hello\r\n\r\n", "Invalid method encountered: b'hello'", id="not-http"),
    ],
)
async def test_a_request_the_parser_refuses_is_journaled_not_logged_as_a_traceback(
    server: MockServer, caplog: pytest.LogCaptureFixture, data: bytes, reason: str
) -> None:
    seen: list[str] = []
    server.log = seen.append
    with caplog.at_level("DEBUG", logger="aiohttp.server"):
        answer = await _raw(server, data)
    assert answer.startswith(b"HTTP/1.0 400 Bad Request")
    (entry,) = server.requests
    assert (entry.refused, entry.status, entry.stub_id) == (True, 400, None)
    assert entry.note == reason
    assert entry.to_json()["refused"] is True
    assert seen == [f"#1 refused by the HTTP parser -> 400: {reason}"]
    assert not [record for record in caplog.records if record.exc_info]
    # Strict mode counts it as a request no stub answered, and says why.
    with pytest.raises(VerificationError) as caught:
        server.check()
    assert "1 request(s) matched no stub" in caught.value.report
    assert f"A request the HTTP parser refused (answered 400): {reason}" in caught.value.report
    assert "Closest stubs" not in caught.value.report


async def test_an_error_of_the_server_itself_is_still_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(request: Any) -> Any:
        raise RuntimeError("a bug")

    fresh = MockServer()
    fresh._handle = broken  # type: ignore[method-assign]
    async with fresh, httpx.AsyncClient(base_url=fresh.url) as other:
        with caplog.at_level("ERROR", logger="aiohttp.server"):
            assert (await other.get("/x")).status_code == 500
    assert any(record.exc_info and "a bug" in str(record.exc_info[1]) for record in caplog.records)
    assert fresh.requests == []


async def test_verify_too_many_lists_the_matches_only(
    server: MockServer, client: httpx.AsyncClient
) -> None:
    server.add({"request": {"path_regex": "/.*"}})
    await client.get("/v")
    await client.get("/v")
    await client.get("/other")
    with pytest.raises(VerificationError) as caught:
        server.verify({"path": "/v"}, count=1)
    report = caught.value.report
    assert "Expected exactly 1 request(s) matching ANY /v, got 2" in report
    assert "#1 GET /v" in report
    assert "#2 GET /v" in report
    # Requests that did not match cannot explain too many matches: no near-miss list.
    assert "/other" not in report
    assert "compare with" not in report


async def test_journal_numbers_start_again_after_a_reset(
    server: MockServer, client: httpx.AsyncClient
) -> None:
    server.add({"request": {"path_regex": "/.*"}})
    await client.get("/a")
    await client.get("/b")
    server.reset_requests()
    await client.get("/c")
    assert [(entry.seq, entry.path) for entry in server.requests] == [(1, "/c")]
    server.reset()
    await client.get("/d")
    assert [(entry.seq, entry.path) for entry in server.requests] == [(1, "/d")]


async def test_verify_order(server: MockServer, client: httpx.AsyncClient) -> None:
    server.add({"request": {"path_regex": "/.*"}})
    for path in ("/a", "/x", "/b", "/c"):
        await client.get(path)
    server.verify_order([{"path": "/a"}, {"path": "/b"}, {"path": "/c"}])
    with pytest.raises(VerificationError, match=r"step 2 of 2 \(ANY /a\)"):
        server.verify_order([{"path": "/b"}, {"path": "/a"}])


async def test_strict_check_wants_every_stub_called(server: MockServer) -> None:
    server.add({"name": "needed", "request": {"path": "/needed"}})
    server.add({"request": {"path": "/maybe"}, "optional": True})
    with pytest.raises(VerificationError, match="'needed'"):
        server.check()


async def test_delay(server: MockServer, client: httpx.AsyncClient) -> None:
    server.add({"request": {"path": "/slow"}, "response": {"delay_ms": 300}})
    with pytest.raises(httpx.ReadTimeout):
        await client.get("/slow", timeout=0.05)


async def test_reset_forgets_everything(server: MockServer, client: httpx.AsyncClient) -> None:
    server.add({"request": {"path": "/r"}, "state": {"scenario": "s", "set": "x"}})
    await client.get("/r")
    server.reset()
    assert (server.stubs, server.requests, server.state("s")) == ([], [], "Started")


def test_sync_use_from_a_thread() -> None:
    with MockServer([{"request": {"path": "/sync"}, "response": {"text": "ok"}}]) as server:
        assert httpx.get(server.url + "/sync").text == "ok"
        server.verify({"path": "/sync"}, count=1)
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.url


async def test_stub_from_parts(server: MockServer, client: httpx.AsyncClient) -> None:
    made = server.stub({"method": "PUT", "path": "/p"}, {"status": 201}, name="parts")
    assert made.name == "parts"
    assert (await client.put("/p")).status_code == 201


@pytest.mark.parametrize(
    "pieces",
    [
        pytest.param([b'{"name": ', b'"Ann", ', b'"n": 1}'], id="chunked-slow"),
        pytest.param([b'{"name": "Ann", "n": 1}'], id="one-piece"),
        pytest.param([], id="empty"),
    ],
)
async def test_a_body_is_journaled_whole_however_it_arrives(
    server: MockServer, client: httpx.AsyncClient, pieces: list[bytes]
) -> None:
    server.add({"request": {"path": "/in"}, "response": {"json": {"got": "{request.json}"}}})

    async def dribble() -> AsyncIterator[bytes]:
        for piece in pieces:
            await asyncio.sleep(0.02)  # the handler starts before the rest arrives
            yield piece

    response = await client.post("/in", content=dribble())
    expected = b"".join(pieces)
    assert server.requests[-1].body == expected
    assert response.json() == {"got": json.loads(expected) if expected else None}


@pytest.mark.parametrize(
    ("call", "error", "says"),
    [
        pytest.param(
            lambda s: s.verify({"path": "/x", "methd": "GET"}),
            StubError,
            "methd: unknown field; did you mean 'method'?",
            id="verify-misspelt-field",
        ),
        pytest.param(
            lambda s: s.find({"path": "x"}),
            StubError,
            "path: a path starting with '/'; got 'x'",
            id="find-bad-path",
        ),
        pytest.param(
            lambda s: s.verify_order([{"path": "/a"}, "garbage"]),
            StubError,
            "a mapping with the fields method, path",
            id="order-not-a-mapping",
        ),
        pytest.param(
            lambda s: s.verify({"path": "/x"}, count=-1),
            ValueError,
            "count: expected a whole number, 0 or more; got -1",
            id="negative-count",
        ),
    ],
)
def test_a_verification_that_cannot_be_read_says_why(
    call: Any, error: type[Exception], says: str
) -> None:
    with pytest.raises(error) as caught:
        call(MockServer())
    assert says in str(caught.value)
    assert "pydantic" not in str(caught.value)


@pytest.mark.parametrize("status", [100, 101, 199])
def test_an_informational_status_cannot_end_a_stubs_answer(status: int) -> None:
    # Fuzzing found it: a 1xx "answer" leaves the client waiting for the real one.
    with pytest.raises(StubError, match=r"response\.status: a number of at least 200"):
        MockServer().add({"response": {"status": status}})


def test_a_server_stopped_in_its_thread_leaves_no_task_behind() -> None:
    """A connection's handler that aiohttp's shutdown had not seen end (one lingering over
    a refused body whose client then left) was left pending when the thread's loop was
    closed: "Task was destroyed but it is pending!" in the user's test output."""
    server = MockServer().start_in_thread()
    loop = server._loop
    assert loop is not None

    async def linger() -> None:
        await asyncio.Event().wait()

    started = asyncio.run_coroutine_threadsafe(_spawn(linger), loop).result(5)
    server.stop_thread()
    assert loop.is_closed()
    assert started.cancelled()


async def _spawn(work: Any) -> asyncio.Task[None]:
    task = asyncio.ensure_future(work())
    await asyncio.sleep(0)
    return task
