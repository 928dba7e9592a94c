"""The fake amoCRM's API v4 beyond create-and-page, over real HTTP: list filters, order,
``with=``, companies, links, notes, the account, custom fields with enums, and the
shapes and errors the documentation gives."""

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
async def api() -> AsyncIterator[tuple[AmoCRM, httpx.AsyncClient, Any]]:
    with freeze_time(START, real_asyncio=True) as clock:
        async with MockServer() as server:
            amo = server.mount(AmoCRM(per_integration=10**6, per_account=10**6))
            async with httpx.AsyncClient(
                base_url=f"{server.url}/amocrm/example/api/v4",
                headers={"Authorization": f"Bearer {amo.issue_token('bot')}"},
            ) as client:
                yield amo, client, clock


def ids(response: httpx.Response, entity: str = "leads") -> list[int]:
    if response.status_code == 204:
        return []
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["_embedded"][entity]]


async def test_list_filters(api: tuple[AmoCRM, httpx.AsyncClient, Any]) -> None:
    _, client, clock = api
    await client.post("/leads", json=[{"name": f"lead {n}", "price": 100 * n} for n in range(6)])
    clock.tick(timedelta(hours=2))
    await client.post(
        "/leads",
        json=[
            {
                "name": "won",
                "status_id": 142,
                "responsible_user_id": 7,
                "custom_fields_values": [{"field_id": 201, "values": [{"value": "site"}]}],
            }
        ],
    )
    get = client.get
    assert ids(await get("/leads", params={"filter[id]": 3})) == [3]
    assert ids(await get("/leads", params=[("filter[id][]", "2"), ("filter[id][]", "4")])) == [2, 4]
    assert ids(await get("/leads", params={"filter[name]": "lead 5"})) == [6]
    price = {"filter[price][from]": 200, "filter[price][to]": 400}
    assert ids(await get("/leads", params=price)) == [3, 4, 5]
    since = int((START + timedelta(hours=1)).timestamp())
    assert ids(await get("/leads", params={"filter[created_at][from]": since})) == [7]
    assert ids(await get("/leads", params={"filter[updated_at][to]": since})) == [1, 2, 3, 4, 5, 6]
    won = {"filter[statuses][0][pipeline_id]": 1, "filter[statuses][0][status_id]": 142}
    assert ids(await get("/leads", params=won)) == [7]
    assert ids(await get("/leads", params={"filter[responsible_user_id]": 7})) == [7]
    by_text = {"filter[custom_fields_values][201][]": "site"}
    assert ids(await get("/leads", params=by_text)) == [7]
    by_enum = {"filter[custom_fields_values][201][]": 2002}
    assert ids(await get("/leads", params=by_enum)) == [7]
    assert ids(await get("/leads", params={"filter[id]": 99})) == []
    assert ids(await get("/leads", params={"query": "won"})) == [7]
    assert ids(await get("/leads", params={"filter[not_a_key]": 1, "limit": 2})) == [1, 2]


async def test_order(api: tuple[AmoCRM, httpx.AsyncClient, Any]) -> None:
    _, client, clock = api
    for name in ("a", "b", "c"):
        await client.post("/leads", json=[{"name": name}])
        clock.tick(timedelta(minutes=1))
    await client.patch("/leads/1", json={"price": 5})
    assert ids(await client.get("/leads", params={"order[id]": "desc"})) == [3, 2, 1]
    assert ids(await client.get("/leads", params={"order[updated_at]": "desc"})) == [1, 3, 2]
    assert ids(await client.get("/leads", params={"order[created_at]": "asc"})) == [1, 2, 3]


