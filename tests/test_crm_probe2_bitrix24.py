"""The second hostile probe of the fake Bitrix24, over real sockets: an ``.add`` with no
``fields``, dates the portal reads or cannot read (in ``fields`` and in list filters),
and values no JSON encoder can write to the ``--data`` file. Each answer is the
portal's documented shape, never a 500, and nothing unreadable is kept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
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


MUST_BE_ARRAY = {"error": "", "error_description": "Parameter 'fields' must be array."}


@pytest.mark.parametrize("entity", ["lead", "contact", "deal", "company"])
@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="no-fields"),
        pytest.param({"fields": None}, id="null"),
        pytest.param({"fields": ""}, id="empty-string"),
        pytest.param({"fields": "TITLE=x"}, id="a-string"),
        pytest.param({"fields": 5}, id="a-number"),
    ],
)
async def test_an_add_without_fields_is_the_documented_error(
    portal: Portal, entity: str, body: dict[str, Any]
) -> None:
    crm, client, path = portal
    answer = await call(client, path, f"crm.{entity}.add", body)
    assert (answer.status_code, answer.json()) == (400, MUST_BE_ARRAY)
    assert crm.records(entity) == []


async def test_an_add_by_form_or_query_without_fields_is_refused_too(portal: Portal) -> None:
    crm, client, path = portal
    form = await client.post(
        f"{path}crm.lead.add.json",
        content=b"params[REGISTER_SONET_EVENT]=Y",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    query = await client.get(f"{path}crm.deal.add.json?fields=")
    assert [form.json(), query.json()] == [MUST_BE_ARRAY, MUST_BE_ARRAY]
    assert crm.records("lead") == crm.records("deal") == []


async def test_an_update_without_fields_is_refused_and_changes_nothing(portal: Portal) -> None:
    crm, client, path = portal
    await call(client, path, "crm.lead.add", {"fields": {"TITLE": "kept"}})
    before = crm.records("lead")
    answer = await call(client, path, "crm.lead.update", {"id": 1})
    assert (answer.status_code, answer.json()) == (400, MUST_BE_ARRAY)
    assert crm.records("lead") == before


async def test_a_batch_add_without_fields_is_that_commands_error(portal: Portal) -> None:
    crm, client, path = portal
    answer = await call(
        client,
        path,
        "batch",
        {"cmd": {"empty": "crm.lead.add", "full": "crm.lead.add?fields[TITLE]=x"}},
    )
    result = answer.json()["result"]
    assert result["result_error"] == {"empty": MUST_BE_ARRAY}
    assert result["result"] == {"full": 1}
    assert [lead["TITLE"] for lead in crm.records("lead")] == ["x"]


async def test_an_empty_fields_object_is_an_array_and_adds(portal: Portal) -> None:
    """PHP reads ``{}`` and ``[]`` as the same empty array, which ``is_array`` passes."""
    crm, client, path = portal
    for body in ({"fields": {}}, {"fields": []}):
        assert (await call(client, path, "crm.lead.add", body)).status_code == 200
    assert [lead["TITLE"] for lead in crm.records("lead")] == ["Lead #1", "Lead #2"]


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        pytest.param("1989-07-14", "1989-07-14T00:00:00+00:00", id="iso-date"),
        pytest.param("14.07.1989", "1989-07-14T00:00:00+00:00", id="site-format"),
        pytest.param("1989-07-14T23:30:00-03:00", "1989-07-15T00:00:00+00:00", id="offset"),
        pytest.param("1989-07-14T10:00:00", "1989-07-14T00:00:00+00:00", id="no-offset"),
    ],
)
async def test_a_date_field_keeps_the_day_the_portal_reads(
    portal: Portal, given: str, kept: str
) -> None:
    _crm, client, path = portal
    await call(client, path, "crm.lead.add", {"fields": {"BIRTHDATE": given}})
    lead = (await call(client, path, "crm.lead.get", {"id": 1})).json()["result"]
    assert lead["BIRTHDATE"] == kept


@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param("yesterday-ish", id="words"),
        pytest.param("2024-02-30", id="no-such-day"),
        pytest.param("31.13.2024", id="no-such-month"),
        pytest.param("2024-01-01T25:00:00", id="no-such-hour"),
        pytest.param("٢٠٢٤-01-01", id="arabic-indic-digits"),
        pytest.param("2024-01-01" + "0" * 10_000, id="10k-characters"),
        pytest.param("2024-01-01\x00", id="nul"),
        pytest.param("\ud800", id="lone-surrogate"),
        pytest.param(20240101, id="a-number"),
        pytest.param({"a": {"b": ["c"]}}, id="an-object"),
        pytest.param("2024-01-01T00:00:00+99:00", id="no-such-offset"),
    ],
)
@pytest.mark.parametrize("field", ["BIRTHDATE", "UF_CRM_DAY", "UF_CRM_AT", "DATE_CLOSED"])
async def test_a_date_the_portal_cannot_read_is_dropped_not_kept(
    portal: Portal, field: str, garbage: object
) -> None:
    _crm, client, path = portal
    added = await call(client, path, "crm.lead.add", {"fields": {"TITLE": "x", field: garbage}})
    assert added.status_code == 200  # the portal drops the value, it does not refuse the lead
    lead = (await call(client, path, "crm.lead.get", {"id": 1})).json()["result"]
    assert lead[field] is None
    assert lead["TITLE"] == "x"


async def test_an_unreadable_date_on_update_leaves_the_old_one(portal: Portal) -> None:
    _crm, client, path = portal
    await call(client, path, "crm.deal.add", {"fields": {"CLOSEDATE": "2026-03-20"}})
    answer = await call(client, path, "crm.deal.update", {"id": 1, "fields": {"CLOSEDATE": "soon"}})
    assert answer.json()["result"] is True
    deal = (await call(client, path, "crm.deal.get", {"id": 1})).json()["result"]
    assert deal["CLOSEDATE"] == "2026-03-20T00:00:00+00:00"


async def test_an_empty_date_clears_the_field(portal: Portal) -> None:
    crm, client, path = portal
    await call(
        client, path, "crm.contact.add", {"fields": {"NAME": "A", "BIRTHDATE": "2001-11-11"}}
    )
    await call(client, path, "crm.contact.update", {"id": 1, "fields": {"BIRTHDATE": ""}})
    assert crm.records("contact")[0]["BIRTHDATE"] is None


async def test_a_multiple_date_userfield_keeps_only_the_readable_days() -> None:
    async with MockServer() as server:
        crm = server.mount(Bitrix24(secret="m", plan="unlimited"))
        async with httpx.AsyncClient(base_url=server.url + crm.webhook_path) as client:
            await client.post(
                "crm.lead.userfield.add",
                json={"fields": {"FIELD_NAME": "DAYS", "USER_TYPE_ID": "date", "MULTIPLE": "Y"}},
            )
            await client.post(
                "crm.lead.add",
                json={"fields": {"UF_CRM_DAYS": ["2024-01-02", "never", "03.04.2024"]}},
            )
    assert crm.records("lead")[0]["UF_CRM_DAYS"] == [
        "2024-01-02T00:00:00+00:00",
        "2024-04-03T00:00:00+00:00",
    ]


async def _leads_at(portal: Portal, moments: list[str]) -> None:
    crm, client, path = portal
    for moment in moments:
        crm.clock.freeze(datetime.fromisoformat(moment))
        await call(client, path, "crm.lead.add", {"fields": {"TITLE": moment}})


async def listed(portal: Portal, filters: dict[str, Any]) -> list[str]:
    _, client, path = portal
    answer = await call(client, path, "crm.lead.list", {"filter": filters, "select": ["TITLE"]})
    assert answer.status_code == 200, answer.text
    return [lead["TITLE"] for lead in answer.json()["result"]]


async def test_a_date_filter_compares_moments_in_any_format_the_portal_reads(
    portal: Portal,
) -> None:
    await _leads_at(portal, ["2023-09-30T12:00:00+00:00", "2023-10-15T12:00:00+00:00"])
    october = "2023-10-15T12:00:00+00:00"
    assert await listed(portal, {">=DATE_CREATE": "2023-10-01T00:00:00"}) == [october]
    assert await listed(portal, {">=DATE_CREATE": "01.10.2023"}) == [october]
    # 21:00 at -03:00 on 30 September is midnight UTC on 1 October.
    assert await listed(portal, {">=DATE_MODIFY": "2023-09-30T21:00:00-03:00"}) == [october]
    assert await listed(portal, {"<DATE_CREATE": "2023-10-01"}) == ["2023-09-30T12:00:00+00:00"]


@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param("last tuesday", id="words"),
        pytest.param("2023-13-01", id="no-such-month"),
        pytest.param("9" * 5000, id="5000-digits"),
        pytest.param("\ud800", id="lone-surrogate"),
    ],
)
async def test_a_date_filter_the_portal_cannot_read_is_dropped(
    portal: Portal, garbage: str
) -> None:
    await _leads_at(portal, ["2023-09-30T12:00:00+00:00", "2023-10-15T12:00:00+00:00"])
    everything = ["2023-09-30T12:00:00+00:00", "2023-10-15T12:00:00+00:00"]
    assert await listed(portal, {">=DATE_MODIFY": garbage}) == everything
    assert await listed(portal, {">=DATE_MODIFY": garbage, ">ID": 1}) == everything[1:]


async def test_a_birthdate_filter_matches_the_day(portal: Portal) -> None:
    _crm, client, path = portal
    await call(client, path, "crm.lead.add", {"fields": {"TITLE": "a", "BIRTHDATE": "1990-05-01"}})
    await call(client, path, "crm.lead.add", {"fields": {"TITLE": "b"}})
    assert await listed(portal, {"BIRTHDATE": "01.05.1990"}) == ["a"]
    assert await listed(portal, {"!BIRTHDATE": "1990-05-01"}) == ["b"]


async def test_a_lone_surrogate_is_kept_by_a_portal_with_a_data_file(tmp_path: Path) -> None:
    """A JSON ``\\ud800`` escape decodes to a text SQLite cannot encode as UTF-8: with
    ``--data`` the write used to fail after the record was taken, a bare 500."""
    async with MockServer() as server:
        crm = server.mount(Bitrix24(secret="d", plan="unlimited", data=tmp_path))
        async with httpx.AsyncClient(base_url=server.url + crm.webhook_path) as client:
            added = await client.post(
                "crm.lead.add.json",
                content=b'{"fields": {"TITLE": "half \\ud83d emoji"}}',
                headers={"Content-Type": "application/json"},
            )
            assert added.status_code == 200, added.text
            shown = await client.post("crm.lead.get.json", json={"id": 1})
        assert shown.json()["result"]["TITLE"] == "half \ud83d emoji"
        crm.store.close()
    again = Bitrix24(secret="d", plan="unlimited", data=tmp_path)
    assert again.records("lead")[0]["TITLE"] == "half \ud83d emoji"
    again.store.close()
