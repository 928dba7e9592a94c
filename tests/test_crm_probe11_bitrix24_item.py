"""Eleventh probe of the fake Bitrix24: the universal ``crm.item.*`` methods
(``api-reference/crm/universal/crm-item-*.md`` in bitrix24/b24restdocs), over real
sockets, on the same store as the classic ``crm.lead.*`` and ``crm.deal.*``."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import trustme
from b24pysdk import BitrixWebhook, Client, Config
from b24pysdk.errors import BitrixAPIError

from mockserver import MockServer
from mockserver.crm import Bitrix24
from tests.crm_clients import Portal, bitrix24_portal, call

#: The SDK's socket timeouts, generous: no test may depend on the machine's speed.
SLOW_MACHINE = 120


@pytest.fixture
async def portal() -> AsyncIterator[Portal]:
    async with bitrix24_portal(userfields={"lead": {"UF_CRM_1720019876534": "string"}}) as opened:
        yield opened


async def _ok(client: httpx.AsyncClient, path: str, method: str, body: Any) -> Any:
    response = await call(client, path, method, body)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_classic_lead_is_an_item_and_an_item_a_classic_lead(portal: Portal) -> None:
    _, client, path = portal
    fields = {
        "TITLE": "From the bot",
        "NAME": "Ann",
        "PHONE": [{"VALUE": "+100", "VALUE_TYPE": "WORK"}],
        "UF_CRM_1720019876534": "321",
    }
    lead_id = (await _ok(client, path, "crm.lead.add", {"fields": fields}))["result"]
    got = await _ok(client, path, "crm.item.get", {"entityTypeId": 1, "id": lead_id})
    item = got["result"]["item"]
    assert item["id"] == lead_id
    assert item["title"] == "From the bot"
    assert item["name"] == "Ann"
    assert item["stageId"] == "NEW"  # a lead's STATUS_ID (crm-item-get.md's example)
    assert item["assignedById"] == 7
    assert item["createdBy"] == 7
    assert item["ufCrm_1720019876534"] == "321"  # crm-item-get.md: ufCrm_1720019876534
    assert item["fm"] == [{"id": 1, "valueType": "WORK", "value": "+100", "typeId": "PHONE"}]
    assert item["entityTypeId"] == 1
    assert "createdTime" in item
    assert "TITLE" not in item

    added = await _ok(
        client,
        path,
        "crm.item.add",
        {
            "entityTypeId": 1,
            "fields": {"title": "Item lead", "ufCrm_1720019876534": "9", "noSuchField": 1},
        },
    )
    new_id = added["result"]["item"]["id"]
    classic = (await _ok(client, path, "crm.lead.get", {"id": new_id}))["result"]
    assert classic["TITLE"] == "Item lead"
    assert classic["UF_CRM_1720019876534"] == "9"
    original = await _ok(
        client,
        path,
        "crm.item.get",
        {"entityTypeId": 1, "id": new_id, "useOriginalUfNames": "Y"},
    )
    assert original["result"]["item"]["UF_CRM_1720019876534"] == "9"


async def test_deals_add_update_and_delete_through_item(portal: Portal) -> None:
    _, client, path = portal
    added = await _ok(
        client,
        path,
        "crm.item.add",
        {
            "entityTypeId": 2,
            "fields": {
                "title": "Big deal",
                "stageId": "PREPARATION",
                "opportunity": 5000,
                "currencyId": "USD",
                "assignedById": 3,
                "fm": [{"typeId": "PHONE", "value": "+1"}],  # a deal has no multifields
            },
        },
    )
    item = added["result"]["item"]
    assert item["title"] == "Big deal"
    assert item["stageId"] == "PREPARATION"
    assert item["opportunity"] == 5000.0
    assert item["currencyId"] == "USD"
    assert item["assignedById"] == 3
    assert item["entityTypeId"] == 2
    deal = (await _ok(client, path, "crm.deal.get", {"id": item["id"]}))["result"]
    assert deal["TITLE"] == "Big deal"
    assert deal["STAGE_ID"] == "PREPARATION"

    updated = await _ok(
        client,
        path,
        "crm.item.update",
        {"entityTypeId": 2, "id": item["id"], "fields": {"stageId": "WON", "id": 999}},
    )
    assert updated["result"]["item"]["stageId"] == "WON"
    assert updated["result"]["item"]["id"] == item["id"]
    deal = (await _ok(client, path, "crm.deal.get", {"id": item["id"]}))["result"]
    assert deal["STAGE_ID"] == "WON"

    deleted = await _ok(client, path, "crm.item.delete", {"entityTypeId": 2, "id": item["id"]})
    assert deleted["result"] == []  # crm-item-delete.md
    gone = await call(client, path, "crm.item.get", {"entityTypeId": 2, "id": item["id"]})
    assert gone.status_code == 400
    assert gone.json()["error"] == "NOT_FOUND"
    classic = await call(client, path, "crm.deal.get", {"id": item["id"]})
    assert classic.status_code == 400


async def test_list_filters_orders_selects_and_pages(portal: Portal) -> None:
    _, client, path = portal
    for number in range(60):
        fields = {"TITLE": f"Deal {number}", "OPPORTUNITY": number * 100}
        if number % 2:
            fields["STAGE_ID"] = "WON"
        await _ok(client, path, "crm.deal.add", {"fields": fields})
    first = await _ok(client, path, "crm.item.list", {"entityTypeId": 2})
    assert len(first["result"]["items"]) == 50
    assert first["total"] == 60
    assert first["next"] == 50
    second = await _ok(client, path, "crm.item.list", {"entityTypeId": 2, "start": 50})
    assert [item["id"] for item in second["result"]["items"]] == list(range(51, 61))
    assert "next" not in second

    picked = await _ok(
        client,
        path,
        "crm.item.list",
        {
            "entityTypeId": 2,
            "select": ["title", "opportunity"],
            "filter": {">=opportunity": 5000, "@stageId": ["WON"], "%title": "Deal 5"},
            "order": {"opportunity": "DESC"},
        },
    )
    assert picked["result"]["items"] == [
        {"id": 60, "title": "Deal 59", "opportunity": 5900.0},
        {"id": 58, "title": "Deal 57", "opportunity": 5700.0},
        {"id": 56, "title": "Deal 55", "opportunity": 5500.0},
        {"id": 54, "title": "Deal 53", "opportunity": 5300.0},
        {"id": 52, "title": "Deal 51", "opportunity": 5100.0},
    ]
    assert picked["total"] == 5
    above = await _ok(client, path, "crm.item.list", {"entityTypeId": 2, "filter": {">id": 58}})
    assert [item["id"] for item in above["result"]["items"]] == [59, 60]


@pytest.mark.parametrize(
    ("body", "code", "description"),
    [
        pytest.param(
            {"entityTypeId": 7}, "NOT_FOUND", "Smart process not found", id="unknown-type"
        ),
        pytest.param({}, "NOT_FOUND", "Smart process not found", id="no-type"),
        pytest.param(
            {"entityTypeId": 1, "filter": {"NOPE": 1}},
            "INVALID_ARG_VALUE",
            "Invalid filter: field 'NOPE' is not allowed in filter",
            id="unknown-filter-field",
        ),
        pytest.param(
            {"entityTypeId": 1, "filter": {"0": {"logic": "OR", "0": {"title": "a"}}}},
            "INVALID_ARG_VALUE",
            "Invalid filter: nested conditions ('0') are not supported by this fake",
            id="nested-filter-refused-not-ignored",
        ),
        pytest.param(
            {"entityTypeId": 1, "order": {"title": "UP"}},
            "INVALID_ARG_VALUE",
            "Invalid order: allowed sort directions are ASC, DESC. But got 'UP' for field 'title'",
            id="bad-direction",
        ),
    ],
)
async def test_list_errors_are_the_documented_ones(
    portal: Portal, body: dict[str, Any], code: str, description: str
) -> None:
    _, client, path = portal
    response = await call(client, path, "crm.item.list", body)
    assert response.status_code == 400
    assert response.json() == {"error": code, "error_description": description}


async def test_item_methods_run_inside_batch(portal: Portal) -> None:
    _, client, path = portal
    answer = await _ok(
        client,
        path,
        "batch",
        {
            "halt": 0,
            "cmd": {
                "add": "crm.item.add?entityTypeId=1&fields[title]=Batched",
                "get": "crm.item.get?entityTypeId=1&id=$result[add][item][id]",
                "list": "crm.item.list?entityTypeId=1&select[]=title",
            },
        },
    )
    result = answer["result"]
    assert result["result_error"] == []
    assert result["result"]["get"]["item"]["title"] == "Batched"
    assert result["result"]["list"]["items"] == [{"id": 1, "title": "Batched"}]
    assert result["result_total"]["list"] == 1


async def test_item_fields_names_the_camel_case_fields(portal: Portal) -> None:
    _, client, path = portal
    fields = (await _ok(client, path, "crm.item.fields", {"entityTypeId": 1}))["result"]["fields"]
    assert fields["stageId"]["upperName"] == "STATUS_ID"
    assert fields["assignedById"]["upperName"] == "ASSIGNED_BY_ID"
    assert fields["ufCrm_1720019876534"]["upperName"] == "UF_CRM_1720019876534"


@pytest.fixture
def sdk(monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    """b24pysdk, unchanged, at a portal over TLS (as tests/test_crm_b24pysdk.py has it)."""
    from b24pysdk import constants

    Config().configure(default_connect_timeout=SLOW_MACHINE, default_read_timeout=SLOW_MACHINE)
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with ca.cert_pem.tempfile() as ca_file, MockServer(ssl_context=context) as server:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_file)
        server.mount(Bitrix24(user_id="1", secret="sdk-secret", plan="unlimited"))
        webhook = BitrixWebhook(domain=f"127.0.0.1:{server.port}", webhook_token="1/sdk-secret")
        yield Client(webhook)
    Config().configure(
        default_connect_timeout=constants.DEFAULT_CONNECT_TIMEOUT,
        default_read_timeout=constants.DEFAULT_READ_TIMEOUT,
    )


def test_the_sdks_universal_item_api(sdk: Client) -> None:
    lead_id = sdk.crm.lead.add(fields={"TITLE": "Classic", "NAME": "Ann"}).result
    item = sdk.crm.item.get(entity_type_id=1, bitrix_id=lead_id).result["item"]
    assert item["title"] == "Classic"
    assert item["name"] == "Ann"

    deal = sdk.crm.item.add(
        entity_type_id=2, fields={"title": "From the SDK", "opportunity": 1200}
    ).result["item"]
    assert deal["title"] == "From the SDK"
    assert deal["opportunity"] == 1200.0
    # The SDK's requests are lazy: each runs when its result is read.
    updated = sdk.crm.item.update(entity_type_id=2, bitrix_id=deal["id"], fields={"stageId": "WON"})
    assert updated.result["item"]["stageId"] == "WON"
    listed = sdk.crm.item.list(
        entity_type_id=2, select=["title", "stageId"], filter={"=stageId": "WON"}
    ).response
    assert listed.result == {
        "items": [{"id": deal["id"], "title": "From the SDK", "stageId": "WON"}]
    }
    assert listed.total == 1
    assert sdk.crm.deal.get(bitrix_id=deal["id"]).result["STAGE_ID"] == "WON"

    assert sdk.crm.item.delete(entity_type_id=2, bitrix_id=deal["id"]).result == []
    with pytest.raises(BitrixAPIError) as raised:
        _ = sdk.crm.item.get(entity_type_id=2, bitrix_id=deal["id"]).result
    assert raised.value.error == "NOT_FOUND"
    with pytest.raises(BitrixAPIError) as raised:
        _ = sdk.crm.item.list(entity_type_id=128).result
    assert raised.value.error == "NOT_FOUND"


async def test_item_changes_send_the_classic_events() -> None:
    async with MockServer() as server:
        server.stub({"method": "POST", "path": "/bot/events"}, {"status": 200})
        crm = server.mount(Bitrix24(plan="unlimited"))
        for event in ("ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE"):
            crm.bind(event, f"{server.url}/bot/events")
        async with httpx.AsyncClient(base_url=server.url + crm.webhook_path) as client:
            for method, body in (
                ("crm.item.add", {"entityTypeId": 2, "fields": {"title": "x"}}),
                ("crm.item.update", {"entityTypeId": 2, "id": "1", "fields": {"title": "y"}}),
                ("crm.item.delete", {"entityTypeId": 2, "id": 1}),
            ):
                answered = await client.post(f"{method}.json", json=body)
                assert answered.status_code == 200, answered.text
                await crm.events_sent()
        posted = [r for r in server.requests if r.path == "/bot/events"]
        assert [(r.form["event"], r.form["data"]) for r in posted] == [  # type: ignore[index]
            ("ONCRMDEALADD", {"FIELDS": {"ID": "1"}}),
            ("ONCRMDEALUPDATE", {"FIELDS": {"ID": "1"}}),
            ("ONCRMDEALDELETE", {"FIELDS": {"ID": "1"}}),
        ]


@pytest.mark.parametrize(
    "fm",
    [
        pytest.param("x", id="a-text"),
        pytest.param([{"typeId": "FAX", "value": "1"}], id="unknown-type"),
        pytest.param([["PHONE", "+1"]], id="a-list-entry"),
    ],
)
async def test_an_fm_entry_that_is_no_multifield_is_refused_not_dropped(
    portal: Portal, fm: Any
) -> None:
    _, client, path = portal
    response = await call(
        client, path, "crm.item.add", {"entityTypeId": 1, "fields": {"title": "t", "fm": fm}}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "INVALID_ARG_VALUE"
    assert response.json()["error_description"].startswith(
        "fm: each entry is an object whose typeId is one of PHONE, EMAIL, WEB, IM, LINK"
    )
    listed = await _ok(client, path, "crm.lead.list", {})
    assert listed["result"] == []


async def test_fm_adds_and_changes_a_leads_multifields(portal: Portal) -> None:
    _, client, path = portal
    added = await _ok(
        client,
        path,
        "crm.item.add",
        {
            "entityTypeId": 1,
            "fields": {"fm": [{"typeId": "EMAIL", "valueType": "WORK", "value": "a@b.c"}]},
        },
    )
    assert added["result"]["item"]["fm"] == [
        {"id": 1, "valueType": "WORK", "value": "a@b.c", "typeId": "EMAIL"}
    ]
    changed = await _ok(
        client,
        path,
        "crm.item.update",
        {
            "entityTypeId": 1,
            "id": 1,
            "fields": {"fm": [{"id": 1, "typeId": "EMAIL", "value": "x@y.z"}]},
        },
    )
    assert changed["result"]["item"]["fm"][0]["value"] == "x@y.z"
    classic = (await _ok(client, path, "crm.lead.get", {"id": 1}))["result"]
    assert classic["EMAIL"][0]["VALUE"] == "x@y.z"


async def test_contacts_and_companies_are_items_too(portal: Portal) -> None:
    _, client, path = portal
    company = await _ok(
        client, path, "crm.item.add", {"entityTypeId": 4, "fields": {"title": "Acme"}}
    )
    company_id = company["result"]["item"]["id"]
    contact_id = (
        await _ok(
            client,
            path,
            "crm.contact.add",
            {"fields": {"NAME": "Bo", "COMPANY_ID": company_id, "EMAIL": [{"VALUE": "b@o.x"}]}},
        )
    )["result"]
    contact = (await _ok(client, path, "crm.item.get", {"entityTypeId": 3, "id": contact_id}))[
        "result"
    ]["item"]
    assert contact["name"] == "Bo"
    assert contact["companyId"] == company_id
    assert contact["fm"][0]["typeId"] == "EMAIL"
    assert contact["entityTypeId"] == 3
    classic = (await _ok(client, path, "crm.company.get", {"id": company_id}))["result"]
    assert classic["TITLE"] == "Acme"
