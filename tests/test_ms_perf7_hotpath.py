"""The request path's shortcuts (docs/performance.md, session 12) decide as the long way does.

Each shortcut reads inline what a general function reads: JSON-path matching without
a difference list, a journal entry made without the dataclass's ``__init__``, the JSON
scanner without ``raw_decode``, the parser wrapper without ``__getattr__``. These
tests hold each to the general code it stands for.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from aiohttp.http_parser import HttpRequestParser
from hypothesis import given
from hypothesis import strategies as st

from mockserver import MockServer, RecordedRequest, RequestPattern
from mockserver.journal import NO_PARAMS
from mockserver.jsoncodec import loads_body
from mockserver.matching import CompiledPattern
from mockserver.pipelining import _OneAtATime
from webhook_core.template import MISSING

from .strategies import json_value

NOW = datetime(2026, 12, 3, tzinfo=timezone.utc)
KEYS = st.sampled_from(["a", "b", "0", "name"])
PLAIN = st.one_of(
    st.text(max_size=3), st.integers(-3, 3), st.floats(-3, 3, allow_nan=False), st.booleans()
)
BODY_VALUE = st.recursive(
    st.one_of(PLAIN, st.none()),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=8,
)


def _received(body: bytes, path: str = "/hook", method: str = "POST") -> RecordedRequest:
    return RecordedRequest.received(
        1, method, path, "", (("Content-Type", "application/json"),), body, NOW
    )


@given(
    paths=st.dictionaries(
        st.lists(KEYS, min_size=1, max_size=3).map(".".join), PLAIN, min_size=1, max_size=3
    ),
    body=st.one_of(BODY_VALUE.map(lambda v: json.dumps(v).encode()), st.binary(max_size=8)),
    path=st.sampled_from(["/hook", "/other"]),
    method=st.sampled_from(["POST", "GET"]),
)
def test_json_paths_equal_to_plain_values_match_as_the_difference_says(
    paths: dict[str, Any], body: bytes, path: str, method: str
) -> None:
    pattern = CompiledPattern(
        RequestPattern.model_validate({"method": "POST", "path": "/hook", "json_paths": paths})
    )
    request = _received(body, path, method)
    # A pattern of plain values takes the shortcut (bool is not plain: json_equal decides).
    assert (pattern.json_equals is not None) == all(type(v) is not bool for v in paths.values())
    assert pattern.matches(request) is (not pattern.difference(request))


def test_the_shortcut_leaves_numbers_of_another_type_to_json_equal() -> None:
    pattern = CompiledPattern(
        RequestPattern.model_validate({"path": "/hook", "json_paths": {"a.b": 1, "c": "x"}})
    )
    assert pattern.json_equals is not None
    assert pattern.matches(_received(b'{"a": {"b": 1.0}, "c": "x"}'))  # 1 equals 1.0
    assert not pattern.matches(_received(b'{"a": {"b": true}, "c": "x"}'))  # true is not 1
    assert not pattern.matches(_received(b'{"a": [1], "c": "x"}'))
    assert not pattern.matches(_received(b"not json"))


@given(
    method=st.sampled_from(["GET", "POST"]),
    path=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=8),
    query=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=8),
    headers=st.lists(
        st.tuples(st.sampled_from(["Host", "X-A", "Content-Type"]), st.text(max_size=6)),
        max_size=4,
    ),
    body=st.one_of(json_value.map(lambda v: json.dumps(v).encode()), st.binary(max_size=40)),
)
def test_an_entry_made_on_the_hot_path_equals_the_dataclass_s_own(
    method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes
) -> None:
    made = RecordedRequest.received(1, method, "/" + path, query, headers, body, NOW)
    plain = RecordedRequest(1, method, "/" + path, query, tuple(headers), body, NOW)
    if made.undecodable or made.raw_header_bytes is not None:
        plain = dataclasses.replace(
            plain,
            raw_headers=made.raw_headers,
            undecodable=made.undecodable,
            raw_header_bytes=made.raw_header_bytes,
        )
    for field in dataclasses.fields(RecordedRequest):
        assert getattr(made, field.name) == getattr(plain, field.name), field.name
    # The budget's figures counted on the way are what the lazy ones work out.
    assert (made.size, made.views_size) == (plain.size, plain.views_size)
    assert made.path_params is NO_PARAMS
    assert made.to_json() == plain.to_json()
    copy = dataclasses.replace(made, body=body[:1])
    assert copy.stub_id is None
    assert copy.body == body[:1]


@pytest.mark.parametrize("body", [b"", b"   ", b"]", b"{", b"1 2", b" [1] ", b"\xff"])
def test_a_body_the_scanner_finds_no_value_in_is_not_json(body: bytes) -> None:
    try:
        expected = json.loads(body)
    except ValueError:
        expected = MISSING
    assert loads_body(body) == expected


def test_the_parser_wrapper_answers_every_call_aiohttp_makes_without_a_hook() -> None:
    # A __getattr__ made each read of the wrapper's own slots a Python call (24 a request).
    assert "__getattr__" not in vars(_OneAtATime)
    public = {name for name in dir(HttpRequestParser) if not name.startswith("_")}
    assert public <= set(dir(_OneAtATime)), public - set(dir(_OneAtATime))


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer() as made:
        yield made


async def test_a_json_paths_stub_over_a_real_socket(server: MockServer) -> None:
    server.stub(
        {"method": "POST", "path": "/hook", "json_paths": {"name": "bench", "value": 42}},
        {"json": {"echo": "{request.json}"}},
    )
    async with httpx.AsyncClient(base_url=server.url) as client:
        same = await client.post("/hook", json={"name": "bench", "value": 42.0})
        other = await client.post("/hook", json={"name": "bench", "value": True})
        missing = await client.post("/hook", json={"name": "bench"})
    assert same.status_code == 200
    assert same.json() == {"echo": {"name": "bench", "value": 42.0}}
    assert (other.status_code, missing.status_code) == (404, 404)
    entries = server.requests
    assert [entry.status for entry in entries] == [200, 404, 404]
    assert entries[0].path_params == {}
    assert entries[0].stub_id is not None
