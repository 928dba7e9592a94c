"""Seventh probe of the fake Bitrix24's ``batch``, over real sockets, read against the
portal's own ``CRestProvider::methodsBatch`` (the ``rest`` module's
``classes/general/rest_provider.php``): a command's method is its ``parse_url`` path,
looked up as written, so a ``.json`` or ``.xml`` suffix inside a batch is no format but a
method that is not found; a command that is no string is skipped; ``halt`` is PHP's
``(bool)``."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.crm_clients import Portal, bitrix24_portal, call

NOT_FOUND = {"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found!"}


@pytest.fixture
async def portal() -> AsyncIterator[Portal]:
    async with bitrix24_portal() as opened:
        await call(opened[1], opened[2], "crm.lead.add", {"fields": {"TITLE": "one"}})
        yield opened


async def test_a_format_suffix_inside_a_batch_is_a_method_not_found(portal: Portal) -> None:
    _, client, path = portal
    commands = {
        "plain": "crm.lead.get?id=1",
        "as_json": "crm.lead.get.json?id=1",
        "as_xml": "crm.lead.get.xml?id=1",
        "upper": "CRM.LEAD.GET.XML?id=1",
    }
    answer = await call(client, path, "batch", {"cmd": commands})
    assert answer.status_code == 200
    result = answer.json()["result"]
    assert list(result["result"]) == ["plain"]
    assert result["result"]["plain"]["TITLE"] == "one"
    assert result["result_error"] == {
        "as_json": NOT_FOUND,
        "as_xml": NOT_FOUND,
        "upper": NOT_FOUND,
    }
    # The batch's own suffix is the format of the one answer, the commands' errors in it.
    xml = await client.post(f"{path}batch.xml", json={"cmd": commands})
    assert xml.status_code == 200
    assert xml.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(xml.content)
    assert root.findtext("result/result/plain/TITLE") == "one"
    assert root.findtext("result/result_error/as_xml/error") == "ERROR_METHOD_NOT_FOUND"
    assert root.findtext("result/result_error/as_json/error") == "ERROR_METHOD_NOT_FOUND"


@pytest.mark.parametrize(
    "command",
    [pytest.param(["crm.lead.get?id=1"], id="list"), 5, None, {"m": "crm.lead.get"}],
)
async def test_a_command_that_is_no_string_is_skipped(portal: Portal, command: Any) -> None:
    _, client, path = portal
    cmd = {"odd": command, "next": "crm.lead.get?id=1"}
    result = (await call(client, path, "batch", {"cmd": cmd})).json()["result"]
    assert list(result["result"]) == ["next"]
    assert result["result_error"] == []


@pytest.mark.parametrize(
    ("halt", "stops"),
    [
        ("0", False),
        ("", False),
        (0, False),
        (False, False),
        ("1", True),
        (True, True),
        (2, True),
        ("false", True),  # PHP: a non-empty text other than "0" is true
        ("no", True),
    ],
)
async def test_halt_is_read_as_php_reads_a_boolean(portal: Portal, halt: Any, stops: bool) -> None:
    _, client, path = portal
    cmd = {"bad": "crm.lead.get?id=99", "good": "crm.lead.get?id=1"}
    result = (await call(client, path, "batch", {"halt": halt, "cmd": cmd})).json()["result"]
    assert list(result["result_error"]) == ["bad"]
    assert (result["result"] == []) is stops
