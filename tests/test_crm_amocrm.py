"""The fake amoCRM / Kommo over real HTTP: tokens, array bodies, hal+json, 204, paging,
custom-field validation, /leads/complex with duplicate control, rate limits and the block."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from freezegun import freeze_time

from mockserver import MockServer
from mockserver.crm import AmoCRM, CrmFault
from tests.cli import spawn_mockserver
from tests.crm_clients import amocrm_account

PHONE = {"field_code": "PHONE", "values": [{"value": "+7 999 000-11-22", "enum_code": "MOB"}]}


@pytest.fixture
async def account() -> AsyncIterator[tuple[AmoCRM, httpx.AsyncClient]]:
    async with amocrm_account() as opened:
        yield opened


async def test_create_leads_echoes_request_ids(account: tuple[AmoCRM, httpx.AsyncClient]) -> None:
    amo, client = account
    response = await client.post(
        "/leads",
        json=[
            {
                "name": "From the bot",
                "price": 100,
                "request_id": "tg-1",
                "custom_fields_values": [{"field_id": 201, "values": [{"value": "chatbot"}]}],
            },
            {"name": "Second"},
        ],
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/hal+json")
    created = response.json()["_embedded"]["leads"]
    assert [(lead["id"], lead["request_id"]) for lead in created] == [(1, "tg-1"), (2, "1")]
    assert created[0]["_links"]["self"]["href"].endswith("/api/v4/leads/1")
    lead = (await client.get("/leads/1")).json()
    assert (lead["name"], lead["price"], lead["pipeline_id"]) == ("From the bot", 100, 1)
    assert lead["custom_fields_values"][0]["values"] == [
        {"value": "chatbot", "enum_id": 2001, "enum_code": None}
    ]
    assert amo.records("leads")[1]["name"] == "Second"


async def test_host_header_carries_the_subdomain(account: tuple[AmoCRM, httpx.AsyncClient]) -> None:
    _, client = account
    base = str(client.base_url).split("/amocrm/")[0]
    ok = await client.get(base + "/api/v4/leads", headers={"Host": "example.amocrm.ru"})
    assert ok.status_code == 204
    other = await client.get(base + "/api/v4/leads", headers={"Host": "other.kommo.com"})
    assert other.status_code == 401


async def test_auth(account: tuple[AmoCRM, httpx.AsyncClient]) -> None:
    amo, client = account
    missing = await client.get("/leads", headers={"Authorization": ""})
    assert missing.status_code == 401
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["type"] == "https://httpstatus.es/401"
    token = client.headers["Authorization"].removeprefix("Bearer ")
    amo.revoke_token(token)
    assert (await client.get("/leads")).status_code == 401


async def test_empty_list_is_204_and_pages_link_on(
    account: tuple[AmoCRM, httpx.AsyncClient],
) -> None:
    _, client = account
    empty = await client.get("/leads")
    assert (empty.status_code, empty.content) == (204, b"")
    await client.post("/leads", json=[{"name": f"lead {i}"} for i in range(5)])
    first = (await client.get("/leads", params={"limit": 2})).json()
    assert first["_page"] == 1
    assert [lead["id"] for lead in first["_embedded"]["leads"]] == [1, 2]
    assert "page=2" in first["_links"]["next"]["href"]
    last = (await client.get("/leads", params={"limit": 2, "page": 3})).json()
    assert "next" not in last["_links"]
    assert (await client.get("/leads", params={"limit": 2, "page": 4})).status_code == 204
    assert (await client.get("/leads", params={"limit": 0})).status_code == 400
    found = (await client.get("/leads", params={"query": "lead 3"})).json()
    assert [lead["id"] for lead in found["_embedded"]["leads"]] == [4]
    assert (await client.get("/leads/99")).status_code == 204


@pytest.mark.parametrize(
    ("fields", "code", "path"),
    [
        pytest.param(
            [{"field_id": 999, "values": [{"value": "x"}]}],
            "NotSupportedChoice",
            "custom_fields_values.0.field_id",
            id="unknown-field",
        ),
        pytest.param(
            [{"field_id": 201, "values": [{"value": "fax"}]}],
            "NotSupportedChoice",
            "custom_fields_values.0.values.0.value",
            id="bad-choice",
        ),
        pytest.param(
            [{"field_id": 202, "values": [{"value": "x", "enum_code": "WORK"}]}],
            "FieldNotExpected",
            "custom_fields_values.0.values.0.enum_code",
            id="enum-on-text-field",
        ),
        pytest.param(
            [{"field_id": 101, "values": [{"value": "1"}]}],
            "NotSupportedChoice",
            "custom_fields_values.0.field_id",
            id="contact-field-on-lead",
        ),
    ],
)
async def test_custom_fields_are_validated(
    account: tuple[AmoCRM, httpx.AsyncClient], fields: list[object], code: str, path: str
) -> None:
    amo, client = account
    response = await client.post(
        "/leads",
        json=[{"name": "ok"}, {"name": "bad", "request_id": "r2", "custom_fields_values": fields}],
    )
    assert response.status_code == 400
    body = response.json()
    assert body["title"] == "Bad Request"
    (failure,) = body["validation-errors"]
    assert failure["request_id"] == "r2"
    assert (failure["errors"][0]["code"], failure["errors"][0]["path"]) == (code, path)
    assert amo.records("leads") == []  # the whole batch is rejected


async def test_patch_one_and_many(account: tuple[AmoCRM, httpx.AsyncClient]) -> None:
    amo, client = account
    await client.post("/leads", json=[{"name": "a"}, {"name": "b"}])
    one = await client.patch("/leads/1", json={"price": 500})
    assert one.status_code == 200
    many = await client.patch("/leads", json=[{"id": 2, "name": "B"}])
    assert many.json()["_embedded"]["leads"][0]["id"] == 2
    assert [(lead["name"], lead["price"]) for lead in amo.records("leads")] == [
        ("a", 500),
        ("B", 0),
    ]
    missing = await client.patch("/leads", json=[{"id": 9, "name": "x"}])
    assert missing.status_code == 400


async def test_complex_with_duplicate_control(account: tuple[AmoCRM, httpx.AsyncClient]) -> None:
    amo, client = account
    lead = {
        "name": "Lead",
        "request_id": "1",
        "_embedded": {
            "contacts": [{"first_name": "Ivan", "custom_fields_values": [PHONE]}],
            "companies": [{"name": "Qwerty LLC"}],
        },
    }
    first = await client.post("/leads/complex", json=[lead])
    assert first.json() == [
        {"id": 1, "contact_id": 1, "company_id": 1, "request_id": ["1"], "merged": False}
    ]
    again = await client.post("/leads/complex", json=[{**lead, "request_id": "2"}])
    assert again.json() == [
        {"id": 1, "contact_id": 1, "company_id": 1, "request_id": ["2"], "merged": True}
    ]
    assert len(amo.records("leads")) == 1
    two_contacts = {"name": "x", "_embedded": {"contacts": [{"name": "a"}, {"name": "b"}]}}
    rejected = await client.post("/leads/complex", json=[two_contacts])
    assert rejected.status_code == 400
    assert rejected.json()["validation-errors"][0]["errors"][0]["path"] == "_embedded.contacts"
    too_many = await client.post("/leads/complex", json=[{"name": "x"}] * 51)
    assert too_many.status_code == 400


async def test_rate_limit_then_block() -> None:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    async with MockServer() as server:
        amo = server.mount(AmoCRM())
        with freeze_time(start, real_asyncio=True) as clock:
            token = amo.issue_token("bot")  # on the frozen clock: it is not valid before
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(
                base_url=f"{server.url}/amocrm/example/api/v4", headers=headers
            ) as client:
                statuses = [(await client.get("/leads")).status_code for _ in range(8)]
                assert statuses == [204] * 7 + [429]
                clock.tick(timedelta(seconds=1))
                assert (await client.get("/leads")).status_code == 204
                codes = [(await client.get("/leads")).status_code for _ in range(12)]
                assert codes[-1] == 403
                blocked = await client.get("/leads")
                assert blocked.headers["content-type"].startswith("text/html")
                assert "nginx" in blocked.text
                clock.tick(timedelta(minutes=10))
                assert (await client.get("/leads")).status_code == 403  # sticky
                amo.unblock()
                assert (await client.get("/leads")).status_code == 204


async def test_faults(account: tuple[AmoCRM, httpx.AsyncClient]) -> None:
    amo, client = account
    amo.add_fault(CrmFault("POST /leads", kind="commit_then_drop", call=1))
    with pytest.raises(httpx.ReadError):
        await client.post("/leads", json=[{"name": "once"}])
    await client.post("/leads", json=[{"name": "once"}])
    assert [lead["name"] for lead in amo.records("leads")] == ["once", "once"]
    amo.add_fault(CrmFault("GET /leads", kind="html", status=502))
    gateway = await client.get("/leads")
    assert (gateway.status_code, gateway.headers["content-type"][:9]) == (502, "text/html")


async def test_operator_tokens_and_unblock_through_the_admin_api(
    account: tuple[AmoCRM, httpx.AsyncClient],
) -> None:
    amo, client = account
    admin = str(client.base_url).split("/amocrm/")[0] + "/__admin/crm/amocrm"
    wrong = await client.post(admin + "/tokens", json={"integraton": "crm-sync"})
    assert wrong.status_code == 400
    assert wrong.json()["errors"] == [
        {"field": "integraton", "message": "unknown field; did you mean 'integration'?"}
    ]
    assert (await client.post(admin + "/tokens", json={"integration": ""})).status_code == 400
    issued = await client.post(admin + "/tokens", json={"integration": "crm-sync"})
    assert issued.status_code == 201
    token = issued.json()["token"]
    assert amo.tokens[token] == "crm-sync"
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/leads", headers=headers)).status_code == 204
    assert (await client.delete(admin + f"/tokens/{token}")).status_code == 204
    assert (await client.get("/leads", headers=headers)).status_code == 401  # revoked mid-run
    assert (await client.delete(admin + f"/tokens/{token}")).status_code == 404
    amo.blocked = True
    assert (await client.post(admin + "/unblock")).status_code == 204
    assert not amo.blocked
    state = (await client.get(admin)).json()
    assert state["blocked"] is False
    assert "crm-sync" not in state["tokens"].values()


def test_cli_puts_amocrm_on_the_far_side() -> None:
    import signal

    process = spawn_mockserver("--crm", "amocrm", "--quiet")
    try:
        assert process.stdout is not None
        process.stdout.readline()
        line = process.stdout.readline()
        assert line.startswith("amocrm: API http://127.0.0.1:")
        words = line.split()
        api, token = words[2], words[-1]
        created = httpx.post(
            api + "/leads", json=[{"name": "cli"}], headers={"Authorization": f"Bearer {token}"}
        )
        assert created.json()["_embedded"]["leads"][0]["id"] == 1
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("empty", None), ("html", "text/html"), ("problem", "application/problem+json")],
)
async def test_the_429_body_is_configurable(body: str, content_type: str | None) -> None:
    async with MockServer() as server:
        amo = server.mount(AmoCRM(per_integration=1, limit_body=body))
        with freeze_time("2026-01-01", real_asyncio=True):
            headers = {"Authorization": f"Bearer {amo.issue_token()}"}
            async with httpx.AsyncClient(
                base_url=f"{server.url}/amocrm/example/api/v4", headers=headers
            ) as client:
                await client.get("/leads")
                limited = await client.get("/leads")
    assert limited.status_code == 429
    if content_type is None:
        assert limited.content == b""
    else:
        assert limited.headers["content-type"].startswith(content_type)


async def test_links_keep_the_path_prefix(account: tuple[AmoCRM, httpx.AsyncClient]) -> None:
    """Under /amocrm/{subdomain}/api/v4 every href keeps the prefix, so following one works."""
    _, client = account
    base = str(client.base_url).rstrip("/")
    created = await client.post("/leads", json=[{"name": f"lead {i}"} for i in range(5)])
    assert created.json()["_links"]["self"]["href"] == f"{base}/leads"
    assert created.json()["_embedded"]["leads"][0]["_links"]["self"]["href"] == f"{base}/leads/1"
    first = await client.get("/leads", params={"limit": 2, "filter[name][]": "x"})
    assert first.status_code == 204
    page = (await client.get("/leads", params={"limit": 2})).json()
    assert page["_links"]["self"]["href"] == f"{base}/leads?limit=2&page=1"
    following = page["_links"]["next"]["href"]
    assert following == f"{base}/leads?limit=2&page=2"
    second = await client.get(following)
    assert second.status_code == 200
    assert [lead["id"] for lead in second.json()["_embedded"]["leads"]] == [3, 4]
    assert second.json()["_links"]["prev"]["href"] == f"{base}/leads?limit=2&page=1"
    lead = second.json()["_embedded"]["leads"][0]
    assert (await client.get(lead["_links"]["self"]["href"])).json()["id"] == 3


async def test_host_routing_links_have_no_prefix(
    account: tuple[AmoCRM, httpx.AsyncClient],
) -> None:
    _, client = account
    origin = str(client.base_url).split("/amocrm/")[0]
    await client.post("/leads", json=[{"name": "a"}])
    page = await client.get(origin + "/api/v4/leads", headers={"Host": "example.amocrm.ru"})
    assert page.json()["_links"]["self"]["href"].startswith(
        "http://example.amocrm.ru/api/v4/leads?"
    )
