"""The third probe of the fake Bitrix24, over real sockets: the ``crm.lead.list`` filter
prefixes ``crm-lead-list.md`` documents beside the plain ones, ``!%`` (NOT LIKE, both
sides), ``!%=``/``!=%`` (NOT LIKE with the ``%`` in the value) and ``=%``/``%=`` with a
``%`` anywhere in the value (``mol%``, ``%mol``, ``%mol%``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from mockserver import MockServer
from mockserver.crm import Bitrix24

TITLES = ("molar", "Formol", "amol ok", "other")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with MockServer() as server:
        crm = server.mount(Bitrix24(secret="k", plan="unlimited"))
        async with httpx.AsyncClient(base_url=server.url + crm.webhook_path) as client:
            for title in TITLES:
                await client.post("crm.lead.add", json={"fields": {"TITLE": title}})
            await client.post("crm.lead.add", json={"fields": {"COMMENTS": "no title given"}})
            yield client


async def titles(client: httpx.AsyncClient, key: str, value: str) -> list[str]:
    answer = await client.post(
        "crm.lead.list", json={"filter": {key: value}, "select": ["TITLE"], "order": {"ID": "ASC"}}
    )
    assert answer.status_code == 200, answer.text
    return [row["TITLE"] for row in answer.json()["result"]]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        pytest.param("%TITLE", "MOL", ["molar", "Formol", "amol ok"], id="like-both-sides"),
        pytest.param("=%TITLE", "mol%", ["molar"], id="like-starts"),
        pytest.param("=%TITLE", "%mol", ["Formol"], id="like-ends"),
        pytest.param("=%TITLE", "%mol%", ["molar", "Formol", "amol ok"], id="like-anywhere"),
        pytest.param("%=TITLE", "%mol", ["Formol"], id="like-ends-other-spelling"),
        pytest.param("%=TITLE", "mol%", ["molar"], id="like-starts-other-spelling"),
        pytest.param("=%TITLE", "m_lar", ["molar"], id="like-one-character"),
        pytest.param("!%TITLE", "mol", ["other", "Lead #5"], id="not-like-both-sides"),
        pytest.param("!%=TITLE", "mol%", ["Formol", "amol ok", "other", "Lead #5"], id="not-like"),
        pytest.param("!=%TITLE", "%mol", ["molar", "amol ok", "other", "Lead #5"], id="not-like-2"),
    ],
)
async def test_a_like_prefix_filters_as_documented(
    client: httpx.AsyncClient, key: str, value: str, expected: list[str]
) -> None:
    assert await titles(client, key, value) == expected
