"""Hostile bodies against the fake amoCRM over real sockets: each is the API's own
``validation-errors`` answer (or a plain success), never a 500."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mockserver import MockServer
from mockserver.crm import AmoCRM
from mockserver.crm.amocrm import profile as amo_profile
from tests.crm_clients import amocrm_account


@pytest.fixture
async def account() -> AsyncIterator[tuple[AmoCRM, httpx.AsyncClient]]:
    async with amocrm_account() as opened:
        yield opened


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param(["select"], id="a-list"),
        pytest.param({"a": 1}, id="an-object"),
        pytest.param(5, id="a-number"),
    ],
)
async def test_a_custom_field_whose_type_is_not_text_is_not_supported_choice(
    account: tuple[AmoCRM, httpx.AsyncClient], kind: Any
) -> None:
    _, client = account
    answer = await client.post(
        "/leads/custom_fields", json=[{"name": "Odd", "type": kind, "enums": [{"value": "a"}]}]
    )
    assert answer.status_code == 400
    errors = answer.json()["validation-errors"][0]["errors"]
    assert {"code": "NotSupportedChoice", "path": "type"} in [
        {"code": e["code"], "path": e["path"]} for e in errors
    ]


class HeldDestination:
    """A webhook destination that holds every call until released, counting how many
    it holds at once."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.holding = 0
        self.most = 0
        self.answered = 0
        self.server: asyncio.Server | None = None

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await reader.readexactly(length)
        self.holding += 1
        self.most = max(self.most, self.holding)
        await self.release.wait()
        self.holding -= 1
        self.answered += 1
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()


@pytest.fixture
async def held() -> AsyncIterator[tuple[HeldDestination, str]]:
    destination = HeldDestination()
    server = await asyncio.start_server(destination.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield destination, f"http://127.0.0.1:{port}/amo"
        destination.release.set()


async def test_webhook_calls_go_out_a_few_at_a_time_and_all_arrive(
    held: tuple[HeldDestination, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """10 000 calls at once to the server's own stub used to time every one of them out
    (and hold the server's other requests meanwhile)."""
    destination, url = held
    monkeypatch.setattr(amo_profile, "MAX_IN_FLIGHT", 3)
    async with MockServer() as server:
        amo = server.mount(AmoCRM(webhook_timeout=600, per_integration=10**6, per_account=10**6))
        for n in range(8):
            amo.subscribe(f"{url}?{n}", ["add_lead"])
        token = amo.issue_token("bot")
        async with httpx.AsyncClient(
            base_url=f"{server.url}/amocrm/example/api/v4",
            headers={"Authorization": f"Bearer {token}"},
        ) as client:
            assert (await client.post("/leads", json=[{"name": "x"}])).status_code == 200
        assert len(amo._sending) == 3
        assert len(amo.waiting) == 5
        destination.release.set()
        await amo.deliver_due()
    assert destination.answered == 8
    assert destination.most <= 3
    assert [d["delivered"] for d in amo.deliveries] == [True] * 8


async def test_a_webhook_call_past_the_waiting_bound_is_logged_not_lost_silently(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(amo_profile, "MAX_PENDING", 3)
    async with MockServer() as server:
        amo = server.mount(AmoCRM(per_integration=10**6, per_account=10**6))
        for n in range(5):
            amo.subscribe(f"{server.url}/amo?{n}", ["add_lead"])
        token = amo.issue_token("bot")
        async with httpx.AsyncClient(
            base_url=f"{server.url}/amocrm/example/api/v4",
            headers={"Authorization": f"Bearer {token}"},
        ) as client:
            assert (await client.post("/leads", json=[{"name": "x"}])).status_code == 200
        dropped = [d for d in amo.deliveries if "waiting" in d["outcome"]]
        assert [(d["delivered"], d["attempt"]) for d in dropped] == [(False, 0), (False, 0)]
        assert "more than 3 webhook calls are waiting" in dropped[0]["outcome"]
        await amo.deliver_due()
        tried = [d for d in amo.deliveries if "waiting" not in d["outcome"]]
        assert len(tried) == 3


async def test_the_events_feed_is_bounded_in_bytes_newest_kept(
    account: tuple[AmoCRM, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mockserver.crm.amocrm import events

    monkeypatch.setattr(events, "MAX_EVENT_BYTES", 20_000)
    amo, client = account
    assert (await client.post("/leads", json=[{"name": "first"}])).status_code == 200
    for n in range(10):  # each change keeps the old and the new 3 000-character name
        name = f"{n}" * 3000
        assert (await client.patch("/leads/1", json={"name": name})).status_code == 200
    assert amo.event_bytes <= 20_000
    assert len(amo.events) < 11
    feed = (await client.get("/events", params={"limit": 100})).json()["_embedded"]["events"]
    assert feed[0]["value_after"] == [{"name_field_value": {"name": "9" * 3000}}]
    assert "lead_added" not in [event["type"] for event in feed]  # the oldest went first