@pytest.mark.parametrize(
    ("params", "path"),
    [
        pytest.param({"filter[id]": "abc"}, "filter.id", id="id-not-a-number"),
        pytest.param({"filter[price][from]": "cheap"}, "filter.price.from", id="range"),
        pytest.param({"order[name]": "asc"}, "order.name", id="order-field"),
        pytest.param({"order[id]": "up"}, "order.id", id="order-direction"),
        pytest.param({"limit": 0}, "limit", id="limit"),
        pytest.param({"page": 0}, "page", id="page"),
        pytest.param({"filter": "x"}, "filter", id="filter-not-an-object"),
    ],
)
async def test_bad_list_parameters_are_named(
    api: tuple[AmoCRM, httpx.AsyncClient, Any], params: dict[str, Any], path: str
) -> None:
    _, client, _ = api
    answer = await client.get("/leads", params=params)
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["validation-errors"][0]["errors"][0]["path"] == path


async def test_lead_shape_as_documented(api: tuple[AmoCRM, httpx.AsyncClient, Any]) -> None:
    _, client, _ = api
    await client.post("/companies", json=[{"name": "Qwerty LLC"}])
    await client.post(
        "/leads", json=[{"name": "x", "source_id": 5, "_embedded": {"companies": [{"id": 1}]}}]
    )
    lead = (await client.get("/leads/1")).json()
    documented = {
        "id", "name", "price", "responsible_user_id", "group_id", "status_id", "pipeline_id",
        "loss_reason_id", "source_id", "created_by", "updated_by", "created_at", "updated_at",
        "closed_at", "closest_task_at", "is_deleted", "custom_fields_values", "score",
        "account_id", "labor_cost", "_links", "_embedded",
    }  # fmt: skip
    assert set(lead) == documented
    assert (lead["source_id"], lead["closest_task_at"], lead["closed_at"]) == (5, None, None)
    assert lead["_embedded"]["tags"] == []
    assert [c["id"] for c in lead["_embedded"]["companies"]] == [1]
    assert "contacts" not in lead["_embedded"]  # only with=contacts
    company = (await client.get("/companies/1", params={"with": "leads"})).json()
    assert [lead["id"] for lead in company["_embedded"]["leads"]] == [1]


async def test_with_contacts_on_lists(api: tuple[AmoCRM, httpx.AsyncClient, Any]) -> None:
    _, client, _ = api
    await client.post("/contacts", json=[{"first_name": "Ivan"}, {"first_name": "Anna"}])
    await client.post(
        "/leads", json=[{"name": "x", "_embedded": {"contacts": [{"id": 2, "is_main": True}]}}]
    )
    listed = (await client.get("/leads", params={"with": "contacts"})).json()
    (lead,) = listed["_embedded"]["leads"]
    assert [(c["id"], c["is_main"]) for c in lead["_embedded"]["contacts"]] == [(2, True)]
    assert lead["_embedded"]["contacts"][0]["_links"]["self"]["href"].endswith("/contacts/2")
    contact = (await client.get("/contacts/2", params={"with": "leads"})).json()
    assert [lead["id"] for lead in contact["_embedded"]["leads"]] == [1]
    missing = await client.post("/leads", json=[{"_embedded": {"contacts": [{"id": 99}]}}])
    assert missing.json()["validation-errors"][0]["errors"][0]["path"] == "_embedded.contacts.0.id"


async def test_no_delete_for_leads_contacts_companies(
    api: tuple[AmoCRM, httpx.AsyncClient, Any],
) -> None:
    _, client, _ = api
    await client.post("/leads", json=[{"name": "x"}])
    for path in ("/leads/1", "/leads", "/contacts/1", "/companies/1"):
        answer = await client.delete(path)
        assert answer.status_code == 405
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/leads/1")).status_code == 200
    assert (await client.get("/tasks/1/things")).status_code == 404


