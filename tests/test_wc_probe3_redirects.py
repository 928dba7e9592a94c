"""A redirect to another origin drops what curl drops since CVE-2022-27776: the
``Authorization`` header (already dropped), and also ``Cookie`` and
``Proxy-Authorization``, which a hostile handler could otherwise collect by redirecting
the request to a host of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from webhook_core import HttpxSender, WebhookAction, prepare_request

SECRETS = [
    ("Authorization", "Bearer s1"),
    ("Cookie", "session=s2"),
    ("Proxy-Authorization", "Basic s3"),
    ("X-Api-Key", "k"),
]


@asynccontextmanager
async def _server(answer: bytes, heads: list[bytes]) -> AsyncIterator[str]:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            heads.append(await reader.readuntil(b"\r\n\r\n"))
            writer.write(answer)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


def _names(head: bytes) -> set[str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {line.split(":", 1)[0].lower() for line in lines if ":" in line}


@pytest.mark.rule("C9")
@pytest.mark.parametrize("via", ["direct", "httpx"])
async def test_a_redirect_to_another_origin_drops_credentials(via: str) -> None:
    at_b: list[bytes] = []
    at_a: list[bytes] = []
    done = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    async with _server(done, at_b) as b:
        moved = (
            b"HTTP/1.1 302 Found\r\nLocation: " + f"{b}/x".encode() + b"\r\n"
            b"Content-Length: 0\r\nConnection: close\r\n\r\n"
        )
        async with _server(moved, at_a) as a:
            prepared = prepare_request(WebhookAction(f"{a}/start", "GET", headers=SECRETS), {})
            if via == "direct":
                async with HttpxSender(timeout=30) as sender:
                    outcome = await sender.send_prepared(prepared)
            else:
                async with httpx.AsyncClient() as client:
                    outcome = await HttpxSender(client, timeout=30).send(prepared.request)
    assert outcome.ok, outcome
    assert {"authorization", "cookie", "proxy-authorization", "x-api-key"} <= _names(at_a[0])
    names = _names(at_b[0])
    assert "x-api-key" in names
    assert not names & {"authorization", "cookie", "proxy-authorization"}


@pytest.mark.parametrize("via", ["direct", "httpx"])
async def test_a_redirect_within_the_origin_keeps_them(via: str) -> None:
    heads: list[bytes] = []  # one server: a redirect to itself, then the answer

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            heads.append(head)
            if head.startswith(b"GET /start"):
                writer.write(
                    b"HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n"
                    b"Connection: close\r\n\r\n"
                )
            else:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/start"
    try:
        prepared = prepare_request(WebhookAction(url, "GET", headers=SECRETS), {})
        if via == "direct":
            async with HttpxSender(timeout=30) as sender:
                outcome = await sender.send_prepared(prepared)
        else:
            async with httpx.AsyncClient() as client:
                outcome = await HttpxSender(client, timeout=30).send(prepared.request)
    finally:
        server.close()
        await server.wait_closed()
    assert outcome.ok, outcome
    assert {"authorization", "cookie", "proxy-authorization"} <= _names(heads[1])
