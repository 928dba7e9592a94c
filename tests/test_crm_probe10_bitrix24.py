"""Tenth probe of the fake Bitrix24, over real sockets, read against the portal's own PHP
(``alex-jazzman/bitrix24_source`` and the public copies the code search finds) and the
error tables of ``bitrix24/b24restdocs``: what the ninth probe left."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.crm_clients import Portal, bitrix24_portal, call


@pytest.fixture
async def portal() -> AsyncIterator[Portal]:
    async with bitrix24_portal() as opened:
        crm, client, path = opened
        await call(
            client,
            path,
            "crm.lead.add",
            {"fields": {"TITLE": "one", "NAME": "Ann", "PHONE": [{"VALUE": "+100"}]}},
        )
        yield opened


# --- select given as a text (CCrmRestProxyBase::getList, CCrmEntityListBuilder) ---------


@pytest.mark.parametrize(
    "select",
    [
        pytest.param("TITLE", id="a-field"),
        pytest.param("title", id="lower-case"),
        pytest.param("UF_*", id="uf-star"),
        pytest.param("phone", id="multifield-lower-case"),
        pytest.param(5, id="number"),
        pytest.param(True, id="true"),
    ],
)
async def test_a_text_select_that_stays_a_text_lists_every_field(
    portal: Portal, select: Any
) -> None:
    # A text that is no multifield, `*` or BB-text field stays a text to
    # CCrmEntityListBuilder::Prepare, whose non-array select is array(): every field.
    _, client, path = portal
    answer = await call(client, path, "crm.lead.list", {"select": select})
    assert answer.status_code == 200
    (lead,) = answer.json()["result"]
    assert {"ID", "TITLE", "NAME", "STATUS_ID", "DATE_CREATE"} <= set(lead)
    assert "PHONE" not in lead  # multifields only when named, as with no select


async def test_a_query_select_text_lists_every_field(portal: Portal) -> None:
    _, client, path = portal
    answer = await client.get(f"{path}crm.lead.list.json", params={"select": "TITLE"})
    (lead,) = answer.json()["result"]
    assert {"ID", "TITLE", "NAME", "STATUS_ID"} <= set(lead)


@pytest.mark.parametrize(
    ("select", "keys"),
    [
        pytest.param("PHONE", {"ID", "PHONE"}, id="multifield"),
        pytest.param("COMMENTS", {"ID", "COMMENTS"}, id="bb-text-field"),
    ],
)
async def test_a_text_select_that_earns_the_identity_field_picks(
    portal: Portal, select: str, keys: set[str]
) -> None:
    # findSelectedFmTypeIds / shouldAddIdentityFieldToSelect see (array)$select and make
    # it ["PHONE", "ID"], an array: those fields only.
    _, client, path = portal
    (lead,) = (await call(client, path, "crm.lead.list", {"select": select})).json()["result"]
    assert set(lead) == keys


async def test_a_list_select_still_picks(portal: Portal) -> None:
    _, client, path = portal
    answer = await call(client, path, "crm.lead.list", {"select": ["TITLE"]})
    assert set(answer.json()["result"][0]) == {"ID", "TITLE"}
