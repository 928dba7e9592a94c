"""webhook_core under hostile values: half an emoji in a subscriber's name, an answer in a
"charset" that is no charset, JSON nested as deep as a parser goes, very long URLs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from webhook_core import Method, WebhookAction, parse_body, prepare_request
from webhook_core import request as request_module
from webhook_core.response import MAX_DEPTH
from webhook_core.template import render

URL = "http://127.0.0.1:9/x"
#: Half an emoji: what a messenger that cuts text in UTF-16 hands over as a name.
HALF = "Ann\ud83d"
REPLACED = "Ann\ufffd".encode()


@pytest.mark.rule("C8")
@pytest.mark.parametrize("method", [pytest.param(m, id=m.value) for m in Method])
def test_an_unpaired_surrogate_in_a_header_is_sent_as_a_replacement_character(
    method: Method,
) -> None:
    # It was a UnicodeEncodeError out of prepare_request: the subscriber's name broke the action.
    action = WebhookAction(URL, method, headers=[("X-Name", "{first_name}")])
    headers = dict(prepare_request(action, {"first_name": HALF}).headers)
    assert headers[b"X-Name"] == REPLACED


@pytest.mark.rule("C4")
def test_an_unpaired_surrogate_in_a_query_is_sent_as_a_replacement_character() -> None:
    action = WebhookAction(URL, Method.GET, params=[("name", "{first_name}")])
    url = prepare_request(action, {"first_name": HALF}).url
    assert url.query == b"name=Ann%EF%BF%BD"


@pytest.mark.rule("C5")
@pytest.mark.parametrize("method", [Method.POST, Method.PUT, Method.PATCH, Method.DELETE])
def test_an_unpaired_surrogate_in_a_form_is_sent_as_a_replacement_character(
    method: Method,
) -> None:
    action = WebhookAction(URL, method, params=[("user.name", "{first_name}"), ("n\udc00", "1")])
    assert prepare_request(action, {"first_name": HALF}).body == (
        b"user%5Bname%5D=Ann%EF%BF%BD&n%EF%BF%BD=1"
    )


@pytest.mark.rule("C6")
def test_an_unpaired_surrogate_in_a_json_body_is_sent_as_a_replacement_character() -> None:
    action = WebhookAction(URL, Method.JSON_POST, params=[("name", "{first_name}"), ("obj", "{o}")])
    body = prepare_request(action, {"first_name": HALF, "o": {"k\udc00": "v"}}).body
    assert body is not None
    assert json.loads(body) == {"name": "Ann\ufffd", "obj": {"k\ufffd": "v"}}


@pytest.mark.rule("A4")
def test_an_unpaired_surrogate_in_the_url_is_sent_as_a_replacement_character() -> None:
    # It was a configuration error blaming the URL for the subscriber's name.
    action = WebhookAction(URL + "/{first_name}", Method.GET)
    assert prepare_request(action, {"first_name": HALF}).url.raw_path == b"/x/Ann%EF%BF%BD"


@pytest.mark.rule("C8")
def test_no_subscriber_input_can_add_a_header() -> None:
    action = WebhookAction(URL, Method.GET, headers=[("X-Name", "{first_name}")])
    hostile = "a\r\nX-Injected: 1\x00\nHost: evil\r"
    headers = prepare_request(action, {"first_name": hostile}).headers
    assert [name for name, _ in headers] == [b"User-Agent", b"X-Name"]
    assert dict(headers)[b"X-Name"] == b"a  X-Injected: 1  Host: evil"


@pytest.mark.rule("D3")
@pytest.mark.parametrize(
    "charset", ["base64", "rot13", "zlib", "hex", "bz2", "uu", "idna", "punycode"]
)
def test_a_charset_that_is_no_text_encoding_reads_as_utf8(charset: str) -> None:
    # base64 and friends are codecs of bytes to bytes (LookupError), idna takes no
    # "replace" (UnicodeError): each was an exception out of the sender, not an outcome.
    body = b"hi \xd0\xb0 \xff"
    assert parse_body(body, f"text/plain; charset={charset}") == "hi а \ufffd"


def _nested(depth: int) -> bytes:
    return ('{"a":' * (depth - 1) + "[1]" + "}" * (depth - 1)).encode()


def _in_a_deep_stack(levels: int, call: Callable[[], Any]) -> Any:
    return call() if levels == 0 else _in_a_deep_stack(levels - 1, call)


@pytest.mark.rule("D2")
def test_json_nested_past_phps_depth_is_saved_as_text() -> None:
    body = _nested(MAX_DEPTH + 1)
    assert parse_body(body, "application/json") == body.decode()


@pytest.mark.rule("D2")
def test_json_as_deep_as_php_reads_is_saved_and_sent_on_from_a_deep_stack() -> None:
    saved = parse_body(_nested(MAX_DEPTH), "application/json")
    assert isinstance(saved, dict)
    action = WebhookAction(URL, Method.JSON_POST, params=[("r", "{result}")])
    # A saved value is used later, further down some caller's stack: 900 deep it used to
    # be a RecursionError out of the next message or JSON POST.
    body = _in_a_deep_stack(300, lambda: prepare_request(action, {"result": saved}).body)
    assert body == b'{"r":' + _nested(MAX_DEPTH) + b"}"
    assert _in_a_deep_stack(300, lambda: render("{result}", {"result": saved})) == (
        _nested(MAX_DEPTH).decode()
    )


def test_many_wide_containers_are_not_too_deep() -> None:
    body = json.dumps([[{} for _ in range(100)] for _ in range(100)]).encode()
    assert isinstance(parse_body(body, None), list)


def test_a_long_url_is_not_kept_in_the_cache() -> None:
    # Each GET carrying a saved answer made a new URL of up to 64 KiB, and 1 024 were kept.
    request_module._check_url_cached.cache_clear()
    action = WebhookAction(URL, Method.GET, params=[("q", "{v}")])
    for index in range(3):
        prepare_request(action, {"v": f"{index}" * 10_000})
    assert request_module._check_url_cached.cache_info().currsize == 0
    prepare_request(action, {"v": "short"})
    assert request_module._check_url_cached.cache_info().currsize == 1


def test_the_transport_keeps_no_long_url_either() -> None:
    from webhook_core import transport

    transport._url_cached.cache_clear()
    long_url = URL + "?q=" + "v" * 10_000
    assert str(transport._url(long_url)) == long_url
    assert transport._url_cached.cache_info().currsize == 0


@pytest.mark.parametrize("number", [float("nan"), float("inf"), -float("inf")], ids=repr)
@pytest.mark.parametrize("shape", ["bare", "nested"])
def test_a_json_post_of_a_number_json_cannot_carry_is_a_configuration_error(
    number: float, shape: str
) -> None:
    # Only a Python caller can give one (answers and files never make NaN); it was sent
    # as {"a":NaN}, a body no JSON parser reads.
    from webhook_core import ConfigurationError

    value = number if shape == "bare" else {"deep": [1, number]}
    action = WebhookAction(
        url="http://127.0.0.1:9/x", method=Method.JSON_POST, params=[("ok", "1"), ("a", "{n}")]
    )
    with pytest.raises(ConfigurationError) as caught:
        prepare_request(action, {"n": value})
    assert caught.value.field == "params[1].value"
    assert caught.value.value == "{n}"
    assert "JSON" in caught.value.expected
