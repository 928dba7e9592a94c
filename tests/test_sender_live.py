"""The reference sender over real sockets: every failure of rule D1 reaches it as a failure."""

from __future__ import annotations

import httpx
import pytest

from tests.farside import (
    answer_bytes,
    close_silently,
    free_port,
    raw_server,
    reset,
    scripted_server,
    stall,
)
from webhook_core import USER_AGENT, HttpxSender, WebhookAction, build_request


@pytest.fixture(params=["aiohttp", "httpx"])
async def sender(request: pytest.FixtureRequest) -> HttpxSender:
    client = None if request.param == "aiohttp" else httpx.AsyncClient()
    async with HttpxSender(client, timeout=1.0) as made:
        yield made
    if client is not None:
        await client.aclose()


@pytest.mark.rule("D1")
@pytest.mark.parametrize(
    ("handler", "kind"),
    [
        pytest.param(reset, "disconnect", id="connection-reset"),
        pytest.param(close_silently, "disconnect", id="closed-without-reply"),
        pytest.param(answer_bytes(b"HTTP/1.1 abc nonsense\r\n\r\n"), "protocol", id="bad-status"),
        pytest.param(answer_bytes(b"\x00\xff\x13 garbage"), "protocol", id="random-bytes"),
        pytest.param(
            answer_bytes(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            "protocol",
            id="bad-chunk",
        ),
        pytest.param(stall(5), "timeout", id="no-answer-in-time"),
    ],
)
async def test_transport_failures(sender: HttpxSender, handler: object, kind: str) -> None:
    async with raw_server(handler) as url:  # type: ignore[arg-type]
        outcome = await sender.send(httpx.Request("GET", url))
    assert not outcome.ok
    assert outcome.error_kind == kind, outcome


@pytest.mark.rule("C9")
async def test_a_timeout_says_so_in_its_message(sender: HttpxSender) -> None:
    # `expect.error: {contains: timeout}` is what a scenario writer reaches for.
    async with raw_server(stall(5)) as url:
        outcome = await sender.send(httpx.Request("GET", url))
    assert outcome.error == "timeout: no complete answer within 1 s"


@pytest.mark.rule("D1")
async def test_refused_connection(sender: HttpxSender) -> None:
    outcome = await sender.send(httpx.Request("GET", f"http://127.0.0.1:{free_port()}/"))
    assert not outcome.ok
    assert outcome.error_kind == "connect"


@pytest.mark.rule("C9")
async def test_redirect_loop_is_too_many_redirects(sender: HttpxSender) -> None:
    loop = answer_bytes(b"HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n")
    async with raw_server(loop) as url:
        outcome = await sender.send(httpx.Request("GET", url))
    assert outcome.error_kind == "redirects"


@pytest.mark.rule("D3")
async def test_large_body_is_capped_without_buffering_past_the_limit() -> None:
    body = b"x" * 3_000_000
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
    async with raw_server(answer_bytes(head + body)) as url, HttpxSender(max_body=1024) as sender:
        outcome = await sender.send(httpx.Request("GET", url))
    assert outcome.ok
    assert outcome.truncated
    assert outcome.value == "x" * 1024


@pytest.mark.rule("C5", "C8", "C9", "D2")
async def test_the_far_side_sees_what_was_built(sender: HttpxSender) -> None:
    async with scripted_server([(200, {"promo": {"code": "ABC"}})]) as far:
        action = WebhookAction(
            far.url + "/hook?k=1",
            "POST",
            headers=[("X-Name", "{name}")],
            params=[("user.name", "{name}")],
        )
        outcome = await sender.send(build_request(action, {"name": "Анна Ли"}))
    assert outcome.value == {"promo": {"code": "ABC"}}
    (seen,) = far.received
    assert (seen.method, seen.path, seen.query) == ("POST", "/hook", "k=1")
    assert seen.body == b"user%5Bname%5D=%D0%90%D0%BD%D0%BD%D0%B0+%D0%9B%D0%B8"
    assert seen.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert seen.headers["User-Agent"] == USER_AGENT
    assert dict(seen.raw_headers)[b"X-Name"] == "Анна Ли".encode()


@pytest.mark.rule("C7")
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_put_patch_delete_on_the_wire(sender: HttpxSender, method: str) -> None:
    async with scripted_server([(200, "")]) as far:
        await sender.send(build_request(WebhookAction(far.url, method, params=[("a.b", "1")]), {}))
        await sender.send(build_request(WebhookAction(far.url, method), {}))
    with_params, without = far.received
    assert with_params.method == without.method == method
    assert with_params.body == b"a%5Bb%5D=1"
    assert without.body == b""


@pytest.mark.rule("D2", "D3")
async def test_gzip_and_chunked_answers_on_every_path(sender: HttpxSender) -> None:
    import gzip

    packed = gzip.compress(b'{"a": 1}')
    gzipped = (
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(packed)
    ) + packed
    async with raw_server(answer_bytes(gzipped)) as url:
        assert (await sender.send(httpx.Request("GET", url))).value == {"a": 1}
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunked += b"".join(b"%x\r\n%s\r\n" % (300, b"y" * 300) for _ in range(10)) + b"0\r\n\r\n"
    sender.max_body = 1000
    async with raw_server(answer_bytes(chunked)) as url:
        outcome = await sender.send(httpx.Request("GET", url))
    assert outcome.truncated
    assert outcome.value == "y" * 1000


@pytest.mark.rule("E3")
async def test_prepared_requests_go_out_unchanged() -> None:
    from webhook_core import prepare_request

    async with scripted_server([(200, "")]) as far, HttpxSender() as sender:
        prepared = prepare_request(
            WebhookAction(far.url + "/p", "JSON POST", headers=[("X-A", "1")], params=[("a", "x")]),
            {},
        )
        await sender.send_prepared(prepared)
        await sender.send_prepared(prepared)
    first, second = far.received
    assert first.body == second.body == b'{"a":"x"}'
    assert dict(first.raw_headers)[b"X-A"] == b"1"
