"""The fake Bitrix24 driven by bitrix24-rest (2.0.3), unchanged, over plain HTTP.

bitrix24-rest takes the webhook URL as it is (any scheme), sends every call as a GET
with PHP bracket names that it does not percent-encode (so ``+`` arrives as a space,
as PHP decodes it on the real portal too), fetches the remaining pages of a list at once
from ``total``, and raises ``BitrixError("HTTP error: N")`` for any status but 200/201
before it reads the body. It is webhook-only ("without OAuth"): no token to expire.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import pytest
from bitrix24 import Bitrix24 as Rest
from bitrix24 import BitrixError

from mockserver import MockServer
from mockserver.crm import Bitrix24


@pytest.fixture
async def portal() -> AsyncIterator[tuple[Bitrix24, Rest]]:
    async with MockServer() as server:
        crm = server.mount(Bitrix24(user_id="1", secret="rest", plan="standard"))
        crm.clock.freeze(datetime(2026, 4, 1, tzinfo=timezone.utc))
        yield crm, Rest(server.url + crm.webhook_path)


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer() as server:
        yield server


async def call(bx: Rest, method: str, params: dict[str, Any] | None = None) -> Any:
    """``callMethod`` inside a running loop hands back a future (the client's async use)."""
    return await bx.callMethod(method, params or {})


async def test_the_integrators_round(portal: tuple[Bitrix24, Rest]) -> None:
    crm, bx = portal
    field = {"FIELD_NAME": "CHAT", "USER_TYPE_ID": "string"}
    assert await call(bx, "crm.lead.userfield.add", {"fields": field}) == 1
    lead_id = await call(
        bx,
        "crm.lead.add",
        {
            "fields": {
                "TITLE": "From the bot",
                "NAME": "Иван",
                "OPPORTUNITY": 1500,
                "UF_CRM_CHAT": "tg-1",
                "PHONE": [{"VALUE": "79990001122", "VALUE_TYPE": "WORK"}],
                "EMAIL": [{"VALUE": "ivan@example.com", "VALUE_TYPE": "HOME"}],
            }
        },
    )
    assert lead_id == 1
    lead = await call(bx, "crm.lead.get", {"id": lead_id})
    assert (lead["NAME"], lead["OPPORTUNITY"], lead["UF_CRM_CHAT"], lead["COMMENTS"]) == (
        "Иван",
        "1500.00",
        "tg-1",
        None,
    )
    assert [(e["TYPE_ID"], e["VALUE_TYPE"], e["VALUE"]) for e in lead["PHONE"] + lead["EMAIL"]] == [
        ("PHONE", "WORK", "79990001122"),
        ("EMAIL", "HOME", "ivan@example.com"),
    ]
    # The client does not percent-encode: "+7…" arrives as " 7…", as on the real portal,
    # which trims it (`tryInternalizeMultiFields`: `trim((string)$v['VALUE'])`).
    update = {"PHONE": [{"VALUE": "+78880000000", "VALUE_TYPE": "MOBILE"}]}
    assert await call(bx, "crm.lead.update", {"id": lead_id, "fields": update}) is True
    phones = (await call(bx, "crm.lead.get", {"id": lead_id}))["PHONE"]
    assert [p["VALUE"] for p in phones] == ["79990001122", "78880000000"]  # appended
    for number in range(105):
        source = "WEB" if number % 3 == 0 else "CALL"
        await call(bx, "crm.lead.add", {"fields": {"TITLE": f"bulk {number}", "SOURCE_ID": source}})
        crm.clock.advance(0.5)  # the standard plan's bucket drains one a half-second
    # All pages: the client reads total from the first and asks for the rest at once.
    everything = await call(bx, "crm.lead.list", {"select": ["ID", "TITLE"]})
    assert [row["ID"] for row in everything] == [str(n) for n in range(1, 107)]
    web = await call(bx, "crm.lead.list", {"filter": {"SOURCE_ID": "WEB"}, "select": ["ID"]})
    assert len(web) == 35
    ordered = await call(
        bx, "crm.lead.list", {"filter": {">ID": 100}, "order": {"ID": "DESC"}, "select": ["ID"]}
    )
    assert [row["ID"] for row in ordered] == ["106", "105", "104", "103", "102", "101"]
    assert await call(bx, "crm.lead.delete", {"id": lead_id}) is True
    with pytest.raises(BitrixError, match="HTTP error: 400"):  # "Not found", status 400
        await call(bx, "crm.lead.get", {"id": lead_id})
    # The client puts each command into the query as it is: an "&" inside one splits it
    # (data-encoding.md: "fields[TITLE]=John&Martin" yields the title "John"), so a
    # command keeps one parameter through this client (it encodes a "%" as "%25", so
    # "%26" stays text); references between commands work as documented.
    commands = {
        "company": "crm.company.add?fields[TITLE]=Acme",
        "contact": "crm.contact.add?fields[NAME]=Bob&fields[COMPANY_ID]=$result[company]",
        "read": "crm.contact.get?id=$result[contact]",
        "deal": "crm.deal.add?fields[TITLE]=$result[read][NAME]",
        "bad": "crm.contact.get?id=999",
    }
    batch = await call(bx, "batch", {"halt": 0, "cmd": commands})
    read = batch["result"]["read"]
    assert (read["ID"], read["NAME"], read["COMPANY_ID"]) == ("1", "Bob", None)  # split off
    deal = await call(bx, "crm.deal.get", {"id": batch["result"]["deal"]})
    assert deal["TITLE"] == "Bob"
    assert batch["result_error"] == {"bad": {"error": "", "error_description": "Not found"}}
    assert set(batch["result_time"]) == {"company", "contact", "read", "deal"}
    with pytest.raises(BitrixError, match="HTTP error: 404"):  # ERROR_METHOD_NOT_FOUND
        await call(bx, "crm.lead.nothing")
    assert len(crm.records("lead")) == 105


async def test_the_rate_limit_on_the_servers_clock(portal: tuple[Bitrix24, Rest]) -> None:
    """50 calls fill the standard bucket; the 51st is 503, which this client raises
    without retrying (it checks the status before the body); half a second later, on
    the server's clock, one more passes."""
    crm, bx = portal
    for _ in range(50):
        assert await call(bx, "crm.lead.list") == []
    with pytest.raises(BitrixError, match="HTTP error: 503"):
        await call(bx, "crm.lead.list")
    crm.clock.advance(0.5)
    assert await call(bx, "crm.lead.list") == []
    with pytest.raises(BitrixError, match="HTTP error: 503"):
        await call(bx, "crm.lead.list")
    assert [c["status"] for c in crm.calls][-3:] == [503, 200, 503]


async def test_a_wrong_secret_is_401(server: MockServer) -> None:
    crm = server.mount(Bitrix24(user_id="1", secret="right"))
    wrong = Rest(f"{server.url}/rest/1/guess/")
    with pytest.raises(BitrixError, match="HTTP error: 401"):  # INVALID_CREDENTIALS
        await call(wrong, "crm.lead.list")
    assert crm.calls[-1]["status"] == 401
