"""The third probe of the fake Bitrix24, over real sockets: a contact needs one of
``NAME``, ``SECOND_NAME``, ``LAST_NAME``, as ``crm.contact.fields`` marks them
required."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mockserver import MockServer
from mockserver.crm import Bitrix24
from tests.crm_clients import DATE_FIELDS, Portal, bitrix24_portal, call


@pytest.fixture
async def portal() -> AsyncIterator[Portal]:
    async with bitrix24_portal(userfields=DATE_FIELDS) as opened:
        yield opened


# --- a contact with no name -----------------------------------------------------------

NO_NAME = {
    "error": "",
    "error_description": "Required fields are not filled in: NAME, SECOND_NAME, LAST_NAME.",
}


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({}, id="empty"),
        pytest.param({"PHONE": [{"VALUE": "+1 555", "VALUE_TYPE": "WORK"}]}, id="phone-only"),
        pytest.param({"NAME": "", "LAST_NAME": "   "}, id="blank-names"),
    ],
)
async def test_a_contact_without_any_name_is_refused(
    portal: Portal, fields: dict[str, Any]
) -> None:
    crm, client, path = portal
    answer = await call(client, path, "crm.contact.add", {"fields": fields})
    assert (answer.status_code, answer.json()) == (400, NO_NAME)
    assert crm.records("contact") == []


@pytest.mark.parametrize("name", ["NAME", "SECOND_NAME", "LAST_NAME"])
async def test_any_one_name_makes_a_contact(portal: Portal, name: str) -> None:
    crm, client, path = portal
    answer = await call(client, path, "crm.contact.add", {"fields": {name: "Ann"}})
    assert answer.status_code == 200
    assert len(crm.records("contact")) == 1


async def test_an_update_cannot_clear_every_name(portal: Portal) -> None:
    _, client, path = portal
    new = (await call(client, path, "crm.contact.add", {"fields": {"NAME": "Ann"}})).json()
    answer = await call(
        client, path, "crm.contact.update", {"id": new["result"], "fields": {"NAME": ""}}
    )
    assert (answer.status_code, answer.json()) == (400, NO_NAME)
    got = await call(client, path, "crm.contact.get", {"id": new["result"]})
    assert got.json()["result"]["NAME"] == "Ann"


async def test_contact_fields_show_the_names_required(portal: Portal) -> None:
    _, client, path = portal
    described = (await call(client, path, "crm.contact.fields", {})).json()["result"]
    assert [described[n]["isRequired"] for n in ("NAME", "SECOND_NAME", "LAST_NAME")] == [
        True,
        True,
        True,
    ]


async def test_a_profile_may_drop_the_name_rule() -> None:
    async with MockServer() as server:
        crm = server.mount(Bitrix24(secret="k", required={"contact": ()}))
        async with httpx.AsyncClient(base_url=server.url + crm.webhook_path) as client:
            answer = await client.post("crm.contact.add", json={"fields": {"POST": "x"}})
            assert answer.status_code == 200
            described = (await client.post("crm.contact.fields")).json()["result"]
            assert described["NAME"]["isRequired"] is False
