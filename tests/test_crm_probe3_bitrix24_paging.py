"""The third probe of the fake Bitrix24, over real sockets: ``start`` of the classic list
methods is a page, as the portal's PHP reads it (``IRestService::getNavData``: page
``intval(start / 50) + 1``; any negative start: the first 50, no count), and ``next``
is the next page's first place (``setNavData``: page number × 50)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mockserver import MockServer
from mockserver.crm import Bitrix24


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with MockServer() as server:
        crm = server.mount(Bitrix24(secret="k", plan="unlimited"))
        async with httpx.AsyncClient(base_url=server.url + crm.webhook_path) as client:
            commands = [f"crm.lead.add?fields[TITLE]=n{i}" for i in range(50)]
            await client.post("batch", json={"cmd": commands})
            await client.post("batch", json={"cmd": commands[:20]})
            yield client


async def page(client: httpx.AsyncClient, start: Any) -> tuple[list[int], Any, Any]:
    answer = await client.post("crm.lead.list", json={"start": start, "select": ["ID"]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    ids = [int(row["ID"]) for row in body["result"]]
    return ids, body.get("next"), body.get("total")


@pytest.mark.parametrize(
    ("start", "first", "last", "next_"),
    [
        pytest.param(0, 1, 50, 50, id="zero"),
        pytest.param(2, 1, 50, 50, id="inside-the-first-page"),
        pytest.param(49, 1, 50, 50, id="end-of-the-first-page"),
        pytest.param(50, 51, 70, None, id="second-page"),
        pytest.param(69, 51, 70, None, id="inside-the-second-page"),
        pytest.param("55", 51, 70, None, id="text"),
        pytest.param("55abc", 51, 70, None, id="php-intval-prefix"),
        pytest.param(55.9, 51, 70, None, id="a-float"),
    ],
)
async def test_start_names_the_page_it_falls_in(
    client: httpx.AsyncClient, start: Any, first: int, last: int, next_: Any
) -> None:
    ids, found_next, total = await page(client, start)
    assert (ids[0], ids[-1], len(ids), found_next, total) == (
        first,
        last,
        last - first + 1,
        next_,
        70,
    )


@pytest.mark.parametrize("start", [-1, -5, "-50"])
async def test_any_negative_start_is_the_first_50_without_a_count(
    client: httpx.AsyncClient, start: Any
) -> None:
    ids, found_next, total = await page(client, start)
    assert (ids, found_next, total) == (list(range(1, 51)), None, None)


async def test_a_start_of_5000_digits_is_past_the_end(client: httpx.AsyncClient) -> None:
    # Past the last page is the first (CDBResult::NavQuery; see test_crm_probe4_bitrix24_paging).
    ids, found_next, total = await page(client, "9" * 5000)
    assert (ids, found_next, total) == (list(range(1, 51)), 50, 70)
