"""The fake amoCRM driven by a maintained Python client (amocrm-api-wrapper), unchanged, over HTTP.

Its ``crm_url`` takes the account address; the fake also answers under
``/amocrm/{subdomain}``, so the client is pointed at ``{server}/amocrm/example``.
The client's GET and DELETE methods pass ``json=`` to httpx's ``get``/``delete``, which
httpx 0.28 refuses (``TypeError``) whatever the server, so reads and deletes go through
the client's own session and answer handling (:func:`read`, ``_finalize_response``) with
the URLs its own builder makes (``_build_get_entities_url``: pages, filters, order,
query); every write goes through the client's public methods: leads, contacts, custom
fields, complex, links, notes, a webhook subscription, and the refresh after a 401.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from amocrm_api import AmoOAuthClient
from amocrm_api.errors import AmoException

from mockserver import MockServer
from mockserver.crm import AmoCRM
from tests.crm_clients import code_grant


@pytest.fixture
def client() -> Iterator[tuple[AmoCRM, AmoOAuthClient]]:
    with MockServer() as server:
        amo = server.mount(AmoCRM(per_integration=10**6, per_account=10**6))
        token = amo.issue_token("client")
        made = AmoOAuthClient(
            access_token=token,
            refresh_token="unused",
            crm_url=f"{server.url}/amocrm/example",
            client_id="id",
            client_secret="secret",
            redirect_uri="https://example.invalid/",
        )
        yield amo, made


def test_leads_round_trip_through_the_client(client: tuple[AmoCRM, AmoOAuthClient]) -> None:
    amo, api = client
    created = api.create_leads([{"name": "From the bot", "price": 700, "request_id": "x1"}])
    (lead,) = created["_embedded"]["leads"]
    assert (lead["id"], lead["request_id"]) == (1, "x1")
    updated = api.update_leads([{"id": 1, "name": "Renamed"}])
    assert updated["_embedded"]["leads"][0]["id"] == 1
    assert amo.records("leads")[0]["name"] == "Renamed"
    assert amo.records("leads")[0]["price"] == 700
    more = api.create_leads([{"name": f"lead {number}"} for number in range(30)])
    assert [item["id"] for item in more["_embedded"]["leads"]] == list(range(2, 32))
    listed = httpx.get(
        api.crm_url + "/api/v4/leads",
        params={"limit": 250},
        headers={"Authorization": f"Bearer {api.access_token}"},
    )
    assert len(listed.json()["_embedded"]["leads"]) == 31


def test_complex(client: tuple[AmoCRM, AmoOAuthClient]) -> None:
    _, api = client
    result = api.create_leads_complex(
        [
            {
                "name": "c",
                "_embedded": {
                    "contacts": [
                        {
                            "first_name": "Ivan",
                            "custom_fields_values": [
                                {"field_code": "PHONE", "values": [{"value": "+79990001122"}]}
                            ],
                        }
                    ]
                },
            }
        ]
    )
    assert result[0]["merged"] is False
    assert result[0]["contact_id"] == 1


def test_validation_errors_reach_the_client(client: tuple[AmoCRM, AmoOAuthClient]) -> None:
    _, api = client
    with pytest.raises(AmoException) as caught:
        api.create_leads(
            [{"name": "x", "custom_fields_values": [{"field_id": 999, "values": [{"value": "x"}]}]}]
        )
    assert "NotSupportedChoice" in str(caught.value.args) or "NotSupportedChoice" in repr(
        caught.value.__dict__
    )


def test_the_client_refreshes_after_a_401_for_an_expired_token() -> None:
    """amocrm-api-wrapper learns of the expiry from the 401 and refreshes, then retries."""
    from datetime import datetime, timedelta, timezone

    from freezegun import freeze_time

    saved: list[tuple[str, str]] = []
    with (
        freeze_time(datetime(2026, 3, 1, tzinfo=timezone.utc), real_asyncio=True) as clock,
        MockServer() as server,
    ):
        amo = server.mount(AmoCRM(per_integration=10**6, per_account=10**6))
        app = amo.add_integration("wrapper", redirect_uri="https://bot.example/cb")
        tokens = httpx.post(
            f"{server.url}/amocrm/example/oauth2/access_token",
            json=code_grant(amo, app),
        ).json()
        api = AmoOAuthClient(
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            crm_url=f"{server.url}/amocrm/example",
            client_id=app.client_id,
            client_secret=app.client_secret,
            redirect_uri=app.redirect_uri,
            token_store=lambda access, refresh: saved.append((access, refresh)),
        )
        api.create_leads([{"name": "before"}])
        clock.tick(timedelta(days=1, seconds=1))
        api.create_leads([{"name": "after"}])
        assert len(saved) == 1
        assert saved[0][0] != tokens["access_token"]
        assert [lead["name"] for lead in amo.records("leads")] == ["before", "after"]
        statuses = [call["status"] for call in amo.calls]
        assert statuses == [200, 200, 401, 200, 200]  # code, create, expired, refresh, retry


def test_links_notes_and_webhooks_through_the_client(client: tuple[AmoCRM, AmoOAuthClient]) -> None:
    """The client's other writes: link and unlink, a note, a webhook subscription."""
    amo, api = client
    api.create_leads([{"name": "lead"}])
    api.create_contacts([{"name": "Ivan"}])
    linked = api.link_leads_entity(1, [{"to_entity_id": 1, "to_entity_type": "contacts"}])
    assert linked["_embedded"]["links"][0]["to_entity_type"] == "contacts"
    assert amo.records("contacts")[0]["_embedded"]["leads"][0]["id"] == 1
    api.unlink_leads_entity(1, [{"to_entity_id": 1, "to_entity_type": "contacts"}])
    assert amo.records("leads")[0]["_embedded"]["contacts"] == []
    note = api.create_entity_note("leads", [{"note_type": "common", "params": {"text": "hi"}}], 1)
    assert note["_embedded"]["notes"][0]["entity_id"] == 1
    hook = api.subscribe_webhook("https://bot.example/amo", ["add_lead", "status_lead"])
    assert (hook["destination"], hook["settings"]) == (
        "https://bot.example/amo",
        ["add_lead", "status_lead"],
    )
    assert next(iter(amo.hooks.values()))["destination"] == "https://bot.example/amo"


