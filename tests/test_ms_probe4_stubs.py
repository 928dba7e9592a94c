"""A stub that could never do what it says is refused where it is written: a priority
past any order (26 digits), a path holding what no request's path can hold as written
(a NUL, a line break, a query, a percent-escape), a state key naming a
part no request has, a fault whose size cannot be served. Python, stub files and the
admin API alike name the field and what is allowed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver import MockServer, StubError
from mockserver.files import load_stub_file
from mockserver.models import MAX_PRIORITY

JSON = {"Content-Type": "application/json"}

#: (a stub, the field, words of the message)
REFUSED = [
    pytest.param({"priority": 10**25}, "priority", "from -2147483647 to 2147483647", id="priority"),
    pytest.param({"priority": -(10**25)}, "priority", "from -2147483647", id="priority-negative"),
    pytest.param(
        {"priority": MAX_PRIORITY + 1}, "priority", "got 2147483648", id="priority-just-past"
    ),
    pytest.param(
        {"request": {"path": "/a\x00b"}}, "request.path", "without control characters", id="nul"
    ),
    pytest.param(
        {"request": {"path": "/a\nb"}}, "request.path", "without control characters", id="newline"
    ),
    pytest.param(
        {"request": {"path": "/a\x1b[31m"}}, "request.path", "control characters", id="escape"
    ),
    pytest.param({"request": {"path": "/a\x85"}}, "request.path", "control characters", id="c1"),
    pytest.param({"request": {"path": "/a\x7f"}}, "request.path", "control characters", id="del"),
    pytest.param(
        {"request": {"path": "/caf\udce9"}}, "request.path", "'\\xNN' (/caf\\xe9)", id="surrogate"
    ),
    pytest.param({"request": {"path": "/search?q=1"}}, "request.path", "query:", id="query"),
    pytest.param({"request": {"path": "/page#top"}}, "request.path", "fragment", id="fragment"),
    pytest.param(
        {"request": {"path": "/caf%C3%A9"}}, "request.path", "write '/café'", id="escaped"
    ),
    pytest.param(
        {"state": {"scenario": "s", "key": "{request.jsn.order}"}},
        "state.key",
        "did you mean request.json?",
        id="state-key",
    ),
    pytest.param(
        {"response": {"fault": {"type": "slow_body", "chunk_size": 10**25}}},
        "response.fault.chunk_size",
        "at most 1048576",
        id="chunk-size",
    ),
    pytest.param(
        {"response": {"fault": {"type": "large_body", "size": 10**25}}},
        "response.fault.size",
        "at most 1099511627776",
        id="large-body",
    ),
]


@pytest.mark.parametrize(("stub", "field", "words"), REFUSED)
async def test_the_admin_api_refuses_it_naming_the_field(
    stub: dict[str, Any], field: str, words: str
) -> None:
    async with MockServer() as server, httpx.AsyncClient(base_url=server.url) as client:
        # json.dumps writes a lone surrogate as its escape (httpx's json= cannot send it).
        answer = await client.post("/__admin/stubs", content=json.dumps(stub), headers=JSON)
        assert answer.status_code == 400, answer.text
        (error,) = answer.json()["errors"]
        assert error["field"] == field
        assert words in error["message"], error
        assert server.stubs == []


@pytest.mark.parametrize(("stub", "field", "words"), REFUSED)
def test_python_refuses_it_naming_the_field(stub: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(StubError) as caught:
        MockServer(stubs=[stub])
    (problem,) = caught.value.problems
    assert problem.field == f"stubs[0].{field}"
    assert words in problem.message


def test_a_huge_priority_from_python_is_shown_by_its_length() -> None:
    # str() of an integer of 5000 digits raises: the message says how long it is instead.
    with pytest.raises(StubError) as caught:
        MockServer(stubs=[{"priority": 10**5000}])
    (problem,) = caught.value.problems
    assert "got an integer of about 5001 digits" in problem.message


@pytest.mark.parametrize(
    ("written", "line", "field"),
    [
        pytest.param(
            "- id: a\n  priority: 100000000000000000000000000\n", 2, "[0].priority", id="priority"
        ),
        pytest.param('- request:\n    path: "/a\\0b"\n', 2, "[0].request.path", id="nul"),
        pytest.param("- request:\n    path: /a?b=1\n", 2, "[0].request.path", id="query"),
    ],
)
def test_a_stub_file_refuses_it_at_the_line(
    tmp_path: Path, written: str, line: int, field: str
) -> None:
    path = tmp_path / "stubs.yaml"
    path.write_text(written, encoding="utf-8")
    with pytest.raises(StubError) as caught:
        load_stub_file(path)
    (problem,) = caught.value.problems
    assert (problem.where, problem.field) == (f"{path}:{line}", field)


async def test_what_can_be_matched_is_still_taken() -> None:
    stubs = [
        {"priority": MAX_PRIORITY, "request": {"path": "/low"}, "response": {"text": "low"}},
        {"priority": -MAX_PRIORITY, "request": {"path": "/low"}, "response": {"text": "high"}},
        # A '%' not followed by two hex digits, a space, Unicode: as a decoded path holds them.
        {"request": {"path": "/100%/a b/café"}, "response": {"text": "literal"}},
        {"request": {"path": "/files/v{n}.json"}, "response": {"text": "{request.path.n}"}},
        # A byte that is not UTF-8 is matched as the journal writes it.
        {"request": {"path": "/caf\\xe9"}, "response": {"text": "latin-1"}},
        {"state": {"scenario": "s", "key": "{request.query.k}"}, "request": {"path": "/k"}},
    ]
    async with MockServer(stubs=stubs) as server, httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/low")).text == "high"
        assert (await client.get("/100%25/a%20b/caf%C3%A9")).text == "literal"
        assert (await client.get("/files/v7.json")).text == "7"
        assert (await client.get("/caf%E9")).text == "latin-1"
        assert (await client.get("/k?k=1")).status_code == 200


@pytest.mark.parametrize(
    ("path", "sent"),
    [
        pytest.param("/search/{}", "/search/%7B%7D", id="empty-braces"),
        pytest.param("/a/{id", "/a/{id", id="open-brace"),
        pytest.param("/a/id}", "/a/id%7D", id="close-brace"),
        pytest.param("/a/{ id }", "/a/%7B%20id%20%7D", id="spaced"),
        pytest.param("/a/{user-id}", "/a/%7Buser-id%7D", id="not-a-name"),
        pytest.param("/a/{id}/x{", "/a/7/x%7B", id="beside-a-parameter"),
    ],
)
async def test_a_brace_that_is_no_parameter_is_a_literal_and_matches(path: str, sent: str) -> None:
    # A request's path holds a brace decoded (a client sends it raw or as %7B): such a
    # stub matched it before the path checks, and a user may rely on it.
    stubs = [{"request": {"method": "GET", "path": path}, "response": {"text": "literal"}}]
    async with MockServer(stubs=stubs) as server, httpx.AsyncClient(base_url=server.url) as client:
        answer = await client.get(sent)
        assert (answer.status_code, answer.text) == (200, "literal")


async def test_a_stub_id_with_line_breaks_cannot_break_a_report() -> None:
    stubs = [{"id": "i\r\nFORGED\x1b[31m", "name": "n\nx", "request": {"path": "/a"}}]
    async with MockServer(stubs=stubs) as server, httpx.AsyncClient(base_url=server.url) as client:
        report = (await client.get("/b")).text
    line = next(line for line in report.splitlines() if line.startswith("1. stub"))
    assert line == "1. stub 'n\\nx' (i\\x0d\\x0aFORGED\\x1b[31m): 1 of 1 field(s) differ"
    assert "\x1b" not in report
    assert "\r" not in report


@pytest.mark.parametrize(
    ("stub", "field"),
    [
        pytest.param({"response": {"json": {"a": 10**5000}}}, "response.json", id="response"),
        pytest.param({"request": {"json": {"a": [10**5000]}}}, "request.json", id="json"),
        pytest.param({"request": {"query": {"a": 10**5000}}}, "request.query.a.equal", id="query"),
    ],
)
def test_python_refuses_an_integer_json_cannot_write(stub: dict[str, Any], field: str) -> None:
    # Python writes no integer of over 4300 digits as text: the response's JSON was a
    # ValueError with a traceback, a matcher's a 500 on every request it was tried on.
    with pytest.raises(StubError) as caught:
        MockServer(stubs=[stub])
    (problem,) = caught.value.problems
    assert problem.field == f"stubs[0].{field}"
    assert "an integer of about 5001 digits" in problem.message
    assert "at most 4000 digits" in problem.message


async def test_an_integer_of_4000_digits_is_still_taken() -> None:
    stubs = [{"request": {"path": "/n"}, "response": {"json": {"n": 10**3999}}}]
    async with MockServer(stubs=stubs) as server, httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/n")).content == b'{"n":1' + b"0" * 3999 + b"}"


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Content-Length": "999"}, id="long"),
        pytest.param({"content-length": "1"}, id="short"),
        pytest.param({"Content-Length": "abc"}, id="not-a-number"),
        pytest.param({"Transfer-Encoding": "chunked"}, id="chunked"),
    ],
)
async def test_a_stub_cannot_give_the_headers_that_frame_its_body(
    headers: dict[str, str],
) -> None:
    # Sent as given, Content-Length: 1 left "ello" to be read as the next answer on the
    # connection, 999 held the client waiting, "abc" was a traceback and no answer, and
    # Transfer-Encoding came beside the server's Content-Length.
    async with MockServer() as server, httpx.AsyncClient(base_url=server.url) as client:
        stub = {"response": {"headers": headers, "text": "hello"}}
        answer = await client.post("/__admin/stubs", json=stub)
        assert answer.status_code == 400
        ((name, _),) = headers.items()
        (error,) = answer.json()["errors"]
        # A Content-Length is weighed against the body, so it is the answer's problem.
        where = "response" if name.lower() == "content-length" else "response.headers"
        assert error["field"] == where
        assert f"header {name}: the server writes it" in error["message"]
        assert "cut_body" in error["message"]


@pytest.mark.parametrize(
    "response",
    [
        pytest.param({"text": "hello", "headers": {"Content-Length": "5"}}, id="text"),
        pytest.param({"json": {"a": "é"}, "headers": {"content-length": "10"}}, id="json"),
        pytest.param({"base64": "AAEC", "headers": {"Content-Length": "3"}}, id="base64"),
        pytest.param({"status": 201, "headers": {"Content-Length": "0"}}, id="no-body"),
        pytest.param(
            {"text": "{not a reference", "headers": {"Content-Length": "16"}}, id="braces"
        ),
    ],
)
async def test_a_content_length_equal_to_the_body_is_still_taken(response: dict[str, Any]) -> None:
    # A recorded answer carries its own, right, Content-Length: aiohttp sent it as the
    # one it writes, and such stubs worked before the framing check.
    stubs = [{"request": {"path": "/recorded"}, "response": response}]
    async with MockServer(stubs=stubs) as server, httpx.AsyncClient(base_url=server.url) as client:
        answer = await client.get("/recorded")
        assert int(answer.headers["Content-Length"]) == len(answer.content)
        assert answer.headers["Content-Length"] == next(iter(response["headers"].values()))
        # and the connection still reads the next answer from the right byte
        assert (await client.get("/recorded")).content == answer.content


@pytest.mark.parametrize(
    "response",
    [
        pytest.param({"text": "{request.body}"}, id="templated"),
        pytest.param({"text": "hello", "fault": "cut_body"}, id="fault"),
    ],
)
def test_a_content_length_the_body_may_not_have_is_refused(response: dict[str, Any]) -> None:
    with pytest.raises(StubError) as caught:
        MockServer(stubs=[{"response": {**response, "headers": {"Content-Length": "5"}}}])
    (problem,) = caught.value.problems
    assert problem.field == "stubs[0].response"
    assert "header Content-Length: the server writes it" in problem.message


@pytest.mark.parametrize("status", [204, 304])
def test_a_status_without_a_body_refuses_one(status: int) -> None:
    # aiohttp sent the 204 and dropped the body without a word.
    with pytest.raises(StubError) as caught:
        MockServer(stubs=[{"response": {"status": status, "text": "hello"}}])
    (problem,) = caught.value.problems
    assert problem.field == "stubs[0].response"
    assert problem.message == (
        f"a {status} answer has no body (RFC 9110), and this one gives text: drop it, or answer 200"
    )
    MockServer(stubs=[{"response": {"status": status}}])  # without a body, as ever


@pytest.mark.parametrize("status", [204, 304])
@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"text": ""}, id="empty-text"),
        pytest.param({"base64": ""}, id="empty-base64"),
        pytest.param({"text": None}, id="null-text"),
    ],
)
async def test_a_status_without_a_body_still_takes_an_empty_one(
    status: int, body: dict[str, Any]
) -> None:
    # text: "" is no body: it was served as the bare 204 it says, and stubs write it so.
    stubs = [{"request": {"path": "/none"}, "response": {"status": status, **body}}]
    async with MockServer(stubs=stubs) as server, httpx.AsyncClient(base_url=server.url) as client:
        answer = await client.get("/none")
        assert (answer.status_code, answer.content) == (status, b"")


LONG = "9" * 5000


@pytest.mark.parametrize(
    ("stub", "field"),
    [
        pytest.param({"request": {"json_paths": {f"items.{LONG}": 1}}}, "request.json_paths"),
        pytest.param({"request": {"query": {f"a[{LONG}]": "1"}}}, "request.query", id="query"),
        pytest.param({"request": {"form": {f"a.{LONG}": "1"}}}, "request.form", id="form"),
        pytest.param({"response": {"text": f"{{request.json.items.{LONG}}}"}}, "response"),
        pytest.param(
            {"state": {"scenario": "s", "key": f"{{request.query.a.{LONG}}}"}}, "state.key"
        ),
    ],
)
def test_a_path_into_data_with_a_key_no_list_index_can_be_is_refused(
    stub: dict[str, Any], field: str
) -> None:
    # Walking a list to an index of 5000 digits raised in int(): a 500 on every request.
    with pytest.raises(StubError) as caught:
        MockServer(stubs=[stub])
    (problem,) = caught.value.problems
    assert problem.field == f"stubs[0].{field}"
    assert "a key of 5,000 digits, which no list index can be (at most 4000" in problem.message


async def test_a_long_key_of_digits_still_names_a_dict_key() -> None:
    snowflake = "1234567890123456789012"  # ids past 18 digits key dicts in real payloads
    stubs = [{"request": {"json_paths": {f"users.{snowflake}": "x"}}, "response": {"text": "ok"}}]
    async with MockServer(stubs=stubs) as server, httpx.AsyncClient(base_url=server.url) as client:
        answer = await client.post("/u", json={"users": {snowflake: "x"}})
        assert answer.text == "ok"
        missed = await client.post("/u", json={"users": ["x"]})
        assert missed.status_code == 404
