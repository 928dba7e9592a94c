"""The third probe of the fake Bitrix24, over real sockets: PHP's compact dates
(``20231001``, ``20231001T101500``) in ``fields`` and list filters, read as
``strtotime`` reads them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.crm_clients import DATE_FIELDS, Portal, bitrix24_portal, call


@pytest.fixture
async def portal() -> AsyncIterator[Portal]:
    async with bitrix24_portal(userfields=DATE_FIELDS) as opened:
        yield opened


# --- compact dates --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("20231001", "2023-10-01T00:00:00+00:00"),
        ("20231001T101500", "2023-10-01T10:15:00+00:00"),
        ("20231001T1015", "2023-10-01T10:15:00+00:00"),
        ("20231001 10:15:00", "2023-10-01T10:15:00+00:00"),
        ("20231001101500", "2023-10-01T10:15:00+00:00"),
        ("20231001T101500+0300", "2023-10-01T07:15:00+00:00"),
    ],
)
async def test_a_compact_date_is_read_as_strtotime_reads_it(
    portal: Portal, written: str, shown: str
) -> None:
    _, client, path = portal
    new = await call(client, path, "crm.lead.add", {"fields": {"UF_CRM_AT": written}})
    got = await call(client, path, "crm.lead.get", {"id": new.json()["result"]})
    assert got.json()["result"]["UF_CRM_AT"] == shown


@pytest.mark.parametrize("written", ["2023100110", "20231001T25", "202310011", "20231301"])
async def test_a_compact_date_strtotime_refuses_is_dropped(portal: Portal, written: str) -> None:
    _, client, path = portal
    new = await call(client, path, "crm.lead.add", {"fields": {"UF_CRM_DAY": written}})
    got = await call(client, path, "crm.lead.get", {"id": new.json()["result"]})
    assert got.json()["result"]["UF_CRM_DAY"] is None


async def test_a_compact_date_bounds_a_filter(portal: Portal) -> None:
    _, client, path = portal
    for day in ("2023-09-30", "2023-10-01", "2023-10-02"):
        await call(client, path, "crm.lead.add", {"fields": {"TITLE": day, "UF_CRM_DAY": day}})
    found = await call(
        client,
        path,
        "crm.lead.list",
        {"filter": {">=UF_CRM_DAY": "20231001"}, "select": ["TITLE"]},
    )
    assert [row["TITLE"] for row in found.json()["result"]] == ["2023-10-01", "2023-10-02"]