def test_unsorted_through_the_client(client: tuple[AmoCRM, AmoOAuthClient]) -> None:
    amo, api = client
    made = api.create_unsorted_by_form(
        source_uid="tg-7",
        source_name="Telegram bot",
        metadata={
            "form_id": "bot",
            "form_name": "Bot",
            "form_page": "https://t.me/x",
            "form_sent_at": 1,
        },
        contact={"first_name": "Ivan"},
        lead={"name": "From the bot"},
        company={},
    )
    (item,) = made["_embedded"]["unsorted"]
    assert [lead["status_id"] for lead in amo.records("leads")] == [10]
    accepted = api.accept_unsorted(item["uid"])
    assert accepted["uid"] == item["uid"]
    assert [lead["status_id"] for lead in amo.records("leads")] == [11]
    assert amo.records("companies") == []  # the empty company the client sends is no company


def read(api: AmoOAuthClient, url: str) -> dict[str, Any]:
    """What the client's own GET does, less the ``json=None`` httpx 0.28 refuses: its
    session (its Bearer header) and its answer handling (204 as ``{}``, an error as
    :class:`AmoException` with the body)."""
    response = api._session.get(url, timeout=api.timeout)
    return api._finalize_response(response, "get", url, None, 0, lambda _: None)


def test_the_integrators_round_through_the_client(client: tuple[AmoCRM, AmoOAuthClient]) -> None:
    """Create with custom fields, read back, update, page through more than 50, filter,
    delete what the API deletes (a custom field), each as the documentation shows it."""
    amo, api = client
    made = api.create_leads_custom_fields(
        [
            {
                "name": "Bot step",
                "type": "select",
                "enums": [{"value": "start", "sort": 1}, {"value": "done", "sort": 2}],
            }
        ]
    )
    (field,) = made["_embedded"]["custom_fields"]
    start, done = (option["id"] for option in field["enums"])
    person = api.create_contacts(
        [
            {
                "first_name": "Ivan",
                "custom_fields_values": [
                    {
                        "field_code": "PHONE",
                        "values": [{"value": "+79990001122", "enum_code": "MOB"}],
                    }
                ],
            }
        ]
    )["_embedded"]["contacts"][0]["id"]
    created = api.create_leads(
        [
            {
                "name": "From the bot",
                "price": 1500,
                "custom_fields_values": [
                    {"field_id": field["id"], "values": [{"enum_id": start}]},
                    {"field_id": 202, "values": [{"value": "call after 18:00"}]},
                ],
                "_embedded": {"contacts": [{"id": person}], "tags": [{"name": "chatbot"}]},
            }
        ]
    )
    lead_id = created["_embedded"]["leads"][0]["id"]
    base = f"{api.crm_url}/api/v4"
    lead = read(api, f"{base}/leads/{lead_id}?with=contacts")
    values = {f["field_id"]: f["values"][0] for f in lead["custom_fields_values"]}
    assert values[field["id"]] == {"value": "start", "enum_id": start, "enum_code": None}
    assert values[202] == {"value": "call after 18:00"}
    assert (lead["price"], lead["status_id"], lead["closed_at"]) == (1500, 11, None)
    assert [c["id"] for c in lead["_embedded"]["contacts"]] == [person]
    assert [t["name"] for t in lead["_embedded"]["tags"]] == ["chatbot"]
    contact = read(api, f"{base}/contacts/{person}")
    assert contact["custom_fields_values"][0]["values"][0]["enum_code"] == "MOB"

    api.update_leads(
        [
            {
                "id": lead_id,
                "status_id": 142,
                "custom_fields_values": [{"field_id": field["id"], "values": [{"enum_id": done}]}],
            }
        ]
    )
    again = read(api, f"{base}/leads/{lead_id}")
    assert again["status_id"] == 142
    assert again["closed_at"] is not None
    assert [f["values"][0]["value"] for f in again["custom_fields_values"]] == [
        "done",
        "call after 18:00",
    ]

    api.create_leads([{"name": f"lead {n}", "price": n} for n in range(60)])
    pages, page = [], 1
    while True:  # the client's iter_leads, page by page with its own URLs
        body = read(api, api._build_get_entities_url("leads", limit=50, page=page))
        if not body:
            break
        pages.append([item["id"] for item in body["_embedded"]["leads"]])
        assert body["_page"] == page
        assert ("next" in body["_links"]) == (len(pages[-1]) == 50)
        page += 1
    assert [len(ids) for ids in pages] == [50, 11]
    assert [key for ids in pages for key in ids] == list(range(1, 62))
    following = read(api, read(api, f"{base}/leads?limit=50")["_links"]["next"]["href"])
    assert [item["id"] for item in following["_embedded"]["leads"]] == pages[1]

    priced = read(
        api, api._build_get_entities_url("leads", filters={"price__from": 10, "price__to": 12})
    )
    assert [item["name"] for item in priced["_embedded"]["leads"]] == [
        "lead 10",
        "lead 11",
        "lead 12",
    ]
    chosen = read(
        api, api._build_get_entities_url("leads", filter_ids=[3, 5], order={"id": "desc"})
    )
    assert [item["id"] for item in chosen["_embedded"]["leads"]] == [5, 3]
    named = read(api, api._build_get_entities_url("leads", filters={"name": "lead 7"}))
    assert [item["id"] for item in named["_embedded"]["leads"]] == [9]
    found = read(api, api._build_get_entities_url("contacts", query="+7 (999) 000-11-22"))
    assert [item["id"] for item in found["_embedded"]["contacts"]] == [person]
    assert read(api, api._build_get_entities_url("leads", filters={"price__from": 10**6})) == {}
    assert read(api, f"{base}/leads/9999") == {}  # 204: no such lead

    gone = api._session.delete(f"{base}/leads/custom_fields/{field['id']}")
    assert api._finalize_response(gone, "delete", "", None, 0, lambda _: None) == {}
    assert read(api, f"{base}/leads/custom_fields/{field['id']}") == {}  # 204: gone
    again_gone = api._session.delete(f"{base}/leads/custom_fields/{field['id']}")
    with pytest.raises(AmoException) as missing:
        api._finalize_response(again_gone, "delete", "", None, 0, lambda _: None)
    assert missing.value.code == 404
    predefined = api._session.delete(f"{base}/contacts/custom_fields/101")
    with pytest.raises(AmoException) as kept:
        api._finalize_response(predefined, "delete", "", None, 0, lambda _: None)
    assert kept.value.code == 403  # PHONE is the account's own field
    no_delete = api._session.delete(f"{base}/leads/{lead_id}")
    assert no_delete.status_code == 405  # leads cannot be deleted through API v4
    assert amo.records("leads")[0]["id"] == lead_id


