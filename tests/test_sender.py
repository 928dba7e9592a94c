"""The sender (rules D1–D3, C9), with respx standing in for the far side."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from webhook_core import MISSING, ConfigurationError, HttpxSender, Outcome, parse_body
from webhook_core.sender import redirect_request

URL = "http://far.example/hook"


def sender_for(router: respx.Router, **options: Any) -> HttpxSender:
    return HttpxSender(httpx.MockTransport(router.async_handler), **options)


async def send(
    router: respx.Router, request: httpx.Request | None = None, **options: Any
) -> Outcome:
    async with sender_for(router, **options) as sender:
        return await sender.send(request or httpx.Request("POST", URL, content=b"a=1"))


@pytest.mark.rule("D1")
@pytest.mark.parametrize("status", [200, 201, 204, 299, 302, 304, 399])
async def test_statuses_below_400_succeed(status: int) -> None:
    router = respx.Router()
    router.post(URL).respond(status, text="ok")
    outcome = await send(router)
    assert outcome.ok
    assert outcome.status == status


@pytest.mark.rule("D1", "E5")
@pytest.mark.parametrize("status", [400, 401, 404, 410, 429, 499, 500, 502, 503, 599])
async def test_4xx_and_5xx_fail(status: int) -> None:
    router = respx.Router()
    router.post(URL).respond(status, json={"would": "be saved"}, headers={"Retry-After": "1"})
    outcome = await send(router)
    assert not outcome.ok
    assert outcome.status == status
    assert outcome.error_kind == "status"
    assert str(status) in (outcome.error or "")
    assert outcome.value is MISSING


@pytest.mark.rule("D1")
@pytest.mark.parametrize(
    ("exception", "kind"),
    [
        pytest.param(httpx.ConnectError("refused"), "connect", id="refused"),
        pytest.param(httpx.ConnectTimeout("slow"), "timeout", id="connect-timeout"),
        pytest.param(httpx.ReadTimeout("slow"), "timeout", id="read-timeout"),
        pytest.param(httpx.ReadError("reset"), "disconnect", id="reset"),
        pytest.param(
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
            "disconnect",
            id="closed-without-reply",
        ),
        pytest.param(httpx.RemoteProtocolError("illegal status line"), "protocol", id="malformed"),
        pytest.param(OSError("name resolution"), "network", id="dns"),
    ],
)
async def test_transport_errors_fail(exception: Exception, kind: str) -> None:
    router = respx.Router()
    router.post(URL).mock(side_effect=exception)
    outcome = await send(router)
    assert not outcome.ok
    assert outcome.status is None
    assert outcome.error_kind == kind
    assert outcome.error


@pytest.mark.rule("C9", "D1")
async def test_redirects_are_followed_up_to_five() -> None:
    router = respx.Router()
    for hop in range(5):
        router.get(f"http://far.example/{hop}").respond(302, headers={"Location": f"/{hop + 1}"})
    router.get("http://far.example/5").respond(200, json={"done": True})
    outcome = await send(router, httpx.Request("GET", "http://far.example/0"))
    assert outcome.ok
    assert outcome.value == {"done": True}


@pytest.mark.rule("C9", "D1")
async def test_six_redirects_are_too_many() -> None:
    router = respx.Router()
    for hop in range(6):
        router.get(f"http://far.example/{hop}").respond(302, headers={"Location": f"/{hop + 1}"})
    router.get("http://far.example/6").respond(200)
    outcome = await send(router, httpx.Request("GET", "http://far.example/0"))
    assert not outcome.ok
    assert outcome.error_kind == "redirects"


@pytest.mark.rule("C9")
@pytest.mark.parametrize(
    ("status", "method", "body"),
    [
        pytest.param(303, "GET", b"", id="303-becomes-get"),
        pytest.param(302, "GET", b"", id="302-post-becomes-get"),
        pytest.param(307, "POST", b"a=1", id="307-keeps-method-and-body"),
        pytest.param(308, "POST", b"a=1", id="308-keeps-method-and-body"),
    ],
)
def test_redirect_request(status: int, method: str, body: bytes) -> None:
    original = httpx.Request(
        "POST",
        URL,
        content=b"a=1",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": "t"},
    )
    response = httpx.Response(status, headers={"Location": "https://other.example/x"})
    follow = redirect_request(original, response)
    assert follow is not None
    assert follow.method == method
    assert follow.content == body
    assert str(follow.url) == "https://other.example/x"
    assert follow.headers["host"] == "other.example"
    assert "authorization" not in follow.headers


@pytest.mark.rule("D2")
@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        pytest.param(
            b'{"promo": {"code": "ABC", "percent": 15}}',
            "application/json",
            {"promo": {"code": "ABC", "percent": 15}},
            id="source-example-object",
        ),
        pytest.param(b'{"a": 1}', "text/html", {"a": 1}, id="object-whatever-content-type"),
        pytest.param(b"[1, 2]", None, [1, 2], id="array-is-structure"),
        pytest.param(b'  \n{"a": 1}', "text/plain", {"a": 1}, id="leading-whitespace"),
        pytest.param(b"42", "application/json", "42", id="number-as-text"),
        pytest.param(b'"x"', "application/json", '"x"', id="string-as-text"),
        pytest.param(b"true", "application/json", "true", id="bool-as-text"),
        pytest.param(b"", "application/json", "", id="empty-body"),
        pytest.param(b"OK", "text/plain", "OK", id="plain-text"),
        pytest.param(b"{not json", "application/json", "{not json", id="broken-json-is-text"),
        pytest.param(b"[NaN]", "application/json", "[NaN]", id="nan-is-not-json"),
        pytest.param(
            b"[" * 100_000 + b"]" * 100_000,
            "application/json",
            "[" * 100_000 + "]" * 100_000,
            id="too-deep-to-read-is-text",
        ),
    ],
)
def test_saved_value(body: bytes, content_type: str | None, expected: Any) -> None:
    assert parse_body(body, content_type) == expected


@pytest.mark.rule("D3")
@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        pytest.param(
            "Привет".encode("cp1251"),
            "text/plain; charset=windows-1251",
            "Привет",
            id="charset-honoured",
        ),
        pytest.param(
            "Привет".encode("koi8-r"), 'text/plain; charset="KOI8-R"', "Привет", id="quoted-charset"
        ),
        pytest.param("Привет".encode(), "text/plain", "Привет", id="utf8-default"),
        pytest.param(b'\xef\xbb\xbf{"a": 1}', "application/json", {"a": 1}, id="bom-stripped"),
        pytest.param(b"ok\xff", "text/plain", "ok\ufffd", id="invalid-bytes-replaced"),
        pytest.param(b"ok", "text/plain; charset=no-such", "ok", id="unknown-charset-utf8"),
    ],
)
def test_text_decoding(body: bytes, content_type: str, expected: Any) -> None:
    assert parse_body(body, content_type) == expected


@pytest.mark.rule("D3")
async def test_body_over_the_limit_is_truncated_text() -> None:
    router = respx.Router()
    router.post(URL).respond(200, content=b'{"a": "' + b"x" * 5000 + b'"}')
    outcome = await send(router, max_body=1000)
    assert outcome.ok
    assert outcome.truncated
    assert isinstance(outcome.value, str)
    assert len(outcome.value) == 1000


@pytest.mark.rule("D3")
async def test_body_at_the_limit_is_whole() -> None:
    router = respx.Router()
    router.post(URL).respond(200, content=b"x" * 1000)
    outcome = await send(router, max_body=1000)
    assert not outcome.truncated
    assert outcome.value == "x" * 1000


@pytest.mark.rule("D2")
async def test_gzip_encoded_answer_is_decoded() -> None:
    import gzip

    router = respx.Router()
    router.post(URL).respond(
        200, content=gzip.compress(b'{"a": 1}'), headers={"Content-Encoding": "gzip"}
    )
    assert (await send(router)).value == {"a": 1}


@pytest.mark.rule("E3")
async def test_the_request_is_sent_exactly_as_built() -> None:
    router = respx.Router()
    route = router.post(URL).respond(200)
    request = httpx.Request("POST", URL, content=b"a=1", headers={"X-Token": "t"})
    async with sender_for(router) as sender:
        await sender.send(request)
        await sender.send(request)
    first, second = (call.request for call in route.calls)
    assert first.content == second.content == b"a=1"
    assert first.headers.raw == second.headers.raw


def test_outcome_repr_reads_well() -> None:
    assert repr(Outcome(ok=True, status=200)) == "<Outcome ok [200]>"
    assert "timeout" in repr(Outcome(ok=False, error="slow", error_kind="timeout"))


@pytest.mark.rule("C9")
@pytest.mark.parametrize(
    ("options", "field"),
    [
        pytest.param({"timeout": -1}, "timeout", id="negative-timeout"),
        pytest.param({"timeout": 0}, "timeout", id="zero-timeout"),
        pytest.param({"timeout": float("nan")}, "timeout", id="nan-timeout"),
        pytest.param({"max_redirects": -1}, "max_redirects", id="negative-redirects"),
        pytest.param({"max_body": -5}, "max_body", id="negative-body"),
        pytest.param({"max_body": 1.5}, "max_body", id="fractional-body"),
    ],
)
def test_settings_that_cannot_work_are_refused_before_anything_is_sent(
    options: dict[str, Any], field: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        HttpxSender(**options)
    assert caught.value.field == field
