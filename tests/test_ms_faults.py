"""Each fault of the mock server reaches an httpx client as the failure it should be."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mockserver import MockServer
from webhook_core import HttpxSender


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer() as made:
        yield made


def add_fault(server: MockServer, fault: Any, **response: Any) -> str:
    server.add({"request": {"path": "/f"}, "response": {"fault": fault, **response}})
    return server.url + "/f"


@pytest.mark.parametrize(
    ("fault", "exception"),
    [
        pytest.param("connection_reset", httpx.ReadError, id="connection_reset"),
        pytest.param("empty_response", httpx.RemoteProtocolError, id="empty_response"),
        pytest.param("malformed_response", httpx.RemoteProtocolError, id="malformed_response"),
        pytest.param(
            "random_data_then_close", httpx.RemoteProtocolError, id="random_data_then_close"
        ),
        pytest.param({"type": "no_response", "seconds": 5}, httpx.ReadTimeout, id="no_response"),
    ],
)
async def test_connection_faults_raise_in_httpx(
    server: MockServer, fault: Any, exception: type[Exception]
) -> None:
    url = add_fault(server, fault)
    async with httpx.AsyncClient(timeout=0.5) as client:
        with pytest.raises(exception):
            await client.get(url)
    assert server.requests[0].fault == (fault if isinstance(fault, str) else fault["type"])


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        pytest.param("connection_reset", "disconnect", id="connection_reset"),
        pytest.param("empty_response", "disconnect", id="empty_response"),
        pytest.param("malformed_response", "protocol", id="malformed_response"),
        pytest.param("random_data_then_close", "protocol", id="random_data_then_close"),
        pytest.param({"type": "no_response", "seconds": 5}, "timeout", id="no_response"),
    ],
)
async def test_connection_faults_fail_the_webhook_sender(
    server: MockServer, fault: Any, kind: str
) -> None:
    url = add_fault(server, fault)
    async with HttpxSender(timeout=0.5) as sender:
        outcome = await sender.send(httpx.Request("POST", url, content=b"a=1"))
    assert not outcome.ok
    assert outcome.error_kind == kind


async def test_slow_body_dribbles(server: MockServer) -> None:
    url = add_fault(server, {"type": "slow_body", "chunk_size": 4, "chunk_delay_ms": 100})
    async with HttpxSender(timeout=0.3) as sender:
        outcome = await sender.send(httpx.Request("GET", url))
    assert outcome.error_kind == "timeout"  # ten chunks 100 ms apart outlast a 0.3 s limit
    async with httpx.AsyncClient() as client:
        response = await client.get(url, timeout=5)
    assert response.content == b"x" * 40


async def test_invalid_json_under_a_json_content_type(server: MockServer) -> None:
    url = add_fault(server, "invalid_json")
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.headers["content-type"].startswith("application/json")
    with pytest.raises(ValueError, match="Expecting"):
        response.json()
    async with HttpxSender() as sender:
        outcome = await sender.send(httpx.Request("GET", url))
    assert outcome.ok
    assert outcome.value == response.text


async def test_non_utf8_body(server: MockServer) -> None:
    url = add_fault(server, "non_utf8")
    async with HttpxSender() as sender:
        outcome = await sender.send(httpx.Request("GET", url))
    assert outcome.value == "caf\ufffd \ufffd\ufffd ok"


async def test_large_body(server: MockServer) -> None:
    url = add_fault(server, {"type": "large_body", "size": 3_000_000})
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert len(response.content) == 3_000_000
    async with HttpxSender(max_body=1000) as sender:
        outcome = await sender.send(httpx.Request("GET", url))
    assert outcome.truncated


async def test_large_body_of_multibyte_text(server: MockServer) -> None:
    # 1 MiB and 2 bytes of "Ж": over a 1 MiB limit in bytes, half of it in characters
    url = add_fault(server, {"type": "large_body", "size": 1_048_578, "fill": "Ж"})
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.headers["content-length"] == "1048578"
    assert response.content == "Ж".encode() * 524_289


async def test_large_body_fill_is_cut_at_the_size(server: MockServer) -> None:
    url = add_fault(server, {"type": "large_body", "size": 70_001, "fill": "abc"})
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.content == (b"abc" * 23_334)[:70_001]


def test_an_empty_fill_is_refused(server: MockServer) -> None:
    with pytest.raises(ValueError, match="fill"):
        add_fault(server, {"type": "large_body", "fill": ""})


async def test_fault_keeps_the_server_serving(server: MockServer) -> None:
    add_fault(server, "connection_reset")
    server.add({"request": {"path": "/ok"}, "response": {"text": "fine"}})
    async with httpx.AsyncClient() as client:
        for _ in range(3):
            with pytest.raises(httpx.ReadError):
                await client.get(server.url + "/f")
        assert (await client.get(server.url + "/ok")).text == "fine"


async def wait_for_requests(server: MockServer, count: int) -> None:
    for _ in range(500):
        if len(server.requests) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the server saw {len(server.requests)} of {count} requests")


@pytest.mark.parametrize(
    "response",
    [
        pytest.param({"fault": {"type": "no_response", "seconds": 600}}, id="no_response"),
        pytest.param({"text": "late", "delay_ms": 600_000}, id="delay"),
        pytest.param(
            {"fault": {"type": "slow_body", "chunk_size": 1, "chunk_delay_ms": 600_000}},
            id="slow_body",
        ),
    ],
)
async def test_stop_cuts_off_a_held_request(response: dict[str, Any]) -> None:
    server = await MockServer([{"request": {"path": "/held"}, "response": response}]).start()
    async with httpx.AsyncClient(timeout=600) as client:
        call = asyncio.create_task(client.get(server.url + "/held"))
        await wait_for_requests(server, 1)
        await server.stop()
        # The held request ends with its connection closed, not with an answer,
        # and not after its ten minutes.
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            await asyncio.wait_for(call, 30)


async def test_a_pause_ends_when_the_server_stops() -> None:
    server = await MockServer().start()
    pausing = asyncio.create_task(server.pause(600))
    await asyncio.sleep(0)
    await server.stop()
    await asyncio.sleep(0)
    assert pausing.cancelled()
    assert not server._pausing
