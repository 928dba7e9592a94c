"""aioamocrm (an async amoCRM client from PyPI), unchanged, against the fake amoCRM over
real HTTP: the integrator's whole round through OAuth.

The only setting it needs is ``base_url`` (the fake's ``/amocrm/{subdomain}``), and
``rate_limit=None`` so its own 7-a-second limiter (the machine's clock) does not pace the
test. The token expiry is driven with freezegun, which moves the server's clock and the
client's (``OAuth2(clock=time.time)``) alike.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from aioamocrm import AmoCRMClient, OAuth2
from aioamocrm._errors import AuthError, ValidationError
from aioamocrm._models import Contact, Embedded, Lead, Note
from freezegun import freeze_time

from mockserver import MockServer
from mockserver.crm import AmoCRM

START = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
REDIRECT = "https://bot.example/amo"
PHONE = {"field_code": "PHONE", "values": [{"value": "+79990001122", "enum_code": "MOB"}]}


@pytest.fixture
async def amo() -> AsyncIterator[tuple[AmoCRM, AmoCRMClient, Any]]:
    with freeze_time(START, real_asyncio=True) as clock:
        async with MockServer() as server:
            fake = server.mount(AmoCRM(per_integration=10**6, per_account=10**6))
            app = fake.add_integration("bot", redirect_uri=REDIRECT)
            auth = OAuth2(app.client_id, app.client_secret, REDIRECT)
            async with AmoCRMClient(
                auth=auth, base_url=f"{server.url}/amocrm/example", rate_limit=None
            ) as client:
                await client.exchange_code(fake.authorization_code(app.client_id))
                yield fake, client, clock


async def test_create_read_update_with_custom_fields(amo: tuple[AmoCRM, AmoCRMClient, Any]) -> None:
    fake, client, _ = amo
    (contact,) = await client.contacts.create(
        [{"first_name": "Ivan", "last_name": "Petrov", "custom_fields_values": [PHONE]}]
    )
    refs = await client.leads.create(
        [
            {
                "name": "From the bot",
                "price": 1500,
                "custom_fields_values": [
                    {"field_id": 201, "values": [{"enum_id": 2001}]},
                    {"field_id": 202, "values": [{"value": "call after 18:00"}]},
                ],
                "_embedded": {"tags": [{"name": "chatbot"}], "contacts": [{"id": contact.id}]},
            }
        ]
    )
    lead = await client.leads.get(refs[0].id or 0, with_=["contacts"])
    assert (lead.name, lead.price, lead.status_id, lead.pipeline_id) == (
        "From the bot",
        1500,
        11,
        1,
    )
    assert lead.field_values(201) == ["chatbot"]
    assert lead.field_values(202) == ["call after 18:00"]
    assert [c.id for c in lead.embedded.contacts] == [contact.id]
    assert [t.name for t in lead.embedded.tags] == ["chatbot"]
    person = await client.contacts.get(contact.id or 0, with_=["leads"])
    assert person.name == "Ivan Petrov"
    assert person.field("PHONE").values[0].enum_code == "MOB"  # type: ignore[union-attr]
    assert [lead.id for lead in person.embedded.leads] == [lead.id]
    await client.leads.update([Lead(id=lead.id, status_id=142, price=2000)])
    again = await client.leads.get(lead.id or 0)
    assert (again.status_id, again.price, again.closed_at) == (142, 2000, int(START.timestamp()))
    assert fake.records("leads")[0]["price"] == 2000


async def test_pages_filters_and_order(amo: tuple[AmoCRM, AmoCRMClient, Any]) -> None:
    _, client, clock = amo
    await client.leads.create([{"name": f"lead {n}", "price": n} for n in range(120)])
    clock.tick(timedelta(hours=1))
    later = await client.leads.create(
        [
            {
                "name": "late",
                "price": 5000,
                "custom_fields_values": [{"field_id": 203, "values": [{"value": 700}]}],
            }
        ]
    )
    everything = [lead.id async for lead in client.leads.iterate(limit=50)]
    assert everything == list(range(1, 122))
    priced = await client.leads.get_page(filter={"price": {"from": 10, "to": 12}})
    assert [lead.name for lead in priced] == ["lead 10", "lead 11", "lead 12"]
    since = int((START + timedelta(minutes=30)).timestamp())
    fresh = await client.leads.get_page(filter={"created_at": {"from": since}})
    assert [lead.id for lead in fresh] == [later[0].id]
    ids = await client.leads.get_page(filter={"id": [3, 5]}, order={"id": "desc"})
    assert [lead.id for lead in ids] == [5, 3]
    by_field = await client.leads.get_page(
        filter={"custom_fields_values": {"203": {"from": 500, "to": 800}}}
    )
    assert [lead.name for lead in by_field] == ["late"]
    newest = await client.leads.get_page(limit=1, order={"created_at": "desc"})
    assert [lead.name for lead in newest] == ["late"]
    found = await client.leads.get_page(query="lead 11")
    assert {lead.name for lead in found} >= {"lead 11", "lead 110"}
    staged = await client.leads.get_page(
        filter={"statuses": [{"pipeline_id": 1, "status_id": 142}]}
    )
    assert list(staged) == []  # 204: nothing is won yet


async def test_links_notes_fields_and_account(amo: tuple[AmoCRM, AmoCRMClient, Any]) -> None:
    _, client, _ = amo
    (lead,) = await client.leads.create([{"name": "linked"}])
    (contact,) = await client.contacts.create([{"name": "Anna"}])
    (company,) = await client.companies.create([{"name": "Qwerty LLC"}])
    made = await client.leads.link(
        lead.id or 0, "contacts", contact.id or 0, metadata={"is_main": True}
    )
    assert [(link.to_entity_type, link.to_entity_id) for link in made] == [("contacts", contact.id)]
    await client.leads.link(lead.id or 0, "companies", company.id or 0)
    links = await client.leads.links(lead.id or 0)
    assert {(link.to_entity_type, link.to_entity_id) for link in links} == {
        ("contacts", contact.id),
        ("companies", company.id),
    }
    shown = await client.leads.get(lead.id or 0, with_=["contacts"])
    assert [(c.id, c.is_main) for c in shown.embedded.contacts] == [(contact.id, True)]
    assert [c.id for c in shown.embedded.companies] == [company.id]
    await client.leads.unlink(lead.id or 0, "contacts", contact.id or 0)
    assert [link.to_entity_type for link in await client.leads.links(lead.id or 0)] == ["companies"]
    await client.leads.notes.create([Note.common(lead.id or 0, "called back")])
    notes = [note async for note in client.leads.notes.iterate(entity_id=lead.id)]
    assert [(note.note_type, note.text) for note in notes] == [("common", "called back")]
    one = await client.leads.notes.get(notes[0].id or 0, entity_id=lead.id or 0)
    assert one.text == "called back"
    fields = [field async for field in client.contacts.custom_fields.iterate()]
    phone = next(field for field in fields if field.code == "PHONE")
    assert phone.enum_id("MOB") == 1003
    account = await client.account.get(with_=["amojo_id", "task_types"])
    assert (account.subdomain, account.currency) == ("example", "RUB")
    assert account.amojo_id
    pipelines = await client.pipelines.list()
    assert [s.id for s in pipelines[0].statuses][-2:] == [142, 143]
    statuses = await client.pipelines.statuses(pipelines[0].id or 0)
    assert [(s.id, s.name) for s in statuses][1] == (11, "Первичный контакт")
    users = [user async for user in client.users.iterate()]
    assert [(u.id, u.name) for u in users] == [(1, "Администратор")]
    assert (await client.users.get(1)).rights["is_admin"] is True  # type: ignore[index]


async def test_tasks(amo: tuple[AmoCRM, AmoCRMClient, Any]) -> None:
    _, client, _ = amo
    (lead,) = await client.leads.create([{"name": "needs a call"}])
    due = int((START + timedelta(hours=3)).timestamp())
    (task,) = await client.tasks.create(
        [{"text": "Call back", "complete_till": due, "entity_id": lead.id, "entity_type": "leads"}]
    )
    assert (await client.leads.get(lead.id or 0)).closest_task_at == due
    await client.tasks.complete(task.id or 0, result="called")
    shown = await client.tasks.get(task.id or 0)
    assert shown.is_completed is True
    assert (await client.leads.get(lead.id or 0)).closest_task_at is None
    assert [t.id async for t in client.tasks.iterate(filter={"is_completed": 1})] == [task.id]


async def test_complex_create(amo: tuple[AmoCRM, AmoCRMClient, Any]) -> None:
    _, client, _ = amo
    lead = Lead(
        name="Site form",
        embedded=Embedded(
            contacts=[
                Contact.model_validate({"first_name": "Ivan", "custom_fields_values": [PHONE]})
            ]
        ),
    )
    (first,) = await client.leads.create_complex([lead])
    (second,) = await client.leads.create_complex([lead])
    assert (first.merged, second.merged, second.id) == (False, True, first.id)
    shown = await client.leads.get(first.id or 0, with_=["contacts"])
    assert [c.id for c in shown.embedded.contacts] == [first.contact_id]


async def test_token_expiry_and_refresh(amo: tuple[AmoCRM, AmoCRMClient, Any]) -> None:
    fake, client, clock = amo
    before = await client.auth.get_token(client._endpoint)  # the token in use
    await client.leads.create([{"name": "before"}])
    clock.tick(timedelta(days=1))
    await client.leads.create([{"name": "after"}])  # refreshed first, then sent
    after = await client.auth.get_token(client._endpoint)
    assert after != before
    assert fake.integration_of(before) is None  # the old access token is past its exp
    assert fake.integration_of(after) == "bot"
    assert [lead["name"] for lead in fake.records("leads")] == ["before", "after"]


async def test_error_shapes_reach_the_client(amo: tuple[AmoCRM, AmoCRMClient, Any]) -> None:
    fake, client, _ = amo
    with pytest.raises(ValidationError) as caught:
        await client.leads.create(
            [
                {"name": "ok"},
                {
                    "name": "bad",
                    "custom_fields_values": [{"field_id": 201, "values": [{"enum_id": 9}]}],
                },
            ]
        )
    (issue,) = caught.value.errors
    assert (issue.request_id, issue.code, issue.path) == (
        "1",
        "NotSupportedChoice",
        "custom_fields_values.0.values.0.enum_id",
    )
    assert fake.records("leads") == []
    fake.oauth.grants.clear()  # the refresh token is gone: the next refresh is refused
    fake.oauth.secret = "rotated"  # and every token signed before is void
    with pytest.raises(AuthError):
        await client.leads.get_page()


async def test_a_401_mid_session_makes_it_refresh_once(
    amo: tuple[AmoCRM, AmoCRMClient, Any],
) -> None:
    """The account stops honouring the access token (its signing key changed); aioamocrm
    gets the 401, refreshes with its refresh token and sends the request again."""
    fake, client, _ = amo
    fake.oauth.secret = "rotated"
    refs = await client.leads.create([{"name": "after the 401"}], retry=False)
    assert [ref.id for ref in refs] == [1]
    statuses = [call["status"] for call in fake.calls][-3:]
    assert statuses == [401, 200, 200]  # the refused write, the refresh, the write again


async def test_rate_limit_and_block_reach_the_client_as_typed_errors() -> None:
    """7 a second per integration (here 2), then 429 as RateLimitError on a write made
    without retry; repeated violations block the account: the nginx 403 page arrives as
    ForbiddenError. All on the frozen clock, so the count is exact on any machine."""
    from aioamocrm import LongLivedToken
    from aioamocrm._errors import ForbiddenError, RateLimitError

    with freeze_time(START, real_asyncio=True) as clock:
        async with MockServer() as server:
            fake = server.mount(AmoCRM(per_integration=2, block_after=3))
            token = fake.issue_token("bot")
            async with AmoCRMClient(
                auth=LongLivedToken(token),
                base_url=f"{server.url}/amocrm/example",
                rate_limit=None,
            ) as client:
                await client.leads.create([{"name": "1"}])
                await client.leads.create([{"name": "2"}])
                with pytest.raises(RateLimitError) as limited:
                    await client.leads.create([{"name": "3"}])
                assert limited.value.status_code == 429
                clock.tick(timedelta(seconds=1))
                await client.leads.create([{"name": "3 again"}])  # a second later: allowed
                await client.leads.create([{"name": "x"}])
                with pytest.raises(RateLimitError):
                    await client.leads.create([{"name": "y"}])
                with pytest.raises(ForbiddenError) as blocked:
                    await client.leads.create([{"name": "z"}])
                assert "nginx" in str(blocked.value.body)
                assert [lead["name"] for lead in fake.records("leads")] == [
                    "1",
                    "2",
                    "3 again",
                    "x",
                ]


async def test_the_account_webhooks_read_back_through_the_client_parser(
    amo: tuple[AmoCRM, AmoCRMClient, Any],
) -> None:
    """The fake's callbacks, subscribed through the client, parsed by aioamocrm's own
    ``parse_webhook`` (written from amoCRM's webhook documentation, not from this fake)."""
    from aioamocrm import parse_webhook

    fake, client, _ = amo
    hook_url = client.api_url.split("/amocrm/")[0] + "/bot/amo"  # what is sent is checked here
    subscribed = await client.request(
        "POST",
        "webhooks",
        json={"destination": hook_url, "settings": ["add_lead", "status_lead", "note_lead"]},
    )
    assert subscribed["settings"] == ["add_lead", "status_lead", "note_lead"]
    (lead,) = await client.leads.create(
        [
            {
                "name": "From the bot",
                "price": 900,
                "custom_fields_values": [{"field_id": 201, "values": [{"enum_id": 2001}]}],
                "_embedded": {"tags": [{"name": "chatbot"}]},
            }
        ]
    )
    await client.leads.update([Lead(id=lead.id, status_id=12)])
    await client.leads.notes.create([Note.common(lead.id or 0, "called back")])
    await fake.deliver_due()
    bodies = [d["body"] for d in fake.deliveries]
    assert sorted((d["setting"], d["attempt"]) for d in fake.deliveries) == [
        ("add_lead", 1),
        ("note_lead", 1),
        ("status_lead", 1),
    ]  # each change's call is sent on its own: their order is not fixed
    events = [event for body in bodies for event in parse_webhook(body).events]
    assert sorted((e.entity, e.action, e.id) for e in events) == [
        ("leads", "add", lead.id),
        ("leads", "note", None),  # a note's id is its own, under note[...]
        ("leads", "status", lead.id),
    ]
    added = next(e for e in events if e.action == "add")
    assert added.payload["name"] == "From the bot"
    assert added.payload["price"] == "900"
    assert added.field_values(201) == ["chatbot"]
    moved = next(e for e in events if e.action == "status")
    assert (moved.payload["status_id"], moved.payload["old_status_id"]) == ("12", "11")
    noted = next(e for e in events if e.action == "note")
    assert noted.payload["note"]["text"] == "called back"
    assert noted.payload["note"]["element_id"] == str(lead.id)
    assert {parse_webhook(body).account["subdomain"] for body in bodies} == {"example"}


async def test_missing_entities_deletes_and_partial_updates(
    amo: tuple[AmoCRM, AmoCRMClient, Any],
) -> None:
    """A missing lead is NotFoundError (204); custom fields are created, used and deleted
    (204, then 404 again); leads cannot be deleted (405); an update that names one custom
    field leaves the others as they were."""
    from aioamocrm._errors import AmoCRMError, ForbiddenError, NotFoundError

    fake, client, _ = amo
    with pytest.raises(NotFoundError):
        await client.leads.get(999)
    made = await client.request(
        "POST",
        "leads/custom_fields",
        json=[{"name": "Bot step", "type": "select", "enums": [{"value": "start", "sort": 1}]}],
    )
    (field,) = made["_embedded"]["custom_fields"]
    (lead,) = await client.leads.create(
        [
            {
                "name": "x",
                "custom_fields_values": [
                    {"field_id": field["id"], "values": [{"value": "start"}]},
                    {"field_id": 202, "values": [{"value": "kept"}]},
                ],
            }
        ]
    )
    await client.leads.update(
        [{"id": lead.id, "custom_fields_values": [{"field_id": 203, "values": [{"value": 5}]}]}]
    )
    shown = await client.leads.get(lead.id or 0)
    assert shown.field_values(field["id"]) == ["start"]
    assert shown.field_values(202) == ["kept"]
    assert shown.field_values(203) == [5]
    await client.leads.update(
        [{"id": lead.id, "custom_fields_values": [{"field_id": 202, "values": None}]}]
    )
    assert (await client.leads.get(lead.id or 0)).field_values(202) == []
    assert (await client.leads.custom_fields.get(field["id"])).name == "Bot step"
    assert await client.request("DELETE", f"leads/custom_fields/{field['id']}") is None
    with pytest.raises(NotFoundError):
        await client.leads.custom_fields.get(field["id"])
    with pytest.raises(NotFoundError) as twice:
        await client.request("DELETE", f"leads/custom_fields/{field['id']}")
    assert twice.value.status_code == 404
    with pytest.raises(ForbiddenError):
        await client.request("DELETE", "contacts/custom_fields/101")
    with pytest.raises(AmoCRMError) as no_delete:
        await client.request("DELETE", f"leads/{lead.id}")
    assert no_delete.value.status_code == 405
    assert [record["id"] for record in fake.records("leads")] == [lead.id]
