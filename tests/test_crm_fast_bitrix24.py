"""The fake Bitrix24 driven by fast-bitrix24 (1.8.14), unchanged, over plain HTTP.

fast-bitrix24 takes any URL as the webhook, so the mock server's ``http://`` URL is the
only setting (``verbose=False`` only hides its progress bar); for an application, the
webhook is ``{server}/rest/`` and ``token_func`` returns the access token (the client
calls it again after a 401, which is where a refresh through the fake's
``/oauth/token/`` goes). It opens its aiohttp session with
``raise_for_status=True``, so an error answer reaches the caller as
``aiohttp.ClientResponseError`` with the documented status.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone

import aiohttp
import pytest
from fast_bitrix24 import BitrixAsync
from fast_bitrix24.server_response import ErrorInServerResponseException

from mockserver import MockServer
from mockserver.crm import Bitrix24


@pytest.fixture
async def portal() -> AsyncIterator[tuple[Bitrix24, MockServer]]:
    async with MockServer() as server:
        crm = server.mount(
            Bitrix24(
                user_id="1", secret="fast", plan="standard", client_id="local.f", client_secret="s"
            )
        )
        crm.clock.freeze(datetime(2026, 3, 1, tzinfo=timezone.utc))
        yield crm, server


async def test_the_integrators_round_by_webhook(portal: tuple[Bitrix24, MockServer]) -> None:
    crm, server = portal
    bx = BitrixAsync(server.url + crm.webhook_path, verbose=False)
    assert (
        await bx.call(
            "crm.lead.userfield.add", {"fields": {"FIELD_NAME": "BOT", "USER_TYPE_ID": "string"}}
        )
        == 1
    )
    first = await bx.call(
        "crm.lead.add",
        {
            "fields": {
                "TITLE": "fast",
                "OPPORTUNITY": "99.5",
                "UF_CRM_BOT": "b-1",
                "PHONE": [{"VALUE": "+79990001122", "VALUE_TYPE": "WORK"}],
            }
        },
    )
    assert first == 1
    # call() sends even one item as a batch command and hands back {command: result}
    # for a record (the client's own shape, as against the real portal)
    (lead,) = (await bx.call("crm.lead.get", {"id": 1})).values()
    assert (lead["OPPORTUNITY"], lead["UF_CRM_BOT"], lead["PHONE"][0]["VALUE"]) == (
        "99.50",
        "b-1",
        "+79990001122",
    )
    assert lead["SOURCE_ID"] is None
    # 75 adds in one go: the client packs them into batches of 50 (result_time per command)
    added = await bx.call(
        "crm.lead.add",
        [
            {"fields": {"TITLE": f"bulk {n}", "SOURCE_ID": "WEB" if n % 3 == 0 else "CALL"}}
            for n in range(75)
        ],
    )
    assert sorted(added) == list(range(2, 77))
    everything = await bx.get_all("crm.lead.list", {"select": ["ID", "TITLE"]})
    assert sorted(int(row["ID"]) for row in everything) == list(range(1, 77))
    web = await bx.get_all("crm.lead.list", {"filter": {"SOURCE_ID": "WEB"}, "select": ["ID"]})
    assert len(web) == 25
    by_id = await bx.get_by_ID("crm.lead.get", [2, 3])
    # the client sends its two batches at once, and the portal runs them side by side
    # (as the real one does), so ids follow the order the commands ran in
    titles = {row["ID"]: row["TITLE"] for row in everything}
    assert {key: row["TITLE"] for key, row in by_id.items()} == {"2": titles["2"], "3": titles["3"]}
    assert sorted(titles.values()) == sorted(["fast", *(f"bulk {n}" for n in range(75))])
    assert await bx.call("crm.lead.update", {"id": 1, "fields": {"COMMENTS": "done"}}) is True
    assert await bx.call("crm.lead.delete", {"id": 1}) is True
    with pytest.raises(ErrorInServerResponseException) as gone:  # a batch command's error
        await bx.call("crm.lead.get", {"id": 1})
    assert gone.value.args[0] == {
        "order0000000000": {"error": "", "error_description": "Not found"}
    }
    with pytest.raises(aiohttp.ClientResponseError) as raw:  # a plain call's error status
        await bx.call("crm.lead.get", {"id": 1}, raw=True)
    assert raw.value.status == 400
    batch = await bx.call_batch(
        {
            "halt": 0,
            "cmd": {
                "company": "crm.company.add?fields[TITLE]=Acme",
                "contact": "crm.contact.add?fields[NAME]=Ann&fields[COMPANY_ID]=$result[company]",
                "read": "crm.contact.get?id=$result[contact]",
            },
        }
    )
    assert batch["read"]["COMPANY_ID"] == str(batch["company"])
    assert len(crm.records("lead")) == 75


async def test_token_func_is_called_again_after_expiry_and_refreshes(
    portal: tuple[Bitrix24, MockServer],
) -> None:
    """The issue's refresh loop: after the server's clock passes the expiry, the client
    gets 401 expired_token, calls token_func once, which refreshes at /oauth/token/."""
    crm, server = portal
    issued = crm.issue_app_tokens(base_url=server.url)
    state = {"access": issued["access_token"], "refresh": issued["refresh_token"], "calls": 0}

    async def token_func() -> str:
        state["calls"] = int(state["calls"]) + 1
        if state["calls"] == 1:
            return str(state["access"])
        params = {
            "grant_type": "refresh_token",
            "client_id": "local.f",
            "client_secret": "s",
            "refresh_token": str(state["refresh"]),
        }
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{server.url}/oauth/token/", params=params) as answer,
        ):
            fresh = await answer.json()
        state["refresh"] = fresh["refresh_token"]
        return str(fresh["access_token"])

    bx = BitrixAsync(server.url + "/rest/", token_func=token_func, verbose=False)
    assert await bx.call("crm.deal.add", {"fields": {"TITLE": "app deal"}}) == 1
    crm.clock.advance(4000)
    (deal,) = (await bx.call("crm.deal.get", {"id": 1})).values()
    assert deal["TITLE"] == "app deal"
    assert state["calls"] == 2
    statuses = [(c["method"], c["status"]) for c in crm.calls]
    assert statuses == [
        ("batch", 200),  # the add, sent as a batch command
        ("batch", 401),  # the get: expired_token
        ("oauth.token", 200),  # token_func refreshed, once
        ("batch", 200),
    ]