async def test_links_and_unlinks(api: tuple[AmoCRM, httpx.AsyncClient, Any]) -> None:
    _, client, _ = api
    await client.post("/leads", json=[{"name": "x"}])
    await client.post("/contacts", json=[{"name": "Ivan"}])
    linked = await client.post(
        "/leads/1/link",
        json=[{"to_entity_id": 1, "to_entity_type": "contacts", "metadata": {"is_main": True}}],
    )
    assert linked.json()["_embedded"]["links"] == [
        {
            "entity_id": 1,
            "entity_type": "leads",
            "to_entity_id": 1,
            "to_entity_type": "contacts",
            "metadata": {"main_contact": True},
        }
    ]
    listed = (await client.get("/contacts/1/links")).json()["_embedded"]["links"]
    assert [(link["to_entity_type"], link["to_entity_id"]) for link in listed] == [("leads", 1)]
    bad = await client.post("/leads/1/link", json=[{"to_entity_id": 1, "to_entity_type": "tasks"}])
    assert bad.status_code == 400
    gone = await client.post(
        "/leads/1/unlink", json=[{"to_entity_id": 1, "to_entity_type": "contacts"}]
    )
    assert (gone.status_code, gone.content) == (204, b"")
    assert (await client.get("/leads/1/links")).status_code == 204
    mass = await client.post(
        "/leads/link", json=[{"entity_id": 1, "to_entity_id": 1, "to_entity_type": "contacts"}]
    )
    assert mass.json()["_total_items"] == 1


async def test_notes(api: tuple[AmoCRM, httpx.AsyncClient, Any]) -> None:
    _, client, _ = api
    await client.post("/leads", json=[{"name": "x"}, {"name": "y"}])
    one = await client.post(
        "/leads/1/notes", json=[{"note_type": "common", "params": {"text": "hi"}}]
    )
    assert one.json()["_embedded"]["notes"][0] == {
        "id": 1,
        "entity_id": 1,
        "request_id": "0",
        "_links": {"self": {"href": str(client.base_url).rstrip("/") + "/leads/1/notes/1"}},
    }
    await client.post(
        "/leads/notes",
        json=[
            {
                "entity_id": 2,
                "note_type": "service_message",
                "params": {"service": "bot", "text": "ok"},
            }
        ],
    )
    assert ids(await client.get("/leads/notes"), "notes") == [1, 2]
    assert ids(await client.get("/leads/1/notes"), "notes") == [1]
    kind = {"filter[note_type][]": "service_message"}
    assert ids(await client.get("/leads/notes", params=kind), "notes") == [2]
    assert ids(await client.get("/leads/notes", params={"filter[entity_id]": 1}), "notes") == [1]
    edited = await client.patch("/leads/1/notes/1", json={"params": {"text": "edited"}})
    assert edited.json()["params"] == {"text": "edited"}
    bad = await client.post("/leads/notes", json=[{"entity_id": 9, "note_type": "tweet"}])
    paths = [e["path"] for e in bad.json()["validation-errors"][0]["errors"]]
    assert paths == ["entity_id", "note_type", "params"]
    assert (await client.get("/leads/1/notes/2")).status_code == 204  # note 2 is lead 2's


async def test_custom_fields_and_enums(api: tuple[AmoCRM, httpx.AsyncClient, Any]) -> None:
    amo, client, _ = api
    fields = (await client.get("/leads/custom_fields")).json()
    assert fields["_total_items"] == 3
    source = next(f for f in fields["_embedded"]["custom_fields"] if f["code"] == "SOURCE")
    assert [(e["id"], e["value"]) for e in source["enums"]] == [
        (2001, "chatbot"),
        (2002, "site"),
        (2003, "call"),
    ]
    assert (await client.get("/contacts/custom_fields/101")).json()["code"] == "PHONE"
    assert (await client.get("/contacts/custom_fields/201")).status_code == 204
    created = await client.post(
        "/contacts",
        json=[
            {
                "name": "Ivan",
                "custom_fields_values": [
                    {"field_code": "PHONE", "values": [{"value": "+7999", "enum_id": 1003}]},
                    {"field_code": "EMAIL", "values": [{"value": "a@b.c"}]},
                ],
            }
        ],
    )
    assert created.status_code == 200
    (phone, email) = amo.records("contacts")[0]["custom_fields_values"]
    assert phone["values"] == [{"value": "+7999", "enum_id": 1003, "enum_code": "MOB"}]
    assert email["values"] == [{"value": "a@b.c", "enum_id": 1011, "enum_code": "WORK"}]
    numeric = await client.post(
        "/leads",
        json=[{"custom_fields_values": [{"field_id": 203, "values": [{"value": "lots"}]}]}],
    )
    assert numeric.json()["validation-errors"][0]["errors"][0]["path"] == (
        "custom_fields_values.0.values.0.value"
    )


