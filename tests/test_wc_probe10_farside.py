"""The sender against hostile far sides, on real sockets: a body that is not in the coding
its ``Content-Encoding`` names (raised ``httpx.DecodingError`` out of ``send()`` through
an injected httpx client), ``br`` when no Brotli library is installed (saved still
encoded through httpx, a failure through aiohttp), and integers past a double's range
(kept as exact integers, where ``1e400`` was already text)."""

from __future__ import annotations

import zlib

import httpx
import pytest

from tests.farside import answer_bytes, raw_server
from webhook_core import HttpxSender, Outcome, WebhookAction, parse_body, prepare_request
from webhook_core.sender import DECODED_CODINGS


def _answer(headers: bytes, body: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\n"
        + headers
        + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
        + body
    )


async def _send(answer: bytes, via: str, url_prefix: str = "") -> Outcome:
    async with raw_server(answer_bytes(answer)) as url:
        if url_prefix:
            url = url.replace("http://", "http://" + url_prefix)
        prepared = prepare_request(WebhookAction(url, "GET"), {})
        if via == "direct":
            async with HttpxSender(timeout=30) as sender:
                return await sender.send_prepared(prepared)
        async with httpx.AsyncClient() as client:
            return await HttpxSender(client, timeout=30).send(prepared.request)


WRONG = [
    pytest.param(b"gzip", b"not gzip at all", id="gzip-not-gzip"),
    pytest.param(b"deflate", b"not deflate", id="deflate-not-deflate"),
]


@pytest.mark.rule("D1")
@pytest.mark.parametrize(("coding", "body"), WRONG)
@pytest.mark.parametrize("via", ["direct", "httpx"])
async def test_a_body_not_in_its_coding_is_a_protocol_failure(
    coding: bytes, body: bytes, via: str
) -> None:
    # Through an httpx client, httpx.DecodingError came out of send(): a Sender never raises.
    outcome = await _send(_answer(b"Content-Encoding: " + coding + b"\r\n", body), via)
    assert not outcome.ok
    assert outcome.error_kind == "protocol"
    assert outcome.error is not None
    assert coding.decode() in outcome.error


@pytest.mark.rule("D1")
@pytest.mark.parametrize("via", ["direct", "httpx"])
async def test_a_failure_to_decode_does_not_name_the_password(via: str) -> None:
    answer = _answer(b"Content-Encoding: gzip\r\n", b"not gzip")
    outcome = await _send(answer, via, url_prefix="user:s3cret@")
    assert outcome.error is not None
    assert "s3cret" not in outcome.error


@pytest.mark.rule("D1")
@pytest.mark.parametrize("coding", ["br", "zstd"])
@pytest.mark.parametrize("via", ["direct", "httpx"])
async def test_a_coding_without_its_library_fails_alike_through_both(coding: str, via: str) -> None:
    if coding in DECODED_CODINGS:
        pytest.skip(f"{coding} can be decoded here")
    # httpx has no decoder for it and passed the encoded bytes on: saved as if text.
    outcome = await _send(_answer(f"Content-Encoding: {coding}\r\n".encode(), b"\x8b\x03\x80"), via)
    assert not outcome.ok
    assert outcome.error_kind == "protocol"
    assert outcome.error is not None
    assert coding in outcome.error
    assert "400" not in outcome.error  # aiohttp's own status for a parse error, not the answer's


def test_the_decoded_codings_are_what_both_transports_decode() -> None:
    assert (
        {"identity", "gzip", "deflate"}
        <= DECODED_CODINGS
        <= {
            "identity",
            "gzip",
            "deflate",
            "br",
            "zstd",
        }
    )


@pytest.mark.rule("D2")
@pytest.mark.parametrize(
    "number",
    [
        pytest.param("9" * 400, id="400-digits"),
        pytest.param("-" + "9" * 400, id="negative-400-digits"),
        pytest.param("9" * 5000, id="5000-digits"),
        pytest.param("1" + "0" * 309, id="1e309-as-an-integer"),
    ],
)
async def test_an_integer_past_a_doubles_range_is_text_like_1e400(number: str) -> None:
    # A 400-digit integer was kept exact; 1e400 was text; PHP reads both as INF.
    body = b'{"a": {"b": ' + number.encode() + b"}}"
    outcome = await _send(_answer(b"Content-Type: application/json\r\n", body), "direct")
    assert outcome.ok
    assert outcome.value == body.decode()


@pytest.mark.rule("D2")
@pytest.mark.parametrize(
    ("number", "value"),
    [
        pytest.param("9007199254740993", 9007199254740993, id="past-2-to-53-kept-exact"),
        pytest.param("1" + "0" * 308, 10**308, id="1e308-as-an-integer"),
        pytest.param("-17", -17, id="small"),
    ],
)
def test_integers_within_a_doubles_range_are_kept_exact(number: str, value: int) -> None:
    assert parse_body(b'{"a": ' + number.encode() + b"}", None) == {"a": value}


@pytest.mark.rule("D2")
def test_duplicate_keys_keep_the_last_as_php_does() -> None:
    assert parse_body(b'{"a": 1, "a": {"b": 2}}', None) == {"a": {"b": 2}}


@pytest.mark.rule("D3")
@pytest.mark.parametrize("via", ["direct", "httpx"])
async def test_a_deflate_bomb_is_read_to_the_limit(via: str) -> None:
    bomb = zlib.compress(b"a" * (64 * 1024 * 1024), 9)
    outcome = await _send(_answer(b"Content-Encoding: deflate\r\n", bomb), via)
    assert outcome.ok
    assert outcome.truncated
    assert outcome.value == "a" * (1024 * 1024)


@pytest.mark.rule("D1")
@pytest.mark.parametrize("via", ["direct", "httpx"])
async def test_informational_answers_before_the_real_one_are_skipped(via: str) -> None:
    early = b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
    early += b"HTTP/1.1 100 Continue\r\n\r\n"
    outcome = await _send(early + _answer(b"", b'{"a": 1}'), via)
    assert outcome.ok
    assert outcome.value == {"a": 1}


@pytest.mark.rule("D3")
@pytest.mark.parametrize("charset", ["windows-1251", "cp1251", "CP1251", '"windows-1251"'])
@pytest.mark.parametrize("via", ["direct", "httpx"])
async def test_a_cp1251_answer_reads_as_its_text(charset: str, via: str) -> None:
    body = '{"name": "Анна", "city": "Москва"}'.encode("cp1251")
    head = f"Content-Type: application/json; charset={charset}\r\n".encode()
    outcome = await _send(_answer(head, body), via)
    assert outcome.value == {"name": "Анна", "city": "Москва"}


@pytest.mark.rule("D1")
@pytest.mark.parametrize("via", ["direct", "httpx"])
async def test_a_host_that_cannot_be_resolved_does_not_name_the_password(via: str) -> None:
    # The direct path's error quoted the whole URL, user:password included, into the
    # outcome, a flow's last_error and every log that shows it.
    url = "http://user:s3cret@" + "a" * 64 + ".1/x"
    prepared = prepare_request(WebhookAction(url, "GET"), {})
    if via == "direct":
        async with HttpxSender(timeout=30) as sender:
            outcome = await sender.send_prepared(prepared)
    else:
        async with httpx.AsyncClient() as client:
            outcome = await HttpxSender(client, timeout=30).send(prepared.request)
    assert outcome.error_kind == "connect"
    assert outcome.error is not None
    assert "s3cret" not in outcome.error
    assert "user" not in outcome.error