def test_error_shapes_reach_the_client(client: tuple[AmoCRM, AmoOAuthClient]) -> None:
    """400 ``validation-errors`` keyed by ``request_id`` and dotted paths; a revoked token's
    401 makes the client refresh, and credentials the account does not know get amoCRM's
    OAuth problem body (400, its ``hint``)."""
    amo, api = client
    with pytest.raises(AmoException) as caught:
        api.create_leads(
            [
                {"name": "ok"},
                {
                    "name": "bad",
                    "custom_fields_values": [{"field_id": 201, "values": [{"enum_id": 9}]}],
                },
            ]
        )
    assert caught.value.code == 400
    body = caught.value.error_data
    assert (body["title"], body["status"]) == ("Bad Request", 400)
    (entry,) = body["validation-errors"]
    assert entry["request_id"] == "1"
    assert entry["errors"][0]["code"] == "NotSupportedChoice"
    assert entry["errors"][0]["path"] == "custom_fields_values.0.values.0.enum_id"
    assert amo.records("leads") == []
    with pytest.raises(AmoException) as numeric:
        api.create_leads([{"name": "x", "price": "a lot"}])
    assert numeric.value.error_data["validation-errors"][0]["errors"][0]["path"] == "price"
    amo.revoke_token(api.access_token)
    with pytest.raises(AmoException) as refused:  # 401, then the refresh with "unused"
        api.create_leads([{"name": "y"}])
    assert refused.value.code == 400
    assert refused.value.error_data["hint"] == "Check the `client_id` parameter"