async def test_account_and_pipelines(api: tuple[AmoCRM, httpx.AsyncClient, Any]) -> None:
    _, client, _ = api
    plain = (await client.get("/account")).json()
    assert (plain["subdomain"], plain["currency"], plain["id"]) == ("example", "RUB", 1)
    assert "amojo_id" not in plain
    assert "_embedded" not in plain
    full = (
        await client.get("/account", params={"with": "amojo_id,users_groups,task_types"})
    ).json()
    assert full["amojo_id"]
    assert {"users_groups", "task_types"} <= set(full["_embedded"])
    pipelines = (await client.get("/leads/pipelines")).json()["_embedded"]["pipelines"]
    statuses = [s["id"] for s in pipelines[0]["_embedded"]["statuses"]]
    assert statuses == [10, 11, 12, 142, 143]
    bad = await client.post("/leads", json=[{"status_id": 999}])
    assert bad.json()["validation-errors"][0]["errors"][0]["path"] == "status_id"


async def test_tags_add_and_delete(api: tuple[AmoCRM, httpx.AsyncClient, Any]) -> None:
    amo, client, _ = api
    await client.post("/leads", json=[{"name": "x", "_embedded": {"tags": [{"name": "bot"}]}}])
    await client.patch("/leads/1", json={"tags_to_add": [{"name": "hot"}]})
    await client.patch("/leads/1", json={"tags_to_delete": [{"name": "bot"}]})
    assert [t["name"] for t in amo.records("leads")[0]["_embedded"]["tags"]] == ["hot"]


async def test_tags_are_one_catalogue_per_entity_type(
    api: tuple[AmoCRM, httpx.AsyncClient, Any],
) -> None:
    """tags-api: a name is one tag (one id) on every lead; /leads/tags lists and makes them;
    contacts have their own; a tag by an unknown id is refused before anything is written."""
    amo, client, _ = api
    assert (await client.get("/leads/tags")).status_code == 204
    made = await client.post("/leads/tags", json=[{"name": "vip", "color": "DDEBB5"}])
    assert made.json()["_embedded"]["tags"] == [
        {"id": 1, "name": "vip", "color": "DDEBB5", "request_id": "0"}
    ]
    await client.post(
        "/leads",
        json=[
            {"name": "a", "_embedded": {"tags": [{"name": "bot"}, {"name": "vip"}]}},
            {"name": "b", "_embedded": {"tags": [{"id": 1}]}},
        ],
    )
    await client.patch("/leads/2", json={"tags_to_add": [{"name": "bot"}]})
    shown = [[(t["id"], t["name"]) for t in r["_embedded"]["tags"]] for r in amo.records("leads")]
    assert shown == [[(2, "bot"), (1, "vip")], [(1, "vip"), (2, "bot")]]
    listed = (await client.get("/leads/tags", params={"filter[name]": "bot"})).json()
    assert [t["id"] for t in listed["_embedded"]["tags"]] == [2]
    assert ids(await client.get("/leads/tags", params={"query": "v"}), "tags") == [1]
    assert ids(await client.get("/leads/tags", params={"limit": 1, "page": 2}), "tags") == [2]
    await client.post("/contacts", json=[{"name": "c", "_embedded": {"tags": [{"name": "bot"}]}}])
    assert [t["id"] for t in amo.records("contacts")[0]["_embedded"]["tags"]] == [1]
    unknown = await client.post("/leads", json=[{"name": "x", "_embedded": {"tags": [{"id": 99}]}}])
    assert unknown.status_code == 400
    (error,) = unknown.json()["validation-errors"][0]["errors"]
    assert (error["code"], error["path"]) == ("NotSupportedChoice", "_embedded.tags.0")
    nameless = await client.post("/leads/tags", json=[{"name": ""}])
    assert nameless.json()["validation-errors"][0]["errors"][0]["code"] == "NotBlank"
    assert len(amo.records("leads")) == 2


