"""The action's settings and configuration errors (rules A1–A4)."""

from __future__ import annotations

from typing import Any

import pytest

from webhook_core import ConfigurationError, Method, WebhookAction


@pytest.mark.rule("A1")
def test_action_holds_its_settings_in_order() -> None:
    action = WebhookAction(
        "https://crm.example/hook",
        "POST",
        headers=[("X-A", "1"), ("X-A", "2")],
        params=[("b", "1"), ("a", "2"), ("b", "3")],
        save_to="result",
    )
    assert action.url == "https://crm.example/hook"
    assert action.method is Method.POST
    assert action.headers == (("X-A", "1"), ("X-A", "2"))
    assert action.params == (("b", "1"), ("a", "2"), ("b", "3"))
    assert action.save_to == "result"
    assert "POST" in repr(action)


@pytest.mark.rule("A2")
@pytest.mark.parametrize(
    ("spelling", "method"),
    [
        pytest.param("GET", Method.GET, id="GET"),
        pytest.param("get", Method.GET, id="lowercase"),
        pytest.param("Post", Method.POST, id="mixed-case"),
        pytest.param("JSON POST", Method.JSON_POST, id="json-post"),
        pytest.param("json_post", Method.JSON_POST, id="json_post"),
        pytest.param("PUT", Method.PUT, id="PUT"),
        pytest.param("patch", Method.PATCH, id="PATCH"),
        pytest.param("DELETE", Method.DELETE, id="DELETE"),
    ],
)
def test_six_methods_case_insensitive(spelling: str, method: Method) -> None:
    assert WebhookAction("http://x", spelling).method is method


@pytest.mark.rule("A2", "A4")
@pytest.mark.parametrize("spelling", ["HEAD", "OPTIONS", "JSONPOST", "JSON  POST", "", "GET "])
def test_unknown_method_is_a_configuration_error(spelling: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        WebhookAction("http://x", spelling)
    assert caught.value.field == "method"
    assert caught.value.value == spelling
    assert "JSON POST" in caught.value.expected


@pytest.mark.rule("A3")
def test_headers_and_params_are_ordered_lists_not_maps() -> None:
    action = WebhookAction("http://x", "GET", params=[("a", "1"), ("a", "2")])
    assert len(action.params) == 2


@pytest.mark.rule("A4")
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        pytest.param({"url": ""}, "url", id="empty-url"),
        pytest.param({"url": "   "}, "url", id="blank-url"),
        pytest.param({"params": [("a..b", "1")]}, "params[0].name", id="empty-segment"),
        pytest.param({"params": [("ok", "1"), (".a", "1")]}, "params[1].name", id="leading-dot"),
        pytest.param({"params": [("a.", "1")]}, "params[0].name", id="trailing-dot"),
        pytest.param({"save_to": "a.b"}, "save_to", id="save-to-with-dot"),
        pytest.param({"save_to": ""}, "save_to", id="save-to-empty"),
        pytest.param({"save_to": "first_name"}, "save_to", id="save-to-reserved"),
        pytest.param({"save_to": "timestamp"}, "save_to", id="save-to-reserved-clock"),
        pytest.param({"save_to": "ignore"}, "save_to", id="save-to-ignore-tag"),
        pytest.param({"headers": [("Bad Name", "1")]}, "headers[0].name", id="header-with-space"),
        pytest.param({"headers": [("X:Y", "1")]}, "headers[0].name", id="header-with-colon"),
        pytest.param({"headers": [("", "1")]}, "headers[0].name", id="empty-header-name"),
        pytest.param(
            {"headers": [("X", "1"), ("Content-Length", "5")]},
            "headers[1].name",
            id="framing-header",
        ),
        pytest.param({"headers": [("X", 1)]}, "headers[0].value", id="header-value-not-text"),
        pytest.param({"params": [("a", "1", "2")]}, "params[0]", id="not-a-pair"),
    ],
)
def test_configuration_errors_name_field_and_value(kwargs: dict[str, Any], field: str) -> None:
    arguments: dict[str, Any] = {"url": "http://x", "method": "POST", **kwargs}
    url = arguments.pop("url")
    method = arguments.pop("method")
    with pytest.raises(ConfigurationError) as caught:
        WebhookAction(url, method, **arguments)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: got ")
    assert "expected" in str(caught.value)


@pytest.mark.rule("A4")
def test_cyrillic_save_to_is_a_valid_name() -> None:
    assert WebhookAction("http://x", "GET", save_to="результат").save_to == "результат"


@pytest.mark.rule("A4")
def test_a_long_value_is_cut_in_the_message_but_kept_whole() -> None:
    from webhook_core import build_request

    with pytest.raises(ConfigurationError) as caught:
        build_request(WebhookAction("ftp://x/" + "a" * 5000, "GET"), {})
    assert len(str(caught.value)) < 400
    assert "characters)" in str(caught.value)
    assert len(caught.value.value) == 5008


@pytest.mark.rule("B8")
def test_a_variable_set_beforehand_may_bear_a_reserved_name_a_save_to_may_not() -> None:
    from webhook_core import check_variable_name

    assert check_variable_name("date", field="variables", reserved_ok=True) == "date"
    with pytest.raises(ConfigurationError, match="not reserved"):
        check_variable_name("date", field="save_to")
    for name in ("ignore", "a.b", "", 5):
        with pytest.raises(ConfigurationError):
            check_variable_name(name, field="variables", reserved_ok=True)


@pytest.mark.rule("A3")
@pytest.mark.parametrize("field", ["headers", "params"])
def test_pairs_given_as_a_dict_are_refused_with_the_reason(field: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        WebhookAction("http://h/", "GET", **{field: {"a": "1"}})
    assert caught.value.field == field
    assert "ordered list of (name, value) pairs" in str(caught.value)
    assert "rule A3" in str(caught.value)
