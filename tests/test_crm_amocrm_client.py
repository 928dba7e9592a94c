"""The fake amoCRM driven by a maintained Python client (amocrm-api-wrapper), unchanged, over HTTP.

Its ``crm_url`` takes the account address; the fake also answers under
``/amocrm/{subdomain}``, so the client is pointed at ``{server}/amocrm/example``.
The client's GET methods (and ``unsubscribe_webhook``'s DELETE) pass ``json=`` to
httpx's ``get``/``delete``, which httpx 0.28 refuses whatever the server, so reads go
through plain httpx here; every write goes through the client: leads, contacts,
complex, links, notes, a webhook subscription, and the refresh after a 401.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from amocrm_api import AmoOAuthClient
from amocrm_api.errors import AmoException

from mockserver import MockServer
from mockserver.crm import AmoCRM


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
            json={
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "redirect_uri": app.redirect_uri,
                "grant_type": "authorization_code",
                "code": amo.authorization_code(app.client_id),
            },
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
