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


@pytest.fixture
async def titled() -> AsyncIterator[Portal]:
    """Leads titled b, a, c (ids 1, 2, 3), with a custom field scored 2, 1, 3."""
    async with bitrix24_portal(userfields={"lead": {"UF_CRM_SCORE": "integer"}}) as opened:
        for title, score in (("b", 2), ("a", 1), ("c", 3)):
            fields = {"TITLE": title, "UF_CRM_SCORE": score}
            await call(opened[1], opened[2], "crm.lead.add", {"fields": fields})
        yield opened


async def _titles(portal: Portal, body: dict[str, Any]) -> list[str]:
    _, client, path = portal
    answer = await call(client, path, "crm.lead.list", {**body, "select": ["TITLE"]})
    assert answer.status_code == 200, answer.text
    return [lead["TITLE"] for lead in answer.json()["result"]]


@pytest.mark.parametrize(
    ("direction", "expected"),
    [
        pytest.param("asc", ["a", "b", "c"], id="asc"),
        pytest.param("ASC", ["a", "b", "c"], id="ASC"),
        pytest.param("desc", ["c", "b", "a"], id="desc"),
        pytest.param("xyz", ["c", "b", "a"], id="unknown-word-is-desc"),
        pytest.param(" ASC", ["c", "b", "a"], id="spaced-asc-is-desc"),
        pytest.param("", ["c", "b", "a"], id="empty-is-desc"),
        pytest.param(1, ["c", "b", "a"], id="number-is-desc"),
    ],
)
async def test_a_standard_field_sorts_down_unless_asked_asc(
    titled: Portal, direction: Any, expected: list[str]
) -> None:
    assert await _titles(titled, {"order": {"TITLE": direction}}) == expected


async def test_an_id_order_in_an_unknown_direction_is_descending(titled: Portal) -> None:
    _, client, path = titled
    for start in (0, -1):  # the counted page and the keyset page alike
        body = {"order": {"ID": "down"}, "select": ["ID"], "start": start}
        answer = (await call(client, path, "crm.lead.list", body)).json()
        assert [lead["ID"] for lead in answer["result"]] == ["3", "2", "1"]


@pytest.mark.parametrize(
    ("direction", "expected"),
    [
        pytest.param("DESC", ["c", "b", "a"], id="desc"),
        pytest.param("asc", ["a", "b", "c"], id="asc"),
        pytest.param("xyz", ["a", "b", "c"], id="unknown-word-is-asc"),
    ],
)
async def test_a_custom_field_sorts_up_unless_asked_desc(
    titled: Portal, direction: str, expected: list[str]
) -> None:
    assert await _titles(titled, {"order": {"UF_CRM_SCORE": direction}}) == expected


@pytest.mark.parametrize("name", ["order", "filter"])
@pytest.mark.parametrize("value", ["ID", "", 0, 5, True])
async def test_an_order_or_filter_that_is_no_array_is_refused(
    titled: Portal, name: str, value: Any
) -> None:
    _, client, path = titled
    answer = await call(client, path, "crm.lead.list", {name: value})
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "",
        "error_description": f"Parameter '{name}' must be array.",
    }


async def test_a_form_order_that_is_text_is_refused(titled: Portal) -> None:
    _, client, path = titled
    answer = await client.post(f"{path}crm.lead.list.json", data={"order": "ID"})
    assert answer.status_code == 400
    assert answer.json()["error_description"] == "Parameter 'order' must be array."


async def test_a_null_or_list_order_and_filter_are_arrays(titled: Portal) -> None:
    assert await _titles(titled, {"order": None, "filter": None}) == ["b", "a", "c"]
    # A JSON list is a PHP array keyed 0, 1…: no field of those names orders anything.
    assert await _titles(titled, {"order": ["TITLE"]}) == ["b", "a", "c"]
    assert await _titles(titled, {"filter": [], "order": []}) == ["b", "a", "c"]
    _, client, path = titled
    answer = await call(client, path, "crm.lead.list", {"filter": [1]})
    assert answer.status_code == 200, answer.text


