"""The fake amoCRM's work queue over real HTTP: tasks (and the ``closest_task_at`` they
give a lead) and incoming leads (``/leads/unsorted``: forms, calls, accept, decline)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from freezegun import freeze_time

from mockserver import MockServer
from mockserver.crm import AmoCRM

START = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
async def api() -> AsyncIterator[tuple[AmoCRM, httpx.AsyncClient, Any]]:
    with freeze_time(START, real_asyncio=True) as clock:
        async with MockServer() as server:
            amo = server.mount(AmoCRM(per_integration=10**6, per_account=10**6))
            async with httpx.AsyncClient(
                base_url=f"{server.url}/amocrm/example/api/v4",
                headers={"Authorization": f"Bearer {amo.issue_token('bot')}"},
            ) as client:
                yield amo, client, clock


def ids(response: httpx.Response, entity: str) -> list[int]:
    if response.status_code == 204:
        return []
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["_embedded"][entity]]


async def test_tasks_and_closest_task_at(api: tuple[AmoCRM, httpx.AsyncClient, Any]) -> None:
    amo, client, _ = api
    await client.post("/leads", json=[{"name": "call me"}])
    soon, later = int(START.timestamp()) + 3600, int(START.timestamp()) + 7200
    made = await client.post(
        "/tasks",
        json=[
            {"text": "Call back", "complete_till": later, "entity_id": 1, "entity_type": "leads"},
            {
                "text": "Send offer",
                "complete_till": soon,
                "entity_id": 1,
                "entity_type": "leads",
                "task_type_id": 2,
            },
        ],
    )
    assert [t["id"] for t in made.json()["_embedded"]["tasks"]] == [1, 2]
    assert (await client.get("/leads/1")).json()["closest_task_at"] == soon
    done = await client.patch("/tasks/2", json={"is_completed": True, "result": {"text": "sent"}})
    assert done.json()["id"] == 2
    assert (await client.get("/leads/1")).json()["closest_task_at"] == later
    task = (await client.get("/tasks/2")).json()
    assert (task["is_completed"], task["result"], task["task_type_id"]) == (
        True,
        {"text": "sent"},
        2,
    )
    open_ones = await client.get("/tasks", params={"filter[is_completed]": 0})
    assert ids(open_ones, "tasks") == [1]
    by_entity = {
        "filter[entity_type]": "leads",
        "filter[entity_id][]": 1,
        "order[complete_till]": "desc",
    }
    assert ids(await client.get("/tasks", params=by_entity), "tasks") == [1, 2]
    assert ids(await client.get("/tasks", params={"filter[task_type]": 2}), "tasks") == [2]
    missing = await client.post("/tasks", json=[{"entity_id": 9, "entity_type": "leads"}])
    paths = [e["path"] for e in missing.json()["validation-errors"][0]["errors"]]
    assert paths == ["text", "complete_till", "entity_id"]
    await client.patch("/tasks", json=[{"id": 1, "is_completed": True}])
    assert amo.records("leads")[0]["closest_task_at"] is None
    assert (await client.delete("/tasks/1")).status_code == 405


FORM = {
    "form_id": "bot",
    "form_name": "Chatbot",
    "form_page": "https://t.me/bot",
    "form_sent_at": 1,
}


async def test_unsorted_forms_accept_and_decline(
    api: tuple[AmoCRM, httpx.AsyncClient, Any],
) -> None:
    amo, client, _ = api
    item = {
        "source_uid": "tg-1",
        "source_name": "Telegram bot",
        "metadata": FORM,
        "_embedded": {
            "leads": [{"name": "From the bot", "price": 10}],
            "contacts": [{"first_name": "Анна", "custom_fields_values": [
                {"field_code": "PHONE", "values": [{"value": "+7999"}]}]}],
        },
        "request_id": "r1",
    }  # fmt: skip
    made = await client.post("/leads/unsorted/forms", json=[item, {**item, "request_id": "r2"}])
    assert made.status_code == 200
    first, second = made.json()["_embedded"]["unsorted"]
    assert first["request_id"] == "r1"
    assert [c["id"] for c in first["_embedded"]["contacts"]] == [1]
    assert amo.records("leads")[0]["status_id"] == 10
    assert amo.records("leads")[0]["_embedded"]["contacts"][0]["id"] == 1
    listed = (await client.get("/leads/unsorted", params={"filter[category]": "forms"})).json()
    assert [u["uid"] for u in listed["_embedded"]["unsorted"]] == [first["uid"], second["uid"]]
    one = (await client.get(f"/leads/unsorted/{first['uid']}")).json()
    assert (one["category"], one["source_name"], one["metadata"]) == ("forms", "Telegram bot", FORM)
    accepted = await client.post(f"/leads/unsorted/{first['uid']}/accept", json={"status_id": 12})
    assert accepted.json()["_embedded"]["leads"][0]["id"] == 1
    assert amo.records("leads")[0]["status_id"] == 12
    await client.request("DELETE", f"/leads/unsorted/{second['uid']}/decline", json={})
    assert amo.records("leads")[1]["status_id"] == 143
    assert (await client.get("/leads/unsorted")).status_code == 204
    assert (await client.get(f"/leads/unsorted/{first['uid']}")).status_code == 204


async def test_unsorted_refusals(api: tuple[AmoCRM, httpx.AsyncClient, Any]) -> None:
    _, client, _ = api
    bad = await client.post(
        "/leads/unsorted/forms",
        json=[
            {
                "source_name": "x",
                "metadata": {"form_id": "f"},
                "_embedded": {"leads": [{"name": "a"}, {"name": "b"}]},
            }
        ],
    )
    paths = [e["path"] for e in bad.json()["validation-errors"][0]["errors"]]
    assert paths == [
        "source_uid",
        "metadata.form_name",
        "metadata.form_page",
        "metadata.form_sent_at",
        "_embedded.leads",
    ]
    call = {"source_uid": "c", "source_name": "PBX", "metadata": {"from": "1"}, "_embedded": {}}
    sip = await client.post("/leads/unsorted/sip", json=[call])
    assert len(sip.json()["validation-errors"][0]["errors"]) == 4
    made = await client.post(
        "/leads/unsorted/forms",
        json=[{"source_uid": "u", "source_name": "n", "metadata": FORM, "_embedded": {}}],
    )
    uid = made.json()["_embedded"]["unsorted"][0]["uid"]
    back = await client.post(f"/leads/unsorted/{uid}/accept", json={"status_id": 10})
    assert back.json()["validation-errors"][0]["errors"][0]["path"] == "status_id"
    assert (await client.post("/leads/unsorted/mail", json=[])).status_code == 404
