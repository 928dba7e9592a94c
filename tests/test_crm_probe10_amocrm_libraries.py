"""Tenth probe: the fake amoCRM through its client libraries (aioamocrm, amocrm-api-wrapper),
unchanged, on a real socket. Each test is a call a library makes (or a link the fake's own
answer gives it) that the fake answered as amoCRM would not."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from aioamocrm import AmoCRMClient, OAuth2
from amocrm_api import AmoOAuthClient
from freezegun import freeze_time

from mockserver import MockServer
from mockserver.crm import AmoCRM
from tests.test_crm_amocrm_krukov import account  # noqa: F401 - amocrm-api's fixture

REDIRECT = "https://bot.example/amo"
START = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
FORM = {"form_id": "1", "form_name": "bot", "form_page": "t.me/bot", "form_sent_at": 1_772_000_000}


@pytest.fixture
async def aio() -> AsyncIterator[tuple[AmoCRM, AmoCRMClient]]:
    async with MockServer() as server:
        fake = server.mount(AmoCRM(per_integration=10**6, per_account=10**6))
        app = fake.add_integration("bot", redirect_uri=REDIRECT)
        async with AmoCRMClient(
            auth=OAuth2(app.client_id, app.client_secret, REDIRECT),
            base_url=f"{server.url}/amocrm/example",
            rate_limit=None,
        ) as client:
            await client.exchange_code(fake.authorization_code(app.client_id))
            yield fake, client


@pytest.fixture
def wrapper() -> Iterator[AmoOAuthClient]:
    yield from _wrapper()


@pytest.fixture
def frozen() -> Iterator[tuple[AmoOAuthClient, Any]]:
    """The wrapper on a server whose clock is frozen at :data:`START` (the token too)."""
    with freeze_time(START, real_asyncio=True) as clock:
        for api in _wrapper():
            yield api, clock


def _wrapper() -> Iterator[AmoOAuthClient]:
    with MockServer() as server:
        fake = server.mount(AmoCRM(per_integration=10**6, per_account=10**6))
        made = AmoOAuthClient(
            access_token=fake.issue_token("wrapper"),
            refresh_token="unused",
            crm_url=f"{server.url}/amocrm/example",
            client_id="id",
            client_secret="secret",
            redirect_uri="https://example.invalid/",
        )
        yield made


def read(api: AmoOAuthClient, url: str) -> dict[str, Any]:
    """A GET through the wrapper's own session and answer handling: its GET methods pass
    ``json=`` to httpx's ``get``, which httpx 0.28 refuses whatever the server."""
    response = api._session.get(url)
    return api._finalize_response(response, "get", url, None, 0, lambda _: None)


async def test_a_status_is_found_at_its_own_link(aio: tuple[AmoCRM, AmoCRMClient]) -> None:
    # The official library's Statuses::getOne is GET leads/pipelines/{id}/statuses/{id},
    # and every status the fake shows links there; it was a 404 "not an API method".
    _, client = aio
    statuses = await client.pipelines.statuses(1)
    for status in statuses:
        shown = await client.request("GET", status.links["self"]["href"])
        assert shown["id"] == status.id
        assert (shown["name"], shown["pipeline_id"], shown["type"]) == (
            status.name,
            1,
            status.type,
        )
    missing = await client.request("GET", "leads/pipelines/1/statuses/999")
    assert missing is None  # 204, as for a missing pipeline


def test_amocrm_api_reads_one_status(account: tuple[AmoCRM, Any, Any]) -> None:  # noqa: F811
    from amocrm.v2.entity.pipeline import Pipeline, Status

    statuses = Status.get_for(Pipeline.objects.get(1))
    won = statuses.get(142)  # GET leads/pipelines/1/statuses/142
    assert (won.id, won.name, won.is_editable) == (142, "Успешно реализовано", False)
    assert [s.id for s in statuses.all()] == [10, 11, 12, 142, 143]


def test_the_wrapper_reads_one_status(wrapper: AmoOAuthClient) -> None:
    url = wrapper.crm_url + "/api/v4/leads/pipelines/1/statuses/142"
    shown = read(wrapper, url)
    assert (shown["id"], shown["name"], shown["type"]) == (142, "Успешно реализовано", 0)


