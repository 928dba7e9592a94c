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
        _, client, path = opened
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


# --- the HTTP status of every error code the fake emits ----------------------------------
#
# b24restdocs `_includes/system-errors.md` for the system codes; for a method's code, the
# rest module's `RestException::getStatus()` (0 is `STATUS_WRONG_REQUEST`, 400) unless its
# class says otherwise: `AccessException` and `AuthTypeException` (`WRONG_AUTH_TYPE`) are
# `STATUS_FORBIDDEN`, 403, as `imconnector.*`'s pages list it.

#: (what to call, the code, the status); a call is (path kind, method, JSON body).
ERROR_TABLE = [
    pytest.param(("hook", "crm.lead.get", {"id": 0}), "", 400, id="method-own"),
    pytest.param(
        ("hook", "crm.lead.userfield.get", {"id": 77}), "ERROR_NOT_FOUND", 400, id="not-found"
    ),
    pytest.param(
        ("hook", "crm.lead.userfield.add", {"fields": {"FIELD_NAME": "A", "USER_TYPE_ID": "x"}}),
        "ERROR_CORE",
        400,
        id="core",
    ),
    pytest.param(
        ("hook", "crm.timeline.comment.get", {"id": 9}), "NOT_FOUND", 400, id="comment-missing"
    ),
    pytest.param(
        (
            "hook",
            "crm.timeline.comment.add",
            {"fields": {"ENTITY_ID": 99, "ENTITY_TYPE": "lead", "COMMENT": "x"}},
        ),
        "OWNER_NOT_FOUND",
        400,
        id="comment-owner",
    ),
    pytest.param(
        (
            "hook",
            "crm.timeline.comment.add",
            {"fields": {"ENTITY_ID": 1, "ENTITY_TYPE": "lead", "COMMENT": " "}},
        ),
        "INVALID_ARG_VALUE",
        400,
        id="comment-empty",
    ),
    pytest.param(
        ("app", "event.bind", {"event": "ONNOTHING", "handler": "http://x/"}),
        "ERROR_EVENT_NOT_FOUND",
        400,
        id="event-not-found",
    ),
    pytest.param(
        ("hook", "event.bind", {"event": "ONCRMLEADADD", "handler": "http://x/"}),
        "WRONG_AUTH_TYPE",
        403,
        id="wrong-auth-type",
    ),
    pytest.param(("hook", "crm.nothing", {}), "ERROR_METHOD_NOT_FOUND", 404, id="no-method"),
    pytest.param(("bare-hook", "crm.lead.list", {}), "INVALID_CREDENTIALS", 401, id="bad-hook"),
    pytest.param(("bare", "crm.lead.list", {}), "NO_AUTH_FOUND", 401, id="no-auth"),
    pytest.param(("bad-token", "crm.lead.list", {}), "invalid_token", 401, id="bad-token"),
    pytest.param(("user-hook", "crm.lead.list", {}), "insufficient_scope", 401, id="scope"),
]


@pytest.mark.parametrize(("request_", "code", "status"), ERROR_TABLE)
async def test_each_error_code_has_its_documented_status(
    portal: Portal, request_: tuple[str, str, dict[str, Any]], code: str, status: int
) -> None:
    crm, client, path = portal
    kind, method, body = request_
    if kind == "app":
        token = crm.issue_app_tokens(base_url=str(client.base_url))["access_token"]
        answer = await client.post(f"/rest/{method}", json={**body, "auth": token})
    elif kind == "bad-token":
        answer = await client.post(f"/rest/{method}", json={"auth": "nope"})
    elif kind == "bare":
        answer = await client.post(f"/rest/{method}.json")
    elif kind == "bare-hook":
        answer = await client.post(f"/rest/7/wrong/{method}.json")
    elif kind == "user-hook":
        answer = await call(client, crm.issue_webhook("7", ("user",)), method, body)
    else:
        answer = await call(client, path, method, body)
    assert (answer.status_code, answer.json()["error"]) == (status, code)


