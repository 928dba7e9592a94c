"""Numbers and booleans of stubs and admin requests are what they say: ``"200"`` is text,
not the status 200, and ``"true"`` or ``1`` is not a boolean (pydantic's lax mode read
them silently). Stub files (YAML, JSON), the admin API and Python refuse them alike,
naming the field."""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver import MockServer, StubError
from mockserver.crm import Bitrix24
from mockserver.files import load_stub_file

JSON = {"Content-Type": "application/json"}

#: (a stub with one field of the wrong kind, the field, a word of the message)
WRONG_KINDS = [
    pytest.param({"response": {"status": "200"}}, "response.status", "whole number", id="status"),
    pytest.param(
        {"response": {"status": 200.0}}, "response.status", "whole number", id="status-float"
    ),
    pytest.param({"response": {"delay_ms": "5"}}, "response.delay_ms", "whole number", id="delay"),
    pytest.param({"priority": "1"}, "priority", "whole number", id="priority"),
    pytest.param({"priority": True}, "priority", "whole number", id="priority-bool"),
    pytest.param(
        {"responses": [{"status": 201}, {"status": "202"}]},
        "responses.1.status",
        "whole number",
        id="responses",
    ),
    pytest.param(
        {"response": {"fault": {"type": "slow_body", "chunk_size": "4"}}},
        "response.fault.chunk_size",
        "whole number",
        id="chunk-size",
    ),
    pytest.param(
        {"response": {"fault": {"type": "slow_body", "chunk_delay_ms": "10"}}},
        "response.fault.chunk_delay_ms",
        "whole number",
        id="chunk-delay",
    ),
    pytest.param(
        {"response": {"fault": {"type": "large_body", "size": "10"}}},
        "response.fault.size",
        "whole number",
        id="size",
    ),
    pytest.param(
        {"response": {"fault": {"type": "no_response", "seconds": "1"}}},
        "response.fault.seconds",
        "a number",
        id="seconds",
    ),
    pytest.param(
        {"response": {"fault": {"type": "no_response", "seconds": True}}},
        "response.fault.seconds",
        "a number",
        id="seconds-bool",
    ),
    pytest.param({"optional": "true"}, "optional", "true or false", id="optional"),
    pytest.param({"optional": 1}, "optional", "true or false", id="optional-1"),
    pytest.param(
        {"response": {"template": "false"}}, "response.template", "true or false", id="template"
    ),
    pytest.param(
        {"request": {"headers": {"X": {"present": "true"}}}},
        "request.headers.X.present",
        "true or false",
        id="present",
    ),
    pytest.param(
        {"request": {"query": {"x": {"absent": 1}}}},
        "request.query.x.absent",
        "true or false",
        id="absent",
    ),
]


def _field(problem: dict[str, Any]) -> str:
    return str(problem["field"]).replace("[", ".").replace("]", "")


@pytest.mark.parametrize(("stub", "field", "word"), WRONG_KINDS)
async def test_the_admin_api_refuses_a_value_of_the_wrong_kind(
    stub: dict[str, Any], field: str, word: str
) -> None:
    async with MockServer() as server, httpx.AsyncClient(base_url=server.url) as client:
        answer = await client.post("/__admin/stubs", json=stub)
        assert answer.status_code == 400, answer.text
        errors = answer.json()["errors"]
        assert [_field(error) for error in errors] == [field], errors
        assert word in errors[0]["message"], errors
        assert server.stubs == []


@pytest.mark.parametrize(("stub", "field", "word"), WRONG_KINDS)
def test_python_refuses_a_value_of_the_wrong_kind(
    stub: dict[str, Any], field: str, word: str
) -> None:
    with pytest.raises(StubError) as caught:
        MockServer(stubs=[stub])
    (problem,) = caught.value.problems
    assert problem.field.replace("[", ".").replace("]", "").endswith(field)
    assert word in problem.message


def test_text_that_reads_as_a_number_says_to_write_it_without_quotes() -> None:
    with pytest.raises(StubError) as caught:
        MockServer(stubs=[{"response": {"status": "200", "template": "true"}}])
    messages = {problem.field: problem.message for problem in caught.value.problems}
    assert messages["stubs[0].response.status"] == (
        "a whole number, not text (write 200 without quotes); got '200'"
    )
    assert messages["stubs[0].response.template"] == (
        "true or false, not text (write true without quotes); got 'true'"
    )


