"""The fake Bitrix24 over real HTTP: auth, the four encodings, records, paging, batch, errors,
the leaky-bucket rate limit on a frozen clock, and faults on demand."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from freezegun import freeze_time

from mockserver import MockServer
from mockserver.crm import Bitrix24, CrmFault
from tests.cli import spawn_mockserver
from webhook_core import encode_query


@pytest.fixture
async def portal() -> AsyncIterator[tuple[Bitrix24, httpx.AsyncClient]]:
    async with MockServer() as server:
        crm = server.mount(Bitrix24(user_id="7", secret="s3cret", plan="unlimited"))
        async with httpx.AsyncClient(base_url=server.url + crm.webhook_path) as client:
            yield crm, client


async def call(client: httpx.AsyncClient, method: str, **kwargs: Any) -> httpx.Response:
    return await client.post(f"{method}.json", **kwargs)


async def test_lead_add_from_a_php_form_then_read_back_as_bitrix_returns_it(
    portal: tuple[Bitrix24, httpx.AsyncClient],
) -> None:
    crm, client = portal
    body = encode_query(
        {
            "fields": {
                "NAME": "Анна",
                "PHONE": [{"VALUE": "+7999", "VALUE_TYPE": "WORK"}],
                "OPPORTUNITY": 1500,
                "NO_SUCH_FIELD": "x",
            }
        }
    )
    added = await call(
        client,
        "crm.lead.add",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert added.status_code == 200
    assert added.json()["result"] == 1
    assert set(added.json()["time"]) >= {"start", "finish", "duration", "date_start"}
    lead = (await call(client, "crm.lead.get", json={"id": 1})).json()["result"]
    assert lead["ID"] == "1"
    assert lead["TITLE"] == "Lead #1"
    assert lead["NAME"] == "Анна"
    assert lead["OPPORTUNITY"] == "1500.00"  # money has two decimals
    assert lead["COMMENTS"] is None  # never set: null, not left out
    assert lead["STATUS_ID"] == "NEW"
    assert lead["ASSIGNED_BY_ID"] == "7"
    assert lead["PHONE"] == [
        {"ID": "1", "VALUE_TYPE": "WORK", "VALUE": "+7999", "TYPE_ID": "PHONE"}
    ]
    assert lead["HAS_PHONE"] == "Y"
    assert "NO_SUCH_FIELD" not in lead
    assert crm.records("lead")[0]["NAME"] == "Анна"


@pytest.mark.parametrize("encoding", ["query", "form", "json", "multipart"])
async def test_all_four_encodings(
    portal: tuple[Bitrix24, httpx.AsyncClient], encoding: str
) -> None:
    crm, client = portal
    data = {"fields": {"TITLE": "Chatbot lead", "EMAIL": [{"VALUE": "a@b.c"}]}}
    flat = encode_query(data)
    if encoding == "query":
        response = await client.get(f"crm.lead.add?{flat}")
    elif encoding == "form":
        response = await client.post(
            "crm.lead.add",
            content=flat,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    elif encoding == "json":
        response = await client.post("crm.lead.add", json=data)
    else:
        fields = {"fields[TITLE]": "Chatbot lead", "fields[EMAIL][0][VALUE]": "a@b.c"}
        response = await client.post(
            "crm.lead.add", files={k: (None, v) for k, v in fields.items()}
        )
    assert response.json()["result"] == 1, response.text
    (lead,) = crm.records("lead")
    assert lead["TITLE"] == "Chatbot lead"
    assert lead["EMAIL"][0]["VALUE"] == "a@b.c"


async def test_top_level_names_are_case_insensitive(
    portal: tuple[Bitrix24, httpx.AsyncClient],
) -> None:
    crm, client = portal
    await call(client, "crm.contact.add", json={"FIELDS": {"NAME": "Ivan"}})
    assert crm.records("contact")[0]["NAME"] == "Ivan"


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [
        pytest.param("/rest/7/wrong/crm.lead.add.json", 401, "INVALID_CREDENTIALS", id="secret"),
        pytest.param("/rest/8/s3cret/crm.lead.add.json", 401, "INVALID_CREDENTIALS", id="user"),
        pytest.param("/rest/s3cret/crm.lead.add.json", 401, "NO_AUTH_FOUND", id="malformed"),
        pytest.param(
            "/rest/7/s3cret/crm.lead.ad.json", 404, "ERROR_METHOD_NOT_FOUND", id="unknown-method"
        ),
    ],
)
async def test_auth_and_method_errors(
    portal: tuple[Bitrix24, httpx.AsyncClient], path: str, status: int, error: str
) -> None:
    _, client = portal
    response = await client.post(str(client.base_url.join(path)), json={})
    assert response.status_code == status
    assert response.json()["error"] == error
    assert "error_description" in response.json()
    assert "result" not in response.json()


async def test_get_errors_are_method_errors_with_an_empty_code(
    portal: tuple[Bitrix24, httpx.AsyncClient],
) -> None:
    _, client = portal
    missing = await call(client, "crm.lead.get", json={"id": 99})
    assert (missing.status_code, missing.json()) == (
        400,
        {"error": "", "error_description": "Not found"},
    )
    invalid = await call(client, "crm.lead.get", json={"id": "abc"})
    assert invalid.json()["error_description"] == "ID is not defined or invalid."
    not_array = await call(client, "crm.lead.add", json={"fields": "x"})
    assert not_array.json()["error_description"] == "Parameter 'fields' must be array."


async def test_list_pages_by_fifty(portal: tuple[Bitrix24, httpx.AsyncClient]) -> None:
    _, client = portal
    for number in range(120):
        await call(client, "crm.lead.add", json={"fields": {"TITLE": f"t{number}"}})
    first = (await call(client, "crm.lead.list", json={})).json()
    assert (len(first["result"]), first["next"], first["total"]) == (50, 50, 120)
    second = (await call(client, "crm.lead.list", json={"start": 50})).json()
    assert second["next"] == 100
    assert second["result"][0]["ID"] == "51"
    last = (await call(client, "crm.lead.list", json={"start": 100})).json()
    assert len(last["result"]) == 20
    assert "next" not in last
    fast = (await call(client, "crm.lead.list", json={"start": -1})).json()
    assert "total" not in fast


async def test_list_filter_select_order(portal: tuple[Bitrix24, httpx.AsyncClient]) -> None:
    _, client = portal
    for title, amount in (("a", 10), ("b", 300), ("c", 20)):
        await call(
            client,
            "crm.lead.add",
            json={"fields": {"TITLE": title, "OPPORTUNITY": amount, "PHONE": [{"VALUE": "1"}]}},
        )
    found = (
        await call(
            client,
            "crm.lead.list",
            json={
                "filter": {">OPPORTUNITY": 15},
                "select": ["ID", "TITLE"],
                "order": {"OPPORTUNITY": "DESC"},
            },
        )
    ).json()["result"]
    assert found == [{"ID": "2", "TITLE": "b"}, {"ID": "3", "TITLE": "c"}]
    like = (await call(client, "crm.lead.list", json={"filter": {"%TITLE": "B"}})).json()
    assert [r["ID"] for r in like["result"]] == ["2"]
    assert "PHONE" not in like["result"][0]
    with_phone = (await call(client, "crm.lead.list", json={"select": ["*", "PHONE"]})).json()
    assert with_phone["result"][0]["PHONE"][0]["VALUE"] == "1"


async def test_update_ignores_unknown_fields_and_appends_multifields_without_id(
    portal: tuple[Bitrix24, httpx.AsyncClient],
) -> None:
    crm, client = portal
    await call(client, "crm.contact.add", json={"fields": {"NAME": "A", "PHONE": [{"VALUE": "1"}]}})
    updated = await call(
        client,
        "crm.contact.update",
        json={"id": 1, "fields": {"NAME": "B", "BOGUS": "x", "PHONE": [{"VALUE": "1"}]}},
    )
    assert updated.json()["result"] is True
    contact = crm.records("contact")[0]
    assert contact["NAME"] == "B"
    assert "BOGUS" not in contact
    assert [p["VALUE"] for p in contact["PHONE"]] == ["1", "1"]  # the classic duplicate
    first, second = (p["ID"] for p in contact["PHONE"])
    await call(
        client,
        "crm.contact.update",
        json={
            "id": 1,
            "fields": {"PHONE": [{"ID": first, "VALUE": "2"}, {"ID": second, "DELETE": "Y"}]},
        },
    )
    assert [p["VALUE"] for p in crm.records("contact")[0]["PHONE"]] == ["2"]


async def test_contact_email_is_checked(portal: tuple[Bitrix24, httpx.AsyncClient]) -> None:
    crm, client = portal
    response = await call(
        client, "crm.contact.add", json={"fields": {"EMAIL": [{"VALUE": "nope"}]}}
    )
    assert (response.status_code, response.json()["error"]) == (400, "ERROR_CORE")
    assert crm.records("contact") == []


async def test_batch(portal: tuple[Bitrix24, httpx.AsyncClient]) -> None:
    _, client = portal
    body = encode_query(
        {
            "halt": 0,
            "cmd": {
                "one": "crm.lead.add?" + encode_query({"fields": {"TITLE": "x"}}),
                "two": "crm.lead.get?id=1",
                "bad": "crm.lead.get?id=42",
                "list": "crm.lead.list",
            },
        }
    )
    response = await client.post(
        "batch", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 200
    result = response.json()["result"]
    assert result["result"]["one"] == 1
    assert result["result"]["two"]["TITLE"] == "x"
    assert result["result_error"]["bad"] == {"error": "", "error_description": "Not found"}
    assert result["result_total"]["list"] == 1
    too_many = await client.post(
        "batch", json={"cmd": {str(i): "crm.lead.list" for i in range(51)}}
    )
    assert too_many.status_code == 200
    assert too_many.json()["result"]["result_error"]["50"]["error"] == "ERROR_BATCH_LENGTH_EXCEEDED"


async def test_leaky_bucket_on_a_frozen_clock() -> None:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    async with MockServer() as server:
        crm = server.mount(Bitrix24(secret="k"))
        async with httpx.AsyncClient(base_url=server.url + crm.webhook_path) as client:
            with freeze_time(start, real_asyncio=True) as clock:
                statuses = [(await client.get("crm.lead.list")).status_code for _ in range(51)]
                assert statuses[:50] == [200] * 50
                limited = await client.get("crm.lead.list")
                assert limited.status_code == 503
                assert limited.json() == {
                    "error": "QUERY_LIMIT_EXCEEDED",
                    "error_description": "Too many requests",
                }
                clock.tick(timedelta(seconds=1))
                again = [(await client.get("crm.lead.list")).status_code for _ in range(3)]
                assert again == [200, 200, 503]
    enterprise = Bitrix24(plan="enterprise")
    assert (enterprise.capacity, enterprise.drain) == (250, 5.0)


async def test_faults_on_demand(portal: tuple[Bitrix24, httpx.AsyncClient]) -> None:
    crm, client = portal
    crm.add_fault(CrmFault("crm.lead.add", kind="error", call=2, status=500))
    crm.add_fault(CrmFault("crm.lead.get", kind="html", status=502))
    statuses = [
        (await call(client, "crm.lead.add", json={"fields": {}})).status_code for _ in range(3)
    ]
    assert statuses == [200, 500, 200]
    gateway = await call(client, "crm.lead.get", json={"id": 1})
    assert gateway.status_code == 502
    assert gateway.headers["content-type"].startswith("text/html")


async def test_commit_then_drop_makes_a_retry_duplicate(
    portal: tuple[Bitrix24, httpx.AsyncClient],
) -> None:
    crm, client = portal
    crm.add_fault(CrmFault("crm.lead.add", kind="commit_then_drop", call=1))
    with pytest.raises(httpx.ReadError):
        await call(client, "crm.lead.add", json={"fields": {"TITLE": "once"}})
    await call(client, "crm.lead.add", json={"fields": {"TITLE": "once"}})
    assert [lead["TITLE"] for lead in crm.records("lead")] == ["once", "once"]


async def test_commit_then_hang_is_cut_off_when_the_server_stops() -> None:
    server = await MockServer().start()
    crm = server.mount(Bitrix24(secret="s"))
    assert crm.pause == server.pause  # the hang is one the server can cut off
    crm.add_fault(CrmFault("crm.lead.add", kind="commit_then_hang", seconds=600))
    async with httpx.AsyncClient(base_url=server.url + crm.webhook_path, timeout=600) as client:
        hung = asyncio.create_task(call(client, "crm.lead.add", json={"fields": {"TITLE": "x"}}))
        while not crm.records("lead"):
            await asyncio.sleep(0.01)
        await server.stop()
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            await asyncio.wait_for(hung, 30)
    assert [lead["TITLE"] for lead in crm.records("lead")] == ["x"]


async def test_redirect_to_a_new_domain(portal: tuple[Bitrix24, httpx.AsyncClient]) -> None:
    crm, client = portal
    crm.add_fault(CrmFault("crm.lead.add", kind="redirect", location="https://new.example"))
    response = await call(client, "crm.lead.add", json={})
    assert response.status_code == 302
    assert response.headers["location"].startswith("https://new.example/rest/")


async def test_scope_and_status_overrides() -> None:
    async with MockServer() as server:
        no_crm = server.mount(
            Bitrix24(secret="k", scope=("user",), statuses={"insufficient_scope": 403})
        )
        async with httpx.AsyncClient(base_url=server.url + no_crm.webhook_path) as client:
            response = await client.get("crm.lead.list")
    assert (response.status_code, response.json()["error"]) == (403, "insufficient_scope")


async def test_calls_are_journaled(portal: tuple[Bitrix24, httpx.AsyncClient]) -> None:
    crm, client = portal
    await call(client, "crm.lead.add", json={})
    assert crm.calls[0]["method"] == "crm.lead.add"


async def test_admin_api_for_the_crm(portal: tuple[Bitrix24, httpx.AsyncClient]) -> None:
    crm, client = portal
    admin = str(client.base_url).split("/rest/")[0] + "/__admin/crm"
    await call(client, "crm.lead.add", json={"fields": {"TITLE": "seen"}})
    listed = (await client.get(admin)).json()["profiles"]
    assert listed[0]["records"]["lead"][0]["TITLE"] == "seen"
    assert listed[0]["calls"][0]["method"] == "crm.lead.add"
    fault = await client.post(
        admin + "/bitrix24/faults", json={"method": "crm.lead.add", "kind": "error", "status": 500}
    )
    assert fault.status_code == 201
    assert (await call(client, "crm.lead.add", json={})).status_code == 500
    bad = await client.post(admin + "/bitrix24/faults", json={"method": "x", "bogus": 1})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "bogus"
    # A fault that cannot work is refused, every field named, never half-added.
    wrong = await client.post(
        admin + "/bitrix24/faults",
        json={"method": "crm.lead.add", "kind": "explode", "call": 0, "status": "x", "calls": 2},
    )
    assert wrong.status_code == 400
    errors = {error["field"]: error["message"] for error in wrong.json()["errors"]}
    assert set(errors) == {"kind", "call", "status", "calls"}
    assert "'error', 'commit_then_drop'" in errors["kind"]
    assert errors["calls"] == "unknown field; did you mean 'call'?"
    assert len(crm.faults) == 1
    assert (await client.get(admin + "/amocrm")).status_code == 404
    assert (await client.delete(admin + "/bitrix24")).status_code == 204
    assert crm.records("lead") == []


def test_cli_puts_bitrix24_on_the_far_side(tmp_path: object) -> None:
    import signal

    process = spawn_mockserver("--crm", "bitrix24", "--bitrix24-secret", "cli")
    try:
        assert process.stdout is not None
        process.stdout.readline()
        line = process.stdout.readline()
        assert line.startswith("bitrix24: webhook URL http://127.0.0.1:")
        webhook = line.split()[3]
        assert webhook.endswith("/rest/1/cli/")
        added = httpx.post(webhook + "crm.lead.add.json", json={"fields": {"TITLE": "cli"}})
        assert added.json()["result"] == 1
        listed = httpx.get(webhook + "crm.lead.list.json").json()
        assert listed["total"] == 1
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=10)
    finally:
        process.kill()
    assert "POST /rest/1/cli/crm.lead.add.json -> 200 (stub crm:bitrix24)" in out


def test_data_dir_keeps_records_across_a_restart(tmp_path: Any) -> None:
    import signal
    import subprocess

    def start() -> tuple[subprocess.Popen[str], str]:
        process = spawn_mockserver(
            "--crm", "bitrix24", "--bitrix24-secret", "keep", "--data", str(tmp_path), "--quiet"
        )
        assert process.stdout is not None
        process.stdout.readline()
        return process, process.stdout.readline().split()[3]

    process, webhook = start()
    try:
        added = httpx.post(
            webhook + "crm.lead.add.json",
            json={"fields": {"TITLE": "kept", "PHONE": [{"VALUE": "1"}]}},
        )
        assert added.json()["result"] == 1
        process.send_signal(signal.SIGKILL)  # no clean shutdown: what was acknowledged stays
        process.wait(10)
        process, webhook = start()
        lead = httpx.post(webhook + "crm.lead.get.json", json={"id": 1}).json()["result"]
        assert (lead["TITLE"], lead["PHONE"][0]["ID"]) == ("kept", "1")
        again = httpx.post(
            webhook + "crm.lead.add.json", json={"fields": {"PHONE": [{"VALUE": "2"}]}}
        )
        assert again.json()["result"] == 2
        second = httpx.post(webhook + "crm.lead.get.json", json={"id": 2}).json()["result"]
        assert second["PHONE"][0]["ID"] == "2"
    finally:
        process.kill()
        process.wait(10)


async def test_rejected_calls_are_in_the_call_log(
    portal: tuple[Bitrix24, httpx.AsyncClient],
) -> None:
    crm, client = portal
    await client.post(str(client.base_url.join("/rest/7/wrong/crm.lead.add.json")), json={})
    await call(client, "crm.lead.get", json={"id": 5})
    assert [(entry["method"], entry["status"]) for entry in crm.calls] == [
        ("crm.lead.add", 401),
        ("crm.lead.get", 400),
    ]


async def test_operator_issues_and_revokes_webhooks(
    portal: tuple[Bitrix24, httpx.AsyncClient],
) -> None:
    _crm, client = portal
    admin = str(client.base_url).split("/rest/")[0] + "/__admin/crm/bitrix24"
    issued = await client.post(admin + "/webhooks", json={"user_id": 9, "scope": ["user"]})
    assert issued.status_code == 201
    url = issued.json()["url"]
    assert "/rest/9/" in url
    no_scope = await client.post(url + "crm.lead.list.json", json={})
    assert (no_scope.status_code, no_scope.json()["error"]) == (401, "insufficient_scope")
    secret = url.rstrip("/").rsplit("/", 1)[-1]
    assert (await client.delete(admin + f"/webhooks/{secret}")).status_code == 204
    gone = await client.post(url + "crm.lead.list.json", json={})
    assert gone.json()["error"] == "INVALID_CREDENTIALS"
    hooks = (await client.get(admin)).json()["webhooks"]
    assert [hook["user_id"] for hook in hooks] == ["7"]
    bad = await client.post(admin + "/webhooks", json={"scope": "crm"})
    assert bad.json()["errors"][0]["field"] == "scope"
    misspelt = await client.post(admin + "/webhooks", json={"user_id": 3, "scopes": ["user"]})
    assert misspelt.status_code == 400  # not a crm-scoped webhook the operator did not ask for
    assert misspelt.json()["errors"] == [
        {"field": "scopes", "message": "unknown field; did you mean 'scope'?"}
    ]


# --- the entities' life cycle (crm-*-add/get/update/delete/list/fields.md) -------------------


@pytest.mark.parametrize("entity", ["lead", "contact", "deal", "company"])
async def test_each_entity_lives_and_dies_as_documented(
    portal: tuple[Bitrix24, httpx.AsyncClient], entity: str
) -> None:
    crm, client = portal
    made = await call(
        client,
        f"crm.{entity}.userfield.add",
        json={"fields": {"FIELD_NAME": "BOT_ID", "USER_TYPE_ID": "string"}},
    )
    assert made.json()["result"] == 1
    fields = {
        "TITLE": "Acme",
        "NAME": "Ivan",
        "PHONE": [{"VALUE": "+7 999 000-11-22", "VALUE_TYPE": "MOBILE"}],
        "EMAIL": [{"VALUE": "ivan@example.com", "VALUE_TYPE": "WORK"}],
        "UF_CRM_BOT_ID": "tg-42",
        "UF_CRM_NOT_DEFINED": "dropped",
    }
    added = await call(client, f"crm.{entity}.add", json={"fields": fields})
    assert added.json()["result"] == 1
    got = (await call(client, f"crm.{entity}.get", json={"id": 1})).json()["result"]
    assert got["ID"] == "1"
    assert got["UF_CRM_BOT_ID"] == "tg-42"
    assert "UF_CRM_NOT_DEFINED" not in got  # a custom field must exist first
    assert got["COMMENTS"] is None  # every field is there, null until set
    assert set(got) >= {"ASSIGNED_BY_ID", "DATE_CREATE", "DATE_MODIFY", "OPENED"}
    if entity == "deal":  # a deal has no phones of its own: its contact has
        assert "PHONE" not in got
        phone_change: list[dict[str, str]] = []
    else:
        assert got["PHONE"][0]["VALUE_TYPE"] == "MOBILE"
        assert got["HAS_EMAIL"] == "Y"
        phone_change = [{"ID": got["PHONE"][0]["ID"], "DELETE": "Y"}]
    updated = await call(
        client,
        f"crm.{entity}.update",
        json={"id": 1, "fields": {"COMMENTS": "called", "PHONE": phone_change}},
    )
    assert updated.json()["result"] is True
    again = (await call(client, f"crm.{entity}.get", json={"id": 1})).json()["result"]
    assert again["COMMENTS"] == "called"
    assert "PHONE" not in again  # an empty multifield is left out, as the API does
    if entity != "deal":
        assert (again["HAS_PHONE"], again["HAS_EMAIL"]) == ("N", "Y")
    deleted = await call(client, f"crm.{entity}.delete", json={"id": 1})
    assert deleted.json()["result"] is True
    for method in ("get", "delete", "update"):
        gone = await call(client, f"crm.{entity}.{method}", json={"id": 1})
        assert (gone.status_code, gone.json()) == (
            400,
            {"error": "", "error_description": "Not found"},
        )
    assert crm.records(entity) == []
    # An empty ``fields`` is an array: a lead, deal or company is made of it; a contact
    # needs a name (crm.contact.fields marks NAME, SECOND_NAME, LAST_NAME required).
    nameless = (await call(client, f"crm.{entity}.add", json={"fields": {}})).json()
    assert nameless.get("result") == (None if entity == "contact" else 2)


async def test_fields_describe_types_and_custom_fields(
    portal: tuple[Bitrix24, httpx.AsyncClient],
) -> None:
    _, client = portal
    await call(
        client,
        "crm.deal.userfield.add",
        json={
            "fields": {
                "FIELD_NAME": "CHANNEL",
                "USER_TYPE_ID": "enumeration",
                "LIST": [{"VALUE": "Telegram"}, {"VALUE": "WhatsApp"}],
            }
        },
    )
    described = (await call(client, "crm.deal.fields")).json()["result"]
    assert described["OPPORTUNITY"]["type"] == "double"
    assert described["ID"]["isReadOnly"] is True
    assert "PHONE" not in described  # deals have no multifields
    channel = described["UF_CRM_CHANNEL"]
    assert channel["isDynamic"] is True
    assert [item["VALUE"] for item in channel["items"]] == ["Telegram", "WhatsApp"]
    telegram = channel["items"][0]["ID"]
    ok = await call(
        client, "crm.deal.add", json={"fields": {"UF_CRM_CHANNEL": telegram, "OPPORTUNITY": 1500}}
    )
    deal = (await call(client, "crm.deal.get", json={"id": ok.json()["result"]})).json()["result"]
    assert (deal["UF_CRM_CHANNEL"], deal["OPPORTUNITY"]) == (telegram, "1500.00")
    bad = await call(client, "crm.deal.add", json={"fields": {"UF_CRM_CHANNEL": "999"}})
    assert bad.status_code == 400
    assert "UF_CRM_CHANNEL" in bad.json()["error_description"]
    money = await call(client, "crm.deal.add", json={"fields": {"OPPORTUNITY": "lots"}})
    assert money.status_code == 400
    assert "OPPORTUNITY" in money.json()["error_description"]
    listed = (await call(client, "crm.deal.userfield.list")).json()["result"]
    assert [(f["FIELD_NAME"], f["ENTITY_ID"]) for f in listed] == [("UF_CRM_CHANNEL", "CRM_DEAL")]
    again = {"FIELD_NAME": "CHANNEL", "USER_TYPE_ID": "string"}
    twice = await call(client, "crm.deal.userfield.add", json={"fields": again})
    assert twice.status_code == 400
    assert "already exists" in twice.json()["error_description"]


async def test_list_select_filter_order_with_custom_and_multifields(
    portal: tuple[Bitrix24, httpx.AsyncClient],
) -> None:
    crm, client = portal
    await call(
        client,
        "crm.lead.userfield.add",
        json={"fields": {"FIELD_NAME": "SCORE", "USER_TYPE_ID": "integer"}},
    )
    for number in range(1, 8):
        await call(
            client,
            "crm.lead.add",
            json={
                "fields": {
                    "TITLE": f"lead {number}",
                    "UF_CRM_SCORE": number % 3,
                    "EMAIL": [{"VALUE": f"a{number}@x.io"}],
                }
            },
        )
    page = (
        await call(
            client,
            "crm.lead.list",
            json={
                "filter": {">=UF_CRM_SCORE": 1, "@ID": [1, 2, 4, 5, 7]},
                "order": {"UF_CRM_SCORE": "DESC", "ID": "ASC"},
                "select": ["ID", "TITLE", "UF_*", "EMAIL"],
            },
        )
    ).json()
    assert [row["ID"] for row in page["result"]] == ["2", "5", "1", "4", "7"]
    assert set(page["result"][0]) == {"ID", "TITLE", "UF_CRM_SCORE", "EMAIL"}
    assert page["result"][0]["EMAIL"][0]["VALUE"] == "a2@x.io"
    plain = (await call(client, "crm.lead.list", json={"select": ["*"]})).json()["result"]
    assert "EMAIL" not in plain[0]
    assert "UF_CRM_SCORE" not in plain[0]
    assert plain[0]["COMMENTS"] is None
    by_mail = (await call(client, "crm.lead.list", json={"filter": {"EMAIL": "a3@x.io"}})).json()
    assert [row["ID"] for row in by_mail["result"]] == ["3"]
    assert len(crm.records("lead")) == 7


async def test_timeline_comments(portal: tuple[Bitrix24, httpx.AsyncClient]) -> None:
    _, client = portal
    await call(client, "crm.deal.add", json={"fields": {"TITLE": "d"}})
    added = await call(
        client,
        "crm.timeline.comment.add",
        json={"fields": {"ENTITY_ID": 1, "ENTITY_TYPE": "deal", "COMMENT": "The bot says hi"}},
    )
    assert added.json()["result"] == 1
    got = (await call(client, "crm.timeline.comment.get", json={"id": 1})).json()["result"]
    assert (got["ENTITY_TYPE"], got["ENTITY_ID"], got["COMMENT"]) == ("deal", 1, "The bot says hi")
    listed = await call(
        client,
        "crm.timeline.comment.list",
        json={"filter": {"ENTITY_ID": 1, "ENTITY_TYPE": "deal"}},
    )
    assert [c["ID"] for c in listed.json()["result"]] == ["1"]
    orphan = await call(
        client,
        "crm.timeline.comment.add",
        json={"fields": {"ENTITY_ID": 9, "ENTITY_TYPE": "deal", "COMMENT": "x"}},
    )
    assert (orphan.status_code, orphan.json()["error"]) == (400, "OWNER_NOT_FOUND")
    empty = await call(
        client,
        "crm.timeline.comment.add",
        json={"fields": {"ENTITY_ID": 1, "ENTITY_TYPE": "deal", "COMMENT": " "}},
    )
    assert empty.json()["error"] == "INVALID_ARG_VALUE"


async def test_duplicates_by_phone_and_email(portal: tuple[Bitrix24, httpx.AsyncClient]) -> None:
    _, client = portal
    await call(
        client, "crm.lead.add", json={"fields": {"PHONE": [{"VALUE": "+7 (999) 000-11-22"}]}}
    )
    phone = {"NAME": "Ann", "PHONE": [{"VALUE": "79990001122"}]}
    await call(client, "crm.contact.add", json={"fields": phone})
    email = {"NAME": "Anna", "EMAIL": [{"VALUE": "Anna@Example.com"}]}
    await call(client, "crm.contact.add", json={"fields": email})
    found = await call(
        client, "crm.duplicate.findbycomm", json={"type": "PHONE", "values": ["+79990001122"]}
    )
    assert found.json()["result"] == {"LEAD": [1], "CONTACT": [1]}
    contacts = await call(
        client,
        "crm.duplicate.findbycomm",
        json={"type": "EMAIL", "values": ["anna@example.com"], "entity_type": "CONTACT"},
    )
    assert contacts.json()["result"] == {"CONTACT": [2]}
    none = await call(
        client, "crm.duplicate.findbycomm", json={"type": "EMAIL", "values": ["x@y.z"]}
    )
    assert none.json()["result"] == []
    missing = await call(client, "crm.duplicate.findbycomm", json={"values": ["1"]})
    assert (missing.status_code, missing.json()["error"]) == (
        400,
        "Communication type is not defined",
    )


# --- batch (settings/how-to-call-rest-api/batch.md) -----------------------------------------


async def test_batch_commands_refer_to_earlier_results(
    portal: tuple[Bitrix24, httpx.AsyncClient],
) -> None:
    _, client = portal
    for number in range(60):
        await call(client, "crm.lead.add", json={"fields": {"TITLE": f"lead {number}"}})
    cmd = {
        "first": "crm.lead.list?"
        + encode_query({"order": {"ID": "ASC"}, "select": ["ID"], "start": -1}),
        "rest": "crm.lead.list?"
        + encode_query(
            {"filter": {">ID": "$result[first][49][ID]"}, "order": {"ID": "ASC"}, "start": -1}
        ),
        "company": "crm.company.add?" + encode_query({"fields": {"TITLE": "Acme"}}),
        "deal": "crm.deal.add?"
        + encode_query(
            {"fields": {"TITLE": "for $result[company]", "COMPANY_ID": "$result[company]"}}
        ),
        "read": "crm.deal.get?id=$result[deal]",
        "paged": "crm.lead.list?start=50",
    }
    answer = (await client.post("batch", json={"cmd": cmd})).json()["result"]
    assert len(answer["result"]["first"]) == 50
    assert [row["ID"] for row in answer["result"]["rest"]] == [str(n) for n in range(51, 61)]
    assert answer["result"]["read"]["COMPANY_ID"] == "1"
    assert answer["result"]["read"]["TITLE"] == "for 1"
    assert answer["result_error"] == []
    assert set(answer["result_time"]) == set(cmd)  # an object keyed by command
    assert set(answer["result_time"]["deal"]) >= {"start", "finish", "duration"}
    assert answer["result_total"] == {"paged": 60}
    assert answer["result_next"] == []  # the last page has no next


async def test_batch_halt_stops_at_the_first_error(
    portal: tuple[Bitrix24, httpx.AsyncClient],
) -> None:
    crm, client = portal
    cmd = {
        "bad": "crm.lead.get?id=404",
        "nested": "batch?cmd[x]=crm.lead.list",
        "add": "crm.lead.add?fields[TITLE]=after",
    }
    going = (await client.post("batch", json={"halt": 0, "cmd": cmd})).json()["result"]
    assert set(going["result_error"]) == {"bad", "nested"}
    assert going["result_error"]["nested"]["error"] == "ERROR_BATCH_METHOD_NOT_ALLOWED"
    assert going["result"] == {"add": 1}
    halted = (await client.post("batch", json={"halt": 1, "cmd": cmd})).json()["result"]
    assert (halted["result"], list(halted["result_error"])) == ([], ["bad"])
    assert halted["result_time"] == []
    assert len(crm.records("lead")) == 1


async def test_system_error_statuses_follow_the_documented_table() -> None:
    async with MockServer() as server:
        crm = server.mount(Bitrix24(user_id="1", secret="s", plan="unlimited"))
        async with httpx.AsyncClient(base_url=server.url) as client:
            wrong = await client.post("/rest/1/nope/crm.lead.list.json")
            assert (wrong.status_code, wrong.json()["error"]) == (401, "INVALID_CREDENTIALS")
            bare = await client.post("/rest/crm.lead.list.json")
            assert (bare.status_code, bare.json()["error"]) == (401, "NO_AUTH_FOUND")
            unknown = await client.post("/rest/1/s/crm.nothing.list.json")
            assert (unknown.status_code, unknown.json()["error"]) == (404, "ERROR_METHOD_NOT_FOUND")
            hook_bind = await client.post(
                "/rest/1/s/event.bind.json", json={"event": "ONCRMLEADADD", "handler": "http://x/"}
            )
            assert hook_bind.json()["error"] == "WRONG_AUTH_TYPE"
    assert crm.statuses["ERROR_BATCH_METHOD_NOT_ALLOWED"] == 405


async def test_scope_lists_the_callers_scopes() -> None:
    """api-reference/common/system/scope.md: the webhook's or token's scopes ("basic" is
    not listed); full=true every scope of the portal; in form data the text "false" is
    true, as PHP reads it."""
    async with MockServer() as server:
        crm = server.mount(Bitrix24(secret="s", plan="unlimited"))
        hook = crm.issue_webhook("3", ("basic", "user", "crm"))
        token = crm.issue_app_tokens(scope=("crm",), base_url=server.url)["access_token"]
        async with httpx.AsyncClient(base_url=server.url) as client:
            mine = (await client.post(f"{hook}scope.json")).json()["result"]
            assert mine == ["user", "crm"]
            full = await client.post(f"{hook}scope.json", json={"full": True})
            assert full.json()["result"] == ["crm", "user"]
            form = await client.post(f"{hook}scope.json", data={"full": "false"})
            assert form.json()["result"] == ["crm", "user"]
            off = await client.post(f"{hook}scope.json", json={"full": False})
            assert off.json()["result"] == ["user", "crm"]
            app = await client.post("/rest/scope", json={"auth": token})
            assert app.json()["result"] == ["crm"]
            batch = await client.post(f"{hook}batch.json", json={"cmd": {"s": "scope"}})
            assert batch.json()["result"]["result"]["s"] == ["user", "crm"]


async def test_app_info_answers_an_application_only() -> None:
    """api-reference/common/system/app-info.md: the application's installation; through
    a webhook, as `CRestProvider::appInfo` answers a password (webhook) call, its scope
    and the license (the page's 400 ACCESS_DENIED is the answer to a call with neither)."""
    async with MockServer() as server:
        crm = server.mount(Bitrix24(secret="s", plan="enterprise", client_id="local.x"))
        token = crm.issue_app_tokens(base_url=server.url)["access_token"]
        async with httpx.AsyncClient(base_url=server.url) as client:
            info = (await client.post("/rest/app.info", json={"auth": token})).json()["result"]
            assert info == {
                "ID": 1,
                "CODE": "local.x",
                "VERSION": 1,
                "STATUS": "L",
                "INSTALLED": True,
                "PAYMENT_EXPIRED": "N",
                "DAYS": None,
                "LANGUAGE_ID": "en",
                "LICENSE": "en_ent250",
                "LICENSE_TYPE": "ent250",
                "LICENSE_FAMILY": "ent",
            }
            hooked = await client.post("/rest/1/s/app.info.json")
            assert hooked.status_code == 200
            assert hooked.json()["result"] == {"SCOPE": ["crm"], "LICENSE": "en_ent250"}


# --- application tokens on the server's clock (settings/oauth/index.md) ---------------------


async def test_an_application_token_expires_on_the_server_clock_and_refreshes() -> None:
    async with MockServer() as server:
        crm = server.mount(
            Bitrix24(
                plan="unlimited", client_id="local.app", client_secret="shh", token_lifetime=3600
            )
        )
        crm.clock.freeze(datetime(2026, 6, 1, tzinfo=timezone.utc))
        issued = crm.issue_app_tokens(user_id="5", base_url=server.url)
        async with httpx.AsyncClient(base_url=server.url) as client:
            ok = await client.post(
                "/rest/crm.lead.add.json",
                params={"auth": issued["access_token"]},
                json={"fields": {"TITLE": "app"}},
            )
            assert ok.json()["result"] == 1
            in_body = await client.post(
                "/rest/crm.lead.get", json={"id": 1, "auth": issued["access_token"]}
            )
            assert in_body.json()["result"]["TITLE"] == "app"
            crm.clock.advance(3599)
            assert (
                await client.get("/rest/crm.lead.list", params={"auth": issued["access_token"]})
            ).status_code == 200
            crm.clock.advance(1)
            expired = await client.get(
                "/rest/crm.lead.list", params={"auth": issued["access_token"]}
            )
            assert (expired.status_code, expired.json()["error"]) == (401, "expired_token")
            bogus = await client.get("/rest/crm.lead.list", params={"auth": "nope"})
            assert (bogus.status_code, bogus.json()["error"]) == (401, "invalid_token")
            refresh = {
                "grant_type": "refresh_token",
                "client_id": "local.app",
                "client_secret": "shh",
                "refresh_token": issued["refresh_token"],
            }
            renewed = await client.get("/oauth/token/", params=refresh)
            assert renewed.status_code == 200
            fresh = renewed.json()
            assert fresh["expires_in"] == 3600
            assert fresh["expires"] == int(crm.clock.timestamp()) + 3600
            assert fresh["user_id"] == 5
            assert fresh["client_endpoint"] == f"{server.url}/rest/"
            again = await client.get("/rest/crm.lead.list", params={"auth": fresh["access_token"]})
            assert again.json()["total"] == 1
            reused = await client.get("/oauth/token/", params=refresh)  # a refresh token is spent
            assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")
            stolen = await client.get("/oauth/token/", params={**refresh, "client_secret": "guess"})
            assert (stolen.status_code, stolen.json()["error"]) == (401, "invalid_client")
            code = crm.issue_code(user_id="5")
            exchanged = await client.get(
                "/oauth/token/",
                params={
                    "grant_type": "authorization_code",
                    "client_id": "local.app",
                    "client_secret": "shh",
                    "code": code,
                },
            )
            assert exchanged.json()["access_token"]
            crm.clock.advance(31)
            late = await client.get(
                "/oauth/token/",
                params={
                    "grant_type": "authorization_code",
                    "client_id": "local.app",
                    "client_secret": "shh",
                    "code": crm.issue_code(),
                },
            )
            assert late.status_code == 200  # a fresh code works; an old one does not:
            old = await client.get(
                "/oauth/token/",
                params={
                    "grant_type": "authorization_code",
                    "client_id": "local.app",
                    "client_secret": "shh",
                    "code": code,
                },
            )
            assert old.json()["error"] == "invalid_grant"


def test_application_credentials_survive_a_restart(tmp_path: Any) -> None:
    first = Bitrix24(data=tmp_path)
    issued = first.issue_app_tokens()
    first.store.close()
    second = Bitrix24(data=tmp_path)
    assert (second.tokens.client_id, second.tokens.client_secret, second.secret) == (
        first.tokens.client_id,
        first.tokens.client_secret,
        first.secret,
    )
    assert second.tokens.check(issued["access_token"]) == ("1", ("crm",))


# --- outbound events (api-reference/events/) --------------------------------------------------


async def test_bound_events_are_posted_to_the_handler_form_encoded() -> None:
    async with MockServer() as server:
        server.stub({"method": "POST", "path": "/bot/b24-events"}, {"status": 200})
        crm = server.mount(Bitrix24(plan="unlimited"))
        token = crm.issue_app_tokens(base_url=server.url)["access_token"]
        handler = f"{server.url}/bot/b24-events"
        async with httpx.AsyncClient(base_url=server.url) as client:
            for event in ("ONCRMLEADADD", "ONCRMLEADUPDATE"):
                bound = await client.post(
                    "/rest/event.bind", json={"auth": token, "event": event, "handler": handler}
                )
                assert bound.json()["result"] is True
            twice = await client.post(
                "/rest/event.bind",
                json={"auth": token, "event": "ONCRMLEADADD", "handler": handler},
            )
            assert twice.status_code == 400
            unknown = await client.post(
                "/rest/event.bind", json={"auth": token, "event": "ONNOTHING", "handler": handler}
            )
            assert unknown.json()["error"] == "ERROR_EVENT_NOT_FOUND"
            listed = (await client.post("/rest/event.get", json={"auth": token})).json()["result"]
            assert [b["event"] for b in listed] == ["ONCRMLEADADD", "ONCRMLEADUPDATE"]
            await client.post("/rest/1/" + crm.secret + "/crm.lead.add", json={"fields": {}})
            await client.post(
                "/rest/1/" + crm.secret + "/crm.lead.update",
                json={"id": 1, "fields": {"NAME": "x"}},
            )
            await client.post(
                "/rest/1/" + crm.secret + "/crm.lead.delete", json={"id": 1}
            )  # not bound
            await crm.events_sent()
            unbound = await client.post(
                "/rest/event.unbind",
                json={"auth": token, "event": "ONCRMLEADUPDATE", "handler": handler},
            )
            assert unbound.json()["result"] == {"count": 1}
        posted = [r for r in server.requests if r.path == "/bot/b24-events"]
        assert [r.form["event"] for r in posted] == ["ONCRMLEADADD", "ONCRMLEADUPDATE"]  # type: ignore[index]
        first = posted[0]
        assert first.content_type == "application/x-www-form-urlencoded"
        assert first.form["data"] == {"FIELDS": {"ID": "1"}}  # type: ignore[index]
        auth = first.form["auth"]  # type: ignore[index]
        assert auth["application_token"] == crm.store.meta["application_token"]
        assert auth["member_id"]
        assert auth["access_token"]
        assert auth["domain"]
        assert int(first.form["ts"]) > 0  # type: ignore[index]
        deliveries = crm.to_json()["deliveries"]
        assert [(d["event"], d["status"]) for d in deliveries] == [
            ("ONCRMLEADADD", 200),
            ("ONCRMLEADUPDATE", 200),
        ]


async def test_a_failed_delivery_is_logged_and_not_retried() -> None:
    async with MockServer() as server:
        crm = server.mount(Bitrix24(plan="unlimited"))
        token = crm.issue_app_tokens()["access_token"]
        async with httpx.AsyncClient(base_url=server.url) as client:
            await client.post(
                "/rest/event.bind",
                json={"auth": token, "event": "ONCRMDEALADD", "handler": f"{server.url}/down"},
            )
            await client.post("/rest/1/" + crm.secret + "/crm.deal.add", json={"fields": {}})
            await crm.events_sent()
    deliveries = crm.to_json()["deliveries"]
    assert [(d["event"], d["status"]) for d in deliveries] == [("ONCRMDEALADD", 404)]
    assert len([r for r in server.requests if r.path == "/down"]) == 1


async def test_the_admin_api_installs_the_application_for_a_process_elsewhere() -> None:
    async with MockServer() as server:
        crm = server.mount(Bitrix24(plan="unlimited", client_id="local.cli", client_secret="c"))
        assert "client_id local.cli client_secret c" in crm.describe(server.url)
        async with httpx.AsyncClient(base_url=server.url) as client:
            made = await client.post("/__admin/crm/bitrix24/oauth", json={"user_id": 4})
            assert made.status_code == 201
            issued = made.json()
            assert (issued["user_id"], issued["client_endpoint"]) == (4, f"{server.url}/rest/")
            listed = await client.get(
                "/rest/crm.lead.list", params={"auth": issued["access_token"]}
            )
            assert listed.json()["total"] == 0
            bad = await client.post("/__admin/crm/bitrix24/oauth", json={"user": 4})
            assert bad.status_code == 400
            assert "user" in bad.text


async def test_batch_pages_with_result_next_and_numeric_keys(
    portal: tuple[Bitrix24, httpx.AsyncClient],
) -> None:
    _, client = portal
    for number in range(120):
        await call(client, "crm.lead.add", json={"fields": {"TITLE": f"l{number}"}})
    answer = (
        await client.post(
            "batch",
            json={
                "cmd": [
                    "crm.lead.list?select[]=ID",
                    "crm.lead.list?select[]=ID&start=$result_next[0]",
                    "crm.lead.list?select[]=ID&start=$result_next[1]",
                ]
            },
        )
    ).json()["result"]
    assert answer["result_next"] == {"0": 50, "1": 100}  # the last page has none
    assert answer["result_total"] == {"0": 120, "1": 120, "2": 120}
    pages = [answer["result"][key] for key in ("0", "1", "2")]
    assert [len(page) for page in pages] == [50, 50, 20]
    assert pages[2][-1]["ID"] == "120"


async def test_a_batch_lets_other_calls_run_between_its_commands() -> None:
    """Deterministic: the other coroutine gets the loop before the batch's 50 writes end."""
    from mockserver.crm.bitrix24.batch import run_batch_async

    portal = Bitrix24(secret="s", plan="unlimited")
    done: list[int] = []

    def counting(method: str, params: Any) -> Any:
        done.append(1)
        return portal.call(method, params)

    params = {"cmd": {f"c{n}": "crm.lead.add?fields[TITLE]=x" for n in range(50)}}
    batch = asyncio.create_task(run_batch_async(params, counting, lambda m: True, portal.timing))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    seen = len(done)
    answer = await batch
    assert 0 < seen < 50  # it was part way through when this coroutine ran again
    assert len(answer["result"]) == 50


@pytest.mark.parametrize("halt", [0, 1])
async def test_the_batch_answer_encoded_step_by_step_is_json_dumps_of_it(halt: int) -> None:
    """The portal's batch answer is encoded a command at a time (run_batch_json); the
    text is json.dumps of what run_batch gives, halted or not, errors and pages too."""
    from mockserver.crm.bitrix24.batch import run_batch, run_batch_json

    commands = {
        "add": "crm.lead.add?fields[TITLE]=Ann+%26+Bob",
        "page": "crm.lead.list?select[]=ID&select[]=TITLE",
        "bad": "crm.lead.get?id=99",
        "after": "crm.lead.get?id=$result[add]",
    }
    made = []
    for portal in (Bitrix24(plan="unlimited"), Bitrix24(plan="unlimited")):
        portal.clock.freeze(datetime(2026, 5, 1, tzinfo=timezone.utc))
        made.append(portal)
    params = {"cmd": commands, "halt": halt}
    plain = run_batch(params, made[0].call, lambda m: True, made[0].timing)
    text = await run_batch_json(params, made[1].call, lambda m: True, made[1].timing)
    assert text == json.dumps(plain)
    assert list(json.loads(text)["result_error"]) == ["bad"]
    assert ("after" in json.loads(text)["result"]) is (halt == 0)


@pytest.mark.parametrize(
    ("filters", "order"),
    [
        pytest.param({}, {}, id="nothing"),
        pytest.param({"SOURCE_ID": "WEB"}, {"ID": "DESC"}, id="field-and-order"),
        pytest.param({"!SOURCE_ID": "WEB"}, {}, id="not-null-too"),
        pytest.param({"PHONE": "222"}, {}, id="multifield"),
        pytest.param({"!PHONE": "222"}, {"TITLE": "ASC"}, id="not-multifield"),
        pytest.param({"UF_CRM_TAGS": "a"}, {}, id="multiple-userfield"),
        pytest.param({"!UF_CRM_TAGS": "a", "=UF_CRM_NOTE": ""}, {}, id="unset-userfields"),
        pytest.param({">OPPORTUNITY": 10}, {"OPPORTUNITY": "DESC", "ID": "ASC"}, id="money"),
        pytest.param({"%TITLE": "b"}, {"NOT_A_FIELD": "ASC"}, id="unknown-order"),
        pytest.param({">=ID": 3, "<ID": "9"}, {"TITLE": "DESC"}, id="an-id-window"),
        pytest.param({"<=ID": 5.5, ">ID": 1}, {}, id="a-fractional-bound"),
        pytest.param({">ID": "abc"}, {}, id="a-bound-that-is-no-number"),
        pytest.param({">ID": 9, "<ID": 3}, {}, id="an-empty-window"),
    ],
)
def test_list_filters_and_orders_as_the_full_records_would(
    filters: dict[str, Any], order: dict[str, str]
) -> None:
    """list() reads only the named fields of each record; the answer is the one of
    filtering and ordering every record as .get shows it."""
    from mockserver.crm.bitrix24.filters import passes, sort_key

    portal = Bitrix24(
        plan="unlimited",
        userfields={"lead": {"UF_CRM_NOTE": "string"}},
    )
    portal.call(
        "crm.lead.userfield.add",
        {"fields": {"FIELD_NAME": "TAGS", "USER_TYPE_ID": "string", "MULTIPLE": "Y"}},
    )
    for number in range(12):
        fields: dict[str, Any] = {"TITLE": f"{'ab'[number % 2]}{number}"}
        if number % 3:
            fields["SOURCE_ID"] = "WEB" if number % 3 == 1 else "CALL"
        if number % 4 == 0:
            fields["PHONE"] = [{"VALUE": str(111 * (1 + number % 3)), "VALUE_TYPE": "WORK"}]
        if number % 5 == 0:
            fields["UF_CRM_TAGS"] = ["a", "b"] if number % 2 else ["b"]
        if number % 6 == 0:
            fields["OPPORTUNITY"] = number * 3
        portal.call("crm.lead.add", {"fields": fields})
    shown = [portal.shown("lead", r) for r in portal.records("lead")]
    expected = [r for r in shown if all(passes(r, k, v) for k, v in filters.items())]
    for key, direction in reversed(list(order.items())):
        expected.sort(key=lambda r: sort_key(r.get(key)), reverse=direction == "DESC")
    page, extra = portal.call(
        "crm.lead.list", {"filter": filters, "order": order, "select": ["ID"]}
    )
    assert [row["ID"] for row in page] == [row["ID"] for row in expected]
    assert extra["total"] == len(expected)


@pytest.mark.parametrize(
    ("filters", "order"),
    [
        pytest.param({}, {}, id="first-page"),
        pytest.param({">ID": 70}, {"ID": "ASC"}, id="after-an-id"),
        pytest.param({">=ID": "70", "SOURCE_ID": "WEB"}, {}, id="from-an-id-and-a-field"),
        pytest.param({">ID": 70, "<ID": 75}, {}, id="a-window"),
        pytest.param({">ID": "x"}, {}, id="not-a-number"),
        pytest.param({">ID": 500}, {}, id="past-the-end"),
        pytest.param({">ID": 10}, {"ID": "DESC"}, id="descending-takes-the-long-way"),
    ],
)
def test_keyset_paging_gives_the_full_scans_first_page(
    filters: dict[str, Any], order: dict[str, str]
) -> None:
    """start=-1 (no count) in id order starts where >ID puts it and stops at 50 found;
    its page is the first 50 of filtering and ordering every record."""
    from mockserver.crm.bitrix24.filters import passes, sort_key

    portal = Bitrix24(plan="unlimited")
    for number in range(130):
        portal.call("crm.lead.add", {"fields": {"SOURCE_ID": "WEB" if number % 3 else "CALL"}})
    portal.call("crm.lead.delete", {"id": 72})  # a gap where the window starts
    shown = [portal.shown("lead", r) for r in portal.records("lead")]
    expected = [r for r in shown if all(passes(r, k, v) for k, v in filters.items())]
    for key, direction in reversed(list(order.items())):
        expected.sort(key=lambda r: sort_key(r.get(key)), reverse=direction == "DESC")
    page, extra = portal.call(
        "crm.lead.list", {"filter": filters, "order": order, "select": ["ID"], "start": -1}
    )
    assert [row["ID"] for row in page] == [row["ID"] for row in expected[:50]]
    assert extra == {}


def test_constructor_refuses_what_cannot_work() -> None:
    with pytest.raises(ValueError, match="userfields: got 'leads'"):
        Bitrix24(userfields={"leads": {"UF_CRM_X": "string"}})
    with pytest.raises(ValueError, match="USER_TYPE_ID"):
        Bitrix24(userfields={"lead": {"UF_CRM_X": "colour"}})
    with pytest.raises(ValueError, match="token_lifetime"):
        Bitrix24(token_lifetime=0)
    portal = Bitrix24(userfields={"lead": {"UF_CRM_X": "integer"}})
    assert portal.describe_fields("lead")["UF_CRM_X"]["type"] == "integer"
    with pytest.raises(ValueError, match="expected an http"):
        portal.bind("ONCRMLEADADD", "ftp://x")
