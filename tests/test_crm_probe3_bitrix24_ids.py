"""The third probe of the fake Bitrix24, over real sockets: an ``id`` is read as the
portal reads it, PHP's ``(int)`` cast (``CCrmRestHelper::resolveEntityID``), then
refused when it is 0 or less: ``"1abc"``, ``"1_000"``, ``1.9``, ``" 1"`` and ``true``
name record 1, ``"1e1"`` record 10; ``"abc"``, ``"²"``, ``"٣"``, ``0``, ``-1`` and
``null`` are "ID is not defined or invalid."."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mockserver import MockServer
from mockserver.crm import Bitrix24

INVALID = {"error": "", "error_description": "ID is not defined or invalid."}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with MockServer() as server:
        crm = server.mount(Bitrix24(secret="k", plan="unlimited"))
        async with httpx.AsyncClient(base_url=server.url + crm.webhook_path) as client:
            commands = [f"crm.lead.add?fields[TITLE]=n{i}" for i in range(1, 11)]
            await client.post("batch", json={"cmd": commands})
            yield client


@pytest.mark.parametrize(
    ("given", "found"),
    [
        pytest.param("1abc", "1", id="leading-digits"),
        pytest.param("1_000", "1", id="underscore"),
        pytest.param(" 1", "1", id="leading-space"),
        pytest.param("1.9", "1", id="decimal-text"),
        pytest.param(1.9, "1", id="a-float"),
        pytest.param("1e1", "10", id="exponent"),
        pytest.param(True, "1", id="true"),
        pytest.param([3], "1", id="an-array-is-1"),
    ],
)
async def test_an_id_is_read_as_php_casts_it(
    client: httpx.AsyncClient, given: Any, found: str
) -> None:
    answer = await client.post("crm.lead.get", json={"id": given})
    assert answer.status_code == 200, answer.text
    assert answer.json()["result"]["ID"] == found


@pytest.mark.parametrize("given", ["abc", "²", "٣", "0x1A", 0, -1, None, "", [], "-5"])
async def test_an_id_php_casts_to_0_or_less_is_invalid(
    client: httpx.AsyncClient, given: Any
) -> None:
    for method in ("crm.lead.get", "crm.lead.update", "crm.lead.delete"):
        answer = await client.post(method, json={"id": given, "fields": {"TITLE": "x"}})
        assert (answer.status_code, answer.json()) == (400, INVALID)


async def test_an_update_by_a_text_id_changes_that_record(client: httpx.AsyncClient) -> None:
    answer = await client.post("crm.lead.update", json={"id": "2 ", "fields": {"TITLE": "two"}})
    assert answer.json()["result"] is True
    got = await client.post("crm.lead.get", json={"id": 2})
    assert got.json()["result"]["TITLE"] == "two"
