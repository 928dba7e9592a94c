"""The fake Bitrix24 over real HTTP: auth, the four encodings, records, paging, batch, errors,
the leaky-bucket rate limit on a frozen clock, and faults on demand."""

from __future__ import annotations

import asyncio
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
    assert (too_many.status_code, too_many.json()["error"]) == (400, "ERROR_BATCH_LENGTH_EXCEEDED")


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
    statuses = [(await call(client, "crm.lead.add", json={})).status_code for _ in range(3)]
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