async def _userfield(portal: Portal, fields: dict[str, Any]) -> dict[str, Any]:
    _, client, path = portal
    added = await call(client, path, "crm.lead.userfield.add", {"fields": fields})
    assert added.status_code == 200, added.text
    got = await call(client, path, "crm.lead.userfield.get", {"id": added.json()["result"]})
    result: dict[str, Any] = got.json()["result"]
    return result


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        pytest.param("Y", "Y", id="Y"),
        pytest.param("y", "Y", id="lower-y"),
        pytest.param("N", "N", id="N"),
        pytest.param("1", "N", id="text-1"),
        pytest.param(True, "N", id="true"),  # PHP's text of true is "1"
        pytest.param("maybe", "N", id="other-word"),
        pytest.param(None, "N", id="null"),
    ],
)
async def test_a_userfield_flag_is_y_only_when_it_says_y(
    portal: Portal, flag: Any, expected: str
) -> None:
    spec = await _userfield(
        portal,
        {"FIELD_NAME": "FLAGGED", "USER_TYPE_ID": "string", "MULTIPLE": flag, "MANDATORY": flag},
    )
    assert (spec["MULTIPLE"], spec["MANDATORY"]) == (expected, expected)


async def test_a_boolean_userfield_is_never_multiple(portal: Portal) -> None:
    spec = await _userfield(
        portal, {"FIELD_NAME": "OK", "USER_TYPE_ID": "boolean", "MULTIPLE": "Y"}
    )
    assert spec["MULTIPLE"] == "N"


async def test_a_userfield_update_keeps_mandatory_y_or_n(portal: Portal) -> None:
    _, client, path = portal
    spec = await _userfield(portal, {"FIELD_NAME": "M", "USER_TYPE_ID": "string"})
    for given, kept in ((True, "N"), ("Y", "Y"), ("y", "N"), ("yes", "N")):
        body = {"id": spec["ID"], "fields": {"MANDATORY": given}}
        assert (await call(client, path, "crm.lead.userfield.update", body)).status_code == 200
        got = await call(client, path, "crm.lead.userfield.get", {"id": spec["ID"]})
        assert got.json()["result"]["MANDATORY"] == kept, given


@pytest.mark.parametrize("method", ["get", "update", "delete"])
async def test_a_userfield_id_is_read_as_php_int(portal: Portal, method: str) -> None:
    _, client, path = portal
    spec = await _userfield(portal, {"FIELD_NAME": "N", "USER_TYPE_ID": "string"})
    body: dict[str, Any] = {"id": f" {spec['ID']}abc", "fields": {"SORT": 5}}
    answer = await call(client, path, f"crm.lead.userfield.{method}", body)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("method", ["get", "update", "delete"])
async def test_a_userfield_id_that_is_none_or_missing_says_which(
    portal: Portal, method: str
) -> None:
    _, client, path = portal
    for bad in ("0", "-3", "abc", None):
        answer = await call(client, path, f"crm.lead.userfield.{method}", {"id": bad})
        assert (answer.status_code, answer.json()) == (
            400,
            {"error": "", "error_description": "ID is not defined or invalid."},
        )
    missing = await call(client, path, f"crm.lead.userfield.{method}", {"id": "77"})
    assert (missing.status_code, missing.json()) == (
        400,
        {"error": "ERROR_NOT_FOUND", "error_description": "The entity with ID '77' is not found."},
    )