async def test_what_a_client_read_it_may_send_back(
    api: tuple[AmoCRM, httpx.AsyncClient, Any],
) -> None:
    """A select read back carries ``enum_code: null`` (and field_name, field_type): sent back
    as it was read, as amocrm-api's models do, it is the same value, not a refusal."""
    amo, client, _ = api
    await client.post(
        "/leads",
        json=[
            {
                "name": "x",
                "custom_fields_values": [{"field_id": 201, "values": [{"enum_id": 2001}]}],
            }
        ],
    )
    read = (await client.get("/leads/1")).json()
    assert read["created_by"] == read["updated_by"] == 1  # the token's user
    answer = await client.patch(
        "/leads/1", json={"custom_fields_values": read["custom_fields_values"]}
    )
    assert answer.status_code == 200, answer.text
    assert amo.records("leads")[0]["custom_fields_values"] == read["custom_fields_values"]


async def test_custom_fields_created_used_and_deleted(
    api: tuple[AmoCRM, httpx.AsyncClient, Any],
) -> None:
    amo, client, _ = api
    made = await client.post(
        "/leads/custom_fields",
        json=[
            {"name": "Канал", "type": "select", "enums": [{"value": "tg"}, {"value": "wa"}]},
            {"name": "Согласие", "type": "checkbox", "code": "consent"},
        ],
    )
    assert made.status_code == 200
    channel, consent = made.json()["_embedded"]["custom_fields"]
    assert (channel["type"], [e["value"] for e in channel["enums"]]) == ("select", ["tg", "wa"])
    assert (consent["code"], consent["is_deletable"], consent["is_predefined"]) == (
        "CONSENT",
        True,
        False,
    )
    wa = channel["enums"][1]["id"]
    lead = await client.post(
        "/leads",
        json=[
            {
                "custom_fields_values": [
                    {"field_id": channel["id"], "values": [{"enum_id": wa}]},
                    {"field_code": "CONSENT", "values": [{"value": True}]},
                ]
            }
        ],
    )
    assert lead.status_code == 200
    values = [f["values"][0]["value"] for f in amo.records("leads")[0]["custom_fields_values"]]
    assert values == ["wa", True]
    not_bool = await client.post(
        "/leads",
        json=[{"custom_fields_values": [{"field_code": "CONSENT", "values": [{"value": "yes"}]}]}],
    )
    assert not_bool.status_code == 400
    bad = await client.post("/leads/custom_fields", json=[{"name": "", "type": "hologram"}])
    assert [e["path"] for e in bad.json()["validation-errors"][0]["errors"]] == ["name", "type"]
    twice = await client.post(
        "/leads/custom_fields", json=[{"name": "x", "type": "text", "code": "CONSENT"}]
    )
    assert twice.json()["validation-errors"][0]["errors"][0]["code"] == "NotUnique"
    assert (await client.delete(f"/leads/custom_fields/{channel['id']}")).status_code == 204
    assert (await client.get(f"/leads/custom_fields/{channel['id']}")).status_code == 204
    assert (await client.delete(f"/leads/custom_fields/{channel['id']}")).status_code == 404
    assert (await client.delete("/contacts/custom_fields/101")).status_code == 403  # PHONE
    gone = await client.post(
        "/leads",
        json=[{"custom_fields_values": [{"field_id": channel["id"], "values": [{"enum_id": wa}]}]}],
    )
    assert gone.status_code == 400


