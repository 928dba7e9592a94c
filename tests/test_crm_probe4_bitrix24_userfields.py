"""The fourth probe of the fake Bitrix24's custom fields, over real sockets: what one
field keeps is bounded in bytes (32 KiB of description: labels, ``SETTINGS``, ``XML_ID``
and its ``LIST`` items), as the count already was (500 per entity), so 500 fields cannot
hold 500 request bodies. Past it, ``ERROR_CORE`` saying so, and nothing is kept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.crm_clients import bitrix24_client

BIG = "x" * 40_000


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with bitrix24_client() as opened:
        yield opened


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"LABEL": BIG}, id="a-label"),
        pytest.param({"EDIT_FORM_LABEL": {"en": BIG}}, id="a-form-label"),
        pytest.param({"XML_ID": BIG}, id="an-xml-id"),
        pytest.param({"SETTINGS": {"DEFAULT_VALUE": BIG}}, id="settings"),
        pytest.param(
            {"USER_TYPE_ID": "enumeration", "LIST": [{"VALUE": "v" * 500}] * 99},
            id="list-items",
        ),
    ],
)
async def test_a_field_past_32_kib_is_not_added(
    client: httpx.AsyncClient, fields: dict[str, Any]
) -> None:
    answer = await client.post(
        "crm.lead.userfield.add",
        json={"fields": {"FIELD_NAME": "BIG", "USER_TYPE_ID": "string", **fields}},
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "ERROR_CORE"
    assert "32 KiB" in answer.json()["error_description"]
    listed = await client.get("crm.lead.userfield.list")
    assert listed.json()["result"] == []


@pytest.mark.parametrize("key", ["SETTINGS", "EDIT_FORM_LABEL", "XML_ID"])
async def test_an_update_past_32_kib_changes_nothing(client: httpx.AsyncClient, key: str) -> None:
    added = await client.post(
        "crm.lead.userfield.add", json={"fields": {"FIELD_NAME": "SMALL", "USER_TYPE_ID": "string"}}
    )
    field_id = added.json()["result"]
    before = (await client.get("crm.lead.userfield.get", params={"id": field_id})).json()
    answer = await client.post(
        "crm.lead.userfield.update", json={"id": field_id, "fields": {key: BIG}}
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "ERROR_CORE"
    after = (await client.get("crm.lead.userfield.get", params={"id": field_id})).json()
    assert after["result"] == before["result"]


async def test_a_field_within_the_bound_is_added(client: httpx.AsyncClient) -> None:
    items = [{"VALUE": f"option {n}"} for n in range(99)]
    answer = await client.post(
        "crm.lead.userfield.add",
        json={
            "fields": {
                "FIELD_NAME": "OK",
                "USER_TYPE_ID": "enumeration",
                "LIST": items,
                "LABEL": "l" * 1000,
            }
        },
    )
    assert answer.status_code == 200, answer.text