async def test_event_types_are_listed(aio: tuple[AmoCRM, AmoCRMClient]) -> None:
    # GET /events/types (the official library's EventTypes) was taken for the event whose
    # id is "types" and answered 204.
    _, client = aio
    await client.leads.create([{"name": "one"}])
    listed = await client.request("GET", "events/types")
    kinds = listed["_embedded"]["events_types"]
    keys = [kind["key"] for kind in kinds]
    assert {"lead_added", "lead_status_changed", "common_note_added"} <= set(keys)
    assert all(isinstance(k["type"], int) and isinstance(k["lang"], str) for k in kinds)
    assert listed["_total_items"] == len(kinds) == len(set(keys))
    english = await client.request("GET", "events/types", params={"language_code": "en"})
    assert english["_embedded"]["events_types"][0]["lang"] == "Lead added"
    # Every key the feed writes is one of them.
    feed = await client.request("GET", "events")
    assert {event["type"] for event in feed["_embedded"]["events"]} <= set(keys)


def test_event_types_through_the_wrapper_session(wrapper: AmoOAuthClient) -> None:
    listed = read(wrapper, wrapper.crm_url + "/api/v4/events/types")
    assert listed["_embedded"]["events_types"][0]["key"] == "lead_added"
    assert httpx.URL(listed["_links"]["self"]["href"]).path.endswith("/api/v4/events/types")


def _incoming(api: AmoOAuthClient, name: str) -> str:
    made = api.create_unsorted_by_form(
        source_uid=name,
        source_name="Telegram bot",
        metadata=FORM,
        contact={"first_name": name},
        lead={"name": name},
        company={},
    )
    return str(made["_embedded"]["unsorted"][0]["uid"])


def test_an_incoming_lead_is_declined_with_delete_and_counted(
    frozen: tuple[AmoOAuthClient, Any],
) -> None:
    # The official library's Unsorted::decline and Kommo's reference send DELETE
    # /leads/unsorted/{uid}/decline; the fake took POST only (a 405 for DELETE), and
    # GET /leads/unsorted/summary (Unsorted::summary) was a 404.
    api, clock = frozen
    first, second, third = (_incoming(api, name) for name in ("a", "b", "c"))
    clock.tick(90)
    api.accept_unsorted(first, status_id=12)
    clock.tick(30)
    url = f"{api.crm_url}/api/v4/leads/unsorted/{second}/decline"
    # Its decline_unsorted passes json= to httpx's delete (a TypeError in httpx 0.28):
    # the same request through its session and answer handling.
    response = api._session.request("DELETE", url, json={"user_id": 1})
    declined = api._finalize_response(response, "delete", url, None, 0, lambda _: None)
    assert declined["uid"] == second
    assert declined["_embedded"]["leads"][0]["id"] == 2
    assert api._session.post(url, json={}).status_code == 405
    summary = read(api, api._build_get_summary_unsorted_url(None, None, None, None))
    assert {k: summary[k] for k in ("total", "accepted", "declined")} == {
        "total": 3,
        "accepted": 1,
        "declined": 1,
    }
    assert summary["average_sort_time"] == 105  # (90 + 120) / 2 seconds
    assert summary["categories"] == {"sip": 0, "mail": 0, "forms": 3, "chats": 0}
    only = read(api, api._build_get_summary_unsorted_url([third, first], None, None, None))
    assert (only["total"], only["accepted"], only["declined"]) == (2, 1, 0)
    one = read(api, api._build_get_summary_unsorted_url(third, None, None, None))
    assert (one["total"], one["accepted"]) == (1, 0)


async def test_aioamocrm_declines_an_incoming_lead(aio: tuple[AmoCRM, AmoCRMClient]) -> None:
    fake, client = aio
    made = await client.request(
        "POST",
        "leads/unsorted/forms",
        json=[
            {
                "source_uid": "x",
                "source_name": "bot",
                "metadata": FORM,
                "_embedded": {"leads": [{"name": "x"}]},
            }
        ],
    )
    uid = made["_embedded"]["unsorted"][0]["uid"]
    declined = await client.request("DELETE", f"leads/unsorted/{uid}/decline", json={})
    assert declined["uid"] == uid
    assert fake.records("leads")[0]["status_id"] == 143
    summary = await client.request("GET", "leads/unsorted/summary")
    assert (summary["total"], summary["declined"]) == (1, 1)