async def test_created_fields_survive_a_restart(tmp_path: Any) -> None:
    first = AmoCRM(data=tmp_path)
    token = first.issue_token("bot")
    async with MockServer() as server:
        server.mount(first)
        async with httpx.AsyncClient(
            base_url=f"{server.url}/amocrm/example/api/v4",
            headers={"Authorization": f"Bearer {token}"},
        ) as client:
            await client.post("/leads/custom_fields", json=[{"name": "Канал", "type": "text"}])
            await client.delete("/leads/custom_fields/202")
    first.store.close()
    again = AmoCRM(data=tmp_path)
    assert {f["name"] for f in again.catalogue.described("leads", "")} == {
        "Источник",
        "Бюджет клиента",
        "Канал",
    }
    again.store.close()


async def test_if_modified_since(api: tuple[AmoCRM, httpx.AsyncClient, Any]) -> None:
    _, client, clock = api
    await client.post("/leads", json=[{"name": "old"}, {"name": "touched"}])
    clock.tick(timedelta(hours=1))
    await client.patch("/leads/2", json={"price": 1})
    since = {"If-Modified-Since": "Sun, 01 Mar 2026 12:30:00 GMT"}
    assert ids(await client.get("/leads", headers=since)) == [2]
    assert (
        ids(await client.get("/leads", headers={"If-Modified-Since": "Sun, 01 Mar 2026 14:00:00"}))
        == []
    )
    bad = await client.get("/leads", headers={"If-Modified-Since": "yesterday"})
    assert bad.json()["validation-errors"][0]["errors"][0]["path"] == "If-Modified-Since"


async def test_complex_with_metadata_makes_an_incoming_lead(
    api: tuple[AmoCRM, httpx.AsyncClient, Any],
) -> None:
    amo, client, _ = api
    form = {"category": "forms", "form_id": "bot", "form_name": "Chatbot", "form_sent_at": 1}
    made = await client.post(
        "/leads/complex",
        json=[{"name": "from the form", "status_id": 12, "_embedded": {"metadata": form}}],
    )
    assert made.status_code == 200
    assert amo.records("leads")[0]["status_id"] == 10  # incoming, whatever was asked
    bad = await client.post("/leads/complex", json=[{"_embedded": {"metadata": "x"}}])
    assert bad.json()["validation-errors"][0]["errors"][0]["path"] == "_embedded.metadata"


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        pytest.param({1: {"type": "text", "entity": "deals"}}, "fields[1].entity", id="entity"),
        pytest.param({1: {"entity": "leads"}}, "fields[1].type", id="type"),
        pytest.param(
            {1: {"type": "select", "entity": "leads", "enums": ["a"]}},
            "fields[1].enums",
            id="enums",
        ),
    ],
)
def test_a_field_catalogue_that_cannot_work_is_refused(fields: Any, named: str) -> None:
    with pytest.raises(ValueError, match=named.replace("[", r"\[").replace("]", r"\]")):
        AmoCRM(fields=fields)


async def test_query_finds_a_phone_however_it_is_written(
    api: tuple[AmoCRM, httpx.AsyncClient, Any],
) -> None:
    _, client, _ = api
    phone = {"field_code": "PHONE", "values": [{"value": "+7 999 000-11-22"}]}
    await client.post(
        "/contacts", json=[{"name": "Ivan", "custom_fields_values": [phone]}, {"name": "Anna"}]
    )
    for asked in ("+79990001122", "8 (999) 000-11-22"[1:], "9990001122", "000-11-22"):
        assert ids(await client.get("/contacts", params={"query": asked}), "contacts") == [1], asked
    assert ids(await client.get("/contacts", params={"query": "1122 anna"}), "contacts") == []
    assert ids(await client.get("/contacts", params={"query": "anna"}), "contacts") == [2]


