"""Outbound events against handlers that do not answer, and the tokens events carry:
what waits is bounded (the rest is logged, not queued), and the tokens minted for events
never push the application's own tokens out of the portal's bounded token store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from mockserver import MockServer
from mockserver.crm import Bitrix24
from mockserver.crm.bitrix24 import events, oauth


@pytest.fixture
async def held_handler() -> AsyncIterator[tuple[str, asyncio.Event, list[bytes]]]:
    """An HTTP handler that reads each request and answers 200 only once released."""
    release = asyncio.Event()
    seen: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        seen.append(head)
        await release.wait()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}/events", release, seen
        release.set()


async def test_events_waiting_for_a_handler_that_does_not_answer_are_bounded(
    held_handler: tuple[str, asyncio.Event, list[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, release, _ = held_handler
    monkeypatch.setattr(events, "MAX_PENDING", 3)
    async with MockServer() as server:
        portal = server.mount(Bitrix24(plan="unlimited"))
        portal.bind("ONCRMLEADADD", handler)
        async with httpx.AsyncClient(base_url=server.url + portal.webhook_path) as client:
            for _ in range(5):
                added = await client.post("crm.lead.add.json", json={"fields": {}})
                assert added.status_code == 200  # the answer never waits for a handler
        assert portal.events_waiting == 3
        dropped = [d for d in portal.deliveries if "error" in d]
        assert [d["id"] for d in dropped] == ["4", "5"]
        assert "3 events are already waiting" in dropped[0]["error"]
        release.set()
        await portal.events_sent()
        assert portal.events_waiting == 0
        sent = [(d["id"], d.get("status")) for d in portal.deliveries if "error" not in d]
        assert sorted(sent) == [("1", 200), ("2", 200), ("3", 200)]


async def test_event_tokens_never_push_out_the_applications_own_tokens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(oauth, "MAX_TOKENS", 5)
    async with MockServer() as server:
        server.stub({"method": "POST", "path": "/bot/events"}, {"status": 200})
        portal = server.mount(Bitrix24(plan="unlimited"))
        own = portal.issue_app_tokens(base_url=server.url)
        portal.bind("ONCRMLEADADD", f"{server.url}/bot/events")
        async with httpx.AsyncClient(base_url=server.url) as client:
            for _ in range(8):  # each delivery carries freshly minted tokens
                added = await client.post(
                    "/rest/crm.lead.add", json={"auth": own["access_token"], "fields": {}}
                )
                assert added.status_code == 200
                await portal.events_sent()
            assert [d.get("status") for d in portal.deliveries] == [200] * 8
            still = await client.post("/rest/crm.lead.list", json={"auth": own["access_token"]})
            assert still.status_code == 200
            refreshed = await client.get(
                "/oauth/token/",
                params={
                    "grant_type": "refresh_token",
                    "client_id": portal.tokens.client_id,
                    "client_secret": portal.tokens.client_secret,
                    "refresh_token": own["refresh_token"],
                },
            )
            assert refreshed.status_code == 200
        assert len(portal.store.meta["oauth_access"]) <= 5


@pytest.mark.parametrize(
    ("params", "word"),
    [
        pytest.param({"handler": "http://127.0.0.1/" + "a" * 3000}, "handler", id="handler-3000"),
        pytest.param({"handler": "http://127.0.0.1/a\r\nX-Evil: 1"}, "handler", id="handler-crlf"),
        pytest.param({"handler": "http://127.0.0.1/a b"}, "handler", id="handler-space"),
        pytest.param({"auth_type": "x"}, "auth_type", id="auth-type-text"),
        pytest.param({"auth_type": "-3"}, "auth_type", id="auth-type-negative"),
        pytest.param({"auth_type": ["1"]}, "auth_type", id="auth-type-list"),
    ],
)
async def test_event_bind_refuses_a_handler_or_user_it_cannot_keep_whole(
    params: dict[str, object], word: str
) -> None:
    async with MockServer() as server:
        portal = server.mount(Bitrix24(plan="unlimited"))
        token = portal.issue_app_tokens(base_url=server.url)["access_token"]
        body = {"auth": token, "event": "ONCRMLEADADD", "handler": "http://127.0.0.1/h", **params}
        async with httpx.AsyncClient(base_url=server.url) as client:
            answer = await client.post("/rest/event.bind", json=body)
        assert answer.status_code == 400
        assert answer.json()["error_description"].startswith(f"{word}: got ")
        assert portal.bound_events() == []


@pytest.mark.parametrize("given", ["05", " 5 ", "+5"])
async def test_an_event_names_the_record_by_its_id_not_as_the_caller_wrote_it(
    given: str,
) -> None:
    async with MockServer() as server:
        server.stub({"method": "POST", "path": "/bot/events"}, {"status": 200})
        portal = server.mount(Bitrix24(plan="unlimited"))
        portal.bind("ONCRMLEADUPDATE", f"{server.url}/bot/events")
        async with httpx.AsyncClient(base_url=server.url + portal.webhook_path) as client:
            for _ in range(5):
                await client.post("crm.lead.add.json", json={"fields": {}})
            updated = await client.post(
                "crm.lead.update.json", json={"id": given, "fields": {"NAME": "x"}}
            )
            assert updated.status_code == 200
        await portal.events_sent()
        posted = [r for r in server.requests if r.path == "/bot/events"]
        assert [r.form["data"] for r in posted] == [{"FIELDS": {"ID": "5"}}]  # type: ignore[index]
