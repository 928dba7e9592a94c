"""An answer under a Content-Encoding the sender does not decode (a chain, the header
twice, an unknown coding) is a failed attempt of kind ``protocol``: its still-encoded
bytes were saved as the answer's text."""

from __future__ import annotations

import gzip

import httpx
import pytest

from tests.farside import answer_bytes, raw_server
from webhook_core import HttpxSender, WebhookAction, prepare_request

TWICE = gzip.compress(gzip.compress(b'{"a": 1}'))
ONCE = gzip.compress(b'{"a": 1}')


def _answer(headers: bytes, body: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\n"
        + headers
        + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
        + body
    )


BAD = [
    pytest.param(b"Content-Encoding: gzip, gzip\r\n", TWICE, id="chain"),
    pytest.param(b"Content-Encoding: gzip\r\nContent-Encoding: gzip\r\n", TWICE, id="twice"),
    pytest.param(b"Content-Encoding: zstdx\r\n", b"hello", id="unknown"),
    pytest.param(b"Content-Encoding: x-gzip\r\n", ONCE, id="x-gzip"),
]


@pytest.mark.rule("D1")
@pytest.mark.parametrize(("headers", "body"), BAD)
@pytest.mark.parametrize("via", ["direct", "httpx"])
async def test_an_answer_in_a_coding_not_decoded_fails_the_attempt(
    headers: bytes, body: bytes, via: str
) -> None:
    async with raw_server(answer_bytes(_answer(headers, body))) as url:
        prepared = prepare_request(WebhookAction(url, "GET"), {})
        if via == "direct":
            async with HttpxSender(timeout=30) as sender:
                outcome = await sender.send_prepared(prepared)
        else:
            async with httpx.AsyncClient() as client:
                outcome = await HttpxSender(client, timeout=30).send(prepared.request)
    assert not outcome.ok
    assert outcome.error_kind == "protocol"
    assert outcome.error is not None
    assert "Content-Encoding" in outcome.error


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        pytest.param(b"Content-Encoding: gzip\r\n", ONCE, id="gzip"),
        pytest.param(b"Content-Encoding: GZIP\r\n", ONCE, id="gzip-upper"),
        pytest.param(b"Content-Encoding: identity\r\n", b'{"a": 1}', id="identity"),
        pytest.param(b"", b'{"a": 1}', id="none"),
    ],
)
@pytest.mark.parametrize("via", ["direct", "httpx"])
async def test_one_known_coding_is_read_as_before(headers: bytes, body: bytes, via: str) -> None:
    async with raw_server(answer_bytes(_answer(headers, body))) as url:
        prepared = prepare_request(WebhookAction(url, "GET"), {})
        if via == "direct":
            async with HttpxSender(timeout=30) as sender:
                outcome = await sender.send_prepared(prepared)
        else:
            async with httpx.AsyncClient() as client:
                outcome = await HttpxSender(client, timeout=30).send(prepared.request)
    assert outcome.ok, outcome
    assert outcome.value == {"a": 1}
