"""What grows per request or per distinct key is bounded (keyed scenario states, the
server's error list), and stub files as editors write them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mockserver import MockServer, VerificationError
from mockserver.files import load_stub_file
from mockserver.stubs import StateTable
from tests.test_ms_probe_wire import body_of, exchange, request, status_of


def test_keyed_states_keep_the_most_recent_within_their_entry_bound() -> None:
    table = StateTable(max_entries=3, max_bytes=None)
    for key in "abcd":
        table[("order", key)] = "paid"
    table[("order", "b")] = "shipped"  # set again: the most recent now
    table[("order", "e")] = "paid"
    assert list(table) == [("order", "d"), ("order", "b"), ("order", "e")]
    assert table.dropped == 2
    table.clear()
    assert (len(table), table.bytes, table.dropped) == (0, 0, 0)


def test_keyed_states_stay_within_their_byte_bound_and_keep_the_last_alone() -> None:
    table = StateTable(max_entries=None, max_bytes=10_000)
    for number in range(1_000):
        table[("order", f"key-{number}")] = "paid"
    assert table.bytes <= 10_000
    assert ("order", "key-999") in table
    assert table.dropped == 1_000 - len(table)
    table[("order", "k" * 50_000)] = "paid"  # larger than the whole budget: kept, alone
    assert list(table) == [("order", "k" * 50_000)]


async def test_a_request_key_per_request_does_not_grow_the_states_without_bound() -> None:
    async with MockServer(
        [
            {
                "request": {"path": "/order"},
                "state": {"scenario": "order", "set": "seen", "key": "{request.query.id}"},
            }
        ]
    ) as server:
        server.registry.states.max_entries = 5
        for number in range(8):
            assert status_of(await exchange(server.port, request(f"/order?id={number}"))) == 200
        assert len(server.registry.states) == 5
        assert server.state("order", key="7") == "seen"
        answer = await exchange(server.port, request("/__admin/state"))
        assert status_of(answer) == 200
        shown = json.loads(body_of(answer))
        assert (len(shown["states"]), shown["dropped"]) == (5, 3)


async def test_an_exhausted_stub_hit_again_and_again_keeps_a_bounded_error_list() -> None:
    async with MockServer(
        [{"request": {"path": "/once"}, "responses": [{}], "when_exhausted": "fail"}]
    ) as server:
        for _ in range(130):
            await exchange(server.port, request("/once"))
        assert len(server.errors) <= 100
        with pytest.raises(VerificationError) as caught:
            server.check()
        assert "and 29 more like them" in str(caught.value)
        server.reset_requests()
        assert server.errors == []


def test_a_json_stub_file_written_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    # Windows editors write one; RFC 8259 lets a parser ignore it, and YAML files already do.
    path = tmp_path / "stubs.json"
    path.write_bytes(b'\xef\xbb\xbf[{"request": {"path": "/a"}}]')
    (stub,) = load_stub_file(path)
    assert stub.request.path == "/a"
    assert stub.source == f"{path}:1"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"port": True}, "port", id="port-true"),
        pytest.param({"journal_cap": True}, "journal_cap", id="cap-true"),
        pytest.param({"port": 80.5}, "port", id="port-float"),
    ],
)
def test_a_setting_of_the_wrong_type_is_refused_not_read_as_a_number(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        MockServer(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["count", "at_least", "at_most"])
def test_verify_refuses_a_bool_as_a_count(name: str) -> None:
    server = MockServer()
    with pytest.raises(ValueError, match=name):
        server.verify({"path": "/a"}, **{name: True})  # type: ignore[arg-type]
