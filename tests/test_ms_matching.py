"""Stub models and explained matching (pure: no server)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from pydantic import ValidationError

from mockserver import Matcher, RecordedRequest, RequestPattern, Stub
from mockserver.matching import CompiledPattern, json_differences, json_equal, json_subset

from .strategies import json_value


def recorded(
    method: str = "POST",
    path: str = "/crm/lead",
    query: str = "",
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
) -> RecordedRequest:
    return RecordedRequest(1, method, path, query, headers, body, datetime.now(timezone.utc))


JSON_REQUEST = recorded(
    query="id=5&user%5Bname%5D=Anna",
    headers=(("Content-Type", "application/json"), ("X-Token", "abc")),
    body=b'{"user": {"name": "Anna", "age": 30, "tags": ["a", "b"]}, "ok": true, "n": null}',
)
FORM_REQUEST = recorded(
    headers=(("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),),
    body=b"user%5Bname%5D=Anna+Lee&tags%5B0%5D=x&plain=1",
)


@pytest.mark.parametrize(
    ("pattern", "request_", "fields"),
    [
        pytest.param({"method": "post"}, JSON_REQUEST, [], id="method-case-insensitive"),
        pytest.param({"method": "GET"}, JSON_REQUEST, ["method"], id="method-differs"),
        pytest.param({"path": "/crm/lead"}, JSON_REQUEST, [], id="exact-path"),
        pytest.param({"method": "POST", "path": "/crm/lead"}, JSON_REQUEST, [], id="method+path"),
        pytest.param(
            {"method": "PUT", "path": "/crm/lead"}, JSON_REQUEST, ["method"], id="method+path-put"
        ),
        pytest.param(
            {"method": "POST", "path": "/crm/lea"}, JSON_REQUEST, ["path"], id="method+path-prefix"
        ),
        pytest.param({"path": "/crm/{what}"}, JSON_REQUEST, [], id="path-template"),
        pytest.param({"path": "/crm"}, JSON_REQUEST, ["path"], id="path-prefix-is-not-a-match"),
        pytest.param({"path_regex": "/crm/l.*"}, JSON_REQUEST, [], id="path-regex"),
        pytest.param({"query": {"id": 5}}, JSON_REQUEST, [], id="query-number-as-text"),
        pytest.param({"query": {"user.name": "Anna"}}, JSON_REQUEST, [], id="query-php-brackets"),
        pytest.param({"query": {"user[name]": "Anna"}}, JSON_REQUEST, [], id="query-named-as-sent"),
        pytest.param(
            {"query": {"user[name]": "Bob"}},
            JSON_REQUEST,
            ["query.user[name]"],
            id="query-named-as-sent-differs",
        ),
        pytest.param({"form": {"tags[0]": "x"}}, FORM_REQUEST, [], id="form-named-as-sent"),
        pytest.param({"query": {"id": "6"}}, JSON_REQUEST, ["query.id"], id="query-differs"),
        pytest.param({"query": {"zz": {"absent": True}}}, JSON_REQUEST, [], id="query-absent"),
        pytest.param({"headers": {"x-token": "abc"}}, JSON_REQUEST, [], id="header-any-case"),
        pytest.param(
            {"headers": {"X-TOKEN": {"regex": "^a"}}}, JSON_REQUEST, [], id="header-regex"
        ),
        pytest.param(
            {"headers": {"x-other": {"present": True}}},
            JSON_REQUEST,
            ["headers.x-other"],
            id="header-missing",
        ),
        pytest.param(
            {"json_paths": {"user.name": "Anna", "user.age": 30, "ok": True}},
            JSON_REQUEST,
            [],
            id="json-paths-typed",
        ),
        pytest.param(
            {"json_paths": {"user.age": "30"}},
            JSON_REQUEST,
            ["json_paths.user.age"],
            id="json-paths-string-is-not-number",
        ),
        pytest.param(
            {"json_paths": {"ok": 1}}, JSON_REQUEST, ["json_paths.ok"], id="json-true-is-not-1"
        ),
        pytest.param(
            {"json_paths": {"user.tags.1": "b", "n": None}},
            JSON_REQUEST,
            [],
            id="json-paths-index-and-null",
        ),
        pytest.param(
            {"json_paths": {"user.tags": {"contains": "a"}}},
            JSON_REQUEST,
            [],
            id="json-list-contains",
        ),
        pytest.param(
            {"json_subset": {"user": {"name": "Anna"}}}, JSON_REQUEST, [], id="json-subset"
        ),
        pytest.param(
            {"json": {"user": {"name": "Anna"}}},
            JSON_REQUEST,
            ["json.user.age", "json.user.tags", "json.ok", "json.n"],
            id="json-equal-is-whole",
        ),
        pytest.param(
            {"form": {"user.name": "Anna Lee", "tags.0": "x", "plain": 1}},
            FORM_REQUEST,
            [],
            id="form-php-brackets",
        ),
        pytest.param(
            {"form": {"user.name": "Anna"}},
            JSON_REQUEST,
            ["form.user.name"],
            id="form-on-json-body",
        ),
        pytest.param({"body": {"contains": "Anna+Lee"}}, FORM_REQUEST, [], id="raw-contains"),
        pytest.param({"body": {"regex": "^user"}}, FORM_REQUEST, [], id="raw-regex"),
        pytest.param({"body": "nope"}, FORM_REQUEST, ["body"], id="raw-equal-differs"),
        pytest.param(
            {"method": "GET", "path": "/x", "query": {"id": "6"}, "json_paths": {"ok": False}},
            JSON_REQUEST,
            ["method", "path", "query.id", "json_paths.ok"],
            id="all-differences",
        ),
    ],
)
def test_difference(pattern: dict[str, Any], request_: RecordedRequest, fields: list[str]) -> None:
    compiled = CompiledPattern(RequestPattern.model_validate(pattern))
    assert [mismatch.field for mismatch in compiled.difference(request_)] == fields
    assert compiled.matches(request_) is (not fields)


def test_path_template_captures() -> None:
    compiled = CompiledPattern(RequestPattern(path="/users/{id}/orders/{order}"))
    assert compiled.path_params("/users/7/orders/x1") == {"id": "7", "order": "x1"}
    assert compiled.path_params("/users/7/orders") is None


def test_mismatch_says_expected_and_actual() -> None:
    compiled = CompiledPattern(RequestPattern.model_validate({"json_paths": {"user.name": "Bob"}}))
    (mismatch,) = compiled.difference(JSON_REQUEST)
    assert (mismatch.expected, mismatch.actual) == ("equal 'Bob'", "'Anna'")


@pytest.mark.parametrize(
    ("left", "right", "equal"),
    [
        (1, 1.0, True),
        (True, 1, False),
        ({"a": [1]}, {"a": [1]}, True),
        ([1, 2], [2, 1], False),
        (None, None, True),
        ("1", 1, False),
    ],
)
def test_json_equal(left: Any, right: Any, equal: bool) -> None:
    assert json_equal(left, right) is equal


def test_json_subset() -> None:
    assert json_subset({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}, "d": 3})
    assert not json_subset({"a": [1]}, {"a": [1, 2]})
    assert json_subset([{"a": 1}], [{"a": 1, "b": 2}])


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        pytest.param({"request": {"method": 5}}, ["request.method"], id="method-type"),
        pytest.param({"request": {"path": "x"}}, ["request.path"], id="path-slash"),
        pytest.param({"request": {"path": "/a", "path_regex": "/a"}}, ["request"], id="two-paths"),
        pytest.param(
            {"request": {"query": {"a": {"regex": "("}}}}, ["request.query.a"], id="bad-regex"
        ),
        pytest.param(
            {"request": {"query": {"a": {"regex": "x", "equal": "y"}}}},
            ["request.query.a"],
            id="two-matcher-kinds",
        ),
        pytest.param(
            {"request": {"query": {"a": {"regex": None}}}}, ["request.query.a"], id="null-regex"
        ),
        pytest.param(
            {"request": {"headers": {"a": {"present": None}}}},
            ["request.headers.a"],
            id="null-flag",
        ),
        pytest.param({"response": {"status": 99}}, ["response.status"], id="status-range"),
        pytest.param({"response": {"json": 1, "text": "x"}}, ["response"], id="two-bodies"),
        pytest.param({"response": {"fault": "meltdown"}}, ["response.fault.type"], id="bad-fault"),
        pytest.param({"responses": []}, ["responses"], id="empty-sequence"),
        pytest.param({"when_exhausted": "explode"}, ["when_exhausted"], id="exhaustion-rule"),
        pytest.param({"reqest": {}}, ["reqest"], id="typo"),
    ],
)
def test_invalid_stubs_name_each_field(data: dict[str, Any], fields: list[str]) -> None:
    with pytest.raises(ValidationError) as caught:
        Stub.model_validate(data)
    assert [".".join(map(str, e["loc"])) for e in caught.value.errors()] == fields


def test_matcher_shorthand() -> None:
    assert Matcher.model_validate("x").describe() == "equal 'x'"
    assert Matcher.model_validate({"a": 1}).describe() == "equal {'a': 1}"
    assert Matcher.model_validate({"present": True}).describe() == "present"


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        pytest.param("user.name", ("user", "name"), id="dotted"),
        pytest.param("user[name]", ("user", "name"), id="brackets"),
        pytest.param("a[b][0]", ("a", "b", "0"), id="brackets-deep"),
        pytest.param("user.x[y]", ("user", "x", "y"), id="dotted-then-brackets"),
        pytest.param("tags[]", ("tags", ""), id="append-is-an-empty-key"),
        pytest.param("odd[x]y", ("odd[x]y",), id="not-brackets-to-the-end"),
        pytest.param("[x]", ("[x]",), id="no-base-name"),
    ],
)
def test_query_and_form_names_read_dotted_or_as_sent(name: str, keys: tuple[str, ...]) -> None:
    from mockserver.forms import field_keys

    assert field_keys(name) == keys


@pytest.mark.parametrize(
    ("field", "name"),
    [
        pytest.param("query", "tags[]", id="query-append"),
        pytest.param("form", "user..name", id="form-double-dot"),
        pytest.param("json_paths", "items..code", id="json-paths-double-dot"),
        pytest.param("json_paths", ".x", id="json-paths-leading-dot"),
    ],
)
def test_a_name_with_an_empty_key_is_refused(field: str, name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        RequestPattern.model_validate({field: {name: "1"}})
    (error,) = caught.value.errors()
    assert error["loc"] == (field,)
    assert f"{name!r} has an empty key" in error["msg"]


def test_a_json_body_that_differs_is_shown_where_it_differs() -> None:
    pattern = {"json": {"user": {"name": "Anna", "phone": "+7901"}, "tags": ["vip"], "gone": 1}}
    body = b'{"user": {"name": "Anna", "phone": "+7900"}, "tags": ["vip"], "extra": true}'
    compiled = CompiledPattern(RequestPattern.model_validate(pattern))
    rows = [(m.field, m.expected, m.actual) for m in compiled.difference(recorded(body=body))]
    assert rows == [
        ("json.user.phone", "equal '+7901'", "'+7900'"),
        ("json.gone", "equal 1", "(absent)"),
        ("json.extra", "absent", "true"),
    ]


def test_json_subset_rows_ignore_extra_fields_and_many_rows_are_counted() -> None:
    expected = {f"k{i}": i for i in range(12)}
    actual = {f"k{i}": -i - 1 for i in range(12)} | {"extra": 1}
    compiled = CompiledPattern(RequestPattern.model_validate({"json_subset": expected}))
    found = compiled.difference(recorded(body=json.dumps(actual).encode()))
    assert [m.field for m in found] == [*(f"json_subset.k{i}" for i in range(8)), "json_subset"]
    assert found[-1].expected == "and 4 more difference(s)"
    assert {m.of for m in found} == {"json_subset"}


def test_a_json_body_counts_as_one_field_of_the_near_miss() -> None:
    from mockserver.report import NearMiss

    compiled = CompiledPattern(
        RequestPattern.model_validate({"path": "/crm/lead", "json": {"a": 1, "b": 2}})
    )
    found = compiled.difference(recorded(body=b'{"a": 2, "b": 3}'))
    assert len(found) == 2
    assert NearMiss("stub", found, compiled.field_count).differing == 1


@given(json_value, json_value)
def test_json_differences_are_empty_exactly_when_the_bodies_match(left: Any, right: Any) -> None:
    assert (not json_differences(left, right)) is json_equal(left, right)
    assert (not json_differences(left, right, subset=True)) is json_subset(left, right)
    assert not json_differences(left, left)


@pytest.mark.parametrize("name", ["", "Bad Name", "X:Y", "Тест"])
def test_a_header_matcher_named_what_no_header_can_be_named_is_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="a header name of letters, digits"):
        RequestPattern.model_validate({"headers": {name: "x"}})
