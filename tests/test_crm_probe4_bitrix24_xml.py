"""The fourth probe of the fake Bitrix24, over real sockets: a method called with ``.xml``
answers in XML, as ``general-principles.md`` documents (``.json`` or nothing: JSON), its
errors too (``custom-methods.md``: ``Content-Type: text/xml; charset=utf-8``,
``<response><error>…``); the document is well-formed whatever the data holds."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver import MockServer
from mockserver.crm import Bitrix24
from mockserver.crm.bitrix24.xmlanswer import to_xml
from tests.crm_clients import bitrix24_client

from .strategies import fuzz_examples, json_value


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with bitrix24_client() as opened:
        yield opened


def document(answer: httpx.Response) -> ET.Element:
    assert answer.headers["content-type"] == "text/xml; charset=utf-8", answer.text
    assert answer.text.startswith('<?xml version="1.0" ?>')
    root = ET.fromstring(answer.content)
    assert root.tag == "response"
    return root


async def test_add_get_and_list_answer_in_xml(client: httpx.AsyncClient) -> None:
    added = await client.post(
        "crm.lead.add.xml",
        json={
            "fields": {"TITLE": "Bot & <Co>", "PHONE": [{"VALUE": "+7999", "VALUE_TYPE": "WORK"}]}
        },
    )
    assert added.status_code == 200
    root = document(added)
    assert root.findtext("result") == "1"
    assert root.find("time/start") is not None
    lead = document(await client.get("crm.lead.get.xml", params={"id": 1})).find("result")
    assert lead is not None
    assert lead.findtext("TITLE") == "Bot & <Co>"
    assert lead.findtext("PHONE/item/VALUE") == "+7999"
    assert lead.findtext("PHONE/item/VALUE_TYPE") == "WORK"
    assert lead.findtext("COMPANY_ID") == ""  # null is an empty element
    listed = document(await client.post("crm.lead.list.xml", json={"select": ["ID"]}))
    assert [item.findtext("ID") for item in listed.findall("result/item")] == ["1"]
    assert listed.findtext("total") == "1"


@pytest.mark.parametrize("suffix", ["", ".json"])
async def test_json_or_no_suffix_stays_json(client: httpx.AsyncClient, suffix: str) -> None:
    answer = await client.post(f"crm.lead.add{suffix}", json={"fields": {"TITLE": "x"}})
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["result"] == 1


async def test_the_suffix_is_read_without_case(client: httpx.AsyncClient) -> None:
    answer = await client.post("CRM.LEAD.ADD.XML", json={"fields": {"TITLE": "x"}})
    assert document(answer).findtext("result") == "1"


async def test_a_method_error_is_xml_with_its_status(client: httpx.AsyncClient) -> None:
    answer = await client.get("crm.lead.get.xml", params={"id": 99})
    assert answer.status_code == 400
    root = document(answer)
    assert (root.findtext("error"), root.findtext("error_description")) == ("", "Not found")


async def test_an_unknown_method_is_xml_404(client: httpx.AsyncClient) -> None:
    answer = await client.get("crm.nothing.xml")
    assert answer.status_code == 404
    assert document(answer).findtext("error") == "ERROR_METHOD_NOT_FOUND"


async def test_wrong_credentials_are_xml_401() -> None:
    async with MockServer() as server:
        server.mount(Bitrix24(secret="k"))
        async with httpx.AsyncClient(base_url=server.url) as client:
            answer = await client.get("/rest/1/wrong/crm.lead.get.xml", params={"id": 1})
    assert answer.status_code == 401
    assert document(answer).findtext("error") == "INVALID_CREDENTIALS"


async def test_batch_xml_is_well_formed_whatever_the_keys_and_text(
    client: httpx.AsyncClient,
) -> None:
    # A command key that is no XML name, a title with a control character, a lone
    # surrogate and markup: the document still parses, each value where it belongs.
    title = "a\x01b\ud83d</TITLE>"
    await client.post(
        "crm.lead.add",
        content=(b'{"fields": {"TITLE": "a\\u0001b\\ud83d</TITLE>"}}'),
        headers={"content-type": "application/json"},
    )
    answer = await client.post(
        "batch.xml",
        json={
            "cmd": {
                "a b": "crm.lead.get?id=1",
                "xml1": "crm.lead.get?id=1",
                "7": "crm.lead.get?id=9",
            }
        },
    )
    assert answer.status_code == 200
    root = document(answer)
    items = root.findall("result/result/item")
    assert [item.get("key") for item in items] == ["a b", "xml1"]
    assert items[0].findtext("TITLE") == "a\ufffdb\ufffd</TITLE>" != title
    assert root.findtext("result/result_error/item/error_description") == "Not found"


async def test_an_empty_list_is_an_empty_element(client: httpx.AsyncClient) -> None:
    root = document(await client.post("crm.lead.list.xml", json={}))
    result = root.find("result")
    assert result is not None
    assert (list(result), result.text, root.findtext("total")) == ([], None, "0")


def _leaves(value: Any) -> list[str]:
    """The texts a JSON value's leaves are written as, in order: null and false empty,
    true ``1``, an empty container empty, a character XML cannot hold U+FFFD (a
    carriage return is kept: it is written as a reference, which XML parsers keep)."""
    if isinstance(value, dict) and value:
        return [text for item in value.values() for text in _leaves(item)]
    if isinstance(value, list) and value:
        return [text for item in value for text in _leaves(item)]
    if value is None or value is False or isinstance(value, (dict, list)):
        return [""]
    written = "1" if value is True else str(value)
    return [
        "".join(
            ch
            if ch in "\t\n\r"
            or 0x20 <= ord(ch) <= 0xD7FF
            or 0xE000 <= ord(ch) <= 0xFFFD
            or ord(ch) > 0xFFFF
            else "\ufffd"
            for ch in written
        )
    ]


@settings(max_examples=fuzz_examples(300), deadline=None)
@given(st.dictionaries(st.text(max_size=5), json_value, max_size=4))
def test_any_answer_is_a_well_formed_document_of_its_leaves(data: dict[str, Any]) -> None:
    root = ET.fromstring(to_xml(data).encode())
    assert root.tag == "response"
    found = [element.text or "" for element in root.iter() if len(element) == 0]
    assert found == (_leaves(data) if data else [""])  # {} is the bare <response>


def test_a_deep_answer_costs_no_stack() -> None:
    deep: Any = "bottom"
    for _ in range(100_000):
        deep = {"a": deep}
    assert to_xml({"result": deep}).count("<a>") == 100_000


def test_a_carriage_return_comes_back_as_it_was() -> None:
    # Written raw, XML readers turned "a\r\nb" into "a\nb" and "a\rb" into "a\nb".
    root = ET.fromstring(to_xml({"result": {"TITLE": "a\r\nb\rc"}}).encode())
    (title,) = (element.text for element in root.iter() if len(element) == 0)
    assert title == "a\r\nb\rc"
