"""Seventh probe of the fake Bitrix24's front door, over real sockets, read against the
portal's ``CRestUtil::getRequestData`` and ``sendHeaders`` (the ``rest`` module's
``classes/general/rest_util.php``) and ``CRestEventHandlers::OnBeforeProlog``: a POST body
is JSON only when it says ``application/json``; an OPTIONS runs no method."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.crm_clients import Portal, bitrix24_portal

FIELDS_NOT_ARRAY = {"error": "", "error_description": "Parameter 'fields' must be array."}


@pytest.fixture
async def portal() -> AsyncIterator[Portal]:
    async with bitrix24_portal() as opened:
        yield opened


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"fields": {"TITLE": "x"}}', "text/plain"),
        (b'{"fields": {"TITLE": "x"}}', "application/x-www-form-urlencoded"),  # curl -d
        (b'{"fields": {"TITLE": ', "application/json"),  # does not parse: adds nothing
        (b'"x"', "application/json"),
    ],
)
async def test_a_body_is_json_only_when_it_says_so(
    portal: Portal, body: bytes, content_type: str
) -> None:
    crm, client, path = portal
    answer = await client.post(
        f"{path}crm.lead.add", content=body, headers={"Content-Type": content_type}
    )
    assert answer.status_code == 400
    assert answer.json() == FIELDS_NOT_ARRAY
    assert crm.records("lead") == []


async def test_a_form_typed_as_text_is_read_as_a_form(portal: Portal) -> None:
    crm, client, path = portal
    answer = await client.post(
        f"{path}crm.lead.add",
        content=b"fields[TITLE]=typed&fields[PHONE][0][VALUE]=%2B7999",
        headers={"Content-Type": "text/plain"},
    )
    assert answer.status_code == 200
    assert crm.records("lead")[0]["TITLE"] == "typed"


async def test_options_runs_no_method_and_every_answer_has_the_cors_headers(
    portal: Portal,
) -> None:
    crm, client, path = portal
    preflight = await client.options(f"{path}crm.lead.add?fields[TITLE]=x")
    assert (preflight.status_code, preflight.content) == (200, b"")
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert preflight.headers["access-control-allow-headers"] == "origin, content-type, accept"
    assert crm.records("lead") == []
    for answer in (
        await client.get(f"{path}crm.lead.list"),
        await client.get(f"{path}crm.lead.get.xml?id=5"),
        await client.get("/rest/7/wrong/crm.lead.list"),
    ):
        assert answer.headers["access-control-allow-origin"] == "*"
        assert answer.headers["x-content-type-options"] == "nosniff"