async def test_the_rate_limit_is_503() -> None:
    async with bitrix24_portal(plan="standard") as (crm, client, path):
        crm.clock.freeze()  # the bucket drains on the server's clock: none between calls
        answers = [await call(client, path, "crm.lead.list", {}) for _ in range(51)]
    assert (answers[-1].status_code, answers[-1].json()["error"]) == (503, "QUERY_LIMIT_EXCEEDED")


async def test_app_info_through_a_webhook_is_its_scope_and_license(portal: Portal) -> None:
    # CRestProvider::appInfo: a webhook (`getPasswordId()`) is answered, not refused.
    crm, client, path = portal
    answer = await call(client, path, "app.info", {})
    assert answer.status_code == 200
    assert answer.json()["result"] == {"SCOPE": ["crm"], "LICENSE": "en_ent10000"}
    batch = await call(client, path, "batch", {"cmd": {"a": "app.info"}})
    assert batch.json()["result"]["result"]["a"] == {"SCOPE": ["crm"], "LICENSE": "en_ent10000"}
    token = crm.issue_app_tokens(base_url=str(client.base_url))["access_token"]
    app = await client.post("/rest/app.info", json={"auth": token})
    assert app.json()["result"]["CODE"] == crm.tokens.client_id


# --- JSON nested past json_decode's depth (Bitrix\Main\Web\Json::decode, 512) -------------
#
# `json_decode($data, true)` (PHP 8.2 here: 511 nested arrays parse, 512 are "Maximum stack
# depth exceeded"); `Json::decode` throws `ArgumentException`, `CRestUtil::getRequestData`
# catches it and reads no body: the method runs on the query alone.


def _deep_title(levels: int) -> bytes:
    """A `crm.lead.add` body whose arrays and objects nest `levels` deep in all."""
    inner = "[" * (levels - 2) + "]" * (levels - 2)
    return f'{{"fields": {{"TITLE": {inner}}}}}'.encode()


async def _post_json(portal: Portal, method: str, body: bytes, query: str = "") -> Any:
    _, client, path = portal
    return await client.post(
        f"{path}{method}.json{query}", content=body, headers={"Content-Type": "application/json"}
    )


async def test_json_511_deep_is_read(portal: Portal) -> None:
    crm, _, _ = portal
    answer = await _post_json(portal, "crm.lead.add", _deep_title(511))
    assert answer.status_code == 200
    assert crm.records("lead")[-1]["TITLE"] == "Array"


@pytest.mark.parametrize("levels", [512, 600, 900])
async def test_json_512_deep_or_more_is_no_body(portal: Portal, levels: int) -> None:
    crm, _, _ = portal
    answer = await _post_json(portal, "crm.lead.add", _deep_title(levels))
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "", "error_description": "Parameter 'fields' must be array."},
    )
    assert len(crm.records("lead")) == 1


async def test_json_too_deep_leaves_the_query(portal: Portal) -> None:
    # The query still counts: `array_replace($query, array())`.
    crm, _, _ = portal
    answer = await _post_json(portal, "crm.lead.add", _deep_title(512), "?fields[TITLE]=q")
    assert answer.status_code == 200
    assert crm.records("lead")[-1]["TITLE"] == "q"


# --- a custom single field or a multifield VALUE given an array --------------------------


@pytest.fixture
async def typed() -> AsyncIterator[Portal]:
    async with bitrix24_portal(
        userfields={"lead": {"UF_CRM_S": "string", "UF_CRM_N": "integer", "UF_CRM_F": "file"}}
    ) as opened:
        yield opened


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"a": 1}, id="object"),
        pytest.param([1, 2], id="list"),
        pytest.param([], id="empty-list"),
        pytest.param(["one"], id="one-item-list"),
    ],
)
@pytest.mark.parametrize("name", ["UF_CRM_S", "UF_CRM_N"])
async def test_a_single_custom_field_given_an_array_is_refused(
    typed: Portal, name: str, value: Any
) -> None:
    # CUserTypeManager::CheckFields: USER_TYPE_FIELD_VALUE_IS_MULTIPLE, so the add fails.
    crm, client, path = typed
    answer = await call(client, path, "crm.lead.add", {"fields": {"TITLE": "t", name: value}})
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "", "error_description": f'The field "{name}" takes one value.'},
    )
    assert crm.records("lead") == []