async def _listed_names(portal: Portal, body: dict[str, Any]) -> list[str]:
    _, client, path = portal
    answer = await call(client, path, "crm.lead.userfield.list", body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["total"] == len(answer.json()["result"])
    return [spec["FIELD_NAME"] for spec in answer.json()["result"]]


@pytest.fixture
async def userfields(portal: Portal) -> Portal:
    for name, kind, sort in (("B", "string", "200"), ("A", "integer", "100"), ("C", "string", "x")):
        await _userfield(portal, {"FIELD_NAME": name, "USER_TYPE_ID": kind, "SORT": sort})
    return portal


async def test_a_userfield_sort_that_is_no_positive_number_is_100(userfields: Portal) -> None:
    _, client, path = userfields
    listed = (await call(client, path, "crm.lead.userfield.list", {})).json()["result"]
    assert {spec["FIELD_NAME"]: spec["SORT"] for spec in listed} == {
        "UF_CRM_A": "100",
        "UF_CRM_B": "200",
        "UF_CRM_C": "100",
    }


async def test_userfields_list_by_sort_then_id_unless_ordered(userfields: Portal) -> None:
    assert await _listed_names(userfields, {}) == ["UF_CRM_A", "UF_CRM_C", "UF_CRM_B"]
    assert await _listed_names(userfields, {"order": {"ID": "ASC"}}) == [
        "UF_CRM_B",
        "UF_CRM_A",
        "UF_CRM_C",
    ]
    # CUserTypeEntity::GetList: anything but ASC is DESC; a key it does not order by is
    # skipped, and none left is the default.
    assert await _listed_names(userfields, {"order": {"field_name": "down"}}) == [
        "UF_CRM_C",
        "UF_CRM_B",
        "UF_CRM_A",
    ]
    assert await _listed_names(userfields, {"order": {"LABEL": "DESC"}}) == [
        "UF_CRM_A",
        "UF_CRM_C",
        "UF_CRM_B",
    ]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        pytest.param({"USER_TYPE_ID": "string"}, ["UF_CRM_C", "UF_CRM_B"], id="type"),
        pytest.param({"field_name": "uf_crm_a"}, ["UF_CRM_A"], id="name-any-case"),
        pytest.param({"ID": "2"}, ["UF_CRM_A"], id="id"),
        pytest.param({"SORT": 200, "MULTIPLE": "N"}, ["UF_CRM_B"], id="sort-and-flag"),
        pytest.param({"FIELD_NAME": ""}, ["UF_CRM_A", "UF_CRM_C", "UF_CRM_B"], id="empty-skipped"),
        pytest.param({"NO_SUCH": "x"}, ["UF_CRM_A", "UF_CRM_C", "UF_CRM_B"], id="unknown-key"),
        pytest.param({"USER_TYPE_ID": "date"}, [], id="none"),
    ],
)
async def test_userfields_list_by_filter(
    userfields: Portal, filters: dict[str, Any], expected: list[str]
) -> None:
    assert await _listed_names(userfields, {"filter": filters}) == expected


@pytest.mark.parametrize("name", ["order", "filter"])
async def test_a_userfield_list_order_or_filter_must_be_an_array(
    userfields: Portal, name: str
) -> None:
    _, client, path = userfields
    answer = await call(client, path, "crm.lead.userfield.list", {name: "SORT"})
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "", "error_description": f"Parameter '{name}' must be array."},
    )


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        pytest.param({"FIELD_NAME": "X"}, "The 'USER_TYPE_ID' field is not found.", id="no-type"),
        pytest.param(
            {"USER_TYPE_ID": "string"}, "The 'FIELD_NAME' field is not found.", id="no-name"
        ),
        pytest.param(
            {"FIELD_NAME": " ", "USER_TYPE_ID": "\t"},
            "The 'USER_TYPE_ID' field is not found.\nThe 'FIELD_NAME' field is not found.",
            id="both-blank",
        ),
    ],
)
async def test_a_userfield_needs_a_type_and_a_name(
    portal: Portal, fields: dict[str, Any], said: str
) -> None:
    crm, client, path = portal
    answer = await call(client, path, "crm.lead.userfield.add", {"fields": fields})
    assert (answer.status_code, answer.json()) == (400, {"error": "", "error_description": said})
    assert crm.userfields("lead") == {}


@pytest.mark.parametrize(
    ("given", "named"),
    [
        pytest.param(" bot\n", "UF_CRM_BOT", id="trimmed"),
        pytest.param("UF_BOT", "UF_CRM_BOT", id="other-uf-prefix"),
        pytest.param("uf_crm_bot", "UF_CRM_BOT", id="crm-prefix"),
    ],
)
async def test_a_userfield_name_is_trimmed_and_prefixed(
    portal: Portal, given: str, named: str
) -> None:
    spec = await _userfield(portal, {"FIELD_NAME": given, "USER_TYPE_ID": " string "})
    assert (spec["FIELD_NAME"], spec["USER_TYPE_ID"]) == (named, "string")


async def test_a_userfield_add_without_fields_reads_the_call_itself(portal: Portal) -> None:
    _, client, path = portal
    query = {"FIELD_NAME": "FLAT", "USER_TYPE_ID": "integer"}
    added = await client.get(f"{path}crm.lead.userfield.add.json", params=query)
    assert added.status_code == 200, added.text
    got = await call(client, path, "crm.lead.userfield.get", {"id": added.json()["result"]})
    assert got.json()["result"]["FIELD_NAME"] == "UF_CRM_FLAT"
    assert got.json()["result"]["USER_TYPE_ID"] == "integer"