async def test_the_events_feed(api: tuple[AmoCRM, httpx.AsyncClient, Any]) -> None:
    """events-and-notes: every change an event, newest first; the filters as the official
    library writes them (comma-separated) and as lists; with=lead_name."""
    _, client, clock = api
    await client.post("/leads", json=[{"name": "bot lead", "price": 100}])
    await client.post("/contacts", json=[{"name": "Ivan"}])
    clock.tick(timedelta(minutes=5))
    await client.patch(
        "/leads/1",
        json={
            "status_id": 12,
            "price": 200,
            "tags_to_add": [{"name": "vip"}],
            "custom_fields_values": [{"field_id": 201, "values": [{"enum_id": 2001}]}],
        },
    )
    await client.post("/leads/1/link", json=[{"to_entity_id": 1, "to_entity_type": "contacts"}])
    await client.post("/leads/1/notes", json=[{"note_type": "common", "params": {"text": "hi"}}])
    feed = (await client.get("/events", params={"filter[entity]": "lead"})).json()
    kinds = [e["type"] for e in feed["_embedded"]["events"]]
    assert kinds == [
        "common_note_added",
        "contact_linked",
        "entity_tag_added",
        "custom_field_201_value_changed",
        "sale_field_changed",
        "lead_status_changed",
        "lead_added",
    ]
    moved = feed["_embedded"]["events"][5]
    assert moved["value_after"] == [{"lead_status": {"id": 12, "pipeline_id": 1}}]
    assert moved["value_before"] == [{"lead_status": {"id": 11, "pipeline_id": 1}}]
    assert (moved["entity_id"], moved["entity_type"], moved["created_by"]) == (1, "lead", 1)
    assert moved["created_at"] == int((START + timedelta(minutes=5)).timestamp())
    assert isinstance(moved["id"], str)
    other_side = await client.get("/events", params={"filter[entity]": "contact"})
    assert [e["type"] for e in other_side.json()["_embedded"]["events"]] == [
        "lead_linked",
        "contact_added",
    ]
    typed = await client.get(
        "/events",
        params={"filter[type]": "lead_added,lead_status_changed", "with": "lead_name"},
    )
    shown = typed.json()["_embedded"]["events"]
    assert [e["type"] for e in shown] == ["lead_status_changed", "lead_added"]
    assert shown[0]["_embedded"]["entity"]["name"] == "bot lead"
    staged = await client.get(
        "/events",
        params={
            "filter[value_after][leads_statuses][0][pipeline_id]": "1",
            "filter[value_after][leads_statuses][0][status_id]": "12",
        },
    )
    assert [e["type"] for e in staged.json()["_embedded"]["events"]] == ["lead_status_changed"]
    since = int((START + timedelta(minutes=1)).timestamp())
    later = await client.get(
        "/events",
        params={
            "filter[created_at][from]": since,
            "filter[entity_id][]": 1,
            "filter[entity][]": "contact",
        },
    )
    assert [e["type"] for e in later.json()["_embedded"]["events"]] == ["lead_linked"]
    one = await client.get(f"/events/{moved['id']}")
    assert one.json()["type"] == "lead_status_changed"
    paged = await client.get("/events", params={"limit": 2, "page": 2})
    assert len(paged.json()["_embedded"]["events"]) == 2
    assert "next" in paged.json()["_links"]
    assert (await client.get("/events", params={"filter[type]": "lead_deleted"})).status_code == 204
    for bad, path in [
        ({"limit": 0}, "limit"),
        ({"filter": "x"}, "filter"),
        ({"filter[created_at][from]": "soon"}, "filter.created_at.from"),
        ({"filter[entity_id]": "one"}, "filter.entity_id"),
    ]:
        refused = await client.get("/events", params=bad)
        assert refused.status_code == 400, bad
        assert refused.json()["validation-errors"][0]["errors"][0]["path"] == path