async def test_an_update_with_an_array_changes_nothing(typed: Portal) -> None:
    crm, client, path = typed
    await call(client, path, "crm.lead.add", {"fields": {"TITLE": "t", "UF_CRM_S": "kept"}})
    answer = await call(
        client, path, "crm.lead.update", {"id": 1, "fields": {"TITLE": "u", "UF_CRM_S": {"a": 1}}}
    )
    assert answer.status_code == 400
    (lead,) = crm.records("lead")
    assert (lead["TITLE"], lead["UF_CRM_S"]) == ("t", "kept")


async def test_the_refusal_names_the_label_html_encoded() -> None:
    async with bitrix24_portal() as (_, client, path):
        await call(
            client,
            path,
            "crm.lead.userfield.add",
            {"fields": {"FIELD_NAME": "L", "USER_TYPE_ID": "string", "EDIT_FORM_LABEL": 'a<"b">'}},
        )
        answer = await call(client, path, "crm.lead.add", {"fields": {"UF_CRM_L": [1]}})
    shown = "a&lt;&quot;b&quot;&gt;"  # HtmlFilter::encode
    assert answer.json()["error_description"] == f'The field "{shown}" takes one value.'


async def test_a_multiple_custom_field_still_takes_a_list() -> None:
    async with bitrix24_portal() as (crm, client, path):
        await call(
            client,
            path,
            "crm.lead.userfield.add",
            {"fields": {"FIELD_NAME": "M", "USER_TYPE_ID": "string", "MULTIPLE": "Y"}},
        )
        answer = await call(client, path, "crm.lead.add", {"fields": {"UF_CRM_M": ["a", "b"]}})
        assert answer.status_code == 200
        assert crm.records("lead")[0]["UF_CRM_M"] == ["a", "b"]


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        pytest.param({"x": 1}, "Array", id="object"),
        pytest.param([1, 2], "Array", id="list"),
        pytest.param([], "Array", id="empty-list"),
        pytest.param(True, "1", id="true"),
        pytest.param(12.0, "12", id="whole-float"),
        pytest.param("  +100\n", "+100", id="trimmed"),
    ],
)
async def test_a_phone_value_is_php_text(value: Any, kept: str) -> None:
    # tryInternalizeMultiFields: trim((string)$v['VALUE']).
    async with bitrix24_portal() as (crm, client, path):
        answer = await call(
            client, path, "crm.contact.add", {"fields": {"NAME": "a", "PHONE": [{"VALUE": value}]}}
        )
        assert answer.status_code == 200
        assert crm.records("contact")[0]["PHONE"][0]["VALUE"] == kept


@pytest.mark.parametrize("value", [False, None, " "])
async def test_a_phone_value_that_is_php_empty_adds_no_phone(value: Any) -> None:
    async with bitrix24_portal() as (crm, client, path):
        await call(
            client, path, "crm.contact.add", {"fields": {"NAME": "a", "PHONE": [{"VALUE": value}]}}
        )
        assert not crm.records("contact")[0].get("PHONE")


async def test_a_phone_update_with_an_array_value_is_array() -> None:
    async with bitrix24_portal() as (crm, client, path):
        await call(
            client, path, "crm.contact.add", {"fields": {"NAME": "a", "PHONE": [{"VALUE": "1"}]}}
        )
        phone_id = crm.records("contact")[0]["PHONE"][0]["ID"]
        await call(
            client,
            path,
            "crm.contact.update",
            {"id": 1, "fields": {"PHONE": [{"ID": phone_id, "VALUE": {"x": 1}}]}},
        )
        assert crm.records("contact")[0]["PHONE"][0]["VALUE"] == "Array"


async def test_an_email_value_given_an_array_is_an_invalid_address() -> None:
    async with bitrix24_portal() as (crm, client, path):
        answer = await call(
            client, path, "crm.contact.add", {"fields": {"NAME": "a", "EMAIL": [{"VALUE": [1]}]}}
        )
        assert answer.json()["error_description"] == (
            "The field Work e-mail contains an invalid address: Array"
        )
        assert crm.records("contact") == []
