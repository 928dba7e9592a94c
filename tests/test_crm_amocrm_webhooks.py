"""The fake amoCRM calls the integrator's handler as amoCRM does: webhooks subscribed
through /api/v4/webhooks, sent as real form-encoded HTTP, journaled, and retried at due
times on the server's clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from freezegun import freeze_time

from mockserver import MockServer
from mockserver.crm import AmoCRM

START = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
async def hooked() -> AsyncIterator[tuple[MockServer, AmoCRM, httpx.AsyncClient, Any]]:
    with freeze_time(START, real_asyncio=True) as clock:
        async with MockServer() as server:
            # 30 s, not amoCRM's 2 s: a loaded machine must not turn a slow answer into a retry.
            amo = server.mount(AmoCRM(per_integration=10**6, per_account=10**6, webhook_timeout=30))
            async with httpx.AsyncClient(
                base_url=f"{server.url}/amocrm/example/api/v4",
                headers={"Authorization": f"Bearer {amo.issue_token('bot')}"},
            ) as client:
                yield server, amo, client, clock


def received(server: MockServer) -> list[Any]:
    return [r for r in server.requests if r.path == "/bot/amo"]


async def test_subscribe_list_unsubscribe(
    hooked: tuple[MockServer, AmoCRM, httpx.AsyncClient, Any],
) -> None:
    server, _, client, _ = hooked
    target = f"{server.url}/bot/amo"
    made = await client.post("/webhooks", json={"destination": target, "settings": ["add_lead"]})
    assert made.status_code == 200
    hook = made.json()
    assert (hook["destination"], hook["settings"], hook["disabled"]) == (
        target,
        ["add_lead"],
        False,
    )
    assert {"id", "created_at", "updated_at", "account_id", "created_by", "sort"} <= set(hook)
    listed = (await client.get("/webhooks", params={"filter[destination]": target})).json()
    assert listed["_total_items"] == 1
    assert listed["_embedded"]["webhooks"][0]["id"] == hook["id"]
    assert (
        await client.get("/webhooks", params={"filter[destination]": "https://x.y/"})
    ).status_code == 204
    for wrong in ("ftp://x", "http://x/a\r\nX-Injected: 1", "not a url", 7):
        bad = await client.post("/webhooks", json={"destination": wrong, "settings": ["add_lead"]})
        assert bad.json()["validation-errors"][0]["errors"][0]["path"] == "destination"
    unknown = await client.post("/webhooks", json={"destination": target, "settings": ["boom"]})
    assert unknown.json()["validation-errors"][0]["errors"][0]["path"] == "settings"
    gone = await client.request("DELETE", "/webhooks", json={"destination": target})
    assert gone.status_code == 204
    assert (await client.get("/webhooks")).status_code == 204


async def test_a_new_lead_is_posted_form_encoded(
    hooked: tuple[MockServer, AmoCRM, httpx.AsyncClient, Any],
) -> None:
    server, amo, client, _ = hooked
    server.stub({"method": "POST", "path": "/bot/amo"}, {"status": 200})
    settings = ["add_lead", "status_lead", "note_lead", "add_contact", "responsible_lead"]
    await client.post(
        "/webhooks", json={"destination": f"{server.url}/bot/amo", "settings": settings}
    )
    await client.post(
        "/leads",
        json=[
            {
                "name": "From the bot",
                "price": 700,
                "custom_fields_values": [{"field_id": 201, "values": [{"value": "chatbot"}]}],
            }
        ],
    )
    await amo.deliver_due()
    (call,) = received(server)
    assert call.content_type == "application/x-www-form-urlencoded"
    assert call.text.startswith("leads%5Badd%5D%5B0%5D%5Bid%5D=1&")  # as PHP encodes brackets
    lead = call.form["leads"]["add"][0]
    assert (lead["id"], lead["name"], lead["price"], lead["status_id"]) == (
        "1",
        "From the bot",
        "700",
        "11",
    )
    assert lead["custom_fields"][0] == {
        "id": "201",
        "name": "Источник",
        "code": "SOURCE",
        "values": [{"value": "chatbot", "enum": "2001"}],
    }
    assert call.form["account"]["subdomain"] == "example"
    assert call.form["account"]["_links"]["self"] == "https://example.amocrm.ru"
    await client.patch("/leads/1", json={"status_id": 142})
    await client.post("/leads/1/notes", json=[{"note_type": "common", "params": {"text": "hi"}}])
    await client.patch("/leads/1", json={"price": 1})  # update_lead: not subscribed
    await client.patch("/leads/1", json={"responsible_user_id": 5})
    await amo.deliver_due()
    # Each call goes out in its own task, so they may arrive in any order.
    by_action = {next(iter(r.form["leads"])): r.form for r in received(server)[1:]}
    status, note, owner = (by_action[key] for key in ("status", "note", "responsible"))
    moved = owner["leads"]["responsible"][0]
    assert (moved["responsible_user_id"], moved["old_responsible_user_id"]) == ("5", "1")
    assert status["leads"]["status"][0]["old_status_id"] == "11"
    assert status["leads"]["status"][0]["status_id"] == "142"
    assert note["leads"]["note"][0]["note"]["text"] == "hi"
    assert note["leads"]["note"][0]["note"]["element_type"] == "2"
    assert sorted(d["setting"] for d in amo.deliveries) == [
        "add_lead",
        "note_lead",
        "responsible_lead",
        "status_lead",
    ]
    assert all(d["delivered"] for d in amo.deliveries)


async def test_failures_are_retried_at_their_due_times(
    hooked: tuple[MockServer, AmoCRM, httpx.AsyncClient, Any],
) -> None:
    server, amo, client, clock = hooked
    failing = server.stub({"method": "POST", "path": "/bot/amo"}, {"status": 503})
    await client.post(
        "/webhooks", json={"destination": f"{server.url}/bot/amo", "settings": ["add_contact"]}
    )
    await client.post("/contacts", json=[{"name": "Ivan"}])
    await amo.deliver_due()  # the first attempt may already be on its way: waits for it
    assert [(d["attempt"], d["status"], d["retry_in"]) for d in amo.deliveries] == [(1, 503, 300)]
    clock.tick(timedelta(seconds=299))
    assert await amo.deliver_due() == 0  # not due yet
    clock.tick(timedelta(seconds=1))
    assert await amo.deliver_due() == 1
    server.remove(failing.id)
    server.stub({"method": "POST", "path": "/bot/amo"}, {"status": 204})
    clock.tick(timedelta(seconds=900))
    await client.get("/contacts")  # a due retry also leaves with the next request
    await amo.deliver_due()
    attempts = [(d["attempt"], d["status"], d["delivered"]) for d in amo.deliveries]
    assert attempts == [(1, 503, False), (2, 503, False), (3, 204, True)]
    assert len(received(server)) == 3
    assert len({r.text for r in received(server)}) == 1  # the same body every time
    assert amo.waiting == []


async def test_retries_stop_after_the_schedule(
    hooked: tuple[MockServer, AmoCRM, httpx.AsyncClient, Any],
) -> None:
    server, amo, client, clock = hooked
    server.stub({"method": "POST", "path": "/bot/amo"}, {"status": 500})
    await client.post(
        "/webhooks", json={"destination": f"{server.url}/bot/amo", "settings": ["add_company"]}
    )
    await client.post("/companies", json=[{"name": "Qwerty"}])
    for _ in range(6):
        await amo.deliver_due()
        clock.tick(timedelta(hours=2))
    assert [d["attempt"] for d in amo.deliveries] == [1, 2, 3, 4, 5]
    assert amo.deliveries[-1]["retry_in"] is None
    assert amo.waiting == []


async def test_an_unreachable_handler_is_a_failure_not_a_crash(
    hooked: tuple[MockServer, AmoCRM, httpx.AsyncClient, Any],
) -> None:
    _, amo, client, _ = hooked
    await client.post(
        "/webhooks", json={"destination": "http://127.0.0.1:9/nowhere", "settings": ["add_lead"]}
    )
    await client.post("/leads", json=[{"name": "x"}])
    await amo.deliver_due()
    (attempt,) = amo.deliveries
    assert (attempt["status"], attempt["delivered"]) == (None, False)
    assert "Connect" in attempt["outcome"] or "Error" in attempt["outcome"]


async def test_due_deliveries_through_the_admin_api(
    hooked: tuple[MockServer, AmoCRM, httpx.AsyncClient, Any],
) -> None:
    server, amo, client, _ = hooked
    server.stub({"method": "POST", "path": "/bot/amo"}, {"status": 200})
    await client.post(
        "/webhooks", json={"destination": f"{server.url}/bot/amo", "settings": ["add_lead"]}
    )
    await client.post("/leads", json=[{"name": "x"}])
    await amo.deliver_due()
    answer = await client.post(f"{server.url}/__admin/crm/amocrm/deliveries")
    assert answer.json() == {"sent": 0, "waiting": []}
    state = (await client.get(f"{server.url}/__admin/crm/amocrm")).json()
    assert [d["setting"] for d in state["deliveries"]] == ["add_lead"]
    assert state["webhooks"][0]["destination"] == f"{server.url}/bot/amo"


async def test_subscribe_from_python_is_the_api_model_and_refuses_as_the_api(
    hooked: tuple[MockServer, AmoCRM, httpx.AsyncClient, Any],
) -> None:
    server, amo, client, _ = hooked
    hook = amo.subscribe(f"{server.url}/bot/amo", ["add_lead"], sort=3)
    listed = (await client.get("/webhooks")).json()["_embedded"]["webhooks"]
    assert listed == [hook]
    assert (hook["settings"], hook["sort"], hook["created_at"]) == (
        ["add_lead"],
        3,
        START.timestamp(),
    )
    with pytest.raises(ValueError, match=r"^settings: Unknown events \['add_leads'\]"):
        amo.subscribe(f"{server.url}/bot/amo", ["add_leads"])
    with pytest.raises(ValueError, match=r"^destination: A valid http\(s\) URL"):
        amo.subscribe("/bot/amo", ["add_lead"])


async def test_a_retry_is_due_from_when_the_failed_attempt_left(
    hooked: tuple[MockServer, AmoCRM, httpx.AsyncClient, Any],
) -> None:
    server, amo, client, clock = hooked
    server.stub({"method": "POST", "path": "/bot/amo"}, {"status": 500})
    amo.subscribe(f"{server.url}/bot/amo", ["add_lead"])
    await client.post("/leads", json=[{"name": "x"}])
    clock.tick(timedelta(seconds=200))  # before the answer is read: the due time stays put
    await amo.deliver_due()
    assert amo.waiting[0]["due"] == START.timestamp() + 300
