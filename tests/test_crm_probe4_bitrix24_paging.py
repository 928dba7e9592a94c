"""The fourth probe of the fake Bitrix24's lists, over real sockets: a ``start`` past the
last page is the **first** page, as the portal's PHP serves it. ``IRestService::getNavData``
asks for page ``intval(start / 50) + 1``, and ``CDBResult::NavQuery`` (the main module's
``dbresult.php``) takes a page number past ``NavPageCount`` as page 1, unless the caller
passes ``checkOutOfRange``, which the classic CRM lists do not; ``setNavData`` then gives
``total`` and, with more than one page, ``next`` 50."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.crm_clients import bitrix24_client


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with bitrix24_client() as opened:
        yield opened


async def add_leads(client: httpx.AsyncClient, count: int) -> None:
    for first in range(0, count, 50):
        commands = [
            f"crm.lead.add?fields[TITLE]=n{i}" for i in range(first, min(count, first + 50))
        ]
        await client.post("batch", json={"cmd": commands})


async def page(client: httpx.AsyncClient, start: Any, **more: Any) -> tuple[list[int], Any, Any]:
    answer = await client.post("crm.lead.list", json={"start": start, "select": ["ID"], **more})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return [int(row["ID"]) for row in body["result"]], body.get("next"), body.get("total")


@pytest.mark.parametrize(
    "start",
    [
        pytest.param(100, id="the-page-after-the-last"),
        pytest.param(149, id="inside-the-page-after-the-last"),
        pytest.param(10_000, id="far-past"),
        pytest.param("9" * 5000, id="5000-digits"),
    ],
)
async def test_a_start_past_the_last_page_is_the_first_page(
    client: httpx.AsyncClient, start: Any
) -> None:
    await add_leads(client, 70)
    assert await page(client, start) == (list(range(1, 51)), 50, 70)


async def test_past_the_end_of_one_page_there_is_no_next(client: httpx.AsyncClient) -> None:
    await add_leads(client, 3)
    assert await page(client, 50) == ([1, 2, 3], None, 3)


async def test_past_the_end_of_a_filter_is_its_first_page(client: httpx.AsyncClient) -> None:
    await add_leads(client, 70)
    assert await page(client, 50, filter={">ID": 60}) == (list(range(61, 71)), None, 10)


async def test_nothing_found_is_empty_whatever_the_start(client: httpx.AsyncClient) -> None:
    assert await page(client, 500) == ([], None, 0)


async def test_the_last_page_itself_is_still_the_last_page(client: httpx.AsyncClient) -> None:
    await add_leads(client, 70)
    assert await page(client, 50) == (list(range(51, 71)), None, 70)
