"""Ninth probe of the fake Bitrix24, over real sockets, read against the portal's own PHP
(``alex-jazzman/bitrix24_source``): ``batch`` with ``cmd`` that is no array runs nothing
(``CRestProvider::methodsBatch``'s ``foreach`` over a string only warns), and a text field
given an object or a list keeps PHP's text of an array, ``Array`` (the CRM item's
``StringField::cast`` is ``(string) $value``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.crm_clients import Portal, bitrix24_portal, call

#: What ``methodsBatch`` returns when its ``foreach`` ran no command.
EMPTY_BATCH = {
    "result": [],
    "result_error": [],
    "result_total": [],
    "result_next": [],
    "result_time": [],
}


@pytest.fixture
async def portal() -> AsyncIterator[Portal]:
    async with bitrix24_portal() as opened:
        await call(opened[1], opened[2], "crm.lead.add", {"fields": {"TITLE": "one"}})
        yield opened


@pytest.mark.parametrize(
    "cmd",
    [
        pytest.param("crm.lead.list", id="text"),
        pytest.param("crm.lead.add?fields[TITLE]=x", id="text-with-query"),
        pytest.param("", id="empty-text"),
        pytest.param(5, id="number"),
        pytest.param(True, id="true"),
        pytest.param(None, id="null"),
    ],
)
async def test_a_batch_whose_cmd_is_no_array_runs_nothing(portal: Portal, cmd: Any) -> None:
    crm, client, path = portal
    answer = await call(client, path, "batch", {"cmd": cmd})
    assert answer.status_code == 200
    assert answer.json()["result"] == EMPTY_BATCH
    assert "time" in answer.json()
    assert len(crm.records("lead")) == 1  # the add in the text was not run


async def test_a_form_batch_whose_cmd_is_text_runs_nothing(portal: Portal) -> None:
    crm, client, path = portal
    answer = await client.post(f"{path}batch.json", data={"cmd": "crm.lead.add"})
    assert answer.status_code == 200
    assert answer.json()["result"] == EMPTY_BATCH
    query = await client.get(f"{path}batch.json", params={"cmd": "crm.lead.list", "halt": "1"})
    assert query.status_code == 200
    assert query.json()["result"] == EMPTY_BATCH
    assert len(crm.records("lead")) == 1


async def test_a_batch_inside_a_batch_with_text_cmd_answers_empty(portal: Portal) -> None:
    _, client, path = portal
    # The outer batch refuses a batch inside (ERROR_BATCH_METHOD_NOT_ALLOWED), whatever
    # its cmd; the text cmd changes nothing there.
    cmd = {"inner": "batch?cmd=crm.lead.list", "after": "crm.lead.get?id=1"}
    result = (await call(client, path, "batch", {"cmd": cmd})).json()["result"]
    assert list(result["result"]) == ["after"]
    assert list(result["result_error"]) == ["inner"]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"a": 1}, id="object"),
        pytest.param([1, 2], id="list"),
        pytest.param({"a": {"b": {"c": 1}}}, id="nested"),
        pytest.param([], id="empty-list"),
        pytest.param({}, id="empty-object"),
    ],
)
@pytest.mark.parametrize("field", ["TITLE", "COMMENTS", "NAME", "SOURCE_DESCRIPTION"])
async def test_a_text_field_given_an_array_keeps_the_text_array(
    portal: Portal, field: str, value: Any
) -> None:
    _, client, path = portal
    added = await call(client, path, "crm.lead.add", {"fields": {field: value}})
    assert added.status_code == 200, added.text
    lead = (await call(client, path, "crm.lead.get", {"id": added.json()["result"]})).json()
    assert lead["result"][field] == "Array"


async def test_a_form_text_field_given_an_array_keeps_the_text_array(portal: Portal) -> None:
    _, client, path = portal
    added = await client.post(
        f"{path}crm.lead.add.json",
        data={"fields[TITLE][a]": "1", "fields[COMMENTS][]": "x", "fields[NAME]": "Ann"},
    )
    assert added.status_code == 200, added.text
    lead = (await call(client, path, "crm.lead.get", {"id": added.json()["result"]})).json()
    assert lead["result"]["TITLE"] == "Array"
    assert lead["result"]["COMMENTS"] == "Array"
    assert lead["result"]["NAME"] == "Ann"


async def test_an_update_with_an_array_in_a_text_field_writes_array(portal: Portal) -> None:
    _, client, path = portal
    updated = await call(
        client, path, "crm.lead.update", {"id": 1, "fields": {"TITLE": {"x": "y"}}}
    )
    assert updated.status_code == 200, updated.text
    lead = (await call(client, path, "crm.lead.get", {"id": 1})).json()["result"]
    assert lead["TITLE"] == "Array"


async def test_multifields_still_take_their_lists(portal: Portal) -> None:
    _, client, path = portal
    fields = {
        "TITLE": "kept",
        "PHONE": [{"VALUE": "+1 555", "VALUE_TYPE": "WORK"}],
        "EMAIL": {"0": {"VALUE": "a@b.c"}},
    }
    added = await call(client, path, "crm.contact.add", {"fields": {**fields, "NAME": "A"}})
    assert added.status_code == 200, added.text
    contact = (await call(client, path, "crm.contact.get", {"id": added.json()["result"]})).json()
    assert contact["result"]["PHONE"][0]["VALUE"] == "+1 555"
    assert contact["result"]["EMAIL"][0]["VALUE"] == "a@b.c"
    assert contact["result"]["NAME"] == "A"