@pytest.mark.parametrize(
    ("written", "line", "field"),
    [
        pytest.param('- response: {status: "200"}\n', 1, "[0].response.status", id="quoted"),
        pytest.param("- priority: 010\n", 1, "[0].priority", id="leading-zero"),
        pytest.param(
            "- response:\n    delay_ms: 1_000\n", 2, "[0].response.delay_ms", id="underscore"
        ),
        pytest.param("- optional: 'true'\n", 1, "[0].optional", id="quoted-bool"),
        pytest.param("- response: {delay_ms: 5.0}\n", 1, "[0].response.delay_ms", id="float"),
    ],
)
def test_a_yaml_stub_file_refuses_them_at_the_line(
    tmp_path: Path, written: str, line: int, field: str
) -> None:
    path = tmp_path / "stubs.yaml"
    path.write_text(written, encoding="utf-8")
    with pytest.raises(StubError) as caught:
        load_stub_file(path)
    (problem,) = caught.value.problems
    assert problem.where == f"{path}:{line}"
    assert problem.field == field


def test_a_json_stub_file_refuses_them_at_the_line(tmp_path: Path) -> None:
    path = tmp_path / "stubs.json"
    path.write_text('[\n  {"response":\n    {"status": "201"}}\n]\n', encoding="utf-8")
    with pytest.raises(StubError) as caught:
        load_stub_file(path)
    (problem,) = caught.value.problems
    assert (problem.where, problem.field) == (f"{path}:3", "[0].response.status")


def test_what_is_right_is_still_taken(tmp_path: Path) -> None:
    # An IntEnum is an int; a float field takes a whole number; YAML 1.1's plain words
    # for booleans (yes, no, on, off) are booleans in a boolean field, as before.
    server = MockServer(
        stubs=[
            {"response": {"status": HTTPStatus.CREATED}},
            {"response": {"fault": {"type": "no_response", "seconds": 2}}},
        ]
    )
    assert [stub.answers[0].status for stub in server.stubs] == [200, 201]
    path = tmp_path / "stubs.yaml"
    path.write_text("- optional: yes\n  response: {template: off}\n", encoding="utf-8")
    (stub,) = load_stub_file(path)
    assert stub.optional is True
    assert stub.answers[0].template is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"method": "crm.lead.add", "status": "503"}, "status", id="status"),
        pytest.param({"method": "crm.lead.add", "call": "1"}, "call", id="call"),
        pytest.param({"method": "crm.lead.add", "call": True}, "call", id="call-bool"),
        pytest.param({"method": "crm.lead.add", "seconds": "5"}, "seconds", id="seconds"),
    ],
)
async def test_a_crm_fault_refuses_them(body: dict[str, Any], field: str) -> None:
    async with MockServer() as server, httpx.AsyncClient(base_url=server.url) as client:
        server.mount(Bitrix24(secret="s"))
        answer = await client.post("/__admin/crm/bitrix24/faults", json=body)
        assert answer.status_code == 400, answer.text
        assert [error["field"] for error in answer.json()["errors"]] == [field]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"freeze": "true"}, "freeze", id="freeze"),
        pytest.param({"thaw": 1}, "thaw", id="thaw"),
        pytest.param({"advance": "60"}, "advance", id="advance"),
    ],
)
async def test_the_crm_clock_refuses_them(body: dict[str, Any], field: str) -> None:
    async with MockServer() as server, httpx.AsyncClient(base_url=server.url) as client:
        server.mount(Bitrix24(secret="s"))
        before = (await client.get("/__admin/crm/bitrix24/clock")).json()
        answer = await client.post("/__admin/crm/bitrix24/clock", json=body)
        assert answer.status_code == 400, answer.text
        assert [error["field"] for error in answer.json()["errors"]] == [field]
        after = (await client.get("/__admin/crm/bitrix24/clock")).json()
        assert after["frozen"] == before["frozen"]
