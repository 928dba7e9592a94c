"""The fourth probe of the fake amoCRM's lists, over real sockets: a
``limit`` past the page's maximum is served at the maximum (250 entities, 100 events), as
API v4 does ("api/v4 возвращает не более 250 записей на одной странице", amoCRM's answer in
amocrm/amocrm-api-php issue #210), not refused. (aioamocrm refuses such a limit itself,
before sending it.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mockserver import MockServer
from mockserver.crm import AmoCRM


@pytest.fixture
async def account() -> AsyncIterator[tuple[str, str]]:
    async with MockServer() as server:
        amo = server.mount(AmoCRM(subdomain="example", per_integration=10**6, per_account=10**6))
        token = amo.issue_token("bot")
        base = f"{server.url}/amocrm/example"
        async with httpx.AsyncClient(
            base_url=f"{base}/api/v4", headers={"Authorization": f"Bearer {token}"}
        ) as client:
            await client.post("/leads", json=[{"name": f"lead {i}"} for i in range(250)])
            await client.post("/leads", json=[{"name": f"lead {i}"} for i in range(10)])
        yield base, token


@pytest.mark.parametrize("limit", [251, 400, "1000000", 10**30])
async def test_a_limit_past_250_is_a_page_of_250(account: tuple[str, str], limit: Any) -> None:
    base, token = account
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as client:
        answer = await client.get(f"{base}/api/v4/leads", params={"limit": limit})
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert len(page["_embedded"]["leads"]) == 250
        following = await client.get(page["_links"]["next"]["href"])
        assert [lead["id"] for lead in following.json()["_embedded"]["leads"]] == list(
            range(251, 261)
        )


async def test_an_events_limit_past_100_is_a_page_of_100(account: tuple[str, str]) -> None:
    base, token = account
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as client:
        answer = await client.get(f"{base}/api/v4/events", params={"limit": 500})
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["_embedded"]["events"]) == 100


@pytest.mark.parametrize("limit", [0, -1, "x"])
async def test_a_limit_under_1_or_not_a_number_is_still_named(
    account: tuple[str, str], limit: Any
) -> None:
    base, token = account
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as client:
        answer = await client.get(f"{base}/api/v4/leads", params={"limit": limit})
    assert answer.status_code == 400
    assert answer.json()["validation-errors"][0]["errors"][0]["path"] == "limit"
