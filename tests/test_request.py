"""Building the request (rules C4–C9, A4 after rendering, B8)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from webhook_core import (
    USER_AGENT,
    ConfigurationError,
    Flow,
    Message,
    Subscriber,
    WebhookAction,
    build_request,
    prepare_request,
    reserved_variables,
)

from .strategies import json_value

VARS: dict[str, Any] = {
    "name": "Anna Lee",
    "n": 15,
    "f": 2.5,
    "yes": True,
    "obj": {"code": "ABC", "tags": ["a"]},
    "items": [1, 2],
    "nothing": None,
    "host": "crm.example",
    "evil": "x\r\nX-Injected: yes\nSet-Cookie: a=b",
}


def request(method: str, url: str = "http://h.example/p", **kwargs: Any) -> httpx.Request:
    return build_request(WebhookAction(url, method, **kwargs), VARS)


@pytest.mark.rule("C4")
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            "http://h/p", "http://h/p?user%5Bname%5D=Anna+Lee&tags%5B0%5D=x", id="no-query"
        ),
        pytest.param(
            "http://h/p?k=1", "http://h/p?k=1&user%5Bname%5D=Anna+Lee&tags%5B0%5D=x", id="appended"
        ),
        pytest.param(
            "http://h/p?",
            "http://h/p?user%5Bname%5D=Anna+Lee&tags%5B0%5D=x",
            id="bare-question-mark",
        ),
        pytest.param(
            "http://h/p#frag",
            "http://h/p?user%5Bname%5D=Anna+Lee&tags%5B0%5D=x",
            id="fragment-dropped",
        ),
    ],
)
def test_get_puts_php_encoded_params_in_query(url: str, expected: str) -> None:
    built = request("GET", url, params=[("user.name", "{name}"), ("tags.0", "x")])
    assert str(built.url) == expected
    assert built.content == b""
    assert "content-type" not in built.headers


@pytest.mark.rule("C4")
def test_get_without_params_keeps_url() -> None:
    assert str(request("GET", "http://h/p?k=1").url) == "http://h/p?k=1"


@pytest.mark.rule("C5")
def test_post_is_form_encoded() -> None:
    built = request("POST", params=[("user.name", "{name}"), ("user.age", "{n}")])
    assert built.method == "POST"
    assert built.headers["content-type"] == "application/x-www-form-urlencoded"
    assert built.content == b"user%5Bname%5D=Anna+Lee&user%5Bage%5D=15"


@pytest.mark.rule("C5")
def test_post_renders_objects_as_json_text() -> None:
    built = request("POST", params=[("o", "{obj}"), ("z", "{nothing}"), ("b", "{yes}")])
    assert parse_qsl(built.content.decode(), keep_blank_values=True) == [
        ("o", '{"code":"ABC","tags":["a"]}'),
        ("z", ""),
        ("b", "true"),
    ]


@pytest.mark.rule("C6")
def test_json_post_types() -> None:
    built = request(
        "JSON POST",
        params=[
            ("n", "{n}"),
            ("f", "{ f }"),
            ("b", "{yes}"),
            ("o", "{obj}"),
            ("l", "{items}"),
            ("s", "{name}"),
            ("text_n", "n={n}"),
            ("null", "{nothing}"),
            ("gone", "{missing}"),
            ("spaced", " {n}"),
            ("user.name", "{name}"),
        ],
    )
    assert built.method == "POST"
    assert built.headers["content-type"] == "application/json"
    assert json.loads(built.content) == {
        "n": 15,
        "f": 2.5,
        "b": True,
        "o": {"code": "ABC", "tags": ["a"]},
        "l": [1, 2],
        "s": "Anna Lee",
        "text_n": "n=15",
        "null": "",
        "gone": "",
        "spaced": " 15",
        "user": {"name": "Anna Lee"},
    }


@pytest.mark.rule("C6")
def test_json_post_is_utf8_not_escaped() -> None:
    built = build_request(WebhookAction("http://h", "JSON POST", params=[("n", "Анна")]), {})
    assert built.content == '{"n":"Анна"}'.encode()


@pytest.mark.rule("C6")
def test_json_post_without_params_sends_empty_object() -> None:
    assert request("JSON POST").content == b"{}"


@pytest.mark.rule("C7")
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_put_patch_delete_form_body(method: str) -> None:
    built = request(method, params=[("a.b", "{n}")])
    assert built.method == method
    assert built.headers["content-type"] == "application/x-www-form-urlencoded"
    assert built.content == b"a%5Bb%5D=15"


@pytest.mark.rule("C7")
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_no_params_means_no_body(method: str) -> None:
    built = request(method)
    assert built.content == b""
    assert "content-type" not in built.headers


@pytest.mark.rule("C8")
def test_header_values_are_templates_and_user_headers_replace_defaults() -> None:
    built = request(
        "JSON POST",
        headers=[
            ("content-type", "application/vnd.api+json"),
            ("X-Name", "{name}"),
            ("X-Dup", "1"),
            ("X-Dup", "2"),
        ],
    )
    assert built.headers.get_list("content-type") == ["application/vnd.api+json"]
    assert built.headers["x-name"] == "Anna Lee"
    assert built.headers.get_list("x-dup") == ["1", "2"]


@pytest.mark.rule("C8")
def test_subscriber_input_cannot_inject_headers() -> None:
    built = request("GET", headers=[("X-Note", "{evil}")])
    assert built.headers["x-note"] == "x  X-Injected: yes Set-Cookie: a=b"
    assert "x-injected" not in built.headers
    assert "set-cookie" not in built.headers


@pytest.mark.rule("C8")
@given(st.text())
def test_no_rendered_header_value_contains_cr_or_lf(value: str) -> None:
    built = build_request(
        WebhookAction("http://h", "GET", headers=[("X-V", "<{v}>")]), {"v": value}
    )
    raw = dict(built.headers.raw)[b"X-V"]
    assert b"\r" not in raw
    assert b"\n" not in raw
    assert raw.decode().startswith("<")


@pytest.mark.rule("C8")
def test_non_ascii_header_value_is_sent_as_utf8() -> None:
    built = build_request(WebhookAction("http://h", "GET", headers=[("X-N", "{n}")]), {"n": "Анна"})
    assert dict(built.headers.raw)[b"X-N"] == "Анна".encode()


@pytest.mark.rule("C9")
def test_user_agent_names_the_sender_and_can_be_replaced() -> None:
    assert request("GET").headers["user-agent"] == USER_AGENT
    assert "webhook-core" in USER_AGENT
    replaced = request("GET", headers=[("User-Agent", "mine")])
    assert replaced.headers.get_list("user-agent") == ["mine"]


@pytest.mark.rule("A4")
@pytest.mark.parametrize(
    ("url", "variables"),
    [
        pytest.param("{u}", {"u": "ftp://h/x"}, id="ftp"),
        pytest.param("{u}", {}, id="renders-empty"),
        pytest.param("{u}/x", {"u": "not a url"}, id="relative"),
        pytest.param("http://", {}, id="no-host"),
        pytest.param("javascript:alert(1)", {}, id="javascript"),
    ],
)
def test_url_not_http_after_rendering_is_a_configuration_error(
    url: str, variables: dict[str, Any]
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        build_request(WebhookAction(url, "GET"), variables)
    assert caught.value.field == "url"
    assert "http" in caught.value.expected


@pytest.mark.rule("B1")
def test_url_is_a_template() -> None:
    assert str(request("GET", "https://{host}/x").url) == "https://crm.example/x"


@pytest.mark.rule("B3")
def test_prepare_reports_missing_references_everywhere() -> None:
    action = WebhookAction(
        "http://h/{a}", "JSON POST", headers=[("X", "{b}")], params=[("p", "{c}"), ("q", "x{d.e}")]
    )
    assert prepare_request(action, {}).missing == ("a", "c", "d.e", "b")


@pytest.mark.rule("B8")
def test_reserved_variables_from_subscriber_and_clock() -> None:
    subscriber = Subscriber(
        user_id="7",
        first_name="Анна",
        last_name="Ли",
        username="anna",
        phone="+79000000000",
        email="a@example.com",
        channel="telegram",
    )
    at = datetime(2026, 3, 1, 21, 30, 5, tzinfo=UTC)
    values = reserved_variables(subscriber, bot_id="b1", at=at, timezone="Europe/Moscow")
    assert values == {
        "user_id": "7",
        "first_name": "Анна",
        "last_name": "Ли",
        "username": "anna",
        "phone": "+79000000000",
        "email": "a@example.com",
        "channel": "telegram",
        "bot_id": "b1",
        "date": "02.03.2026",
        "time": "00:30",
        "datetime": "2026-03-02T00:30:05+03:00",
        "timestamp": 1772400605,
    }


@pytest.mark.rule("B8")
@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../etc/passwd", "Europe/"])
def test_an_unknown_time_zone_is_a_configuration_error(zone: str) -> None:
    at = datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(ConfigurationError) as caught:
        reserved_variables(Subscriber(), at=at, timezone=zone)
    assert caught.value.field == "timezone"
    assert caught.value.value == zone
    with pytest.raises(ConfigurationError, match="an IANA time zone"):
        Flow([Message("x")], timezone=zone)


url_templates = st.sampled_from(
    [
        "http://h/{a}",
        "https://h:8443/p?x={a}",
        "{a}",
        "http://{a}/x",
        "http://h/{a.b.c}",
        "http://h/#frag{a}",
        "http://[::1]/{a}",
        "http://h/%zz{a}",
    ]
)
variables = st.dictionaries(st.sampled_from(["a", "b", "first_name"]), json_value, max_size=3).map(
    lambda found: {**found, "a": found.get("a", "x")}
)


@given(
    url=url_templates,
    method=st.sampled_from(["GET", "POST", "JSON POST", "PUT", "PATCH", "DELETE"]),
    names=st.lists(
        st.sampled_from(["a", "a.b", "a.0", "a[]", "x.y.z", "0", "a..b", ""]), max_size=4
    ),
    values=st.lists(st.sampled_from(["{a}", "{b}", "lit", "{first_name}", "{a.b}"]), max_size=4),
    data=variables,
)
def test_any_action_and_variables_build_a_request_or_name_the_setting(
    url: str, method: str, names: list[str], values: list[str], data: dict[str, Any]
) -> None:
    params = list(zip(names, values, strict=False))
    try:
        built = build_request(WebhookAction(url, method, params=params), data)
    except ConfigurationError as exc:
        refused = exc
    else:
        assert built.method == ("POST" if method == "JSON POST" else method)
        assert built.url.scheme in ("http", "https")
        return
    assert refused.field
    assert refused.expected