def test_the_wrapper_changes_a_custom_field(wrapper: AmoOAuthClient) -> None:
    # update_*_custom_fields is PATCH /{entity}/custom_fields (custom-fields docs); the
    # fake answered 405 "use GET, HEAD, POST".
    api = wrapper
    made = api.create_leads_custom_fields(
        [{"name": "Channel", "type": "select", "enums": [{"value": "tg"}, {"value": "wa"}]}]
    )
    field = made["_embedded"]["custom_fields"][0]
    tg, wa = (option["id"] for option in field["enums"])
    changed = api.update_leads_custom_fields(
        [
            {
                "id": field["id"],
                "name": "Messenger",
                "sort": 7,
                "enums": [{"id": wa, "value": "WhatsApp"}, {"value": "vk"}],
            }
        ]
    )
    (shown,) = changed["_embedded"]["custom_fields"]
    assert (shown["id"], shown["name"], shown["sort"], shown["type"]) == (
        field["id"],
        "Messenger",
        7,
        "select",
    )
    assert [(o["id"] == wa, o["value"]) for o in shown["enums"]] == [
        (True, "WhatsApp"),
        (False, "vk"),
    ]
    assert tg not in {o["id"] for o in shown["enums"]}  # not given: gone
    read_back = read(api, f"{api.crm_url}/api/v4/leads/custom_fields/{field['id']}")
    assert {k: read_back[k] for k in ("name", "enums")} == {k: shown[k] for k in ("name", "enums")}
    lead = api.create_leads(
        [
            {
                "name": "x",
                "custom_fields_values": [
                    {"field_id": field["id"], "values": [{"value": "vk"}]},
                ],
            }
        ]
    )
    assert lead["_embedded"]["leads"][0]["id"] == 1


def test_a_custom_field_change_is_checked(wrapper: AmoOAuthClient) -> None:
    from amocrm_api.errors import AmoException

    api = wrapper
    made = api.create_leads_custom_fields([{"name": "Note", "type": "text"}])
    key = made["_embedded"]["custom_fields"][0]["id"]
    options = [{"value": "a"}, {"value": "b"}]
    pick = api.create_leads_custom_fields([{"name": "Pick", "type": "select", "enums": options}])
    select = pick["_embedded"]["custom_fields"][0]
    first = select["enums"][0]["id"]
    phone = next(
        f["id"]
        for f in read(api, f"{api.crm_url}/api/v4/contacts/custom_fields")["_embedded"][
            "custom_fields"
        ]
        if f["code"] == "PHONE"
    )
    for body, entity, path in (
        ([{"id": 999, "name": "x"}], "leads", "id"),
        ([{"id": key, "type": "numeric"}], "leads", "type"),
        ([{"id": key, "name": " "}], "leads", "name"),
        ([{"id": key, "enums": [{"value": "a"}]}], "leads", "enums"),
        ([{"id": select["id"], "enums": [{"id": [1], "value": "a"}]}], "leads", "enums.0.id"),
        ([{"id": select["id"], "enums": [{"id": 5, "value": "a"}]}], "leads", "enums.0.id"),
        (
            [
                {
                    "id": select["id"],
                    "enums": [{"id": first, "value": "a"}, {"id": first, "value": "c"}],
                }
            ],
            "leads",
            "enums",
        ),
        ([{"id": phone, "name": "Mobile"}], "contacts", "id"),
        ([{"id": key, "name": "x"}], "contacts", "id"),  # a leads field
    ):
        with pytest.raises(AmoException) as caught:
            api._update_custom_fields(entity, body)
        assert caught.value.code == 400
        errors = caught.value.error_data["validation-errors"][0]["errors"]
        assert [e["path"] for e in errors] == [path], body
    assert read(api, f"{api.crm_url}/api/v4/leads/custom_fields/{key}")["name"] == "Note"


async def test_aioamocrm_changes_one_field(aio: tuple[AmoCRM, AmoCRMClient]) -> None:
    _, client = aio
    made = await client.request(
        "POST", "contacts/custom_fields", json=[{"name": "City", "type": "text"}]
    )
    key = made["_embedded"]["custom_fields"][0]["id"]
    shown = await client.request("PATCH", f"contacts/custom_fields/{key}", json={"name": "Town"})
    assert (shown["id"], shown["name"]) == (key, "Town")
    field = await client.contacts.custom_fields.get(key)
    assert field.name == "Town"
